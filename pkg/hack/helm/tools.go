//go:build tools

// Package helm pins the Helm CLI that renders and lints charts/kafkaplane: a module outside
// go.work, built with `go build helm.sh/helm/v3/cmd/helm` (no Helm installation needed).
package helm

import _ "helm.sh/helm/v3/cmd/helm"
