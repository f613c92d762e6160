package controller

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

func newTestController(t *testing.T) *Controller {
	t.Helper()
	c, err := New(Options{Name: "h", Reconciler: ReconcilerFunc(func(context.Context, Key) (Result, error) {
		return Result{}, nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pod(name, rv string, owner *metav1.OwnerReference) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, ResourceVersion: rv}}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return p
}

func TestEventHandlerDropsResyncs(t *testing.T) {
	c := newTestController(t)
	h := c.EventHandler()
	h.OnUpdate(pod("a", "1", nil), pod("a", "1", nil))
	if c.Len() != 0 {
		t.Fatalf("an informer resync (same resourceVersion) was enqueued")
	}
	h.OnUpdate(pod("a", "1", nil), pod("a", "2", nil))
	if c.Len() != 1 {
		t.Fatalf("a real update was not enqueued")
	}
}

func TestEventHandlerHandlesTombstones(t *testing.T) {
	c := newTestController(t)
	c.EventHandler().OnDelete(cache.DeletedFinalStateUnknown{Key: "ns/gone", Obj: pod("gone", "3", nil)})
	key, _ := c.queue.Get()
	if key != (Key{Namespace: "ns", Name: "gone"}) {
		t.Fatalf("got key %v, want ns/gone", key)
	}
}

func TestOwnerHandlerEnqueuesControllingOwnerOfKind(t *testing.T) {
	c := newTestController(t)
	h := c.OwnerHandler("Kafka")
	yes := true
	h.OnAdd(pod("p1", "1", &metav1.OwnerReference{Kind: "Kafka", Name: "my-cluster", Controller: &yes}), false)
	h.OnAdd(pod("p2", "1", &metav1.OwnerReference{Kind: "ReplicaSet", Name: "rs", Controller: &yes}), false)
	h.OnAdd(pod("p3", "1", &metav1.OwnerReference{Kind: "Kafka", Name: "not-controller"}), false)
	if c.Len() != 1 {
		t.Fatalf("queue has %d keys, want only the controlling Kafka", c.Len())
	}
	key, _ := c.queue.Get()
	if key != (Key{Namespace: "ns", Name: "my-cluster"}) {
		t.Fatalf("got key %v, want ns/my-cluster", key)
	}
}

func TestSpecEventHandlerIgnoresStatusOnlyUpdates(t *testing.T) {
	c := newTestController(t)
	h := c.SpecEventHandler()
	old := pod("a", "1", nil)
	old.Generation = 1
	statusOnly := old.DeepCopy()
	statusOnly.ResourceVersion = "2"
	statusOnly.Status.Phase = corev1.PodRunning
	h.OnUpdate(old, statusOnly)
	if c.Len() != 0 {
		t.Fatal("a status-only update was enqueued")
	}
	for name, mutate := range map[string]func(*corev1.Pod){
		"generation": func(p *corev1.Pod) { p.Generation = 2 },
		"annotation": func(p *corev1.Pod) { p.Annotations = map[string]string{"kafkaplane.io/managed": "false"} },
		"finalizer":  func(p *corev1.Pod) { p.Finalizers = []string{"x"} },
		"deletion":   func(p *corev1.Pod) { now := metav1.Now(); p.DeletionTimestamp = &now },
		"label":      func(p *corev1.Pod) { p.Labels = map[string]string{"a": "b"} },
	} {
		n := old.DeepCopy()
		n.ResourceVersion = "3"
		mutate(n)
		h.OnUpdate(old, n)
		if c.Len() != 1 {
			t.Errorf("a %s change was not enqueued", name)
		}
		k, _ := c.queue.Get()
		c.queue.Done(k)
	}
}
