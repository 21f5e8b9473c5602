# wpi-abm — every set-up step is here; see README.md.
# `make run` and `make test` create the virtual environment (.venv) on first use.

VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
ARGS   ?=
# Tests run in parallel (pytest-xdist), one process per core, at most 4: on the 2-core
# development machine the fast suite takes ~2 min (on the slower VM before 2026-12-02, ~4.4 min
# instead of ~6.7 min in one process). ARGS="-n 0" runs them in one process.
PYTEST := $(BIN)/python -m pytest -q -n auto --maxprocesses 4

.PHONY: run test test-all test-slow bench lint format clean help

help:
	@echo "make run        run the default experiment (every built-in policy, 1,000 replicates)"
	@echo "                extra options: make run ARGS='--replicates 200 --workers 4'"
	@echo "make test       fast test suite"
	@echo "make test-all   every test, slow ones included"
	@echo "make bench      speed and memory benchmark (writes bench/benchmark.json)"
	@echo "make lint       ruff"

$(BIN)/python:
	@py=$$(PYTHON="$(PYTHON)" sh tools/find_python.sh) || exit 1; \
	echo "creating $(VENV) with $$py ($$($$py --version))"; \
	"$$py" -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	@echo "installing pinned dependencies (requirements.lock) into $(VENV)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/wpi-abm run $(ARGS)

test: $(STAMP)
	$(PYTEST) -m "not slow" $(ARGS)

test-slow: $(STAMP)
	$(PYTEST) -m slow $(ARGS)

test-all: $(STAMP)
	$(PYTEST) $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m wpi_abm.bench $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check wpi_abm tests

format: $(STAMP)
	$(BIN)/ruff format wpi_abm tests
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
