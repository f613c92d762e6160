// Package kafkalane keeps a cluster's Kafka calls from holding the cluster operator's workers:
// each call runs on its own goroutine, bounded by Limit, and the reconcile that asked waits at
// most Wait for the answer. An answer that comes later is kept for the next reconcile of that
// cluster (for at most Fresh), and that reconcile is queued as soon as the answer is in. A
// cluster whose Kafka hangs therefore costs a worker Wait per reconcile, not the call's timeout,
// and cannot starve the other clusters.
package kafkalane

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Defaults of Lanes' knobs.
const (
	DefaultWait  = 500 * time.Millisecond
	DefaultFresh = 2 * time.Second
	DefaultLimit = 40 * time.Second
	// DefaultMaxInFlight bounds the calls in flight per cluster (one per question).
	DefaultMaxInFlight = 8
)

// ErrPending is returned (wrapped) when Kafka has not answered within Wait; the call goes on and
// its answer queues the cluster again.
var ErrPending = errors.New("Kafka has not answered yet")

// Tally records whether a reconcile met a question Kafka had not answered yet.
type Tally struct{ pending atomic.Bool }

type tallyKey struct{}

// WithTally returns a context whose Kafka calls are tallied.
func WithTally(ctx context.Context) context.Context {
	return context.WithValue(ctx, tallyKey{}, &Tally{})
}

// Pending reports whether a call under ctx (from WithTally) returned ErrPending: the reconcile
// decided without an answer, which queues it again when it comes.
func Pending(ctx context.Context) bool {
	t, _ := ctx.Value(tallyKey{}).(*Tally)
	return t != nil && t.pending.Load()
}

func markPending(ctx context.Context) {
	if t, _ := ctx.Value(tallyKey{}).(*Tally); t != nil {
		t.pending.Store(true)
	}
}

// Lanes runs the Kafka calls of every cluster; the zero value is not usable, use New.
type Lanes struct {
	// Wait is how long a reconcile waits for an answer; Fresh is how long an answer that came
	// after the wait is kept for the next reconcile; Limit bounds a call (the calls bound their
	// own requests as well); MaxInFlight bounds the calls in flight per cluster.
	Wait, Fresh, Limit time.Duration
	MaxInFlight        int
	// Requeue queues a cluster's reconcile when an answer comes in that no reconcile waited for.
	Requeue func(namespace, name string)
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu       sync.Mutex
	clusters map[string]*lane
}

// New returns Lanes with the default knobs that queue answers with requeue.
func New(requeue func(namespace, name string)) *Lanes {
	return &Lanes{Wait: DefaultWait, Fresh: DefaultFresh, Limit: DefaultLimit, MaxInFlight: DefaultMaxInFlight, Requeue: requeue}
}

// lane is one cluster's calls: those in flight and the answers not yet read, by question.
type lane struct {
	running map[string]*call
	answers map[string]*call
	// slow: the last call that ended took longer than Wait, or one in flight already has. A slow
	// cluster's reconciles do not wait at all: a Kafka that hangs costs them nothing, and one
	// that recovers answers the next call in time again.
	slow bool
}

type call struct {
	started  time.Time
	done     chan struct{}
	finished bool
	at       time.Time
	waiters  int
	// void: the answer no longer holds (see Drop) and is not kept.
	void  bool
	value any
	err   error
}

func (l *Lanes) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Forget drops a cluster's lane: calls in flight finish unread.
func (l *Lanes) Forget(namespace, name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.clusters, namespace+"/"+name)
}

// Drop discards a cluster's unread answers to questions starting with prefix, and the answers
// of such calls in flight: what they say no longer holds, e.g. once a node restarts.
func (l *Lanes) Drop(namespace, name, prefix string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ln := l.clusters[namespace+"/"+name]
	if ln == nil {
		return
	}
	for q := range ln.answers {
		if strings.HasPrefix(q, prefix) {
			delete(ln.answers, q)
		}
	}
	for q, c := range ln.running {
		if strings.HasPrefix(q, prefix) {
			c.void = true
		}
	}
}

// InFlight is the number of calls in flight for a cluster.
func (l *Lanes) InFlight(namespace, name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ln := l.clusters[namespace+"/"+name]; ln != nil {
		return len(ln.running)
	}
	return 0
}

// Do answers question (which names the call and its arguments; the same question always makes
// the same call) for cluster k: with a fresh answer that came in since the last reconcile read
// it, else from the call in flight or a new one, waiting at most Wait. An answer is read once.
// fn runs with a context that keeps ctx's values but not its cancellation, bounded by Limit.
func Do[T any](ctx context.Context, l *Lanes, k *v1beta1.Kafka, question string, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	key := k.Namespace + "/" + k.Name
	l.mu.Lock()
	if l.clusters == nil {
		l.clusters = map[string]*lane{}
	}
	ln := l.clusters[key]
	if ln == nil {
		ln = &lane{running: map[string]*call{}, answers: map[string]*call{}}
		l.clusters[key] = ln
	}
	if c := ln.answers[question]; c != nil {
		delete(ln.answers, question)
		if l.now().Sub(c.at) <= l.Fresh {
			l.mu.Unlock()
			return result[T](c)
		}
	}
	c := ln.running[question]
	if c == nil {
		if len(ln.running) >= l.MaxInFlight {
			l.mu.Unlock()
			markPending(ctx)
			return zero, fmt.Errorf("%w: %d other calls to this cluster's Kafka are in flight", ErrPending, len(ln.running))
		}
		c = &call{started: l.now(), done: make(chan struct{})}
		ln.running[question] = c
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.Limit)
		go func() {
			defer cancel()
			v, err := fn(callCtx)
			l.finish(key, ln, question, c, v, err)
		}()
	}
	for _, r := range ln.running {
		if l.now().Sub(r.started) > l.Wait {
			ln.slow = true
		}
	}
	wait := l.Wait
	if ln.slow {
		wait = 0
	}
	c.waiters++
	l.mu.Unlock()

	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c.waiters--
	if c.finished && !c.void {
		// Answered while waiting (or just after): this reconcile reads it.
		if ln.answers[question] == c {
			delete(ln.answers, question)
		}
		return result[T](c)
	}
	markPending(ctx)
	return zero, fmt.Errorf("%w (asked %s ago); the answer queues the cluster again", ErrPending, l.now().Sub(c.started).Round(time.Millisecond))
}

// finish records an answer; when no reconcile waits for it, it is kept and the cluster queued.
func (l *Lanes) finish(key string, ln *lane, question string, c *call, v any, err error) {
	l.mu.Lock()
	c.finished, c.at, c.value, c.err = true, l.now(), v, err
	ln.slow = c.at.Sub(c.started) > l.Wait
	if ln.running[question] == c {
		delete(ln.running, question)
	}
	waited := c.waiters > 0
	keep := !waited && !c.void && l.clusters[key] == ln
	if keep {
		ln.answers[question] = c
	}
	close(c.done)
	l.mu.Unlock()
	if keep && l.Requeue != nil {
		ns, name, _ := strings.Cut(key, "/")
		l.Requeue(ns, name)
	}
}

func result[T any](c *call) (T, error) {
	v, _ := c.value.(T)
	return v, c.err
}
