// Package controller is the small runner every Kafkaplane controller is built on: a typed,
// rate-limited, de-duplicating workqueue keyed by namespace/name, N workers, retries with
// exponential backoff, periodic resync with jitter, and a clean stop when the context ends.
// Data flows one way: informer event → Enqueue → Reconcile(key) → the reconciler reads listers,
// computes the desired state, applies it and writes status.
package controller

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/pkg/metrics"
)

// Key identifies the object a reconcile is for.
type Key = cache.ObjectName

// Result tells the runner what to do after a successful reconcile.
type Result struct {
	// RequeueAfter > 0 reconciles the key again after that long (e.g. before a certificate
	// expires), or at the next resync if that comes first; the backoff of earlier failures is
	// forgotten.
	RequeueAfter time.Duration
}

// Reconciler brings one object to its desired state. A returned error retries the key with
// exponential backoff; wrap errors with context, they are logged with the key.
type Reconciler interface {
	Reconcile(ctx context.Context, key Key) (Result, error)
}

// ReconcilerFunc adapts a function to Reconciler.
type ReconcilerFunc func(ctx context.Context, key Key) (Result, error)

// Reconcile implements Reconciler.
func (f ReconcilerFunc) Reconcile(ctx context.Context, key Key) (Result, error) { return f(ctx, key) }

// Options configure a Controller.
type Options struct {
	// Name names the controller in logs, metrics and the workqueue.
	Name string
	// Reconciler does the work.
	Reconciler Reconciler
	// Workers reconcile different keys in parallel; one key is never reconciled twice at once.
	// Default 1.
	Workers int
	// ResyncPeriod > 0 enqueues every key from ListKeys that often (with up to 10% jitter), so
	// that drift outside Kubernetes is repaired; a few times Workers keys at a time.
	ResyncPeriod time.Duration
	// ListKeys lists the keys to resync. Required with ResyncPeriod.
	ListKeys func() ([]Key, error)
	// RateLimiter of retries. Default: per-key exponential backoff from BaseDelay to MaxDelay.
	RateLimiter workqueue.TypedRateLimiter[Key]
	// BaseDelay and MaxDelay bound the default per-key backoff. Defaults 100ms and 30s: a
	// resource that failed while its peer (Kafka, the API server) was away is retried within
	// 30 s of the peer's return. With client-go's 5-minute-class caps, a topic created with its
	// cluster waited minutes after the cluster formed, having failed a dozen times meanwhile.
	BaseDelay, MaxDelay time.Duration
	// Metrics, when set, receive reconcile counts and durations and the workqueue metrics.
	Metrics *metrics.Registry
}

// DefaultMaxDelay is the longest wait before a failed key's next attempt, by default.
const DefaultMaxDelay = 30 * time.Second

// Controller runs a Reconciler over a workqueue.
type Controller struct {
	opts  Options
	queue workqueue.TypedRateLimitingInterface[Key]
	// busy holds, per worker, the reconcile it is in (nil when idle): what Stalled reads.
	busy []atomic.Pointer[inflight]
}

// inflight is a reconcile under way.
type inflight struct {
	key   Key
	since time.Time
}

// New returns a Controller; call Run to start it.
func New(opts Options) (*Controller, error) {
	if opts.Name == "" || opts.Reconciler == nil {
		return nil, errors.New("controller: Name and Reconciler are required")
	}
	if opts.ResyncPeriod > 0 && opts.ListKeys == nil {
		return nil, fmt.Errorf("controller %s: ResyncPeriod needs ListKeys", opts.Name)
	}
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.BaseDelay <= 0 {
		opts.BaseDelay = 100 * time.Millisecond
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = DefaultMaxDelay
	}
	if opts.RateLimiter == nil {
		opts.RateLimiter = workqueue.NewTypedItemExponentialFailureRateLimiter[Key](opts.BaseDelay, opts.MaxDelay)
	}
	cfg := workqueue.TypedRateLimitingQueueConfig[Key]{Name: opts.Name}
	if opts.Metrics != nil {
		cfg.MetricsProvider = opts.Metrics.Workqueue
	}
	return &Controller{opts: opts, queue: workqueue.NewTypedRateLimitingQueueWithConfig(opts.RateLimiter, cfg),
		busy: make([]atomic.Pointer[inflight], opts.Workers)}, nil
}

// Name returns the controller's name.
func (c *Controller) Name() string { return c.opts.Name }

// EnqueueKey adds a key to the queue; a key already waiting is not added twice.
func (c *Controller) EnqueueKey(key Key) { c.queue.Add(key) }

// EnqueueAfter adds a key after a delay.
func (c *Controller) EnqueueAfter(key Key, d time.Duration) { c.queue.AddAfter(key, d) }

// Enqueue adds the key of an object from an informer, including deletion tombstones.
func (c *Controller) Enqueue(obj any) {
	key, err := cache.DeletionHandlingObjectToName(obj)
	if err != nil {
		utilruntime.HandleError(fmt.Errorf("controller %s: key of %T: %w", c.opts.Name, obj, err))
		return
	}
	c.queue.Add(key)
}

// Len is the number of keys waiting (for tests and diagnostics).
func (c *Controller) Len() int { return c.queue.Len() }

// Run processes the queue with the configured workers until ctx ends, then stops taking work,
// lets in-flight reconciles finish and returns. Start the informers and wait for their caches
// before calling Run.
func (c *Controller) Run(ctx context.Context) {
	logger := klog.FromContext(ctx).WithName(c.opts.Name)
	ctx = klog.NewContext(ctx, logger)
	defer utilruntime.HandleCrash()

	var wg sync.WaitGroup
	for i := range c.opts.Workers {
		wg.Go(func() {
			for c.processNext(ctx, &c.busy[i]) {
			}
		})
	}
	if c.opts.ResyncPeriod > 0 {
		wg.Go(func() {
			wait.JitterUntilWithContext(ctx, c.resync, c.opts.ResyncPeriod, 0.1, false)
		})
	}
	logger.Info("Controller started", "workers", c.opts.Workers, "resyncPeriod", c.opts.ResyncPeriod)
	<-ctx.Done()
	c.queue.ShutDownWithDrain()
	wg.Wait()
	logger.Info("Controller stopped")
}

func (c *Controller) resync(ctx context.Context) {
	keys, err := c.opts.ListKeys()
	if err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Listing keys for resync failed", "controller", c.opts.Name)
		return
	}
	// Keys go in as the workers take them, a backlog at a time: 20,000 keys queued at once
	// would hold 20,000 queue entries (and their metrics) for the whole resync, and the events
	// that arrive meanwhile would wait behind all of them.
	backlog := c.resyncBacklog()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for _, k := range keys {
		for c.queue.Len() >= backlog {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
		c.queue.Add(k)
	}
}

// resyncBacklog is how many keys a resync keeps queued.
func (c *Controller) resyncBacklog() int { return max(64, 4*c.opts.Workers) }

func (c *Controller) processNext(ctx context.Context, busy *atomic.Pointer[inflight]) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)

	logger := klog.LoggerWithValues(klog.FromContext(ctx), "key", key.String())
	start := time.Now()
	busy.Store(&inflight{key: key, since: start})
	res, err := c.reconcile(klog.NewContext(ctx, logger), key)
	busy.Store(nil)
	outcome := "success"
	switch {
	case err != nil:
		outcome = "error"
		retries := c.queue.NumRequeues(key)
		utilruntime.HandleErrorWithContext(ctx, err, "Reconcile failed; retrying with backoff",
			"controller", c.opts.Name, "key", key.String(), "retries", retries)
		c.queue.AddRateLimited(key)
	case res.RequeueAfter > 0:
		outcome = "requeue"
		c.queue.Forget(key)
		// A resync that comes first reconciles the key anyway, so no timer is held for it
		// (user certificates due in months would otherwise cost one timer per user).
		if c.opts.ResyncPeriod == 0 || res.RequeueAfter < c.opts.ResyncPeriod {
			c.queue.AddAfter(key, res.RequeueAfter)
		}
	default:
		c.queue.Forget(key)
	}
	if m := c.opts.Metrics; m != nil {
		m.Controller.Reconciles.WithLabelValues(c.opts.Name, outcome).Inc()
		m.Controller.Duration.WithLabelValues(c.opts.Name).Observe(time.Since(start).Seconds())
	}
	logger.V(4).Info("Reconciled", "result", outcome, "duration", time.Since(start))
	return true
}

// Stalled reports a worker whose reconcile has run for longer than bound at now: a controller
// that stopped making progress (a call that never returns), which a liveness probe should
// restart. Reconciles wait on Kafka and the API server with their own timeouts, far below any
// sensible bound.
func (c *Controller) Stalled(bound time.Duration, now time.Time) error {
	for i := range c.busy {
		if f := c.busy[i].Load(); f != nil && now.Sub(f.since) > bound {
			return fmt.Errorf("controller %s: worker %d has been reconciling %s for %s (bound %s)",
				c.opts.Name, i, f.key, now.Sub(f.since).Round(time.Second), bound)
		}
	}
	return nil
}

// reconcile turns a panic in the reconciler into an error, so one bad object cannot stop the
// worker (it is retried with backoff like any failure).
func (c *Controller) reconcile(ctx context.Context, key Key) (res Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			klog.FromContext(ctx).Error(nil, "Reconciler panicked", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic in reconciler: %v", r)
		}
	}()
	return c.opts.Reconciler.Reconcile(ctx, key)
}
