//go:build tools

// Package tools pins the code generators that `make generate` runs. It is its own module, outside
// go.work, so the generators' dependencies never enter the operators' build list.
package tools

import (
	_ "k8s.io/code-generator"
	_ "k8s.io/code-generator/cmd/applyconfiguration-gen"
	_ "k8s.io/code-generator/cmd/client-gen"
	_ "k8s.io/code-generator/cmd/deepcopy-gen"
	_ "k8s.io/code-generator/cmd/informer-gen"
	_ "k8s.io/code-generator/cmd/lister-gen"
	_ "k8s.io/code-generator/cmd/register-gen"
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
