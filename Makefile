# Set-up is part of every target: a fresh clone needs only `make demo` or `make test`.
VENV ?= .venv
BIN = $(VENV)/bin
PYTHON ?= python3

.PHONY: install demo test test-fast lint format bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/parcours demo --workspace demo

test: install
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -m "not slow and not spark and not browser"

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: install
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_models.py

clean:
	rm -rf $(VENV) demo .pytest_cache .ruff_cache
