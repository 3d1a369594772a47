# HEART — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint bench clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: install
	HEART_ENV=development $(BIN)/heart db upgrade
	HEART_ENV=development $(BIN)/heart demo --if-empty
	@echo "HEART is at http://$(HOST):$(PORT)"
	HEART_ENV=development $(BIN)/heart serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: install lint
	$(BIN)/pytest -n 2 --dist loadgroup -q

bench: install
	$(BIN)/python benchmarks/lifecycle.py
	$(BIN)/python benchmarks/metrics.py
	$(BIN)/python benchmarks/triage.py
	$(BIN)/python benchmarks/cad_import.py
	$(BIN)/python benchmarks/crosswalk.py
	$(BIN)/python benchmarks/board.py
	$(BIN)/python benchmarks/login_flood.py
	$(BIN)/python benchmarks/responder_calls.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
