# The two commands a newcomer needs: `make demo` and `make test`.
GO ?= go
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.PHONY: test demo vet lint bench conformance

## test: vet, then every test with the race detector (PostgreSQL needed for the integration tests).
test: vet
	bash internal/localstack/scripts/ensure-postgres.sh
	$(GO) test -race -count=1 ./...

## demo: start the local stack over PostgreSQL, sign two users in and show RLS at work.
demo:
	bash internal/localstack/scripts/demo.sh

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

## conformance: replay the recorded supabase-js cases.
conformance:
	$(GO) test -race -count=1 -run TestConformance .

## bench: run the benchmarks.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
