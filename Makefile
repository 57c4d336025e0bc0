# Loupe's everyday commands. `make run` and `make test` are the README's two set-up commands.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format typecheck check vendor clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Loupe needs Python 3.11 or newer")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run: Loupe on the embedded default (SQLite, local disk, a worker) with demo data
run: $(STAMP)
	$(BIN)/loupe serve --demo

## test: lint, type-check and the whole suite (browser, PostgreSQL and Redis tests say why they skip)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/lint-imports

## vendor: copy the npm front-end libraries into static/vendor (needs Node.js)
vendor:
	scripts/vendor.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
