# HEART — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The city HEART serves (a folder under cities/): `HEART_CITY=riverton make run`. Each city has its own SQLite
# database and demo logins: Durham's keep their names (heart.db, .heart-demo-logins), another city's are
# heart-<city>.db and .heart-demo-logins-<city>. HEART_DATABASE_URL, when set, wins.
HEART_CITY ?= durham
CITY_SUFFIX := $(if $(filter durham,$(HEART_CITY)),,-$(HEART_CITY))
HEART_DATABASE_URL ?= sqlite:///heart$(CITY_SUFFIX).db
DEMO_LOGINS := .heart-demo-logins$(CITY_SUFFIX)
RUN_ENV = HEART_ENV=development HEART_CITY=$(HEART_CITY) HEART_DATABASE_URL=$(HEART_DATABASE_URL)

# Python packages are installed from lock files with every version pinned and every file's hash checked, so a
# fresh machine next year installs exactly what this commit was tested with. `make lock` regenerates them from
# pyproject.toml (the generator is not needed to install).
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
TOOLS_LOCK := requirements-tools.lock
TOOLS := .venv-tools
# What `pip install --no-build-isolation -e .` needs (pyproject's [build-system]), pinned with the rest.
BUILD_REQUIREMENTS := pip 'setuptools>=68' wheel
# Only `make lock` and `make audit` use these, from their own environment.
TOOL_REQUIREMENTS := uv pip-audit
COMPILE = $(TOOLS)/bin/uv pip compile --universal --python-version 3.11 --generate-hashes --quiet \
	--custom-compile-command "make lock" $(UPGRADE)

.PHONY: install install-run run test lint bench lock audit clean

install: $(VENV)/.installed-dev node_modules/.installed

install-run: $(VENV)/.installed-run node_modules/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-dev: $(DEV_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: install-run
	$(RUN_ENV) $(BIN)/heart db upgrade
	$(RUN_ENV) $(BIN)/heart demo --if-empty --logins-file $(DEMO_LOGINS)
	@echo "HEART ($(HEART_CITY), $(HEART_DATABASE_URL)) is at http://$(HOST):$(PORT)"
	$(RUN_ENV) $(BIN)/heart serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: install lint
	$(BIN)/pytest -n 2 --dist loadgroup -q

# The benchmarks that measure no data path against a floor run first, each printing its figures; then
# benchmarks/report.py runs every data path's benchmark (--report, each in its own process) and ends with one
# report: the product beside its floor and its naive peer, measured in the same run, and memory at 1x and 10x.
bench: install
	$(BIN)/python benchmarks/eido.py
	$(BIN)/python benchmarks/durability.py
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/fuzz.py --examples 60
	$(BIN)/python benchmarks/login_flood.py
	$(BIN)/python benchmarks/responder_calls.py
	$(BIN)/python benchmarks/care_queue.py
	$(BIN)/python benchmarks/geocode.py
	$(BIN)/python benchmarks/report.py

$(TOOLS)/.installed: $(TOOLS_LOCK)
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --require-hashes -r $(TOOLS_LOCK)
	touch $@

# Regenerate the lock files after editing pyproject.toml; versions already locked stay unless they must move.
# `make lock UPGRADE=--upgrade` moves everything to the newest allowed versions.
lock: $(TOOLS)/.installed
	printf '%s\n' $(BUILD_REQUIREMENTS) | $(COMPILE) pyproject.toml - --extra dev -o $(DEV_LOCK)
	printf '%s\n' $(BUILD_REQUIREMENTS) | $(COMPILE) pyproject.toml - -c $(DEV_LOCK) -o $(LOCK)
	printf '%s\n' $(TOOL_REQUIREMENTS) | $(COMPILE) - -o $(TOOLS_LOCK)

# Known vulnerabilities in the locked Python packages (pip-audit, PyPI's advisories) and the npm packages
# (npm audit, the registry's advisories). Fails on a finding, and on any package it could not check.
audit: $(TOOLS)/.installed node_modules/.installed
	@bash scripts/audit.sh $(TOOLS)/bin/pip-audit $(DEV_LOCK)

clean:
	rm -rf $(VENV) $(TOOLS) node_modules .pytest_cache .mypy_cache .ruff_cache
