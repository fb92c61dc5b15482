# tension-monitor — the README starts with `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PIP     = $(BIN)/pip
# Pinned CPU build of torch: an unpinned torch pulls a multi-GB CUDA build.
TORCH   = torch==2.13.0

.PHONY: install install-dev system-tools run run-once test check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet $(TORCH)
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(PIP) install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed          ## build .venv with the service and its models

install-dev: $(VENV)/.installed-dev  ## plus the test tools

system-tools:                        ## the machine's tools the tests drive (poppler-utils, Chromium, PostgreSQL)
	@bash tests/system-tools.sh

run: install                         ## run the service on the bundled config (SQLite under ./var)
	$(BIN)/tension run

run-once: install                    ## every due stage once, then exit
	$(BIN)/tension run --once

check: install                       ## validate the bundled config
	$(BIN)/tension config check

test: install-dev system-tools       ## the whole test suite
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) var build *.egg-info
