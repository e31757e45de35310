# gridops: two commands do all the set-up on a fresh machine.
#   make demo   plan and apply clusters/ against the embedded Grid emulator
#   make test   run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
GRIDOPS := $(BIN)/gridops

# Demo-only external ids for the emulator (the documents reference them with fromEnv).
DEMO_ENV := GRID_EXTERNAL_ID_RESEARCH=demo-research-external-id \
            GRID_EXTERNAL_ID_PLATFORM=demo-platform-external-id

.PHONY: demo demo-reset test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(DEMO_ENV) $(GRIDOPS) validate
	$(DEMO_ENV) $(GRIDOPS) plan
	$(DEMO_ENV) $(GRIDOPS) apply --auto-approve --wait --timeout 120 --interval 1
	$(DEMO_ENV) $(GRIDOPS) status
	@echo
	@echo "Now edit a file in clusters/, commit it, and run: $(DEMO_ENV) $(GRIDOPS) plan"

demo-reset:
	rm -rf .gridops

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python tests/bench.py

clean:
	rm -rf $(VENV) .gridops .pytest_cache .mypy_cache .ruff_cache
