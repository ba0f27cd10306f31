# otelcol-runtime-security — see README.md.
SHELL := /bin/bash
export GOFLAGS := -buildvcs=false

BIN            := $(CURDIR)/bin
COLLECTOR      := $(BIN)/otelcol-runtime-security
SIM            := $(BIN)/tetragon-sim
TETRAGON       ?=
BUILDER_VERSION := v0.165.0

.PHONY: all build collector tools generate run test deps unit integration e2e scorecard dashboards alerts lint fmt image loadtest clean

all: build

build: collector tools

## collector: the ocb-generated distribution in distribution/, compiled to bin/otelcol-runtime-security.
collector:
	@mkdir -p $(BIN)
	cd distribution && go build -trimpath -ldflags='-s -w' -o $(COLLECTOR) .

## tools: the Tetragon simulator and the offline rule tester.
tools:
	@mkdir -p $(BIN)
	go build -o $(SIM) ./testbed/cmd/tetragon-sim
	go build -o $(BIN)/ruletest ./cmd/ruletest
	go build -o $(BIN)/profiles ./cmd/profiles

## generate: regenerate distribution/ from builder-config.yaml with ocb, the mdatagen code, and the
##           code generated from the Tetragon API (JSON encoder, protobuf decoder): run it after a
##           github.com/cilium/tetragon/api bump.
generate:
	./scripts/generate-distribution.sh $(BUILDER_VERSION)
	go generate ./internal/tetragonjson/ ./internal/tetragonwire/

## run: the demo. Starts the simulator with the built-in scenario and the collector against it.
##      make run TETRAGON=unix:///var/run/tetragon/tetragon.sock  runs against a real Tetragon.
run: build
	./scripts/run-demo.sh "$(TETRAGON)"

## test: everything CI runs. deps installs what the tests drive (apt: prometheus,
##       prometheus-alertmanager, buildah; go install: victoria-logs); it is idempotent.
test: deps unit integration e2e fuzz chaos k8s-e2e

deps:
	./scripts/install-test-deps.sh

unit:
	go list -m all >/dev/null # the module graph resolves (licence and vulnerability scanners need it)
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	go vet ./...
	go test -count=1 ./...

# Every package with a file behind the `integration` build tag: they drive the built binaries.
INTEGRATION_PKGS = $(shell grep -rl --include='*.go' '^//go:build integration' . | xargs -n1 dirname | sort -u)

integration: build
	OTELCOL_BIN=$(COLLECTOR) TETRAGON_SIM_BIN=$(SIM) go test -count=1 -timeout 20m -tags integration $(INTEGRATION_PKGS)

e2e: build
	./scripts/e2e.sh

.PHONY: chaos fuzz

## chaos: tests/chaos (≤ 5 min): the shipped configuration while the log store goes away, the collector or
##        Tetragon is SIGKILLed, a queue fills, rules files and input go bad; loss, duplicates, errors
##        counted, peak memory. Prints the table of testbed/RESULTS.md, "Chaos tests".
chaos: build
	./scripts/chaos.sh

## fuzz: every Fuzz* target for FUZZTIME each; a failing input lands in the package's testdata/fuzz/ (commit it).
FUZZTIME ?= 8s
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

.PHONY: k8s-e2e
## k8s-e2e: a real single-node Kubernetes on this machine (etcd, kube-apiserver, kube-controller-manager,
##          kube-scheduler, kubelet, containerd; needs root): CRDs, the kustomize install, every
##          TracingPolicy, the DaemonSet against tetragon-sim, rules ConfigMap reloads. Builds are cached
##          in ~/.cache/otelcol-rts-k8s. See deploy/README.md, "Single-node cluster test".
k8s-e2e:
	./scripts/k8s-e2e.sh

## scorecard: regenerate the detection scorecard of processor/detectionprocessor/RULES.md from the tests.
scorecard:
	go test -count=1 -run '^TestScorecard$$' ./processor/detectionprocessor/internal/rules/builtin/ -args -update-scorecard

dashboards:
	go run ./deploy/grafana/gen

alerts:
	go run ./deploy/prometheus/gen

fmt:
	gofmt -w $$(git ls-files '*.go')

image:
	./scripts/build-image.sh

## loadtest: every load scenario at 2,000 events/s with a CPU profile and the live decode floor (see testbed/README.md), e.g.
##   make loadtest LOADTEST_FLAGS='--scenario captured --max'
LOADTEST_FLAGS ?= --scenario all --profile 10s --live-floor
loadtest: build
	go run ./testbed/cmd/loadtest $(LOADTEST_FLAGS)

clean:
	rm -rf $(BIN)
