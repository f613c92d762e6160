package build

import "io"

// Helm returns the path of the Helm CLI, building it from the pinned helm.sh/helm module in
// pkg/hack/helm (outside go.work) when the cache has none for that pin.
func Helm(log io.Writer) (string, error) {
	return pinnedTool{name: "helm", module: "helm", pkg: "helm.sh/helm/v3/cmd/helm", keyFiles: []string{"go.mod", "go.sum"}}.build(log)
}
