# ustad: `make run` sets everything up and serves; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint format services browser bench-peers fleet fleet-stop clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)  ## create the virtualenv and install ustad with its models

run: install  ## serve on 127.0.0.1:8000 with the embedded defaults
	$(BIN)/ustad serve

services:  ## make sure PostgreSQL and Redis (used by the store and shared-tier tests) are answering
	bash scripts/test-services.sh

browser:  ## Debian's chromium and Urdu fonts for the web client's browser test
	bash scripts/install-browser.sh

lint: install  ## ruff and mypy --strict
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

test: install services browser lint  ## the whole suite
	$(BIN)/pytest

fleet: install  ## nginx on 127.0.0.1:8080 in front of 2 workers (WORKERS=n PORT=p), docs/SCALING.md
	bash scripts/fleet.sh start --workers $(or $(WORKERS),2) --port $(or $(PORT),8080)

fleet-stop:  ## stop the fleet `make fleet` started
	bash scripts/fleet.sh stop

bench-peers: install  ## ustad's speech endpoints against wyoming-faster-whisper and wyoming-piper (ARGS=--quick)
	bash scripts/install-peers.sh
	$(BIN)/python benchmarks/peers.py $(ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
