package batch

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBatcherCoalescesConcurrentCalls(t *testing.T) {
	var batches, calls atomic.Int32
	release := make(chan struct{})
	b := New(1000, func(_ context.Context, ins []int) ([]int, []error) {
		if batches.Add(1) == 1 {
			<-release // hold the first batch so the others queue up
		}
		calls.Add(int32(len(ins)))
		outs := make([]int, len(ins))
		for i, in := range ins {
			outs[i] = in * 2
		}
		return outs, make([]error, len(ins))
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go b.Run(ctx)

	var wg sync.WaitGroup
	results := make([]int, 101)
	wg.Go(func() { results[0], _ = b.Do(ctx, 0) })
	time.Sleep(20 * time.Millisecond) // the first call is in flight
	for i := 1; i <= 100; i++ {
		wg.Go(func() { results[i], _ = b.Do(ctx, i) })
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	for i, r := range results {
		if r != i*2 {
			t.Fatalf("call %d got %d, want %d", i, r, i*2)
		}
	}
	if n := batches.Load(); n != 2 {
		t.Errorf("101 calls went out in %d batches, want 2 (1 in flight + 100 waiting)", n)
	}
}

func TestBatcherHonoursCallerCancellation(t *testing.T) {
	b := New(10, func(_ context.Context, ins []int) ([]int, []error) {
		return make([]int, len(ins)), make([]error, len(ins))
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := b.Do(ctx, 1); err == nil {
		t.Fatal("a call with a cancelled context succeeded without a running batcher")
	}
}
