package kafkalane

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/roller"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

func kafka(name string) *v1beta1.Kafka {
	return &v1beta1.Kafka{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
}

type requeues struct {
	mu   sync.Mutex
	keys []string
	ch   chan string
}

func newRequeues() *requeues { return &requeues{ch: make(chan string, 16)} }

func (r *requeues) add(ns, name string) {
	r.mu.Lock()
	r.keys = append(r.keys, ns+"/"+name)
	r.mu.Unlock()
	r.ch <- ns + "/" + name
}

func TestAnswerWithinWaitIsReturnedAndNotKept(t *testing.T) {
	rq := newRequeues()
	l := New(rq.add)
	v, err := Do(context.Background(), l, kafka("a"), "q", func(context.Context) (int, error) { return 7, nil })
	if err != nil || v != 7 {
		t.Fatalf("got %d, %v; want 7, nil", v, err)
	}
	// The answer was read: the next ask calls again.
	calls := 0
	v, err = Do(context.Background(), l, kafka("a"), "q", func(context.Context) (int, error) { calls++; return 8, nil })
	if err != nil || v != 8 || calls != 1 {
		t.Fatalf("second ask: got %d, %v after %d calls; want 8 from a new call", v, err, calls)
	}
	time.Sleep(10 * time.Millisecond)
	if len(rq.keys) != 0 {
		t.Fatalf("answers a reconcile waited for queued %v", rq.keys)
	}
}

// TestHangingKafkaHoldsTheCallerOnlyForWait is the worker starvation the lanes exist for: a
// call that hangs for its whole timeout returns to the reconcile after Wait, and its answer
// queues the cluster and is read by the next reconcile.
func TestHangingKafkaHoldsTheCallerOnlyForWait(t *testing.T) {
	rq := newRequeues()
	l := New(rq.add)
	l.Wait = 50 * time.Millisecond
	release := make(chan struct{})
	started := time.Now()
	_, err := Do(context.Background(), l, kafka("slow"), "q", func(context.Context) (string, error) {
		<-release
		return "late", nil
	})
	if !errors.Is(err, ErrPending) {
		t.Fatalf("err = %v, want ErrPending", err)
	}
	if d := time.Since(started); d > time.Second {
		t.Fatalf("the caller was held %s", d)
	}
	// Asked again while in flight: no second call, pending again.
	_, err = Do(context.Background(), l, kafka("slow"), "q", func(context.Context) (string, error) {
		t.Error("a second call was made while the first was in flight")
		return "", nil
	})
	if !errors.Is(err, ErrPending) {
		t.Fatalf("err = %v, want ErrPending", err)
	}
	close(release)
	select {
	case key := <-rq.ch:
		if key != "ns/slow" {
			t.Fatalf("queued %s", key)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the late answer did not queue the cluster")
	}
	v, err := Do(context.Background(), l, kafka("slow"), "q", func(context.Context) (string, error) {
		t.Error("called again although an answer was waiting")
		return "", nil
	})
	if err != nil || v != "late" {
		t.Fatalf("got %q, %v; want the late answer", v, err)
	}
}

func TestStaleAnswerIsAskedAgain(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	rq := newRequeues()
	l := New(rq.add)
	l.Wait = 20 * time.Millisecond
	l.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	release := make(chan struct{})
	_, _ = Do(context.Background(), l, kafka("a"), "can-restart 1", func(context.Context) (bool, error) { <-release; return true, nil })
	close(release)
	<-rq.ch
	mu.Lock()
	now = now.Add(l.Fresh + time.Second)
	mu.Unlock()
	v, err := Do(context.Background(), l, kafka("a"), "can-restart 1", func(context.Context) (bool, error) { return false, nil })
	if err != nil || v {
		t.Fatalf("got %t, %v; a stale yes must not be used", v, err)
	}
}

func TestQuestionsAndClustersAreSeparate(t *testing.T) {
	l := New(nil)
	l.Wait = 20 * time.Millisecond
	l.MaxInFlight = 2
	block := make(chan struct{})
	defer close(block)
	hang := func(context.Context) (int, error) { <-block; return 0, nil }
	for _, q := range []string{"a", "b"} {
		if _, err := Do(context.Background(), l, kafka("bad"), q, hang); !errors.Is(err, ErrPending) {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The cluster's bound is reached: a third question is refused without a call.
	_, err := Do(context.Background(), l, kafka("bad"), "c", func(context.Context) (int, error) {
		t.Error("called beyond MaxInFlight")
		return 0, nil
	})
	if !errors.Is(err, ErrPending) {
		t.Fatalf("third question: %v", err)
	}
	if n := l.InFlight("ns", "bad"); n != 2 {
		t.Fatalf("in flight %d, want 2", n)
	}
	// Another cluster is not affected.
	v, err := Do(context.Background(), l, kafka("good"), "a", func(context.Context) (int, error) { return 1, nil })
	if err != nil || v != 1 {
		t.Fatalf("healthy cluster: %d, %v", v, err)
	}
}

func TestCallOutlivesTheReconcileButNotLimit(t *testing.T) {
	l := New(nil)
	l.Wait = 10 * time.Millisecond
	l.Limit = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	_, _ = Do(ctx, l, kafka("a"), "q", func(ctx context.Context) (int, error) {
		<-ctx.Done()
		got <- ctx.Err()
		return 0, ctx.Err()
	})
	cancel() // the reconcile ends; the call goes on until Limit
	select {
	case err := <-got:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the call ended with %v, want its Limit", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call was not bounded by Limit")
	}
}

func TestForgottenClusterIsNotQueued(t *testing.T) {
	rq := newRequeues()
	l := New(rq.add)
	l.Wait = 10 * time.Millisecond
	release := make(chan struct{})
	_, _ = Do(context.Background(), l, kafka("gone"), "q", func(context.Context) (int, error) { <-release; return 1, nil })
	l.Forget("ns", "gone")
	close(release)
	select {
	case key := <-rq.ch:
		t.Fatalf("a forgotten cluster was queued: %s", key)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestSlowClusterDoesNotWait: once a cluster's Kafka took longer than Wait, its reconciles stop
// waiting for it (a hanging Kafka costs them nothing); an answer in time ends that.
func TestSlowClusterDoesNotWait(t *testing.T) {
	rq := newRequeues()
	l := New(rq.add)
	l.Wait = 200 * time.Millisecond
	release := make(chan struct{})
	if _, err := Do(context.Background(), l, kafka("a"), "hangs", func(context.Context) (int, error) { <-release; return 0, nil }); !errors.Is(err, ErrPending) {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := Do(context.Background(), l, kafka("a"), "other", func(context.Context) (int, error) {
		time.Sleep(50 * time.Millisecond)
		return 1, nil
	})
	if !errors.Is(err, ErrPending) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("a slow cluster's next question waited %s (%v)", time.Since(start), err)
	}
	<-rq.ch // "other" answered in 50 ms: the cluster is not slow any more
	v, err := Do(context.Background(), l, kafka("a"), "other", func(context.Context) (int, error) { return 2, nil })
	if err != nil || v != 1 {
		t.Fatalf("got %d, %v; want the kept answer 1", v, err)
	}
	close(release)
	<-rq.ch // "hangs" answered late: slow again, until a call is answered in time
	if _, err := Do(context.Background(), l, kafka("a"), "third", func(context.Context) (int, error) { return 3, nil }); !errors.Is(err, ErrPending) {
		t.Fatalf("after a late answer: %v, want no wait", err)
	}
	<-rq.ch
	v, err = Do(context.Background(), l, kafka("a"), "fourth", func(context.Context) (int, error) { return 4, nil })
	if err != nil || v != 4 {
		t.Fatalf("a recovered cluster: %d, %v; want an answer within Wait", v, err)
	}
}

// TestRestartDropsOtherVerdicts: a yes for one node's restart voids what Kafka said about the
// others, read or in flight: it was said before that node went.
func TestRestartDropsOtherVerdicts(t *testing.T) {
	rq := newRequeues()
	l := New(rq.add)
	l.Wait = 20 * time.Millisecond
	release := make(chan struct{})
	c := &Checks{Lanes: l, Next: yesKafka{release: release}}
	k := kafka("a")
	for _, id := range []int32{1, 2} {
		if ok, _ := c.CanRestart(context.Background(), k, roller.Node{ID: id, Broker: true, Ready: true}); ok {
			t.Fatalf("node %d: yes before Kafka answered", id)
		}
	}
	close(release)
	<-rq.ch
	<-rq.ch
	if ok, why := c.CanRestart(context.Background(), k, roller.Node{ID: 1, Broker: true, Ready: true}); !ok {
		t.Fatalf("node 1: %s", why)
	}
	// Node 1 restarts; node 2's yes was given before that and must be asked again.
	var calls atomic.Int32
	c.Next = countingKafka{n: &calls}
	c.CanRestart(context.Background(), k, roller.Node{ID: 2, Broker: true, Ready: true})
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("node 2 after node 1 restarted: %d calls; want a new question, not the old yes", n)
	}
}

type yesKafka struct {
	Kafka
	release chan struct{}
}

func (y yesKafka) CanRestart(context.Context, *v1beta1.Kafka, roller.Node) (bool, string) {
	<-y.release
	return true, ""
}

type countingKafka struct {
	Kafka
	n *atomic.Int32
}

func (c countingKafka) CanRestart(context.Context, *v1beta1.Kafka, roller.Node) (bool, string) {
	c.n.Add(1)
	return true, ""
}
