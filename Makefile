# The two commands a newcomer needs: `make demo` and `make test`.
GO ?= go
export PGPORT ?= 5432
export DATABASE_URL ?= postgres://postgres@127.0.0.1:$(PGPORT)/postgres?sslmode=disable

.PHONY: test demo vet lint bench conformance

SHELL := /bin/bash

## test: vet, then every test with the race detector (PostgreSQL needed for the integration tests).
test: vet lint
	bash internal/localstack/scripts/ensure-postgres.sh
	$(GO) test -race -count=1 ./...
	@$(MAKE) --no-print-directory conformance

## demo: start the local stack over PostgreSQL, sign two users in and show RLS at work.
demo:
	bash internal/localstack/scripts/demo.sh

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

## lint: staticcheck (fetched through the Go module proxy, pinned).
lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

## conformance: replay the recorded supabase-js cases.
conformance:
	@set -o pipefail; $(GO) test -race -count=1 -v -run '^TestConformance$$' . | grep -E '^(conformance:|--- FAIL|FAIL|ok)'

## bench: run the benchmarks.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
