// Package httpserver is the one HTTP server of each binary: /metrics for Prometheus, /healthz
// (the process is alive) and /readyz (ready once every registered check passes, e.g. informer
// caches synced).
package httpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/klog/v2"
)

// Check reports nil when healthy.
type Check func() error

// Server serves metrics and health endpoints.
type Server struct {
	addr     string
	gatherer prometheus.Gatherer

	// Profiling serves Go's pprof profiles under /debug/pprof/ (off by default: profiles reveal
	// internals and cost CPU while taken). Set before Handler.
	Profiling bool
	// Guard, when set, wraps /metrics and the profiles (e.g. httpauth.Authorizer.Wrap); the
	// health endpoints stay open to the kubelet. Set before Handler.
	Guard func(http.Handler) http.Handler
	// TLS, when set, makes the server HTTPS. Set before Serve.
	TLS *tls.Config

	mu       sync.RWMutex
	ready    map[string]Check
	healthy  map[string]Check
	listener net.Listener
}

// New returns a server for addr (e.g. ":8080" or "127.0.0.1:0") exposing gatherer's metrics.
func New(addr string, gatherer prometheus.Gatherer) *Server {
	return &Server{addr: addr, gatherer: gatherer, ready: map[string]Check{}, healthy: map[string]Check{}}
}

// AddReadyCheck adds a named readiness check.
func (s *Server) AddReadyCheck(name string, c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ready[name] = c
}

// AddHealthCheck adds a named liveness check.
func (s *Server) AddHealthCheck(name string, c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.healthy[name] = c
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	guard := s.Guard
	if guard == nil {
		guard = func(h http.Handler) http.Handler { return h }
	}
	mux.Handle("/metrics", guard(promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{})))
	mux.HandleFunc("/healthz", s.serveChecks(func() map[string]Check { return s.healthy }))
	mux.HandleFunc("/readyz", s.serveChecks(func() map[string]Check { return s.ready }))
	if s.Profiling {
		mux.Handle("/debug/pprof/", guard(http.HandlerFunc(pprof.Index)))
		mux.Handle("/debug/pprof/cmdline", guard(http.HandlerFunc(pprof.Cmdline)))
		mux.Handle("/debug/pprof/profile", guard(http.HandlerFunc(pprof.Profile)))
		mux.Handle("/debug/pprof/symbol", guard(http.HandlerFunc(pprof.Symbol)))
		mux.Handle("/debug/pprof/trace", guard(http.HandlerFunc(pprof.Trace)))
	}
	return mux
}

func (s *Server) serveChecks(checks func() map[string]Check) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		s.mu.RLock()
		var failed []string
		for name, c := range checks() {
			if err := c(); err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", name, err))
			}
		}
		s.mu.RUnlock()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if len(failed) > 0 {
			sort.Strings(failed)
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, strings.Join(failed, "\n"))
			return
		}
		fmt.Fprintln(w, "ok")
	}
}

// Listen binds the address; Addr then reports the bound address (useful with port 0).
func (s *Server) Listen() error {
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.addr, err)
	}
	s.mu.Lock()
	s.listener = l
	s.mu.Unlock()
	return nil
}

// Addr is the bound address after Listen.
func (s *Server) Addr() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.listener == nil {
		return s.addr
	}
	return s.listener.Addr().String()
}

// Serve serves until ctx ends, then shuts down within 5 seconds. It calls Listen if needed.
func (s *Server) Serve(ctx context.Context) error {
	if s.listener == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	l := s.listener
	if s.TLS != nil {
		l = tls.NewListener(l, s.TLS)
	}
	errCh := make(chan error, 1)
	go func() { errCh <- srv.Serve(l) }()
	klog.FromContext(ctx).Info("Serving metrics and health", "address", s.Addr(), "tls", s.TLS != nil, "guarded", s.Guard != nil)
	select {
	case err := <-errCh:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server shutdown: %w", err)
	}
	return nil
}
