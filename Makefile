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
# A second environment with ipykernel 6, exposed to the first as the kernel
# "python3-ipk6": the kernel side is tested on ipykernel 7 and 6.29+.
IPK6 := .venv-ipk6
IPK6_INSTALLED := $(IPK6)/.installed
UI_INSTALLED := ui-tests/node_modules/.installed
PY_SOURCES := jupyter_bgjobs tests bench

.PHONY: lab test install lint pytest jest ui-test chromium clean

$(INSTALLED): pyproject.toml package.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# Builds the TypeScript with jlpm (hatch-jupyter-builder) and installs the
	# server config and the labextension into .venv.
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

$(IPK6_INSTALLED): pyproject.toml $(INSTALLED)
	$(PYTHON) -m venv $(IPK6)
	$(IPK6)/bin/pip install --quiet --upgrade pip
	# No build hooks: the kernel side needs no frontend build.
	HATCH_BUILD_NO_HOOKS=true $(IPK6)/bin/pip install --quiet -e . "ipykernel>=6.29,<7"
	$(IPK6)/bin/python -m ipykernel install --prefix $(VENV) --name python3-ipk6 --display-name "Python 3 (ipykernel 6)"
	touch $@

install: $(INSTALLED) $(IPK6_INSTALLED)

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
	rm -rf $(VENV) $(IPK6) node_modules ui-tests/node_modules lib jupyter_bgjobs/labextension jupyter_bgjobs/_version.py
