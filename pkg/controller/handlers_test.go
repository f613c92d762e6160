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
