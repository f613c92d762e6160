package users

import (
	"reflect"
	"testing"
	"unsafe"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

func cachedUser(name string) *v1beta1.KafkaUser {
	ops := make([]v1beta1.ACLOperation, 2, 4)
	copy(ops, []v1beta1.ACLOperation{v1beta1.ACLOperation(string([]byte("Read"))), "Describe"})
	return &v1beta1.KafkaUser{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: string([]byte("ns")), ResourceVersion: "5",
			Labels:        map[string]string{v1beta1.LabelCluster: string([]byte("my-cluster"))},
			Finalizers:    []string{string([]byte(FinalizerName))},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Spec: v1beta1.KafkaUserSpec{
			Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthTLS},
			Authorization: &v1beta1.KafkaUserAuthorization{Type: "simple", ACLs: []v1beta1.ACLRule{
				{Type: v1beta1.ACLAllow, Host: "*", Operations: ops,
					Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceTopic, Name: "orders", PatternType: v1beta1.ACLPatternLiteral}},
			}},
		},
		Status: v1beta1.KafkaUserStatus{Username: "CN=" + name, Secret: string([]byte(name)), Conditions: []metav1.Condition{
			{Type: "Ready", Status: metav1.ConditionTrue, Reason: string([]byte(v1beta1.ReasonReady)), Message: string([]byte("in effect"))},
		}},
	}
}

func TestCacheTransformKeepsEverythingTheReconcilerReads(t *testing.T) {
	in := cachedUser("alice")
	want := in.DeepCopy()
	want.ManagedFields = nil
	obj, err := CacheTransform(in)
	if err != nil {
		t.Fatal(err)
	}
	got := obj.(*v1beta1.KafkaUser)
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("the cached user differs:\n got %+v\nwant %+v", got, want)
	}
	if ops := got.Spec.Authorization.ACLs[0].Operations; cap(ops) != len(ops) {
		t.Errorf("operations keep spare capacity %d for %d", cap(ops), len(ops))
	}
}

func TestCachedUsersShareWhatRepeats(t *testing.T) {
	a, _ := CacheTransform(cachedUser("alice"))
	b, _ := CacheTransform(cachedUser("bob"))
	x, y := a.(*v1beta1.KafkaUser), b.(*v1beta1.KafkaUser)
	if reflect.ValueOf(x.Labels).UnsafePointer() != reflect.ValueOf(y.Labels).UnsafePointer() {
		t.Error("two users with the same labels do not share the map")
	}
	same := func(what, s1, s2 string) {
		if unsafe.StringData(s1) != unsafe.StringData(s2) {
			t.Errorf("%s is not shared", what)
		}
	}
	same("the namespace", x.Namespace, y.Namespace)
	same("the finalizer", x.Finalizers[0], y.Finalizers[0])
	same("an operation", string(x.Spec.Authorization.ACLs[0].Operations[0]), string(y.Spec.Authorization.ACLs[0].Operations[0]))
	same("the condition reason", x.Status.Conditions[0].Reason, y.Status.Conditions[0].Reason)
	same("the condition message", x.Status.Conditions[0].Message, y.Status.Conditions[0].Message)
	same("the Secret name and the user name", x.Status.Secret, x.Name)
}
