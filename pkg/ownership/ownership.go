// Package ownership builds the owner references and standard labels of the objects the
// operators create, so that deleting a Kafkaplane resource deletes what it owns and every object
// can be traced to its owner.
package ownership

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// ControllerRef returns a controller owner reference to a Kafkaplane resource of the given kind.
// BlockOwnerDeletion is set so that foreground deletion waits for the dependants.
func ControllerRef(owner metav1.Object, kind string) metav1.OwnerReference {
	return *metav1.NewControllerRef(owner, v1beta1.SchemeGroupVersion.WithKind(kind))
}

// IsControlledBy reports whether obj is controlled by owner (by UID).
func IsControlledBy(obj, owner metav1.Object) bool {
	return metav1.IsControlledBy(obj, owner)
}

// Labels returns the labels every object created for a cluster carries: the cluster, the kind
// and name of the resource it was made for, and the app.kubernetes.io labels. component is
// e.g. "kafka", "topic-operator".
func Labels(cluster, kind, name, component string) map[string]string {
	return map[string]string{
		v1beta1.LabelCluster:      cluster,
		v1beta1.LabelKind:         kind,
		v1beta1.LabelName:         name,
		v1beta1.LabelAppName:      component,
		v1beta1.LabelAppInstance:  cluster,
		v1beta1.LabelAppComponent: component,
		v1beta1.LabelAppPartOf:    "kafkaplane-" + cluster,
		v1beta1.LabelAppManagedBy: "kafkaplane",
	}
}
