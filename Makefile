# gridops: two commands do all the set-up on a fresh machine.
#   make demo   plan and apply clusters/ against the embedded Grid emulator
#   make test   run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --quiet --disable-pip-version-check
# Two stages in one venv: gridops and its runtime dependencies (all `make demo` needs), then
# the test and dev extras on top (make test, lint, typecheck, ...). Either order works.
RUNTIME := $(VENV)/.runtime
STAMP   := $(VENV)/.installed
GRIDOPS := $(BIN)/gridops

# Demo-only external ids for the emulator (the documents reference them with fromEnv).
demo: export GRID_EXTERNAL_ID_RESEARCH = demo-research-external-id
demo: export GRID_EXTERNAL_ID_PLATFORM = demo-platform-external-id

.PHONY: demo demo-reset test lint typecheck bench chaos docs helptext clean

$(RUNTIME): pyproject.toml
	@echo "Installing gridops into $(VENV) ..."
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install -e .
	@touch $@

$(STAMP): $(RUNTIME)
	@echo "Installing the test and dev tools into $(VENV) ..."
	@$(PIP) install -e '.[test,dev]'
	@touch $@

demo: $(RUNTIME)
	$(GRIDOPS) validate
	$(GRIDOPS) plan
	$(GRIDOPS) apply --auto-approve --wait --timeout 120 --interval 1
	$(GRIDOPS) status
	@echo
	@echo "The clusters run in the local Grid emulator (.gridops/sim.db). Next, see README.md:"
	@echo "edit a file in clusters/, commit, and run 'make demo' again to plan and apply the change."

demo-reset:
	rm -rf .gridops

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests

typecheck: $(STAMP)
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/python -m reconciler.sources.schema_doc README.md

# The top-level --help as click renders it, which the executable prints without click.
helptext: $(STAMP)
	$(BIN)/python -m reconciler.cli.helptext

bench: $(STAMP)
	$(BIN)/python tests/bench.py
	$(BIN)/python tests/bench_apply.py

chaos: $(STAMP)
	$(BIN)/python tests/chaos.py

clean:
	rm -rf $(VENV) .gridops .pytest_cache .mypy_cache .ruff_cache
