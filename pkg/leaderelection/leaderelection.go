// Package leaderelection makes sure one replica of an operator acts at a time, with a Lease that
// is released on a clean shutdown so that a new replica takes over at once, not after the lease
// expires. Losing the lease ends the run with an error, so the process exits and restarts clean.
package leaderelection

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// ErrLostLease is returned when another replica took the lease while this one was leading.
var ErrLostLease = errors.New("leader election lease lost")

// Config configures leader election.
type Config struct {
	// Enabled turns leader election on; when off, Run runs fn at once.
	Enabled bool
	// Namespace and Name of the Lease.
	Namespace, Name string
	// Identity of this replica; when empty, $POD_NAME (else the hostname) and a random suffix.
	// The suffix matters: two processes of one identity both believe they hold the lease
	// (two replicas run outside pods on one host, or host-network pods without POD_NAME), and a
	// restarted process would take its dead predecessor's lease at once, before the informers
	// of a standby could.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod; 15s, 10s and 2s when zero.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// OnLost, when set, is called as soon as the lease is lost (before the controllers have
	// stopped): a liveness check uses it to notice a process that does not exit after that.
	OnLost func()
}

// Run blocks until ctx ends. With leader election on, it calls fn with a context that ends when
// the lease is lost or ctx ends, once this replica holds the lease.
func Run(ctx context.Context, client kubernetes.Interface, cfg Config, fn func(ctx context.Context)) error {
	if !cfg.Enabled {
		fn(ctx)
		return nil
	}
	if cfg.Namespace == "" || cfg.Name == "" {
		return errors.New("leader election needs a lease namespace and name")
	}
	if cfg.Identity == "" {
		id, err := identity()
		if err != nil {
			return err
		}
		cfg.Identity = id
	}
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, cfg.Namespace, cfg.Name,
		client.CoreV1(), client.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: cfg.Identity})
	if err != nil {
		return fmt.Errorf("creating lease lock %s/%s: %w", cfg.Namespace, cfg.Name, err)
	}
	logger := klog.FromContext(ctx).WithValues("lease", klog.KRef(cfg.Namespace, cfg.Name), "identity", cfg.Identity)
	var started, lost atomic.Bool
	done := make(chan struct{}) // closed when fn returns
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   orDefault(cfg.LeaseDuration, 15*time.Second),
		RenewDeadline:   orDefault(cfg.RenewDeadline, 10*time.Second),
		RetryPeriod:     orDefault(cfg.RetryPeriod, 2*time.Second),
		ReleaseOnCancel: true,
		Name:            cfg.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				started.Store(true)
				defer close(done)
				logger.Info("Became leader")
				fn(ctx)
			},
			OnStoppedLeading: func() {
				if started.Load() && ctx.Err() == nil {
					lost.Store(true)
					if cfg.OnLost != nil {
						cfg.OnLost()
					}
				}
			},
			OnNewLeader: func(id string) {
				if id != cfg.Identity {
					logger.Info("Another replica leads", "leader", id)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("configuring leader election: %w", err)
	}
	le.Run(ctx)
	// Run returns while fn may still be draining its work: wait for it, so that the caller can
	// rely on every controller having stopped.
	if started.Load() {
		<-done
	}
	if lost.Load() {
		return ErrLostLease
	}
	return nil
}

// identity is $POD_NAME, else the hostname, with a random suffix of this process.
func identity() (string, error) {
	name := os.Getenv("POD_NAME")
	if name == "" {
		host, err := os.Hostname()
		if err != nil {
			return "", fmt.Errorf("leader election identity: %w", err)
		}
		name = host
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("leader election identity: %w", err)
	}
	return name + "_" + hex.EncodeToString(b[:]), nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
