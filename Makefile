# Tenon: `make run` sets everything up and serves; `make test` runs the whole test suite.
SHELL := bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SERVE_ARGS ?=
BENCH_ARGS ?=
DEMO ?= examples/fibonacci.py
CLIENT := vscode-client
NODE_STAMP := $(CLIENT)/node_modules/.installed
VSIX := $(CLIENT)/tenon-$(shell sed -n 's/^  "version": "\(.*\)",$$/\1/p' $(CLIENT)/package.json).vsix
VSCODE_CACHE ?= $(HOME)/.cache/tenon-vscode
CODE_SERVER_VERSION ?= 4.100.3

.DEFAULT_GOAL := help

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml scripts/bootstrap.sh
	scripts/bootstrap.sh
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install Tenon (torch, transformers, onnxruntime, pygls)

bundle: install ## build the default model bundle (cached in ~/.cache/tenon, keyed by its inputs)
	$(VENV)/bin/tenon-train build-default

run: bundle ## set up, print a live completion for examples/, then serve LSP on stdio
	$(VENV)/bin/tenon complete $(DEMO)
	@echo "Serving LSP on stdio (Ctrl-C to stop). TCP: make run SERVE_ARGS='--tcp 127.0.0.1:2087'" >&2
	$(VENV)/bin/tenon serve $(SERVE_ARGS)

test: bundle ## run every test (unit, LSP end to end, export parity, the real default model)
	$(PY) -m pytest -q

test-fast: install ## run the tests that need no default bundle
	$(PY) -m pytest -q -m "not slow"

bench: bundle ## benchmark: LSP latency, engine vs transformers, bandwidth floor (~20 min on 2 quiet cores)
	$(PY) -m bench $(BENCH_ARGS)

bench-quick: bundle ## the benchmark with fewer positions and prompts (~10 min)
	$(PY) -m bench --quick $(BENCH_ARGS)

bench-gpu: ## the benchmark on CUDA (a GPU machine; environment from GPU=1 scripts/bootstrap.sh)
	PY=$(PY) bench/gpu.sh $(BENCH_ARGS)

bench-reliability: bundle ## protocol fuzz (12,000 messages), edit storm, 2-minute load → bench/results/reliability-*.json
	$(PY) bench/reliability_fuzz.py
	$(PY) bench/reliability_storm.py
	$(PY) bench/reliability_load.py

lint: install $(NODE_STAMP) ## ruff, and the extension's type check
	$(VENV)/bin/ruff check server training tests bench
	cd $(CLIENT) && npm run check

$(NODE_STAMP): $(CLIENT)/package.json $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --no-audit --no-fund
	@touch $@

vsix: $(NODE_STAMP) ## build the VS Code extension, vscode-client/tenon-<version>.vsix (offline)
	cd $(CLIENT) && npm run check && npm run build && npm run package

test-client: $(NODE_STAMP) ## the extension's unit tests (Node's test runner)
	cd $(CLIENT) && npm test

test-vscode: bundle vsix test-client ## the extension in a real VS Code (code-server + Chromium, installed once into ~/.cache/tenon-vscode)
	code_server=$$($(CLIENT)/scripts/install-vscode.sh $(VSCODE_CACHE) $(CODE_SERVER_VERSION)) && \
	node $(CLIENT)/test/vscode/run.mjs --code-server "$$code_server" --vsix $(VSIX) --python $(abspath $(PY))

clean: ## remove the virtual environment and the extension's build (caches in ~/.cache stay)
	rm -rf $(VENV) $(CLIENT)/node_modules $(CLIENT)/out $(CLIENT)/*.vsix

.PHONY: help install bundle run test test-fast lint vsix test-client test-vscode clean \
	bench bench-quick bench-gpu bench-reliability
