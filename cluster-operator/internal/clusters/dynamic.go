package clusters

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// DynamicConfigurer applies cluster-wide dynamic broker configs to a running cluster.
type DynamicConfigurer interface {
	Apply(ctx context.Context, k *v1beta1.Kafka, want map[string]v1beta1.ConfigValue) ([]string, error)
}

// applyDynamic pushes the spec's dynamic configs to Kafka once every broker is up (the node
// ConfigMaps already carry them for the next start). A failure is reported in the status, and
// retried at the next reconcile.
func (r *Reconciler) applyDynamic(ctx context.Context, k *v1beta1.Kafka, p *plan) {
	if r.Dynamic == nil || len(p.pending) > 0 {
		return
	}
	pods := r.nodePods(k)
	for _, np := range p.nodes {
		if pod, ok := pods[np.name]; np.node.Broker && (!ok || !podReady(pod)) {
			return
		}
	}
	_, dynamic := kafkaconfig.SplitDynamic(k.Spec.Kafka.Config)
	changed, err := r.Dynamic.Apply(ctx, k, dynamic)
	if err != nil {
		p.warnings = append(p.warnings, "dynamic broker configs not applied yet: "+err.Error())
		return
	}
	if len(changed) > 0 {
		klog.FromContext(ctx).Info("Applied dynamic broker configs", "keys", changed)
		r.Recorder.Eventf(k, nil, corev1.EventTypeNormal, "ConfigUpdated", "Reconcile", "applied without a restart: %s", strings.Join(changed, ", "))
	}
}
