package batch

import (
	"context"
	"errors"
	"strings"
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

// TestBatcherNoAnswerCarriesTheRequestsError: a request that ends at its deadline with an error
// of its own (a dial that kept failing: "no such host") gives the caller that error with
// ErrNoAnswer, not "no answer" alone, which hid why for minutes in a real-Kafka run.
func TestBatcherNoAnswerCarriesTheRequestsError(t *testing.T) {
	dial := errors.New("unable to dial: lookup c-kafka-bootstrap.ns.svc: no such host")
	b := New(10, func(ctx context.Context, ins []int) ([]int, []error) {
		<-ctx.Done() // kgo retries the dial until the request's deadline, then returns its error
		errs := make([]error, len(ins))
		for i := range errs {
			errs[i] = dial
		}
		return make([]int, len(ins)), errs
	})
	b.Timeout = 200 * time.Millisecond
	go b.Run(t.Context())
	start := time.Now()
	_, err := b.Do(t.Context(), 1)
	// The request's error arrives at the caller's deadline: with ErrNoAnswer when the caller's
	// deadline is seen first, alone otherwise; either way the dial error is there.
	if !errors.Is(err, dial) {
		t.Fatalf("error %v, want the dial error", err)
	}
	if took := time.Since(start); took > b.Timeout+grace {
		t.Errorf("answered after %s, want within the timeout and the grace", took)
	}
	t.Log(err)
}

// TestBatcherNoAnswerBehindAHangingBatch: a call still waiting behind a batch that hangs fails
// at its own deadline, saying so.
func TestBatcherNoAnswerBehindAHangingBatch(t *testing.T) {
	release := make(chan struct{})
	b := New(1, func(ctx context.Context, ins []int) ([]int, []error) {
		<-release
		return make([]int, len(ins)), make([]error, len(ins))
	})
	b.Timeout = 200 * time.Millisecond
	defer close(release)
	go b.Run(t.Context())
	go func() { _, _ = b.Do(context.Background(), 1) }() // holds the batcher
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	_, err := b.Do(t.Context(), 2)
	if !errors.Is(err, ErrNoAnswer) || !strings.Contains(err.Error(), "earlier request") {
		t.Fatalf("error %v, want ErrNoAnswer saying an earlier request is under way", err)
	}
	if took := time.Since(start); took > b.Timeout+100*time.Millisecond {
		t.Errorf("answered after %s, want at the timeout", took)
	}
}

// TestBatcherOnNoAnswer: OnNoAnswer is called after a batched request that ran out of time
// (the Admins refresh the client's metadata then), not after one that was answered.
func TestBatcherOnNoAnswer(t *testing.T) {
	var hang atomic.Bool
	hang.Store(true)
	b := New(1, func(ctx context.Context, ins []int) ([]int, []error) {
		errs := make([]error, len(ins))
		if hang.Load() {
			<-ctx.Done()
			for i := range errs {
				errs[i] = ctx.Err()
			}
		}
		return make([]int, len(ins)), errs
	})
	b.Timeout = 100 * time.Millisecond
	called := make(chan struct{}, 10)
	b.OnNoAnswer = func() { called <- struct{}{} }
	go b.Run(t.Context())
	if _, err := b.Do(t.Context(), 1); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("error %v, want ErrNoAnswer", err)
	}
	select {
	case <-called:
	case <-time.After(time.Second):
		t.Fatal("OnNoAnswer not called after a request without an answer")
	}
	hang.Store(false)
	if _, err := b.Do(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	select {
	case <-called:
		t.Fatal("OnNoAnswer called after an answered request")
	case <-time.After(200 * time.Millisecond):
	}
}
