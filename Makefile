# provisioner: every task runs from a virtual environment this Makefile creates.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
# What an install is made of: a change to any of these makes the next target reinstall.
INPUTS := pyproject.toml client/pyproject.toml requirements-dev.lock
STAMP  := $(VENV)/.installed-$(shell cat $(INPUTS) 2>/dev/null | cksum | cut -d' ' -f1)

# The lock files (`make lock` writes them): every package pinned with its hashes, resolved
# for CPython 3.11 on Linux by uv, and installed by plain pip.
#   requirements.lock          the runtime: Dockerfile target runtime
#   requirements-sandbox.lock  the runtime plus the 'sandbox' extra: target sandbox
#   requirements-dev.lock      plus the 'dev' extra: .venv, so CI
# Neither this project nor ./client is in them: both install from the tree with --no-deps.
UV_VERSION ?= 0.13.9
LOCK_ARGS  ?=
UV_COMPILE  = $(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes \
              --python-version 3.11 --python-platform linux \
              --no-emit-package provisioner-client --custom-compile-command 'make lock' $(LOCK_ARGS)

FUZZ_TIME ?= 120
ARGS      ?=
FUZZ_ARGS ?=

.PHONY: fuzz install lock test lint format typecheck check demo sandbox api worker migrate bench clean

$(STAMP): $(INPUTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock  # deps of .[dev,sandbox]
	$(PY) -m pip install --quiet --no-deps -e ./client -e .
	$(PY) -m pip check
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its dev tools

# The dev lock is resolved first and the others are held to its versions (-c), so the images
# run exactly what the tests ran. Pins stay unless pyproject.toml needs otherwise:
# `make lock LOCK_ARGS=--upgrade` (or LOCK_ARGS='--upgrade-package fastapi') moves them.
lock: ## re-resolve the lock files from pyproject.toml and client/pyproject.toml (needs PyPI)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet 'uv==$(UV_VERSION)'
	$(UV_COMPILE) --extra dev --extra sandbox -o requirements-dev.lock
	$(UV_COMPILE) --extra sandbox -c requirements-dev.lock -o requirements-sandbox.lock
	$(UV_COMPILE) -c requirements-dev.lock -o requirements.lock

test: install ## run the whole test suite (needs PostgreSQL and Redis on 127.0.0.1)
	$(PY) -m pytest $(PYTEST_ARGS)

fuzz: install ## schemathesis on the API's OpenAPI against a real API process (FUZZ_TIME s)
	$(PY) -m tests.fuzz --max-time $(FUZZ_TIME) $(FUZZ_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

demo: install ## the whole flow end to end against the GitHub sandbox (ARGS=--keep: stay up)
	$(BIN)/provisioner demo $(ARGS)

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
