package operator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kafkaplane/kafkaplane/pkg/controller"
	"github.com/kafkaplane/kafkaplane/pkg/httpserver"
)

// TestHealthzFailsWhenWedged: the liveness endpoint answers 200 while the controllers work and
// 503 once a reconcile has hung past the stall timeout, or once the lease was lost and the
// process did not exit, so that the kubelet restarts a wedged operator. (It always answered ok.)
func TestHealthzFailsWhenWedged(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	entered := make(chan struct{})
	c, err := controller.New(controller.Options{Name: "c", Reconciler: controller.ReconcilerFunc(func(context.Context, controller.Key) (controller.Result, error) {
		close(entered)
		<-hang
		return controller.Result{}, nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	m := &Manager{}
	m.AddController(c)
	stall := 200 * time.Millisecond
	var lostAt time.Time
	srv := httpserver.New("127.0.0.1:0", prometheus.NewRegistry())
	srv.AddHealthCheck("controllers", func() error { return m.healthy(stall, lostAt, time.Now()) })
	h := srv.Handler()
	status := func() int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec.Code
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	if got := status(); got != http.StatusOK {
		t.Fatalf("/healthz of an idle operator: %d", got)
	}
	c.EnqueueKey(controller.Key{Name: "x"})
	<-entered
	if got := status(); got != http.StatusOK {
		t.Fatalf("/healthz within the stall timeout: %d", got)
	}
	time.Sleep(2 * stall)
	if got := status(); got != http.StatusServiceUnavailable {
		t.Fatalf("/healthz of a wedged operator: %d, want 503", got)
	}

	// Lost leadership and still running.
	idle := &Manager{}
	srv2 := httpserver.New("127.0.0.1:0", prometheus.NewRegistry())
	lost := time.Now().Add(-time.Minute)
	srv2.AddHealthCheck("controllers", func() error { return idle.healthy(stall, lost, time.Now()) })
	rec := httptest.NewRecorder()
	srv2.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("/healthz after a lost lease: %d, want 503", rec.Code)
	}
}
