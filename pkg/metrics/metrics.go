// Package metrics holds the Prometheus registry of a Kafkaplane binary and the metrics every
// controller reports: reconciles, failures, durations and managed resources.
package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every Kafkaplane metric.
const Namespace = "kafkaplane"

// Controller metrics, labelled by controller name.
type Controller struct {
	// Reconciles counts reconciles by result: success, error or requeue.
	Reconciles *prometheus.CounterVec
	// Duration observes how long reconciles take.
	Duration *prometheus.HistogramVec
	// Managed is the number of resources a controller manages, set by the controller.
	Managed *prometheus.GaugeVec
}

// Registry is a binary's registry: Go runtime and process metrics, controller metrics and
// workqueue metrics. Operators register their own collectors on Registry.Registerer.
type Registry struct {
	*prometheus.Registry
	Controller Controller
	Workqueue  *WorkqueueProvider
}

// NewRegistry returns a registry with the standard collectors registered.
func NewRegistry() *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	c := Controller{
		Reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "reconciles_total",
			Help: "Reconciles by controller and result (success, error, requeue).",
		}, []string{"controller", "result"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "reconcile_duration_seconds",
			Help:    "Time taken by one reconcile.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"controller"}),
		Managed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "managed_resources",
			Help: "Resources a controller currently manages.",
		}, []string{"controller"}),
	}
	reg.MustRegister(c.Reconciles, c.Duration, c.Managed)
	wq := newWorkqueueProvider()
	wq.register(reg)
	return &Registry{Registry: reg, Controller: c, Workqueue: wq}
}

// BatchSizes registers <namespace>_<subsystem>_kafka_batch_size, a histogram of the resources
// per Kafka admin request by operation, and returns the function that observes one batch.
func (r *Registry) BatchSizes(subsystem, help string) (func(op string, n int), error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: subsystem, Name: "kafka_batch_size", Help: help,
		Buckets: prometheus.ExponentialBuckets(1, 4, 7),
	}, []string{"operation"})
	if err := r.Register(h); err != nil {
		return nil, fmt.Errorf("registering %s batch sizes: %w", subsystem, err)
	}
	return func(op string, n int) { h.WithLabelValues(op).Observe(float64(n)) }, nil
}
