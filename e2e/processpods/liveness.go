package processpods

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"
)

// watchLiveness runs the container's HTTP liveness probe as a kubelet does: after
// initialDelaySeconds, every periodSeconds (each try bounded by timeoutSeconds), and
// failureThreshold failures in a row kill the process (SIGTERM, SIGKILL after 10 s), which the
// kubelet then restarts. It ends with the process.
func (p *Pod) watchLiveness(ctx context.Context) {
	lp := p.container.LivenessProbe
	if lp == nil || lp.HTTPGet == nil {
		return
	}
	port := resolvePort(lp.HTTPGet.Port, p.container.Ports)
	period := time.Duration(max(lp.PeriodSeconds, 1)) * time.Second
	if lp.PeriodSeconds == 0 {
		period = 10 * time.Second
	}
	threshold := int(lp.FailureThreshold)
	if threshold <= 0 {
		threshold = 3
	}
	timeout := time.Duration(max(lp.TimeoutSeconds, 1)) * time.Second
	wait := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-p.proc.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	if !wait(time.Duration(lp.InitialDelaySeconds) * time.Second) {
		return
	}
	url := fmt.Sprintf("http://%s:%d%s", p.IP, port, lp.HTTPGet.Path)
	failures := 0
	for {
		if p.get(ctx, url, timeout) {
			failures = 0
		} else if failures++; failures >= threshold {
			p.mu.Lock()
			p.killedBy = "liveness probe failed"
			p.mu.Unlock()
			if f, err := os.OpenFile(p.proc.LogFile, os.O_WRONLY|os.O_APPEND, 0); err == nil {
				fmt.Fprintf(f, "---- %s: liveness probe failed %d times: killing the container ----\n", time.Now().Format(time.RFC3339), failures)
				f.Close()
			}
			_ = p.proc.Stop(10 * time.Second)
			return
		}
		if !wait(period) {
			return
		}
	}
}

func (p *Pod) get(ctx context.Context, url string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}

// KilledBy says what killed the process, when the runner did ("" otherwise).
func (p *Pod) KilledBy() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killedBy
}
