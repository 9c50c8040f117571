# Tenon: `make run` sets everything up and serves; `make test` runs the whole test suite.
SHELL := bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SERVE_ARGS ?=
BENCH_ARGS ?=
DEMO ?= examples/fibonacci.py

.DEFAULT_GOAL := help

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

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

bench: bundle ## benchmark: LSP latency, engine vs transformers, bandwidth floor (~40 min, 2 cores)
	$(PY) -m bench $(BENCH_ARGS)

bench-quick: bundle ## the benchmark with fewer positions and prompts (~10 min)
	$(PY) -m bench --quick $(BENCH_ARGS)

bench-gpu: ## the benchmark on CUDA (a GPU machine; environment from GPU=1 scripts/bootstrap.sh)
	PY=$(PY) bench/gpu.sh $(BENCH_ARGS)

lint: install ## ruff
	$(VENV)/bin/ruff check server training tests bench

clean: ## remove the virtual environment (bundles in ~/.cache/tenon stay)
	rm -rf $(VENV)

.PHONY: help install bundle run test test-fast bench bench-quick bench-gpu lint clean
