package leaderelection

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"
)

// TestTwoReplicasOnOneHostLeadOneAtATime: two replicas with no POD_NAME on one host (the same
// hostname) must not both lead. With the hostname alone as identity, each took the other's
// lease for its own and both ran their controllers.
func TestTwoReplicasOnOneHostLeadOneAtATime(t *testing.T) {
	t.Setenv("POD_NAME", "")
	client := fake.NewClientset()
	cfg := Config{Enabled: true, Namespace: "ns", Name: "lease",
		LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var leading, most atomic.Int32
	done := make(chan error, 2)
	for range 2 {
		go func() {
			done <- Run(ctx, client, cfg, func(ctx context.Context) {
				n := leading.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				<-ctx.Done()
				leading.Add(-1)
			})
		}()
	}
	time.Sleep(3 * time.Second)
	if n := most.Load(); n != 1 {
		t.Errorf("%d replicas led at once, want 1", n)
	}
	cancel()
	for range 2 {
		<-done
	}
}

func TestIdentityIsUniquePerProcess(t *testing.T) {
	t.Setenv("POD_NAME", "uo-7f9c")
	a, err := identity()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := identity()
	if a == b || !strings.HasPrefix(a, "uo-7f9c_") {
		t.Errorf("identities %q and %q, want distinct, each the pod name and a suffix", a, b)
	}
}
