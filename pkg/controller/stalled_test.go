package controller

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestStalledReportsAWedgedWorker: a reconcile that never returns is reported once it has run
// past the bound, and not before; a worker that finished is not.
func TestStalledReportsAWedgedWorker(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	fine := make(chan struct{}, 1)
	c, err := New(Options{Name: "wedge", Workers: 2, Reconciler: ReconcilerFunc(func(ctx context.Context, key Key) (Result, error) {
		if key.Name == "stuck" {
			entered <- struct{}{}
			<-release
		} else {
			fine <- struct{}{}
		}
		return Result{}, nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	c.EnqueueKey(Key{Namespace: "ns", Name: "fine"})
	<-fine
	// The finished reconcile is off the books before the wedged one starts: checked at the
	// wrong moment, the worker still reconciling ns/fine was the one reported.
	deadline := time.Now().Add(10 * time.Second)
	for c.Stalled(time.Minute, time.Now().Add(2*time.Minute)) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the reconcile of ns/fine never finished")
		}
		time.Sleep(time.Millisecond)
	}
	c.EnqueueKey(Key{Namespace: "ns", Name: "stuck"})
	<-entered
	if err := c.Stalled(time.Minute, time.Now()); err != nil {
		t.Fatalf("stalled within the bound: %v", err)
	}
	err = c.Stalled(time.Minute, time.Now().Add(2*time.Minute))
	if err == nil || !strings.Contains(err.Error(), "ns/stuck") {
		t.Fatalf("a wedged worker is not reported: %v", err)
	}
	close(release)
	time.Sleep(50 * time.Millisecond)
	if err := c.Stalled(time.Minute, time.Now().Add(2*time.Minute)); err != nil {
		t.Fatalf("a worker that finished is still reported: %v", err)
	}
	cancel()
	<-done
}
