# The API keys service. `make run` starts the single binary with the
# dashboard on http://localhost:8080; `make test` runs every test.

SHELL := /bin/bash
GO ?= go
ADDR ?= 127.0.0.1:8080
DATA ?= ./data
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

.PHONY: run build test test-go lint web-test web-check tools dynalite bench help

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

run: ## serve the API and the dashboard on http://localhost:8080 (embedded store in ./data)
	$(GO) run ./functions/edge serve --addr $(ADDR) --data $(DATA)

build: ## build the single binary into bin/edge
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/edge ./functions/edge

test: tools lint test-go web-test ## run every test (what CI runs)

test-go: ## Go tests: unit, store conformance (bbolt, moto, dynalite), HTTP, Lambda (RIE), CDK synth, browser
	$(GO) test -count=1 -timeout 20m ./...

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

tools: dynalite ## install what the tests need from npm

DYNALITE := localstack/tools/node_modules/.bin/dynalite
dynalite: $(DYNALITE) ## install the pinned dynalite (DynamoDB-compatible server for tests)
$(DYNALITE): localstack/tools/package-lock.json
	cd localstack/tools && npm ci --no-audit --no-fund
	@touch $@

web-test: ## dashboard unit tests, type check, and the committed build matches the source
	cd web && npm ci --no-audit --no-fund && npm run check && npm test && npm run build
	@git diff --exit-code --stat -- web/dist || { echo "web/dist differs from a fresh build: run 'cd web && npm run build' and commit it"; exit 1; }

bench: ## benchmarks: Go micro-benchmarks, edge serve's memory by store size, the HTTP load run (figures, not pass/fail; LOADGEN_FLAGS=-quick for a smoke run; ~5 min)
	$(GO) test -run '^$$' -bench . -benchmem ./shared/token ./shared/authz ./shared/verify ./shared/store/bolt
	$(GO) run ./functions/edge/loadgen $(LOADGEN_FLAGS)

LOCALSTACK := docker compose -f localstack/docker-compose.yml
.PHONY: localstack-up localstack-down e2e-local
localstack-up: ## start LocalStack (pinned community image; needs Docker)
	$(LOCALSTACK) up -d --wait
localstack-down: ## stop LocalStack
	$(LOCALSTACK) down
e2e-local: ## the end-to-end lifecycle against the stack deployed on LocalStack (after make deploy-local)
	bash localstack/e2e.sh build/cdk-outputs-local.json

include functions/make.mk
include infra/make.mk
