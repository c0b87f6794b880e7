# drover - run microservices on Nomad, Consul and Vault from one HCL spec each.
# `make help` lists the targets.

GO          ?= go
MODULE      := github.com/drover-io/drover
# urfave_cli_no_docs leaves out urfave/cli's man-page generator, which
# drover does not use and which slows every start.
BUILD_TAGS  ?= urfave_cli_no_docs
COMMIT      := $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS     := -s -w -X $(MODULE)/pkg/version.Commit=$(COMMIT)
FUZZTIME    ?= 30s
OUT         ?= out
# The race runtime sleeps 1 s before every race-built process exits, to
# catch late reports: a second per test package and per child process a
# test starts (pkg/devenv's fake agents). 50 ms still catches a report from
# a goroutine that outlives its test.
export GORACE ?= atexit_sleep_ms=50

.DEFAULT_GOAL := help

.PHONY: help
# The comments are shown as make would run them: $(OUT) expanded, $$ as $.
# Target names are coloured only on a terminal.
help: ## Show this help
	@if [ -t 1 ]; then on='\033[36m'; off='\033[0m'; else on=; off=; fi; \
	grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sed -e 's|\$$(OUT)|$(OUT)|g' -e 's|\$$\$$|$$|g' | \
	awk -v on="$$on" -v off="$$off" 'BEGIN {FS = ":.*?## "}; {printf "  %s%-18s%s %s\n", on, $$1, off, $$2}'

.PHONY: build
# A static binary (no cgo): it runs anywhere and starts about 0.5 ms sooner
# than one that loads libc. -buildvcs=auto (whatever GOFLAGS says) stamps
# the revision when the checkout has one: a build of a clean revision then
# keeps the project index of the last build of it (a CI cache of .drover/).
build: ## Build bin/drover
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -trimpath -tags '$(BUILD_TAGS)' -ldflags '$(LDFLAGS)' -o bin/drover ./cmd/drover

.PHONY: demo
demo: build ## Validate and render the example specs in jobs/ into $(OUT)/ (no cluster needed)
	./bin/drover validate jobs/
	./bin/drover render jobs/ -o $(OUT)/
	./bin/drover graph jobs/

.PHONY: test
# The cheap checks first. vet, lint and go test all build with -race, so they
# share one build of every package: a cold build cache compiles each package
# once, not twice. -vet=off: vet has just run every analyzer on the same
# packages, and go test's own pass (a subset) would cost ~20 s of CPU cold.
test: fmt-check check-deps vet lint ## Run every check CI runs: gofmt, layering, go vet, staticcheck, go test -race
	$(GO) test -race -vet=off -count=1 -tags '$(BUILD_TAGS)' ./...

.PHONY: vet
# The second run adds the files tagged integration (integration/, the fakes'
# contract tests, pkg/devenv's agent test); it reuses the first one's work.
vet: ## go vet, with and without the integration tag
	$(GO) vet -race -tags '$(BUILD_TAGS)' ./...
	$(GO) vet -race -tags 'integration $(BUILD_TAGS)' ./...

.PHONY: lint
# staticcheck is pinned by go.mod's tool directive (go get -tool
# honnef.co/go/tools/cmd/staticcheck@VERSION to move it) and runs its default
# checks. GOFLAGS -race makes it load the race build that vet and go test
# use, so on a cold cache it compiles only itself (about 90 s of CPU), not
# every package again; the race tag selects no file of drover's.
lint: ## staticcheck (the version go.mod pins), integration-tagged files included
	GOFLAGS="$$($(GO) env GOFLAGS) -race" $(GO) tool staticcheck -tags 'integration $(BUILD_TAGS)' ./...

.PHONY: fmt-check
fmt-check: ## Fail if any Go file is not gofmt-formatted
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: fmt
fmt: ## Format the Go code
	gofmt -w $$(git ls-files '*.go')

.PHONY: check-deps
check-deps: ## Enforce the package layering of docs/architecture.md
	@./scripts/check-deps.sh

.PHONY: golden
golden: ## Refresh the golden files (renders, dev config, trace copies) after an intended change
	$(GO) test ./pkg/render -run TestGolden -update
	$(GO) test ./pkg/devenv -update
	$(GO) test ./pkg/scaling -run TestTraceFiles -update

.PHONY: fuzz
fuzz: ## Fuzz the spec decoder and the index decoder for FUZZTIME each (default 30s)
	$(GO) test ./pkg/spec -run '^$$' -fuzz FuzzLoadFiles -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/spec -run '^$$' -fuzz FuzzIndexEntry -fuzztime $(FUZZTIME)

.PHONY: bench
# bench/ runs every contender as a process, interleaved, and prints ratios
# against floors measured in the same run: a full render and one-spec calls
# at 200 and 5,000 specs against an hcl parse of the same files, start-up
# against a hello-world binary. BENCHFLAGS passes flags to it, such as
# -baseline bin/drover-main to compare another build side by side;
# TMPDIR=/dev/shm keeps the disk out of the numbers.
bench: ## Benchmarks: go test -bench, then bench/ (render, one-spec calls, RSS and start-up against their floors)
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/...
	$(GO) run ./bench $(BENCHFLAGS)

.PHONY: test-integration
test-integration: ## End-to-end tests against real agents at NOMAD_ADDR, CONSUL_HTTP_ADDR, VAULT_ADDR (and PROMETHEUS_ADDR)
	./scripts/with-prometheus.sh $(GO) test -tags 'integration $(BUILD_TAGS)' -count=1 -v ./integration/...

.PHONY: dev
dev: build ## Start local dev Nomad, Consul and Vault from the binaries on PATH (then: eval "$$(./bin/drover dev)")
	./bin/drover dev

.PHONY: dev-down
dev-down: build ## Stop the local dev agents
	./bin/drover dev down

.PHONY: clean
clean: ## Remove build and render output
	rm -rf bin $(OUT)
