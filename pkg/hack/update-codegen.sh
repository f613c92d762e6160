#!/usr/bin/env bash
# Regenerates everything derived from the API types in pkg/apis: deepcopy functions, the
# clientset, listers, informers and apply configurations under pkg/generated, and the CRDs in
# deploy/crds. The generators are pinned in pkg/hack/tools (its own module, outside go.work).
#
# Usage: update-codegen.sh [ROOT]   (ROOT defaults to this checkout; verify runs it on a copy)
set -euo pipefail

ROOT=$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/../..}" && pwd)
TOOLS_BIN=${TOOLS_BIN:-"$ROOT/.bin"}
PKG=github.com/kafkaplane/kafkaplane/pkg
HEADER="$ROOT/pkg/hack/boilerplate.go.txt"
APIS=./apis/kafkaplane/v1beta1

mkdir -p "$TOOLS_BIN"
(cd "$ROOT/pkg/hack/tools" && GOWORK=off go build -o "$TOOLS_BIN/" \
	k8s.io/code-generator/cmd/deepcopy-gen \
	k8s.io/code-generator/cmd/client-gen \
	k8s.io/code-generator/cmd/lister-gen \
	k8s.io/code-generator/cmd/informer-gen \
	k8s.io/code-generator/cmd/applyconfiguration-gen \
	sigs.k8s.io/controller-tools/cmd/controller-gen)

cd "$ROOT/pkg"
rm -rf generated "$APIS"/zz_generated.*.go

"$TOOLS_BIN/deepcopy-gen" --go-header-file "$HEADER" --output-file zz_generated.deepcopy.go "$APIS"

"$TOOLS_BIN/applyconfiguration-gen" --go-header-file "$HEADER" \
	--output-dir generated/applyconfiguration --output-pkg "$PKG/generated/applyconfiguration" "$APIS"

"$TOOLS_BIN/client-gen" --go-header-file "$HEADER" \
	--output-dir generated/clientset --output-pkg "$PKG/generated/clientset" \
	--clientset-name versioned --input-base "" --input "$PKG/apis/kafkaplane/v1beta1" \
	--apply-configuration-package "$PKG/generated/applyconfiguration"

"$TOOLS_BIN/lister-gen" --go-header-file "$HEADER" \
	--output-dir generated/listers --output-pkg "$PKG/generated/listers" "$APIS"

"$TOOLS_BIN/informer-gen" --go-header-file "$HEADER" \
	--output-dir generated/informers --output-pkg "$PKG/generated/informers" \
	--versioned-clientset-package "$PKG/generated/clientset/versioned" \
	--listers-package "$PKG/generated/listers" "$APIS"

rm -rf "$ROOT/deploy/crds" && mkdir -p "$ROOT/deploy/crds"
"$TOOLS_BIN/controller-gen" crd:crdVersions=v1 paths="$APIS/..." output:crd:artifacts:config="$ROOT/deploy/crds"
