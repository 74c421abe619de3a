# The API keys service. `make run` starts the single binary with the
# dashboard on http://localhost:8080; `make test` runs every test.

SHELL := /bin/bash
GO ?= go
ADDR ?= 127.0.0.1:8080
DATA ?= ./data
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

.PHONY: run build test test-go lint web-deps web-test web-check tools system-tools dynalite bench help

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

run: ## build bin/edge, then serve the API and the dashboard on http://localhost:8080 (embedded store in ./data)
	@echo "make run: building the single binary bin/edge (the first build downloads modules and takes a minute or two)..."
	@$(MAKE) --no-print-directory build
	@echo "make run: starting bin/edge serve --addr $(ADDR) --data $(DATA) (the first start prints the owner token; Ctrl-C stops it)"
	@./bin/edge serve --addr $(ADDR) --data $(DATA)

build: ## build the single binary into bin/edge
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/edge ./functions/edge

test: tools lint test-go web-test ## run every test (what CI runs); installs what it needs first (see `make tools`)
	@echo "==> make test: all green"

test-go: web-deps ## Go tests: unit, store conformance (bbolt, moto, dynalite), HTTP, Lambda (RIE), CDK synth, browser
	@echo "==> Go tests (the first run downloads modules and compiles the AWS SDK and CDK bindings: a few minutes)"
	$(GO) test -count=1 -timeout 20m ./...

lint: ## gofmt, go vet, staticcheck
	@echo "==> lint: gofmt, go vet, staticcheck"
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

tools: system-tools dynalite ## install what the tests need: Debian's chromium (apt, once), dynalite (npm)

# The tests need these programs; a fresh machine lacks chromium. apt runs
# only when one is missing and root or sudo is available; otherwise the
# target says in one line what to install and fails. Which Chromium the
# browser tests accept is decided in one place, shared/chromium, which
# findchromium asks; the Node.js version is web/package.json's engines.node.
system-tools: ## check (and install once, with apt) the programs the tests start: chromium, moto_server, node, npm
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "make test needs Node.js >= $(NODE_MIN) with npm: install them (e.g. apt-get install nodejs npm)"; exit 1; }
	@node -e 'const [w, h] = [process.argv[1], process.versions.node].map((v) => v.split(".").map(Number)); const d = w.map((x, i) => (h[i] ?? 0) - x).find((x) => x !== 0) ?? 0; process.exit(d < 0 ? 1 : 0)' $(NODE_MIN) || { echo "make test needs Node.js >= $(NODE_MIN) (web/package.json), this is $$(node --version): install a newer one"; exit 1; }
	@command -v moto_server >/dev/null || { echo "make test needs moto 5's server: pip install 'moto[server]>=5'"; exit 1; }
	@if $(GO) run ./shared/chromium/findchromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; \
	else echo "make test needs Chromium for the browser tests (chromium, chromium-browser, google-chrome or \$$CHROMIUM): sudo apt-get install chromium"; exit 1; fi; \
	echo "==> installing Debian's chromium for the browser tests (apt-get, once)"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$sudo apt-get update -qq && $$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null && echo "==> chromium installed: $$(chromium --version)"

# NODE_MIN is the dashboard's Node.js floor (web/package.json engines.node).
NODE_MIN := $(shell sed -n 's/.*"node": *">=\([0-9.]*\)".*/\1/p' web/package.json)

DYNALITE := localstack/tools/node_modules/.bin/dynalite
dynalite: $(DYNALITE) ## install the pinned dynalite (DynamoDB-compatible server for tests)
$(DYNALITE): localstack/tools/package-lock.json
	@echo "==> installing dynalite from npm (localstack/tools, pinned by its lockfile)"
	cd localstack/tools && npm ci --no-audit --no-fund
	@touch $@

# npm ci runs once per lockfile: the stamp is written into node_modules,
# which npm ci recreates, after a successful install.
WEB_DEPS := web/node_modules/.make-installed
web-deps: $(WEB_DEPS) ## install the dashboard's pinned npm packages, when web/package-lock.json changed (the browser tests inject web/node_modules/axe-core)
$(WEB_DEPS): web/package-lock.json
	@echo "==> dashboard dependencies: npm ci in web/ (pinned by its lockfile; the browser tests read axe-core from web/node_modules)"
	cd web && npm ci --no-audit --no-fund
	@touch $@

web-test: web-deps ## dashboard unit tests, type check, and the committed build matches the source
	@echo "==> dashboard: type check, unit tests, build (web/dist must match the committed one)"
	cd web && npm run check && npm test && npm run build
	@git diff --exit-code --stat -- web/dist || { echo "web/dist differs from a fresh build: run 'cd web && npm run build' and commit it"; exit 1; }

bench: ## benchmarks: Go micro-benchmarks, edge serve's memory by store size, the HTTP load run (figures, not pass/fail; LOADGEN_FLAGS=-quick for a smoke run; ~5 min)
	$(GO) test -run '^$$' -bench . -benchmem ./shared/token ./shared/authz ./shared/verify ./shared/store/bolt
	$(GO) run ./shared/loadgen $(LOADGEN_FLAGS)

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
