package kafkapods

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probe runs the container's startup, readiness and liveness probes as a kubelet does: after
// initialDelaySeconds, every periodSeconds, each try bounded by timeoutSeconds; readiness flips
// after successThreshold successes or failureThreshold failures; liveness failing
// failureThreshold times in a row kills the container (SIGTERM, SIGKILL after the grace period),
// which the kubelet then restarts. Without a readiness probe the container is ready once it
// runs. Liveness and readiness wait for the startup probe to succeed.
func (c *Container) probe(ctx context.Context) {
	if sp := c.spec.StartupProbe; sp != nil {
		if !c.waitStartup(ctx, sp) {
			return
		}
	}
	if c.spec.ReadinessProbe == nil {
		c.setReady(true)
	} else {
		go c.loop(ctx, c.spec.ReadinessProbe, func(ok bool) { c.setReady(ok) })
	}
	if lp := c.spec.LivenessProbe; lp != nil {
		go c.loop(ctx, lp, func(ok bool) {
			if !ok {
				c.mu.Lock()
				c.killedBy = "liveness probe failed"
				c.mu.Unlock()
				fmt.Fprintf(c.cmd.Stdout, "---- %s: liveness probe failed %d times: killing the container ----\n", time.Now().Format(time.RFC3339), threshold(lp.FailureThreshold, 3))
				go c.Stop()
			}
		})
	}
}

func (c *Container) setReady(ok bool) {
	c.mu.Lock()
	c.ready = ok
	c.mu.Unlock()
}

func (c *Container) waitStartup(ctx context.Context, p *corev1.Probe) bool {
	if !sleep(ctx, time.Duration(p.InitialDelaySeconds)*time.Second) {
		return false
	}
	failures := 0
	for {
		if c.try(ctx, p) {
			return true
		}
		failures++
		if failures >= threshold(p.FailureThreshold, 3) {
			c.mu.Lock()
			c.killedBy = "startup probe failed"
			c.mu.Unlock()
			go c.Stop()
			return false
		}
		if !sleep(ctx, period(p)) {
			return false
		}
	}
}

// loop evaluates p and reports each change of its verdict (true once successThreshold
// successes in a row, false once failureThreshold failures in a row).
func (c *Container) loop(ctx context.Context, p *corev1.Probe, report func(bool)) {
	if !sleep(ctx, time.Duration(p.InitialDelaySeconds)*time.Second) {
		return
	}
	successes, failures := 0, 0
	verdict := -1 // unknown
	for {
		if c.try(ctx, p) {
			successes, failures = successes+1, 0
			if successes >= threshold(p.SuccessThreshold, 1) && verdict != 1 {
				verdict = 1
				report(true)
			}
		} else {
			successes, failures = 0, failures+1
			if failures >= threshold(p.FailureThreshold, 3) && verdict != 0 {
				verdict = 0
				report(false)
			}
		}
		if !sleep(ctx, period(p)) {
			return
		}
	}
}

// try runs one probe.
func (c *Container) try(ctx context.Context, p *corev1.Probe) bool {
	timeout := time.Duration(max(p.TimeoutSeconds, 1)) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.TCPSocket != nil:
		port := c.port(p.TCPSocket.Port)
		host := c.IP
		if p.TCPSocket.Host != "" {
			host = p.TCPSocket.Host
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return false
		}
		conn.Close()
		return true
	case p.HTTPGet != nil:
		scheme := "http"
		if p.HTTPGet.Scheme == corev1.URISchemeHTTPS {
			scheme = "https"
		}
		host := c.IP
		if p.HTTPGet.Host != "" {
			host = p.HTTPGet.Host
		}
		url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(c.port(p.HTTPGet.Port))), p.HTTPGet.Path)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false
		}
		for _, h := range p.HTTPGet.HTTPHeaders {
			req.Header.Set(h.Name, h.Value)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode >= 200 && resp.StatusCode < 400
	case p.Exec != nil:
		// In the container's namespaces and root, as its user.
		args := []string{"-t", strconv.Itoa(c.Pid()), "-m", "-u", "-n", "-r", "-w",
			"-S", strconv.Itoa(int(c.uid)), "-G", strconv.Itoa(int(c.gid)), "--"}
		cmd := exec.CommandContext(ctx, "nsenter", append(args, p.Exec.Command...)...)
		cmd.Env = imageEnv
		return cmd.Run() == nil
	case p.GRPC != nil:
		return false
	}
	return false
}

// port resolves a probe's port, by number or by the container port's name.
func (c *Container) port(p intstr.IntOrString) int {
	if p.Type == intstr.Int {
		return p.IntValue()
	}
	for _, cp := range c.spec.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort)
		}
	}
	return 0
}

func threshold(v int32, def int) int {
	if v <= 0 {
		return def
	}
	return int(v)
}

func period(p *corev1.Probe) time.Duration {
	if p.PeriodSeconds <= 0 {
		return 10 * time.Second
	}
	return time.Duration(p.PeriodSeconds) * time.Second
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
