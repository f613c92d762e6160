package operator

import (
	"strings"
	"testing"
	"time"
)

func TestLeaseTimingsValidated(t *testing.T) {
	for _, c := range []struct {
		lease, renew, retry time.Duration
		ok                  bool
	}{
		{15 * time.Second, 10 * time.Second, 2 * time.Second, true},
		{4 * time.Second, 3 * time.Second, 500 * time.Millisecond, true},
		{10 * time.Second, 10 * time.Second, 2 * time.Second, false}, // renew must be shorter than the lease
		{15 * time.Second, 2 * time.Second, 2 * time.Second, false},  // retries must fit in the renew deadline
		{15 * time.Second, 10 * time.Second, 0, false},
	} {
		o := NewOptions("test")
		o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = c.lease, c.renew, c.retry
		// Not Validate: it also configures klog, global state other tests' goroutines log through.
		err := o.validateLeaseTimings()
		if (err == nil) != c.ok || (err != nil && !strings.Contains(err.Error(), "--leader-election-lease-duration")) {
			t.Errorf("lease %s renew %s retry %s: %v, want ok=%v", c.lease, c.renew, c.retry, err, c.ok)
		}
	}
}
