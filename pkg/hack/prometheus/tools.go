//go:build tools

// Package prometheus pins the Prometheus server that the real-Kafka tests and the sandbox run
// (scraping the Kafka nodes and the operators, evaluating the chart's alerts): a module outside
// go.work, built with `go build -tags remove_all_sd,enable_kubernetes_sd
// github.com/prometheus/prometheus/cmd/prometheus` (only the Kubernetes service discovery; no
// web UI assets, the HTTP API is what the tests use).
package prometheus

import _ "github.com/prometheus/prometheus/cmd/prometheus"
