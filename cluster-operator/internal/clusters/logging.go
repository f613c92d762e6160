package clusters

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/logging"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// LoggerSetter sets nodes' logger levels at runtime.
type LoggerSetter interface {
	Apply(ctx context.Context, k *v1beta1.Kafka, nodes []logging.Target, want logging.Levels) ([]string, error)
}

// nodeLogging is what spec.kafka.logging gives the nodes.
type nodeLogging struct {
	// properties is the log4j2 configuration every node's ConfigMap carries.
	properties string
	// levels are the inline loggers' levels, set on the nodes at runtime; nil for external
	// logging, whose file only a restart reads.
	levels logging.Levels
	// external: the configuration is the user's file; a change rolls every node.
	external bool
	// revert: the logging was removed and some node's ConfigMap still has other levels: the
	// nodes are set back to the defaults at runtime.
	revert bool
}

// planLogging renders the Kafka's logging; an external configuration is read from its
// ConfigMap (not cached) as the metrics configuration is.
func (r *Reconciler) planLogging(ctx context.Context, k *v1beta1.Kafka) (nodeLogging, error) {
	l := k.Spec.Kafka.Logging
	switch {
	case l == nil:
		out := nodeLogging{properties: logging.Default()}
		for _, cm := range r.nodeConfigMaps(k) {
			if cm.Data[nodes.Log4jKey] != "" && cm.Data[nodes.Log4jKey] != out.properties {
				out.revert = true
				_, out.levels, _ = logging.Inline(nil)
				break
			}
		}
		return out, nil
	case l.Type == "inline":
		props, levels, err := logging.Inline(l.Loggers)
		if err != nil {
			return nodeLogging{}, specErrorf("%v", err)
		}
		return nodeLogging{properties: props, levels: levels}, nil
	}
	ref := l.ValueFrom.ConfigMapKeyRef
	cm, err := r.Kube.CoreV1().ConfigMaps(k.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nodeLogging{}, specErrorf("spec.kafka.logging: ConfigMap %s not found", ref.Name)
	}
	if err != nil {
		return nodeLogging{}, fmt.Errorf("reading ConfigMap %s/%s: %w", k.Namespace, ref.Name, err)
	}
	v, ok := cm.Data[ref.Key]
	if !ok || strings.TrimSpace(v) == "" {
		return nodeLogging{}, specErrorf("spec.kafka.logging: ConfigMap %s has no key %s (or it is empty)", ref.Name, ref.Key)
	}
	return nodeLogging{properties: v, external: true}, nil
}

// rollsOn is the part of the logging that rolls node n when it changes: an external file, which
// only a restart reads. Inline levels are set at runtime, on brokers and controllers alike.
func (l nodeLogging) rollsOn(nodes.Node) string {
	if l.external {
		return l.properties
	}
	return ""
}

// nodeConfigMaps are the cluster's node ConfigMaps as cached.
func (r *Reconciler) nodeConfigMaps(k *v1beta1.Kafka) []*corev1.ConfigMap {
	return list[corev1.ConfigMap](r.Caches.ConfigMaps, k.Namespace, clusterSelector(k.Name))
}

// applyLogging sets the inline loggers' levels on every node once they are all up; a failure
// is reported in the status and retried at the next reconcile.
func (r *Reconciler) applyLogging(ctx context.Context, k *v1beta1.Kafka, p *plan) {
	if r.Loggers == nil || p.logging.levels == nil || len(p.pending) > 0 {
		return
	}
	pods := r.nodePods(k)
	var targets []logging.Target
	for _, np := range p.nodes {
		if pod, ok := pods[np.name]; !ok || !podReady(pod) {
			return
		}
		t := logging.Target{ID: np.node.ID}
		if !np.node.Broker {
			t.Addr = fmt.Sprintf("%s:%d", kafkaconfig.NodeHost(k.Name, k.Namespace, np.node.Node, false), v1beta1.PortControlPlane)
		}
		targets = append(targets, t)
	}
	slices.SortFunc(targets, func(a, b logging.Target) int { return int(a.ID - b.ID) })
	changed, err := r.Loggers.Apply(ctx, k, targets, p.logging.levels)
	if err != nil {
		p.warnings = append(p.warnings, "logger levels not set on the nodes yet: "+err.Error())
		return
	}
	if len(changed) > 0 {
		klog.FromContext(ctx).Info("Set logger levels", "changes", changed)
		r.Recorder.Eventf(k, nil, corev1.EventTypeNormal, "LoggingUpdated", "Reconcile", "logger levels set without a restart: %s", strings.Join(changed, ", "))
	}
}
