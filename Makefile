# coalition — every routine task is one target. `make help` lists them.
SHELL := /bin/bash
GO    ?= go

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: build
build: ## build the command into ./bin/coalition (bin/ is git-ignored)
	$(GO) build -o bin/coalition ./cmd/coalition

.PHONY: run
run: build ## start the service on its embedded defaults (SQLite in ./data, mail as .eml files)
	./bin/coalition serve

.PHONY: demo
demo: build ## fill ./data (which must be empty; DEMO_FLAGS=--reset empties it) with the fictional demo data and write the API tokens to demo-tokens.sh (see README "Tour")
	./bin/coalition demo $(DEMO_FLAGS) > demo-tokens.sh

.PHONY: bench-demo
bench-demo: ## how long `coalition demo` takes on a fresh SQLite file (BenchmarkDemo; the README's budget is 10 s)
	$(GO) test -run '^$$' -bench BenchmarkDemo -benchtime 3x ./cmd/coalition/

.PHONY: faults
faults: build ## crash, database and relay fault scenarios against the built binary; last line: faults: lost=… duplicated=… in-flight=… scenarios=… stall_max=… s
	$(GO) run ./cmd/faults -bin ./bin/coalition

.PHONY: bench-newsletter
bench-newsletter: build ## newsletter sending benchmark: a real campaign (created, approved, sent over HTTP) to 100,000 subscribers through `coalition serve` on SQLite to a local SMTP sink (+ a DKIM run); last line: newsletter-bench: R msg/s, peak RSS M MB, B bytes/recipient, first message after S s
	$(GO) run ./cmd/benchnews -bin ./bin/coalition

.PHONY: test
test: ## run the whole test suite (also on PostgreSQL when COALITION_TEST_POSTGRES_URL is set)
	$(GO) test -count=1 ./...

.PHONY: generate
generate: ## regenerate ent and gqlgen code
	$(GO) generate ./...

.PHONY: migrate-diff
migrate-diff: ## plan a migration for both dialects from the ent schema: make migrate-diff NAME=add_x
	@test -n "$(NAME)" || { echo "usage: make migrate-diff NAME=what_changed"; exit 2; }
	$(GO) run ./migrations/diff.go $(NAME)

.PHONY: check
check: ## regenerate code and migrations and fail on any difference; gofmt, go vet, go mod tidy
	@set -e; snap=$$(mktemp -d); trap 'rm -rf $$snap' EXIT; \
	cp -r ent graph migrations go.mod go.sum $$snap/; \
	$(GO) generate ./...; \
	$(GO) run ./migrations/diff.go pending; \
	$(GO) mod tidy; \
	fail=0; \
	for p in ent graph migrations go.mod go.sum; do \
	  if ! diff -r -q $$snap/$$p $$p >/dev/null; then \
	    echo "make check: $$p is not up to date with the sources:"; diff -r -q $$snap/$$p $$p || true; fail=1; \
	  fi; \
	done; \
	[ $$fail = 0 ] || { echo "run 'make generate' (and 'make migrate-diff NAME=…' for schema changes) and commit the result"; exit 1; }
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@echo "make check: ok"

.PHONY: bench
bench: ## run the benchmarks named in the README
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 5x ./graph/

GRAPHIQL_ASSETS := internal/server/graphiql
.PHONY: graphiql-assets
graphiql-assets: ## reinstall GraphiQL, React and ReactDOM from web/graphiql/package-lock.json and re-copy them (and their SHA-256 manifest) into the binary's assets
	cd web/graphiql && npm ci --ignore-scripts --no-audit --no-fund
	cp web/graphiql/node_modules/react/umd/react.production.min.js \
	   web/graphiql/node_modules/react-dom/umd/react-dom.production.min.js \
	   web/graphiql/node_modules/graphiql/graphiql.min.js \
	   web/graphiql/node_modules/graphiql/graphiql.min.css $(GRAPHIQL_ASSETS)/
	cd $(GRAPHIQL_ASSETS) && sha256sum graphiql.min.css graphiql.min.js init.js page.css react-dom.production.min.js react.production.min.js > SHA256SUMS
