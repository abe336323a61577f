# refeed — everything a fresh machine (Python 3.11 + pip) needs, in two targets:
#   make run    install, then check the config and poll every source once
#   make test   install, then lint, type-check and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= config.yaml

.PHONY: install run test lint typecheck pytest bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: install
	$(BIN)/refeed -c $(CONFIG) check
	$(BIN)/refeed -c $(CONFIG) poll
	$(BIN)/refeed -c $(CONFIG) status

test: lint typecheck pytest

lint: install
	$(BIN)/ruff check src tests bench

typecheck: install
	$(BIN)/mypy src

pytest: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/poll_throughput.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
