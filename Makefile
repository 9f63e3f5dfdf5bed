# Two commands for a fresh machine with Python 3.11 and make:
#   make run    the main job: the default NMC811 cell made in China, on the embedded inventories
#   make test   the test suite
# Each creates .venv and installs what it needs (once; re-installs when pyproject.toml changes).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STUDY  ?= examples/nmc811-cn.yaml

.PHONY: run test install bench clean

$(BIN)/lca-battery: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

install: $(BIN)/lca-battery

run: install
	$(BIN)/lca-battery footprint $(STUDY)

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python scripts/bench_setup.py

clean:
	rm -rf $(VENV) .pytest_cache
	find results -mindepth 1 -maxdepth 1 -type d ! -name validation -exec rm -rf {} +   # keep the committed validation
