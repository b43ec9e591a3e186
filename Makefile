# The two commands that matter: `make demo` and `make test`. Everything is installed into .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export NEWRETAIL_HOME ?= $(CURDIR)/.newretail

.PHONY: install demo test lint format bench docs clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[spark,postgres,redis,dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/newretail demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

# pytest exits 5 when it collected no test; make treats that like any failure. The suite runs on
# TEST_WORKERS processes (pytest-xdist), a test module's tests all on one, so a module's fixtures
# (a generated chain, a database schema) are built once; TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2
test: lint
	$(BIN)/pytest -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile tests

bench: install
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/flashsale.py
	$(BIN)/python bench/checkout.py
	$(BIN)/python bench/supply.py

docs: install
	$(BIN)/newretail docs --out docs/data-model.md

clean:
	rm -rf $(VENV) .newretail .pytest_cache .mypy_cache .ruff_cache
