# Two commands matter: `make run` starts Teammate, `make test` runs the tests.
# Both create the virtual environment in .venv on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run serve test lint install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/teammate run

serve: $(STAMP)
	$(BIN)/teammate serve --host 0.0.0.0 --port 3000

test: $(STAMP)
	$(BIN)/ruff check bot handlers tests bench
	$(BIN)/mypy bot/core
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bot handlers tests bench
	$(BIN)/ruff format --check bot handlers tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
