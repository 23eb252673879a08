# iwlab: two commands on a fresh machine
#   make up     virtualenv + install + start API, dashboard and one worker (SQLite, ./.iwlab)
#   make test   install test extras and system packages, run the whole suite
#   make lint   ruff, mypy and the import contracts (CI runs it before the tests)
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON      ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
PIP         := $(PY) -m pip
# Every install goes through the tested versions. torch is pinned there only: installed alone,
# first, its CPU wheel is found on this machine's disk; a loose `torch` pulls a multi-GB CUDA build.
CONSTRAINTS := constraints.txt
TORCH_SPEC  ?= $(shell grep -E '^torch==' $(CONSTRAINTS))
PIP_INSTALL := $(PIP) install -c $(CONSTRAINTS)
PYTEST_ARGS ?=
# `make test-fast`: no browser, no preset checks, none of the tests that take many seconds
# (measured with --durations; the list is LONG in tests/conftest.py).
FAST_ARGS   ?= -m "not slow and not browser and not long"

.PHONY: help venv up test test-fast test-deps lint format-check screenshots reproduction constraints compose-check clean distclean

help: ## list the targets
	@echo "iwlab make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-14s %s\n", $$1, $$2}'
	@echo "variables: PYTHON=$(PYTHON) TORCH_SPEC=$(TORCH_SPEC) PYTEST_ARGS='$(PYTEST_ARGS)'"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Stamp files: re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(PY)
	@$(PY) -c 'import torch' 2>/dev/null || { echo "installing $(TORCH_SPEC) first"; $(PIP_INSTALL) "$(TORCH_SPEC)"; }
	$(PIP_INSTALL) -e '.[all]'
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP_INSTALL) -e '.[test]'
	@touch $@

venv: $(VENV)/.installed ## create .venv and install iwlab (torch first, pinned)

up: venv ## start API, dashboard and one worker (SQLite + filesystem broker in IWLAB_HOME=./.iwlab)
	IWLAB_HOME="$${IWLAB_HOME:-$(CURDIR)/.iwlab}" $(VENV)/bin/iwlab up

test-deps: ## install redis-server, postgresql, chromium if missing (root)
	@bash scripts/test-deps.sh

test: $(VENV)/.installed-test test-deps ## install test needs and run the whole suite (PYTEST_ARGS=...)
	$(PY) -m pytest -ra --durations=10 $(PYTEST_ARGS)

test-fast: $(VENV)/.installed-test test-deps ## the suite without browser, preset and long worker tests (< 3 min)
	$(PY) -m pytest -ra --durations=10 $(FAST_ARGS) $(PYTEST_ARGS)

lint: $(VENV)/.installed-test ## ruff check, mypy, import-linter's layer contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format-check: $(VENV)/.installed-test ## ruff format --check (the tree is formatted with `ruff format .`)
	$(VENV)/bin/ruff format --check .

screenshots: $(VENV)/.installed-test test-deps ## redraw the README's pictures (docs/*.png) from the browser tests
	IWLAB_SCREENSHOTS="$(CURDIR)/docs" $(PY) -m pytest -q -m browser $(PYTEST_ARGS)

reproduction: venv ## train every preset's quick variant and rewrite docs/reproduction.md (PRESETS='a b' for some; CIFAR: CIFAR=path)
	$(PY) scripts/reproduction.py --run $(if $(CIFAR),--cifar $(CIFAR)) $(PRESETS)

constraints: $(VENV)/.installed-test ## re-pin constraints.txt from this venv, after changing the dependencies
	$(PY) scripts/constraints.py > $(CONSTRAINTS)

compose-check: venv ## validate docker-compose.yml (no docker engine needed)
	$(PY) scripts/check_compose.py docker-compose.yml

clean: ## remove caches and build leftovers (keeps .venv and .iwlab)
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info test-artifacts
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## also remove .venv and the local state dir .iwlab
	rm -rf $(VENV) .iwlab
