# The two commands of the README: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest mutants ui bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/etsy-pipeline demo

test: $(STAMP)
	$(BIN)/python scripts/ensure_services.py
	$(MAKE) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy etsy_pipeline etsy_pipeline_tests migrations bench scripts

pytest: $(STAMP)
	$(BIN)/pytest

# Each rule that matters is broken on purpose in a scratch copy; the tests guarding it must fail (scripts/mutants.py).
mutants: $(STAMP)
	$(BIN)/python scripts/ensure_services.py
	$(BIN)/python scripts/mutants.py

ui: $(STAMP)
	$(BIN)/etsy-pipeline dev --emulator

bench: $(STAMP)
	$(BIN)/python bench/repositories.py
	$(BIN)/python bench/emulator.py --scale medium
	$(BIN)/python bench/sync.py --scale medium

clean:
	rm -rf $(VENV) .etsy-pipeline .mypy_cache .ruff_cache .pytest_cache
