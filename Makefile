# The two commands a newcomer needs: `make demo` and `make test`.
#
# Two Go modules: the SDK at the root and the local stack in localstack/ (its
# own go.mod, so pgx and x/crypto stay out of the SDK's requirements). Each is
# checked against its own go.mod: GOWORK=off ignores a go.work kept for an
# editor, which would merge both modules' requirements into one graph.
GO ?= go
export GOWORK := off
export PGPORT ?= 5432
export DATABASE_URL ?= postgres://postgres@127.0.0.1:$(PGPORT)/postgres?sslmode=disable

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The oldest Go the SDK supports: the older of the two supported Go releases, and
# the go directive of go.mod. Written down here as well, so that a dependency
# raising the directive fails `make go-min` instead of quietly dropping a release.
GO_MIN := 1.26.0

.PHONY: test demo vet lint bench perf conformance go-min fuzz

SHELL := /bin/bash

## test: gofmt, vet and staticcheck, then every test of both modules with the race
## detector (PostgreSQL needed for the local stack's and the integration tests).
test: vet lint
	bash localstack/scripts/ensure-postgres.sh
	$(GO) test -race -count=1 ./...
	$(GO) -C localstack test -race -count=1 ./...
	@$(MAKE) --no-print-directory conformance

## demo: start the local stack over PostgreSQL, sign two users in and show RLS at work.
demo:
	bash localstack/scripts/demo.sh

## vet: gofmt (every module's files), then go vet in each module.
vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) -C localstack vet ./...

## lint: staticcheck (fetched through the Go module proxy, pinned).
lint:
	$(GO) run $(STATICCHECK) ./...
	$(GO) -C localstack run $(STATICCHECK) ./...

## conformance: replay the recorded supabase-js cases.
conformance:
	@set -o pipefail; $(GO) test -race -count=1 -v -run '^TestConformance$$' . | grep -E '^(conformance:|--- FAIL|FAIL|ok)'

## bench: run the benchmarks.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) -C localstack test -run '^$$' -bench . -benchmem ./...

## perf: the comparison in docs/performance.md. The test binary is built once
## and run PERF_PASSES times, each pass measuring the hand-written floor and
## the SDK one after the other (interleaved, so that load from elsewhere hits
## both alike); benchstat then shows the medians with sdk against floor.
PERF_BENCH ?= ^Benchmark(Select|SelectParallel|BuildQuery|Rows)$$
PERF_PASSES ?= 6
PERF_OUT ?= perf.out
BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
perf:
	@uptime
	$(GO) test -c -o .perf.test .
	rm -f $(PERF_OUT)
	for i in $$(seq $(PERF_PASSES)); do ./.perf.test -test.run '^$$' -test.bench '$(PERF_BENCH)' -test.benchmem -test.count 1 >> $(PERF_OUT) || exit 1; done
	rm -f .perf.test
	@uptime
	$(GO) run $(BENCHSTAT) -col /impl $(PERF_OUT)

## go-min: build, vet and test the SDK module with the oldest Go it supports
## (the toolchain comes through the Go module proxy).
go-min:
	GOTOOLCHAIN=go$(GO_MIN) $(GO) version
	GOTOOLCHAIN=go$(GO_MIN) $(GO) build ./...
	GOTOOLCHAIN=go$(GO_MIN) $(GO) vet ./...
	GOTOOLCHAIN=go$(GO_MIN) $(GO) test -count=1 ./...

# Fuzzing: each target runs for FUZZTIME, one after another (go test -fuzz
# takes one target at a time). New interesting inputs are minimised for at
# most FUZZMINIMIZETIME so that one slow minimisation cannot eat a short
# run. `make test` already runs every seed (f.Add and testdata/fuzz).
FUZZTIME ?= 30s
FUZZMINIMIZETIME ?= 10s
FUZZPARALLEL ?= 1

## fuzz: run every fuzz target of the SDK for FUZZTIME each (default 30s;
## make fuzz FUZZTIME=5m). A failing input is written to the package's
## testdata/fuzz/<Target>/: keep it there as a regression seed.
fuzz:
	@fail=0; log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	for pkg in $$($(GO) list ./...); do \
	  for name in $$($(GO) test -list '^Fuzz' "$$pkg" | grep '^Fuzz'); do \
	    echo "== $$name ($$pkg, $(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) \
	      -parallel $(FUZZPARALLEL) "$$pkg" >"$$log" 2>&1; rc=$$?; \
	    grep -E '^fuzz: elapsed' "$$log" | tail -1; \
	    if [ $$rc -eq 0 ]; then continue; fi; \
	    if ! grep -q 'Failing input written' "$$log" && grep -qx '    context deadline exceeded' "$$log"; then \
	      echo "   (go test reported 'context deadline exceeded' at the end of FUZZTIME with no failing input:"; \
	      echo "    go.dev/issue/75804, a race in the fuzzing coordinator; not a finding)"; \
	      continue; \
	    fi; \
	    grep -vE '^fuzz: elapsed' "$$log"; fail=1; \
	  done; \
	done; \
	exit $$fail
