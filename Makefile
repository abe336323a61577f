# refeed — everything a fresh machine (Python 3.11 + pip) needs, in two targets:
#   make run    install, then check the config and poll every source once
#   make test   install, then lint, type-check and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= config.yaml

.PHONY: install system-deps run test lint typecheck pytest bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# newsboat, a real feed reader, reads our outputs in the end-to-end test. Installed with
# apt-get when we are root on Debian; otherwise that one test is skipped with the reason.
system-deps:
	@command -v newsboat >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q newsboat >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q newsboat >/dev/null 2>&1; } || \
	    echo "newsboat could not be installed: its end-to-end test will be skipped"; \
	  else echo "newsboat is missing (apt-get as root installs it): its test will be skipped"; fi; }

run: install
	$(BIN)/refeed -c $(CONFIG) check
	$(BIN)/refeed -c $(CONFIG) poll
	$(BIN)/refeed -c $(CONFIG) status

test: lint typecheck pytest

lint: install
	$(BIN)/ruff check src tests bench

typecheck: install
	$(BIN)/mypy src

pytest: install system-deps
	$(BIN)/python -m pytest

# the performance suite (bench/perf.py; BENCH_ARGS=--quick for a smoke test); wrk, when
# apt-get can install it, adds a second load tool to the serve scenario
bench: install
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1 \
	  || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null 2>&1 \
	  || echo "wrk could not be installed: serve is measured with the in-process client only"
	$(BIN)/python bench/perf.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
