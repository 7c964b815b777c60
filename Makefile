# Developer and CI entry points. `make test` is the README's test command; .ci/run calls
# `make test` and `make lint`. Variables marked ?= can be overridden on the command line.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
TOOLS   := .tools

PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432
PG_USER ?= postgres
TEST_DB ?= verwijsindex_test
VERWIJSINDEX_TEST_POSTGRES_URL ?= postgresql+psycopg://$(PG_USER)@$(PG_HOST):$(PG_PORT)/$(TEST_DB)
JUNIT_XML ?= test-artifacts/junit.xml
PYTEST_ARGS ?=
BENCH_ARGS ?=

# NL API Design Rules lint. ADR_DOCUMENT defaults to the document the app serves, generated fresh
# on every run; point it at any existing file to lint that instead
# (make adr-lint ADR_DOCUMENT=path/to/openapi.json needs no virtualenv).
ADR_RULESET      ?= ../shared/adr/ruleset.yaml
ADR_DOCUMENT     ?= $(TOOLS)/openapi.json
SPECTRAL_VERSION ?= 6.16.3
SPECTRAL         := $(TOOLS)/node_modules/.bin/spectral

.PHONY: help venv demo postgres chromium test-db test lint adr-lint bench clean distclean FORCE

help:
	@echo "make demo       start the service with demo data (http://localhost:8080)"
	@echo "make test       run the test suite against SQLite and PostgreSQL (PYTEST_ARGS=...)"
	@echo "make lint       ruff, ruff format --check, mypy --strict, ADR (Spectral) lint"
	@echo "make adr-lint   only the NL API Design Rules lint of the OpenAPI document"
	@echo "make bench      matching benchmark (BENCH_ARGS=...)"
	@echo "make clean      remove caches and generated files; distclean also .venv and .tools"

venv: $(STAMP)

# Reinstall only when pyproject.toml changes; the install is editable, so code edits need none.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

demo: venv
	$(VENV)/bin/verwijsindex serve --demo

postgres:
	@PG_HOST=$(PG_HOST) PG_PORT=$(PG_PORT) .ci/ensure-postgres

test-db: postgres
	@if psql -h $(PG_HOST) -p $(PG_PORT) -U $(PG_USER) -d postgres -tAc \
	    "SELECT 1 FROM pg_database WHERE datname = '$(TEST_DB)'" | grep -q 1; then \
	  echo "database $(TEST_DB) exists"; \
	else \
	  echo "creating database $(TEST_DB)"; \
	  createdb -h $(PG_HOST) -p $(PG_PORT) -U $(PG_USER) $(TEST_DB); \
	fi

chromium:
	@.ci/ensure-chromium

test: venv test-db chromium
	@mkdir -p $(dir $(JUNIT_XML))
	@rm -f $(JUNIT_XML)
	VERWIJSINDEX_TEST_POSTGRES_URL='$(VERWIJSINDEX_TEST_POSTGRES_URL)' \
	  $(PY) -m pytest --junitxml=$(JUNIT_XML) $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict verwijsindex
	@$(MAKE) --no-print-directory adr-lint

adr-lint: $(SPECTRAL) $(ADR_DOCUMENT)
	$(SPECTRAL) lint --fail-severity=error -r $(ADR_RULESET) $(ADR_DOCUMENT)

$(SPECTRAL):
	npm install --prefix $(TOOLS) --no-audit --no-fund @stoplight/spectral-cli@$(SPECTRAL_VERSION)

# Always regenerated (FORCE): it is derived from the code, which has no single file to depend on.
$(TOOLS)/openapi.json: $(STAMP) FORCE
	@mkdir -p $(TOOLS)
	$(VENV)/bin/verwijsindex openapi > $@.tmp
	mv $@.tmp $@

bench: venv
	$(PY) -m bench.signals $(BENCH_ARGS)

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache test-artifacts build dist *.egg-info
	rm -f $(TOOLS)/openapi.json $(TOOLS)/openapi.json.tmp
	find . -path ./$(VENV) -prune -o -path ./$(TOOLS) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(TOOLS)

FORCE:
