# Kafkaplane. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VERSION ?= 0.1.0-dev
BINARIES := cluster-operator topic-operator user-operator
MODULES := pkg cluster-operator topic-operator user-operator e2e
TOOL_MODULES := pkg/hack/tools e2e/controlplane
LDFLAGS := -s -w -X github.com/kafkaplane/kafkaplane/pkg/version.Version=$(VERSION)
export KAFKAPLANE_CACHE ?= $(HOME)/.cache/kafkaplane

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-16s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: ## Regenerate deepcopy, clientset, listers, informers, apply configurations and CRDs.
	pkg/hack/update-codegen.sh

.PHONY: tidy
tidy: ## go mod tidy in every module.
	@for m in $(MODULES) $(TOOL_MODULES); do (cd $$m && GOWORK=off go mod tidy); done

.PHONY: build
build: $(addprefix bin/,$(BINARIES)) ## Build the three operator binaries into bin/.

.PHONY: $(addprefix bin/,$(BINARIES))
$(addprefix bin/,$(BINARIES)): bin/%:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./$*

##@ Verification and tests

.PHONY: verify
verify: verify-codegen verify-gomod verify-fmt vet verify-deps ## Fail on stale generated code, untidy modules, unformatted code, vet findings or forbidden deps.

.PHONY: verify-codegen
verify-codegen:
	pkg/hack/verify-codegen.sh

.PHONY: verify-gomod
verify-gomod:
	@for m in $(MODULES) $(TOOL_MODULES); do \
		(cd $$m && GOWORK=off go mod tidy -diff) || { echo "$$m: go.mod/go.sum not tidy; run 'make tidy'" >&2; exit 1; }; \
	done

.PHONY: verify-fmt
verify-fmt:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:" >&2; echo "$$out" >&2; exit 1; fi

.PHONY: vet
vet:
	go vet $(addsuffix /...,$(addprefix ./,$(MODULES)))

.PHONY: verify-deps
verify-deps: ## Each operator builds alone (GOWORK=off) and none links controller-runtime.
	@for b in $(BINARIES); do \
		(cd $$b && GOWORK=off go build -o /dev/null .) || exit 1; \
		if (cd $$b && GOWORK=off go list -deps . | grep -q '^sigs.k8s.io/controller-runtime'); then \
			echo "$$b depends on sigs.k8s.io/controller-runtime" >&2; exit 1; fi; \
	done; echo "operators build alone and do not use controller-runtime"

.PHONY: test
test: verify unit integration ## Everything CI runs: verify, unit tests, integration tests against a real control plane.

.PHONY: unit
unit: ## Unit tests of every module.
	go test -race -count=1 $(addsuffix /...,$(addprefix ./,$(filter-out e2e,$(MODULES))))

.PHONY: integration
integration: ## Integration tests against a real etcd, kube-apiserver, controller-manager and scheduler (built and cached on first use).
	go run ./e2e/cmd/testenv -- go test -count=1 -timeout 20m ./e2e/...

##@ Clean

.PHONY: clean
clean: ## Remove build output (the control-plane cache in KAFKAPLANE_CACHE stays).
	rm -rf bin .bin .sandbox

##@ Sandbox

.PHONY: sandbox
sandbox: ## Run a local Kafkaplane: control plane, 3 simulated nodes, CRDs, the cluster operator and deploy/examples (Ctrl-C stops it).
	go run ./e2e/cmd/sandbox

##@ Benchmarks (figures printed, never timed tests)

BENCH_TOPICS_N ?= 1000,10000
BENCH_CLUSTERS ?= 100
BENCH_USERS_TLS ?= 1000,20000
BENCH_USERS_SCRAM ?= 1000

.PHONY: bench
bench: bench-topics bench-users bench-cluster ## All benchmarks.

.PHONY: bench-cluster
bench-cluster: ## Cluster operator: a 3+3 cluster to Ready, idle resync writes, a broker roll, RSS with BENCH_CLUSTERS small clusters.
	go run ./e2e/cmd/bench-cluster -clusters $(BENCH_CLUSTERS)

.PHONY: bench-users
bench-users: ## User operator vs. a bare-client floor: N tls and SCRAM KafkaUsers to Ready (BENCH_USERS_TLS, BENCH_USERS_SCRAM).
	go run ./e2e/cmd/bench-users -tls $(BENCH_USERS_TLS) -scram $(BENCH_USERS_SCRAM)

.PHONY: bench-topics
bench-topics: ## Topic operator vs. a bare-client floor: N KafkaTopics to Ready (N=BENCH_TOPICS_N).
	go run ./e2e/cmd/bench-topics -n $(BENCH_TOPICS_N)
