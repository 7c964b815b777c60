# Developer and CI entry points. `make test` is the README's test command; .ci/run calls
# `make test` and `make lint`. Variables marked ?= can be overridden on the command line.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.installed-runtime
TOOLS   := .tools

# Dependencies are installed from hash-checked lock files made from pyproject.toml's ranges
# (`make lock`), never "whatever is newest". The tools that make and audit the locks (uv,
# pip-audit) live in their own virtualenv under .tools, from a lock of their own.
RUNTIME_LOCK := requirements/runtime.txt
DEV_LOCK     := requirements/dev.txt
TOOLS_LOCK   := requirements/tools.txt
TOOLS_VENV   := $(TOOLS)/venv
TOOLS_STAMP  := $(TOOLS_VENV)/.installed
LOCK_INDEX   ?= https://pypi.org/simple
LOCK_ARGS    ?=
# --universal: markers for every platform and Python >= 3.11, so one lock serves Linux and
# macOS developers and the python:3.11-slim image; --no-config and an explicit index: the
# lock is made from PyPI's files, whatever pip or uv configuration this machine has.
UV_COMPILE = $(TOOLS_VENV)/bin/uv pip compile --quiet --no-config --index-url $(LOCK_INDEX) \
	--universal --python-version 3.11 --generate-hashes --custom-compile-command 'make lock' \
	$(LOCK_ARGS)

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

.PHONY: help venv demo federation-demo postgres chromium test-db test screenshots lint adr-lint audit lock bench \
	clean distclean FORCE

help:
	@echo "make demo       start the service with demo data (http://127.0.0.1:8080; PORT=..., HOST=...)"
	@echo "make federation-demo  two regions, a hub and a key holder here, and a cross-region match"
	@echo "make test       run the test suite against SQLite and PostgreSQL (PYTEST_ARGS=...)"
	@echo "make screenshots  refresh docs/screenshots/ (the README's) from the browser tests"
	@echo "make lint       ruff, ruff format --check, mypy --strict, import layers (.importlinter),"
	@echo "                ADR (Spectral) lint, pip-audit"
	@echo "make adr-lint   only the NL API Design Rules lint of the OpenAPI document"
	@echo "make audit      only pip-audit of the lock files (PIP_AUDIT_REQUIRED=1: fail if it cannot look up)"
	@echo "make lock       regenerate requirements/*.txt from pyproject.toml (LOCK_ARGS=--upgrade)"
	@echo "make bench      matching benchmark (BENCH_ARGS=...)"
	@echo "make clean      remove caches and generated files; distclean also .venv and .tools"

venv: $(STAMP)

# Reinstall only when a lock changes; the install is editable, so code edits need none. The
# project itself comes without dependencies and without build isolation (setuptools is in the
# lock too); `pip check` then fails if pyproject.toml names a package the lock lacks.
$(STAMP): $(DEV_LOCK) pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --require-hashes -r $(DEV_LOCK)
	$(VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	$(VENV)/bin/pip check
	touch $@

# What serving needs and nothing more (no test or lint tools): `make demo` on a fresh clone.
$(RUNTIME_STAMP): $(RUNTIME_LOCK) pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --require-hashes -r $(RUNTIME_LOCK)
	$(VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	$(VENV)/bin/pip check
	touch $@

# The port is checked by `serve` itself before anything starts: busy, it says so in one line
# and exits 2.
PORT ?= 8080
HOST ?= 127.0.0.1
demo: $(RUNTIME_STAMP)
	$(VENV)/bin/verwijsindex serve --demo --host $(HOST) --port $(PORT)

# Two regions, a hub and a key holder on this machine, and a cross-region match between them
# (README "Federation"); FEDERATION_DEMO_PORTS="8091 8090 8081 8082" moves them.
federation-demo: $(RUNTIME_STAMP)
	scripts/federation-demo.sh $(FEDERATION_DEMO_ARGS)

$(TOOLS_STAMP): $(TOOLS_LOCK)
	test -x $(TOOLS_VENV)/bin/python || python3 -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install -q --require-hashes -r $(TOOLS_LOCK)
	touch $@

# Keeps the pins already in the locks unless pyproject.toml's ranges exclude them; pass
# LOCK_ARGS=--upgrade (or --upgrade-package NAME) to move to newer releases.
lock: $(TOOLS_STAMP)
	$(UV_COMPILE) pyproject.toml requirements/build.in -o $(RUNTIME_LOCK)
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra dev -c $(RUNTIME_LOCK) -o $(DEV_LOCK)
	$(UV_COMPILE) requirements/tools.in -o $(TOOLS_LOCK)

# The dev lock holds the runtime lock's packages at the same versions, plus the dev extras.
audit: $(TOOLS_STAMP)
	.ci/audit-locks $(TOOLS_VENV)/bin/pip-audit $(DEV_LOCK) $(TOOLS_LOCK)

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

# The browser tests write their screenshots to build/screenshots/ (ignored); this writes
# them over the README's instead. Commit the result when a page changed on purpose.
screenshots: venv chromium
	VERWIJSINDEX_SCREENSHOT_DIR='$(CURDIR)/docs/screenshots' \
	  $(PY) -m pytest -q -k sqlite tests/browser $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict verwijsindex
	$(VENV)/bin/lint-imports
	@$(MAKE) --no-print-directory adr-lint
	@$(MAKE) --no-print-directory audit

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
