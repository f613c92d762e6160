package build

import "io"

// Prometheus returns the path of the Prometheus server, building it from the pinned module in
// pkg/hack/prometheus (outside go.work) when the cache has none for that pin: only the
// Kubernetes service discovery is linked in, and no web UI assets (the HTTP API serves queries).
func Prometheus(log io.Writer) (string, error) {
	return pinnedTool{name: "prometheus", module: "prometheus", pkg: "github.com/prometheus/prometheus/cmd/prometheus",
		keyFiles: []string{"go.mod", "go.sum", "tools.go"}, tags: "remove_all_sd,enable_kubernetes_sd", ldflags: "-s -w"}.build(log)
}
