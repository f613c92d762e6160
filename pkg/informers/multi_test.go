package informers

import (
	"context"
	"sort"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned/fake"
	kpinformers "github.com/kafkaplane/kafkaplane/pkg/generated/informers/externalversions"
)

func topic(ns, name string) *v1beta1.KafkaTopic {
	return &v1beta1.KafkaTopic{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: name,
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
	}}
}

func startTopics(t *testing.T, ns Namespaces, objs ...*v1beta1.KafkaTopic) (*Multi, *fake.Clientset) {
	t.Helper()
	client := fake.NewSimpleClientset() // NewClientset needs an OpenAPI model of our types for its field-managed tracker
	for _, o := range objs {
		if _, err := client.KafkaplaneV1beta1().KafkaTopics(o.Namespace).Create(t.Context(), o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	p := NewPerNamespace(ns, func(namespace string) kpinformers.SharedInformerFactory {
		return kpinformers.NewSharedInformerFactoryWithOptions(client, 0,
			kpinformers.WithNamespace(namespace), kpinformers.WithTransform(StripManagedFields))
	})
	m := ForResource(p, func(f kpinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Kafkaplane().V1beta1().KafkaTopics().Informer()
	})
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(func() { cancel(); p.Shutdown() })
	p.Start(ctx)
	if err := WaitForSync(ctx, m); err != nil {
		t.Fatal(err)
	}
	return m, client
}

func keys(m *Multi) []string {
	var out []string
	for _, k := range m.Keys() {
		out = append(out, k.String())
	}
	sort.Strings(out)
	return out
}

func TestScopedToListedNamespaces(t *testing.T) {
	m, client := startTopics(t, ParseNamespaces("a,b"), topic("a", "t1"), topic("b", "t2"), topic("c", "t3"))
	if got, want := keys(m), []string{"a/t1", "b/t2"}; !equalStrings(got, want) {
		t.Fatalf("cached keys %v, want %v (namespace c is not watched)", got, want)
	}
	if m.Indexer("c") != nil {
		t.Error("an unwatched namespace has an indexer")
	}
	if _, ok, _ := m.GetByKey("c", "t3"); ok {
		t.Error("GetByKey found an object of an unwatched namespace")
	}

	// Events from an unwatched namespace never reach the handler.
	seen := make(chan string, 10)
	if err := m.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(obj any) {
		seen <- obj.(*v1beta1.KafkaTopic).Namespace
	}}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the initial adds of a/t1 and b/t2
		<-seen
	}
	for _, o := range []*v1beta1.KafkaTopic{topic("c", "t4"), topic("b", "t5")} {
		if _, err := client.KafkaplaneV1beta1().KafkaTopics(o.Namespace).Create(t.Context(), o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case ns := <-seen:
		if ns != "b" {
			t.Fatalf("handler saw a topic from namespace %q", ns)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler never saw b/t5")
	}
	select {
	case ns := <-seen:
		t.Fatalf("handler saw an unexpected topic from namespace %q", ns)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestAllNamespacesAndStrippedManagedFields(t *testing.T) {
	m, _ := startTopics(t, ParseNamespaces("*"), topic("a", "t1"), topic("c", "t3"))
	if got, want := keys(m), []string{"a/t1", "c/t3"}; !equalStrings(got, want) {
		t.Fatalf("cached keys %v, want %v", got, want)
	}
	obj, ok, err := m.GetByKey("c", "t3")
	if err != nil || !ok {
		t.Fatalf("GetByKey(c/t3) = %v, %v", ok, err)
	}
	if mf := obj.(*v1beta1.KafkaTopic).ManagedFields; mf != nil {
		t.Errorf("cached object kept managedFields %v", mf)
	}
	all, err := m.List(labels.Everything())
	if err != nil || len(all) != 2 {
		t.Errorf("List = %d objects, %v; want 2", len(all), err)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
