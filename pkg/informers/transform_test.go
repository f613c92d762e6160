package informers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

func TestStripManagedFieldsDropsWhatNoControllerReads(t *testing.T) {
	kt := &v1beta1.KafkaTopic{ObjectMeta: metav1.ObjectMeta{
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
		Annotations:   map[string]string{lastApplied: `{"spec":{}}`, v1beta1.AnnotationManaged: "false"},
	}}
	obj, err := StripManagedFields(kt)
	if err != nil {
		t.Fatal(err)
	}
	got := obj.(*v1beta1.KafkaTopic)
	if got.ManagedFields != nil {
		t.Error("managedFields kept")
	}
	if _, ok := got.Annotations[lastApplied]; ok {
		t.Error("last-applied-configuration kept")
	}
	if got.Annotations[v1beta1.AnnotationManaged] != "false" {
		t.Error("an annotation the operators read was dropped")
	}
}
