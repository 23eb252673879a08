# iwlab: two commands on a fresh machine
#   make up     virtualenv + install + start API, dashboard and one worker (SQLite, ./.iwlab)
#   make test   install test extras and system packages, run the whole suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON      ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
PIP         := $(PY) -m pip
# Pinned: its CPU wheel is on this machine's disk; a loose `torch` pulls a multi-GB CUDA build.
TORCH_SPEC  ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: help venv up test test-deps compose-check screenshots clean distclean

help: ## list the targets
	@echo "iwlab make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-14s %s\n", $$1, $$2}'
	@echo "variables: PYTHON=$(PYTHON) TORCH_SPEC=$(TORCH_SPEC) PYTEST_ARGS='$(PYTEST_ARGS)'"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Stamp files: re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	@$(PY) -c 'import torch' 2>/dev/null || { echo "installing $(TORCH_SPEC) first"; $(PIP) install "$(TORCH_SPEC)"; }
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -e '.[test]'
	@touch $@

venv: $(VENV)/.installed ## create .venv and install iwlab (torch first, pinned)

up: venv ## start API, dashboard and one worker (SQLite + filesystem broker in IWLAB_HOME=./.iwlab)
	IWLAB_HOME="$${IWLAB_HOME:-$(CURDIR)/.iwlab}" $(VENV)/bin/iwlab up

test-deps: ## install redis-server, postgresql, chromium, chromium-driver if missing (root)
	@bash scripts/test-deps.sh

test: $(VENV)/.installed-test test-deps ## install test needs and run the whole suite (PYTEST_ARGS=...)
	$(PY) -m pytest -ra $(PYTEST_ARGS)

screenshots: $(VENV)/.installed-test test-deps ## regenerate the README's pictures in docs/ (the browser tests that take them)
	IWLAB_SCREENSHOTS="$(CURDIR)/docs" $(PY) -m pytest -q tests/e2e/test_browser.py tests/e2e/test_dashboard.py tests/e2e/test_gallery.py \
		tests/e2e/test_login.py tests/e2e/test_new_form.py tests/e2e/test_workers_page.py

compose-check: venv ## validate docker-compose.yml (no docker engine needed)
	$(PY) scripts/check_compose.py docker-compose.yml

clean: ## remove caches and build leftovers (keeps .venv and .iwlab)
	rm -rf .pytest_cache build dist *.egg-info test-artifacts
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## also remove .venv and the local state dir .iwlab
	rm -rf $(VENV) .iwlab
