# Two set-up commands: `make run` (dashboard + engine) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint typecheck bench browser services clean

$(VENV)/.base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install -q -e '.[test]'
	touch $@

run: $(VENV)/.base
	$(VENV)/bin/oms run

# Debian's chromium and chromium-driver for the real-browser tests; a failed install fails the build.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi
	chromium --version && chromedriver --version

# PostgreSQL for the tests that use it (they skip when it cannot be started).
services:
	scripts/services.sh

lint: $(VENV)/.test
	$(VENV)/bin/ruff check .

typecheck: $(VENV)/.test
	$(VENV)/bin/mypy

test: $(VENV)/.test browser services lint typecheck
	$(VENV)/bin/pytest

bench: $(VENV)/.base
	$(PY) -m pip install -q -e '.[bench]'
	$(VENV)/bin/oms bench

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
