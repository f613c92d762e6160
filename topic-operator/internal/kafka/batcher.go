package kafka

import (
	"context"
)

// batcher turns concurrent single calls into batched ones: while one batch is in flight, the
// calls that arrive wait together and go out as the next batch. Reconcile workers stay simple
// (one topic each) and Kafka still sees one request for many topics.
type batcher[In, Out any] struct {
	calls chan call[In, Out]
	max   int
	do    func(ctx context.Context, ins []In) ([]Out, []error)
	// observe, when set, sees the size of every batch (for metrics).
	observe func(n int)
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

func newBatcher[In, Out any](max int, do func(ctx context.Context, ins []In) ([]Out, []error)) *batcher[In, Out] {
	return &batcher[In, Out]{calls: make(chan call[In, Out], max), max: max, do: do}
}

// Do submits one call and waits for its result.
func (b *batcher[In, Out]) Do(ctx context.Context, in In) (Out, error) {
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

// run serves batches until ctx ends.
func (b *batcher[In, Out]) run(ctx context.Context) {
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
		if b.observe != nil {
			b.observe(len(ins))
		}
		outs, errs := b.do(ctx, ins)
		for i, c := range live {
			c.res <- result[Out]{out: outs[i], err: errs[i]}
		}
	}
}
