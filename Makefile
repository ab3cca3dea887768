# The two commands of a fresh machine (see README.md):
#   make lab    set everything up and open JupyterLab on examples/
#   make test   every check: lint, pytest, jest, galata in headless Chromium
# Everything lands in .venv (Python) and node_modules (JavaScript).

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
# Playwright must never download its own browsers here: Debian's chromium is used.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

INSTALLED := $(VENV)/.installed
UI_INSTALLED := ui-tests/node_modules/.installed
PY_SOURCES := jupyter_bgjobs tests bench

.PHONY: lab test install lint pytest jest ui-test chromium clean

$(INSTALLED): pyproject.toml package.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# Builds the TypeScript with jlpm (hatch-jupyter-builder) and installs the
	# server config, the kernel config and the labextension into .venv.
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(INSTALLED)

lab: install
	$(BIN)/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir=examples --LabApp.default_url=/lab/tree/demo.ipynb

test: lint pytest jest ui-test

lint: install
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/mypy
	jlpm eslint:check
	jlpm prettier:check

pytest: install
	$(BIN)/python -m pytest

jest: install
	jlpm test

$(UI_INSTALLED): ui-tests/package.json $(INSTALLED)
	cd ui-tests && jlpm install
	touch $@

chromium:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the UI tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

ui-test: install chromium $(UI_INSTALLED)
	mkdir -p ui-tests/screenshots
	cd ui-tests && jlpm playwright test

clean:
	rm -rf $(VENV) node_modules ui-tests/node_modules lib jupyter_bgjobs/labextension jupyter_bgjobs/_version.py
