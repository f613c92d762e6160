package clusters

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/features"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// FeatureRaiser raises a running cluster's metadata.version: to what all its brokers support
// after an upgrade, or to the level the spec names.
type FeatureRaiser interface {
	Raise(ctx context.Context, k *v1beta1.Kafka) (from, to int16, err error)
	SetTo(ctx context.Context, k *v1beta1.Kafka, level int16) (from, to int16, err error)
}

// finishUpgrade brings metadata.version where it belongs once every node runs the spec's Kafka
// version (a version change rolls the nodes onto the new image first, the old metadata.version
// still in force so that a downgrade stays possible until then): to the level
// spec.kafka.metadataVersion names, else to the highest one every broker supports. It runs when
// the status does not yet report the spec's version or metadata.version; until the version's
// raise succeeds the status keeps the old version. The status reports the level Kafka
// finalized, never merely the spec's.
func (r *Reconciler) finishUpgrade(ctx context.Context, k *v1beta1.Kafka, p *plan, roll rollState) {
	p.metadataVersion = k.Status.KafkaMetadataVersion
	want := k.Spec.Kafka.MetadataVersion
	wantLevel, known := features.Level(want)
	if want != "" && !known {
		p.warnings = append(p.warnings, fmt.Sprintf("spec.kafka.metadataVersion %s is not a metadata.version this operator knows (e.g. 4.1-IV1, or a release such as 4.1)", want))
	}
	versionDone := k.Status.KafkaVersion == p.version
	// Without a spec value, metadata.version follows the version: its release's newest level
	// (4.4.0: 4.4-IV2), which is what an unset metadataVersion (or one just removed) comes to.
	target, haveTarget := wantLevel, want != "" && known
	if parts := strings.SplitN(p.version, ".", 3); want == "" && len(parts) >= 2 {
		target, haveTarget = features.Level(parts[0] + "." + parts[1])
	}
	// An empty status (a new cluster, or one from before the status reported Kafka's level)
	// is filled in from Kafka.
	mvDone := k.Status.KafkaMetadataVersion != "" && (!haveTarget || features.Name(target) == k.Status.KafkaMetadataVersion)
	if r.Features == nil || versionDone && mvDone {
		return
	}
	hold := func() {
		if !versionDone {
			p.holdVersion = true
		}
	}
	if len(p.pending) > 0 || roll.waiting || len(roll.stale) > 0 || len(p.nodes) == 0 {
		hold()
		return
	}
	pods := r.nodePods(k)
	for _, np := range p.nodes {
		pod, ok := pods[np.name]
		if !ok || !podReady(pod) || pod.Annotations[nodes.AnnotationKafkaVersion] != p.version {
			hold()
			return
		}
	}
	var from, to int16
	var err error
	if want != "" && known {
		from, to, err = r.Features.SetTo(ctx, k, wantLevel)
	} else {
		from, to, err = r.Features.Raise(ctx, k)
	}
	if err != nil {
		hold()
		p.recheck = true
		p.warnings = append(p.warnings, "metadata.version not raised yet: "+err.Error())
		return
	}
	p.metadataVersion = features.Name(to)
	if to > from {
		klog.FromContext(ctx).Info("Raised metadata.version", "from", from, "to", to, "version", p.version)
		r.Recorder.Eventf(k, nil, corev1.EventTypeNormal, "MetadataVersionRaised", "Upgrade",
			"every node runs Kafka %s: metadata.version raised from %s to %s", p.version, features.Name(from), features.Name(to))
	}
}
