package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/client-go/util/workqueue"

	"github.com/kafkaplane/kafkaplane/pkg/metrics"
)

// recorder is a reconciler whose behaviour per call is scripted.
type recorder struct {
	mu    sync.Mutex
	calls map[Key][]time.Time
	fn    func(key Key, n int) (Result, error)
}

func newRecorder(fn func(key Key, n int) (Result, error)) *recorder {
	return &recorder{calls: map[Key][]time.Time{}, fn: fn}
}

func (r *recorder) Reconcile(_ context.Context, key Key) (Result, error) {
	r.mu.Lock()
	r.calls[key] = append(r.calls[key], time.Now())
	n := len(r.calls[key])
	r.mu.Unlock()
	return r.fn(key, n)
}

func (r *recorder) times(key Key) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.calls[key]...)
}

func run(t *testing.T, c *Controller) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	return func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("controller did not stop within 5s")
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRetriesWithExponentialBackoff(t *testing.T) {
	key := Key{Namespace: "ns", Name: "a"}
	rec := newRecorder(func(_ Key, n int) (Result, error) {
		if n <= 3 {
			return Result{}, errors.New("not yet")
		}
		return Result{}, nil
	})
	reg := metrics.NewRegistry()
	c, err := New(Options{Name: "test", Reconciler: rec, BaseDelay: 20 * time.Millisecond, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, c)
	defer stop()
	c.EnqueueKey(key)
	waitFor(t, "4 reconciles", func() bool { return len(rec.times(key)) >= 4 })

	ts := rec.times(key)
	// Backoff doubles: 20ms, 40ms, 80ms between the attempts.
	for i, want := range []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond} {
		if got := ts[i+1].Sub(ts[i]); got < want {
			t.Errorf("retry %d came after %v, want at least %v", i+1, got, want)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(rec.times(key)); n != 4 {
		t.Errorf("got %d reconciles after success, want exactly 4", n)
	}
	if got := testutil.ToFloat64(reg.Controller.Reconciles.WithLabelValues("test", "error")); got != 3 {
		t.Errorf("error reconciles metric = %v, want 3", got)
	}
	if got := testutil.ToFloat64(reg.Controller.Reconciles.WithLabelValues("test", "success")); got != 1 {
		t.Errorf("success reconciles metric = %v, want 1", got)
	}
}

func TestSuccessForgetsBackoff(t *testing.T) {
	key := Key{Namespace: "ns", Name: "a"}
	rec := newRecorder(func(_ Key, n int) (Result, error) {
		if n <= 2 {
			return Result{}, errors.New("fail")
		}
		return Result{}, nil
	})
	c, _ := New(Options{Name: "test", Reconciler: rec, BaseDelay: 30 * time.Millisecond})
	stop := run(t, c)
	defer stop()
	c.EnqueueKey(key)
	waitFor(t, "3 reconciles", func() bool { return len(rec.times(key)) >= 3 })
	if got := c.queue.NumRequeues(key); got != 0 {
		t.Errorf("requeues after success = %d, want 0 (backoff forgotten)", got)
	}
}

func TestRequeueAfter(t *testing.T) {
	key := Key{Namespace: "ns", Name: "a"}
	rec := newRecorder(func(_ Key, n int) (Result, error) {
		if n == 1 {
			return Result{RequeueAfter: 50 * time.Millisecond}, nil
		}
		return Result{}, nil
	})
	c, _ := New(Options{Name: "test", Reconciler: rec})
	stop := run(t, c)
	defer stop()
	c.EnqueueKey(key)
	waitFor(t, "2 reconciles", func() bool { return len(rec.times(key)) >= 2 })
	ts := rec.times(key)
	if d := ts[1].Sub(ts[0]); d < 50*time.Millisecond {
		t.Errorf("requeued after %v, want at least 50ms", d)
	}
}

// delays records the delays of AddAfter.
type delays struct {
	workqueue.TypedRateLimitingInterface[Key]
	mu    sync.Mutex
	added []time.Duration
}

func (d *delays) AddAfter(key Key, after time.Duration) {
	d.mu.Lock()
	d.added = append(d.added, after)
	d.mu.Unlock()
	d.TypedRateLimitingInterface.AddAfter(key, after)
}

func (d *delays) get() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Duration(nil), d.added...)
}

func TestRequeueAfterTheNextResyncHoldsNoTimer(t *testing.T) {
	keys := []Key{{Namespace: "ns", Name: "soon"}, {Namespace: "ns", Name: "later"}}
	rec := newRecorder(func(key Key, _ int) (Result, error) {
		if key.Name == "soon" {
			return Result{RequeueAfter: time.Minute}, nil
		}
		return Result{RequeueAfter: 2 * time.Hour}, nil
	})
	c, err := New(Options{Name: "test", Reconciler: rec, ResyncPeriod: time.Hour,
		ListKeys: func() ([]Key, error) { return keys, nil }})
	if err != nil {
		t.Fatal(err)
	}
	d := &delays{TypedRateLimitingInterface: c.queue}
	c.queue = d
	stop := run(t, c)
	for _, k := range keys {
		c.EnqueueKey(k)
	}
	// The first resync, at start, may reconcile them too.
	waitFor(t, "both reconciled", func() bool { return len(rec.times(keys[0])) >= 1 && len(rec.times(keys[1])) >= 1 })
	stop() // waits for the workers, which add timers before they return
	got := d.get()
	if len(got) == 0 {
		t.Fatal("no timer for the key due before the next resync")
	}
	for _, after := range got {
		if after != time.Minute {
			t.Errorf("timers %v, want only 1m ones: the resync reconciles the other first", got)
		}
	}
}

func TestDeduplicatesWaitingKeys(t *testing.T) {
	key := Key{Namespace: "ns", Name: "a"}
	rec := newRecorder(func(Key, int) (Result, error) { return Result{}, nil })
	c, _ := New(Options{Name: "test", Reconciler: rec})
	for range 100 {
		c.EnqueueKey(key)
	}
	if c.Len() != 1 {
		t.Fatalf("queue length %d after 100 adds of one key, want 1", c.Len())
	}
	stop := run(t, c)
	waitFor(t, "a reconcile", func() bool { return len(rec.times(key)) >= 1 })
	stop()
	if n := len(rec.times(key)); n != 1 {
		t.Errorf("reconciled %d times, want 1", n)
	}
}

func TestNoKeyReconciledConcurrently(t *testing.T) {
	key := Key{Namespace: "ns", Name: "a"}
	var inFlight, maxInFlight atomic.Int32
	var total atomic.Int32
	rec := newRecorder(func(Key, int) (Result, error) {
		n := inFlight.Add(1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		inFlight.Add(-1)
		total.Add(1)
		return Result{}, nil
	})
	c, _ := New(Options{Name: "test", Reconciler: rec, Workers: 8})
	stop := run(t, c)
	defer stop()
	for range 20 {
		c.EnqueueKey(key)
		time.Sleep(time.Millisecond)
	}
	waitFor(t, "queue drained", func() bool { return c.Len() == 0 && inFlight.Load() == 0 })
	if m := maxInFlight.Load(); m != 1 {
		t.Errorf("one key was reconciled %d times at once, want 1", m)
	}
}

func TestPanicIsRetried(t *testing.T) {
	key := Key{Namespace: "ns", Name: "a"}
	rec := newRecorder(func(_ Key, n int) (Result, error) {
		if n == 1 {
			panic("boom")
		}
		return Result{}, nil
	})
	c, _ := New(Options{Name: "test", Reconciler: rec, BaseDelay: time.Millisecond})
	stop := run(t, c)
	defer stop()
	c.EnqueueKey(key)
	waitFor(t, "retry after panic", func() bool { return len(rec.times(key)) >= 2 })
}

func TestResyncEnqueuesAllKeys(t *testing.T) {
	keys := []Key{{Namespace: "a", Name: "1"}, {Namespace: "b", Name: "2"}}
	rec := newRecorder(func(Key, int) (Result, error) { return Result{}, nil })
	c, err := New(Options{Name: "test", Reconciler: rec, ResyncPeriod: 30 * time.Millisecond,
		ListKeys: func() ([]Key, error) { return keys, nil }})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, c)
	defer stop()
	for _, k := range keys {
		waitFor(t, "two resyncs of "+k.String(), func() bool { return len(rec.times(k)) >= 2 })
	}
}

func TestResyncQueuesABacklogAtATime(t *testing.T) {
	keys := make([]Key, 500)
	for i := range keys {
		keys[i] = Key{Namespace: "ns", Name: fmt.Sprint(i)}
	}
	release := make(chan struct{})
	var done atomic.Int32
	c, err := New(Options{Name: "test", Workers: 1, ResyncPeriod: time.Hour,
		ListKeys: func() ([]Key, error) { return keys, nil },
		Reconciler: ReconcilerFunc(func(ctx context.Context, _ Key) (Result, error) {
			select {
			case <-release:
			case <-ctx.Done():
			}
			done.Add(1)
			return Result{}, nil
		})})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, c)
	defer stop()
	backlog := c.resyncBacklog()
	waitFor(t, "a full backlog", func() bool { return c.Len() == backlog })
	time.Sleep(50 * time.Millisecond)
	if n := c.Len(); n != backlog {
		t.Fatalf("%d keys queued by a resync of %d, want a backlog of %d", n, len(keys), backlog)
	}
	close(release)
	waitFor(t, "every key reconciled", func() bool { return done.Load() >= int32(len(keys)) })
}

func TestResyncNeedsListKeys(t *testing.T) {
	_, err := New(Options{Name: "x", Reconciler: ReconcilerFunc(func(context.Context, Key) (Result, error) {
		return Result{}, nil
	}), ResyncPeriod: time.Second})
	if err == nil {
		t.Fatal("New accepted ResyncPeriod without ListKeys")
	}
}

func TestShutdownWaitsForInFlightReconcile(t *testing.T) {
	key := Key{Namespace: "ns", Name: "a"}
	started := make(chan struct{})
	var finished atomic.Bool
	rec := newRecorder(func(Key, int) (Result, error) {
		close(started)
		time.Sleep(100 * time.Millisecond)
		finished.Store(true)
		return Result{}, nil
	})
	c, _ := New(Options{Name: "test", Reconciler: rec})
	stop := run(t, c)
	c.EnqueueKey(key)
	<-started
	stop()
	if !finished.Load() {
		t.Error("Run returned before the in-flight reconcile finished")
	}
}

// TestDefaultBackoffIsBounded: a key that kept failing (a Kafka still forming, a peer away for
// minutes) is retried at most DefaultMaxDelay after its last failure, however many failures it
// had: 20 failures of client-go's 5-minute-class limiter are a 5-minute wait.
func TestDefaultBackoffIsBounded(t *testing.T) {
	c, err := New(Options{Name: "test", Reconciler: newRecorder(func(Key, int) (Result, error) { return Result{}, nil })})
	if err != nil {
		t.Fatal(err)
	}
	key := Key{Namespace: "ns", Name: "a"}
	var last time.Duration
	for range 20 {
		last = c.opts.RateLimiter.When(key)
	}
	if last > 30*time.Second {
		t.Errorf("delay after 20 failures = %s, want at most 30s", last)
	}
	if first := c.opts.RateLimiter.When(Key{Name: "b"}); first != 100*time.Millisecond {
		t.Errorf("first delay = %s, want 100ms", first)
	}
}
