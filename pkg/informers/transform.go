package informers

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// StripManagedFields is an informer transform that drops metadata.managedFields and kubectl's
// last-applied-configuration annotation, which no controller reads and which can be most of a
// small object's size in the cache (the annotation repeats the whole spec). Controllers patch;
// none writes a cached object back, so nothing is lost on the server.
func StripManagedFields(obj any) (any, error) {
	if acc, ok := obj.(metav1.ObjectMetaAccessor); ok {
		m := acc.GetObjectMeta()
		m.SetManagedFields(nil)
		if ann := m.GetAnnotations(); ann != nil {
			if _, ok := ann[lastApplied]; ok {
				delete(ann, lastApplied)
				m.SetAnnotations(ann)
			}
		}
	}
	return obj, nil
}

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

var _ cache.TransformFunc = StripManagedFields

// StripMetadataOnly is the transform of metadata-only informers (Secrets, ConfigMaps): besides
// managedFields it drops annotations, which can be large (kubectl's last-applied-configuration
// holds the whole object, data included) and which no operator reads from a metadata cache.
func StripMetadataOnly(obj any) (any, error) {
	if acc, ok := obj.(metav1.ObjectMetaAccessor); ok {
		m := acc.GetObjectMeta()
		m.SetManagedFields(nil)
		m.SetAnnotations(nil)
	}
	return obj, nil
}
