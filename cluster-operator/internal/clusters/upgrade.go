package clusters

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// FeatureRaiser raises a running cluster's metadata.version to what all its brokers support.
type FeatureRaiser interface {
	Raise(ctx context.Context, k *v1beta1.Kafka) (from, to int16, err error)
}

// finishUpgrade raises metadata.version once every node runs the spec's Kafka version (a
// version change rolls the nodes onto the new image first, the old metadata.version still in
// force so that a downgrade stays possible until then). It runs when the status does not yet
// report that version; until it succeeds the status keeps the old one. An explicit
// spec.kafka.metadataVersion is left alone: it is applied when storage is formatted.
func (r *Reconciler) finishUpgrade(ctx context.Context, k *v1beta1.Kafka, p *plan, roll rollState) {
	if r.Features == nil || k.Spec.Kafka.MetadataVersion != "" || k.Status.KafkaVersion == p.version {
		return
	}
	if len(p.pending) > 0 || roll.waiting || len(roll.stale) > 0 || len(p.nodes) == 0 {
		p.holdVersion = true
		return
	}
	pods := r.nodePods(k)
	for _, np := range p.nodes {
		pod, ok := pods[np.name]
		if !ok || !podReady(pod) || pod.Annotations[nodes.AnnotationKafkaVersion] != p.version {
			p.holdVersion = true
			return
		}
	}
	from, to, err := r.Features.Raise(ctx, k)
	if err != nil {
		p.holdVersion = true
		p.warnings = append(p.warnings, "metadata.version not raised yet: "+err.Error())
		return
	}
	if to > from {
		klog.FromContext(ctx).Info("Raised metadata.version", "from", from, "to", to, "version", p.version)
		r.Recorder.Eventf(k, nil, corev1.EventTypeNormal, "MetadataVersionRaised", "Upgrade",
			"every node runs Kafka %s: metadata.version raised from level %d to %d", p.version, from, to)
	}
}
