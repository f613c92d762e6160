// Package batch coalesces concurrent single Kafka admin calls into batched requests.
package batch

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultTimeout bounds one call, and one batched request: a Kafka that takes requests and never
// answers (a broker cut off, or stuck) must not hold a reconcile worker, or the batch, for the
// client's whole read timeout plus retries (40 s and more for a CreateTopics), and the resource
// must say why soon.
const DefaultTimeout = 8 * time.Second

// ErrNoAnswer is the error of a call Kafka did not answer in time.
var ErrNoAnswer = errors.New("Kafka did not answer in time")

// Batcher turns concurrent single calls into batched ones: while one batch is in flight, the
// calls that arrive wait together and go out as the next batch. Reconcile workers stay simple
// (one resource each) and Kafka still sees one request for many resources.
type Batcher[In, Out any] struct {
	calls chan call[In, Out]
	max   int
	do    func(ctx context.Context, ins []In) ([]Out, []error)
	// Observe, when set, sees the size of every batch (for metrics). Set it before Run.
	Observe func(n int)
	// Timeout bounds each call and each batched request; DefaultTimeout when zero. Set it
	// before Run.
	Timeout time.Duration
	// OnNoAnswer, when set, is called after a batched request ran out of time. Set it before
	// Run.
	OnNoAnswer func()
}

func (b *Batcher[In, Out]) timeout() time.Duration {
	if b.Timeout > 0 {
		return b.Timeout
	}
	return DefaultTimeout
}

type call[In, Out any] struct {
	ctx context.Context
	in  In
	res chan result[Out]
	// taken receives the deadline of the batch the call goes out in.
	taken chan time.Time
}

// grace is how long past its own deadline a caller waits for the answer of a batch its call
// is in: the request's own error (a failed dial, a name not found) says more than "no answer",
// and arrives when the request's deadline, a little later than the caller's, passes.
const grace = 1500 * time.Millisecond

type result[Out any] struct {
	out Out
	err error
}

// New returns a Batcher that sends at most max calls per do; Run serves it.
func New[In, Out any](max int, do func(ctx context.Context, ins []In) ([]Out, []error)) *Batcher[In, Out] {
	return &Batcher[In, Out]{calls: make(chan call[In, Out], max), max: max, do: do}
}

// Do submits one call and waits for its result.
//
// It returns within Timeout (and a short grace): a call Kafka has not answered by then fails
// with ErrNoAnswer, carrying the request's own error when it ended with one (the request may
// still take effect in Kafka; the caller's next attempt finds out).
func (b *Batcher[In, Out]) Do(ctx context.Context, in In) (Out, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, b.timeout())
	defer cancel()
	c := call[In, Out]{ctx: ctx, in: in, res: make(chan result[Out], 1), taken: make(chan time.Time, 1)}
	var zero Out
	fail := func() (Out, error) {
		if parent.Err() != nil || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return zero, ctx.Err()
		}
		var deadline time.Time
		select {
		case deadline = <-c.taken:
		default:
			return zero, fmt.Errorf("%w (%s): an earlier request was still under way", ErrNoAnswer, b.timeout())
		}
		wait := min(time.Until(deadline)+100*time.Millisecond, grace)
		t := time.NewTimer(max(wait, 0))
		defer t.Stop()
		select {
		case r := <-c.res:
			if r.err == nil {
				return r.out, nil
			}
			return zero, fmt.Errorf("%w (%s): %w", ErrNoAnswer, b.timeout(), r.err)
		case <-parent.Done():
			return zero, parent.Err()
		case <-t.C:
			return zero, fmt.Errorf("%w (%s)", ErrNoAnswer, b.timeout())
		}
	}
	select {
	case b.calls <- c:
	case <-ctx.Done():
		return fail()
	}
	select {
	case r := <-c.res:
		if r.err != nil && parent.Err() == nil && errors.Is(r.err, context.DeadlineExceeded) && !errors.Is(r.err, ErrNoAnswer) {
			// The request ran out of time: the same as no answer, said the same way.
			return zero, fmt.Errorf("%w (%s): %w", ErrNoAnswer, b.timeout(), r.err)
		}
		return r.out, r.err
	case <-ctx.Done():
		return fail()
	}
}

// Run serves batches until ctx ends.
func (b *Batcher[In, Out]) Run(ctx context.Context) {
	for {
		var batch []call[In, Out]
		select {
		case <-ctx.Done():
			return
		case c := <-b.calls:
			batch = append(batch, c)
		}
	drain:
		for len(batch) < b.max {
			select {
			case c := <-b.calls:
				batch = append(batch, c)
			default:
				break drain
			}
		}
		// Calls whose caller gave up are dropped before they cost a Kafka request.
		live := batch[:0]
		for _, c := range batch {
			if c.ctx.Err() == nil {
				live = append(live, c)
			}
		}
		if len(live) == 0 {
			continue
		}
		ins := make([]In, len(live))
		for i, c := range live {
			ins[i] = c.in
		}
		if b.Observe != nil {
			b.Observe(len(ins))
		}
		dctx, cancel := context.WithTimeout(ctx, b.timeout())
		deadline, _ := dctx.Deadline()
		for _, c := range live {
			c.taken <- deadline
		}
		outs, errs := b.do(dctx, ins)
		if b.OnNoAnswer != nil && ctx.Err() == nil && errors.Is(dctx.Err(), context.DeadlineExceeded) {
			b.OnNoAnswer()
		}
		cancel()
		for i, c := range live {
			c.res <- result[Out]{out: outs[i], err: errs[i]}
		}
	}
}
