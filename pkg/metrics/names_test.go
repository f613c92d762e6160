package metrics

import "testing"

// TestNamesAreServed: the registry serves the names the dashboards and alerts use.
func TestNamesAreServed(t *testing.T) {
	r := NewRegistry()
	r.Controller.Reconciles.WithLabelValues("c", "error").Inc()
	r.Controller.Duration.WithLabelValues("c").Observe(1)
	r.Controller.Managed.WithLabelValues("c").Set(1)
	for _, m := range []func(string){func(n string) { r.Workqueue.NewDepthMetric(n).Inc() }, func(n string) { r.Workqueue.NewRetriesMetric(n).Inc() },
		func(n string) { r.Workqueue.NewLatencyMetric(n).Observe(1) }, func(n string) { r.Workqueue.NewLongestRunningProcessorSecondsMetric(n).Set(1) }} {
		m("q")
	}
	mfs, err := r.Gather()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, mf := range mfs {
		served[mf.GetName()] = true
	}
	for _, n := range []string{ReconcilesTotal, ReconcileDuration, ManagedResources, WorkqueueDepth, WorkqueueQueueDuration, WorkqueueRetries, WorkqueueLongestRunning} {
		if !served[n] {
			t.Errorf("%s is not served", n)
		}
	}
}
