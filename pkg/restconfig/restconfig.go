// Package restconfig loads the Kubernetes client configuration of a binary: an explicit
// kubeconfig, else client-go's standard loading rules ($KUBECONFIG, ~/.kube/config), else the
// in-cluster service account. Rate limits are raised so that client-go's defaults (5 QPS, burst
// 10) never throttle a controller.
package restconfig

import (
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Defaults for client-side rate limiting: a local API server sustains roughly 650 writes/s.
const (
	DefaultQPS   = 500
	DefaultBurst = 1000
)

// Load returns the rest config with QPS, burst and user agent set.
func Load(kubeconfig string, qps float32, burst int, userAgent string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading Kubernetes client configuration: %w", err)
	}
	cfg.QPS = qps
	cfg.Burst = burst
	cfg.UserAgent = userAgent
	return cfg, nil
}
