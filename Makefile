# Two commands on a fresh Debian bookworm / Raspberry Pi OS machine:
#   make demo    install what is missing, then run the station's demo
#   make test    install what is missing, then lint, type-check and test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup system venv lint format typecheck imports pytest bench soak clean

demo: setup
	$(BIN)/scanstation demo

test: setup lint typecheck imports pytest

setup: system venv

system:
	scripts/setup-system.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint:
	$(BIN)/ruff check station tests bench
	$(BIN)/ruff format --check station tests bench

format:
	$(BIN)/ruff format station tests bench
	$(BIN)/ruff check --fix station tests bench

typecheck:
	$(BIN)/mypy

# the layering of station/ (docs/architecture.md)
imports:
	$(BIN)/lint-imports

# Four workers on two cores: most of the suite waits (stations, brokers,
# countdowns), not computes. Each file runs whole on one worker, in its order.
PYTEST_ARGS ?= -n 4 --dist loadfile --no-loadscope-reorder

pytest:
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.all

soak: setup
	$(BIN)/python -m tests.soak --documents $(or $(DOCUMENTS),500)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
