# provisioner: every task runs from a virtual environment this Makefile creates.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml client/pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install test lint format typecheck check demo sandbox api worker migrate bench clean

$(STAMP): pyproject.toml client/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ./client  # provisioner-client: not on any index
	$(PY) -m pip install --quiet -e '.[dev,sandbox]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its dev tools

test: install ## run the whole test suite (needs PostgreSQL and Redis on 127.0.0.1)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

demo: install ## the whole flow end to end against the GitHub sandbox
	$(BIN)/provisioner demo

sandbox: install ## serve the GitHub sandbox on 127.0.0.1:9100
	$(BIN)/provisioner sandbox

api: install
	$(BIN)/provisioner api

worker: install
	$(BIN)/provisioner worker

migrate: install
	$(BIN)/provisioner migrate

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
