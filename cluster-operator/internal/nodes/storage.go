package nodes

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/ownership"
)

// DataVolume is one of a node's data volumes.
type DataVolume struct {
	Volume, MountPath string
	// Claim is the PVC name of a persistent volume, empty for ephemeral storage.
	Claim       string
	Size, Class string
	SizeLimit   string
	DeleteClaim bool
	Selector    map[string]string
}

// DataVolumes lists a node's data volumes, mounted where kafkaconfig puts log.dirs.
func DataVolumes(cluster string, n Node) []DataVolume {
	s := n.PoolSpec.Spec.Storage
	if s.Type != v1beta1.StorageJBOD {
		d := DataVolume{Volume: "data", MountPath: kafkaconfig.DataRoot + "/data", SizeLimit: s.SizeLimit}
		if s.Type == v1beta1.StoragePersistentClaim {
			d.Claim, d.Size, d.Class, d.DeleteClaim, d.Selector = v1beta1.DataClaimName(cluster, n.Pool, n.ID), s.Size, s.Class, s.DeleteClaim, s.Selector
		}
		return []DataVolume{d}
	}
	var out []DataVolume
	for _, v := range s.Volumes {
		d := DataVolume{Volume: fmt.Sprintf("data-%d", v.ID), MountPath: fmt.Sprintf("%s/data-%d", kafkaconfig.DataRoot, v.ID), SizeLimit: v.SizeLimit}
		if v.Type == v1beta1.StoragePersistentClaim {
			d.Claim, d.Size, d.Class, d.DeleteClaim = v1beta1.JBODClaimName(v.ID, cluster, n.Pool, n.ID), v.Size, v.Class, v.DeleteClaim
		}
		out = append(out, d)
	}
	return out
}

// Claims are a node's desired PVCs. Only claims whose deleteClaim is true are owned by the
// Kafka (garbage-collected with it); the others outlive it, with the data.
func Claims(k *v1beta1.Kafka, n Node) ([]*corev1.PersistentVolumeClaim, error) {
	var out []*corev1.PersistentVolumeClaim
	for _, d := range DataVolumes(k.Name, n) {
		if d.Claim == "" {
			continue
		}
		size, err := resource.ParseQuantity(d.Size)
		if err != nil {
			return nil, fmt.Errorf("pool %s: storage size %q: %w", n.Pool, d.Size, err)
		}
		labels, annotations := claimMetadata(k, n)
		pvc := &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: d.Claim, Namespace: k.Namespace, Labels: labels, Annotations: annotations},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
			},
		}
		if d.Class != "" {
			pvc.Spec.StorageClassName = &d.Class
		}
		if len(d.Selector) > 0 {
			pvc.Spec.Selector = &metav1.LabelSelector{MatchLabels: d.Selector}
		}
		if d.DeleteClaim {
			pvc.OwnerReferences = []metav1.OwnerReference{ownership.ControllerRef(k, v1beta1.KindKafka)}
		}
		out = append(out, pvc)
	}
	return out, nil
}

// claimMetadata are a node's PVC labels and annotations: the Kafka's
// template.persistentVolumeClaim, then its pool's, key by key; the operator's labels win.
func claimMetadata(k *v1beta1.Kafka, n Node) (labels, annotations map[string]string) {
	var tpls []*v1beta1.ResourceTemplate
	if t := k.Spec.Kafka.Template; t != nil {
		tpls = append(tpls, t.PersistentVolumeClaim)
	}
	if t := n.PoolSpec.Spec.Template; t != nil {
		tpls = append(tpls, t.PersistentVolumeClaim)
	}
	labels = map[string]string{}
	for _, t := range tpls {
		if t != nil && t.Metadata != nil {
			labels = merged(labels, t.Metadata.Labels)
			if len(t.Metadata.Annotations) > 0 {
				annotations = merged(annotations, t.Metadata.Annotations)
			}
		}
	}
	return merged(labels, Labels(k.Name, n)), annotations
}
