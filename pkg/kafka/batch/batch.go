// Package batch coalesces concurrent single Kafka admin calls into batched requests.
package batch

import (
	"context"
)

// Batcher turns concurrent single calls into batched ones: while one batch is in flight, the
// calls that arrive wait together and go out as the next batch. Reconcile workers stay simple
// (one resource each) and Kafka still sees one request for many resources.
type Batcher[In, Out any] struct {
	calls chan call[In, Out]
	max   int
	do    func(ctx context.Context, ins []In) ([]Out, []error)
	// Observe, when set, sees the size of every batch (for metrics). Set it before Run.
	Observe func(n int)
}

type call[In, Out any] struct {
	ctx context.Context
	in  In
	res chan result[Out]
}

type result[Out any] struct {
	out Out
	err error
}

// New returns a Batcher that sends at most max calls per do; Run serves it.
func New[In, Out any](max int, do func(ctx context.Context, ins []In) ([]Out, []error)) *Batcher[In, Out] {
	return &Batcher[In, Out]{calls: make(chan call[In, Out], max), max: max, do: do}
}

// Do submits one call and waits for its result.
func (b *Batcher[In, Out]) Do(ctx context.Context, in In) (Out, error) {
	c := call[In, Out]{ctx: ctx, in: in, res: make(chan result[Out], 1)}
	var zero Out
	select {
	case b.calls <- c:
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	select {
	case r := <-c.res:
		return r.out, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
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
		outs, errs := b.do(ctx, ins)
		for i, c := range live {
			c.res <- result[Out]{out: outs[i], err: errs[i]}
		}
	}
}
