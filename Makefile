# Arena: `make run` sets up, migrates and serves; `make test` sets up and runs the tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test setup setup-system lint bench screenshot clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

setup-system:
	bash scripts/install_system_deps.sh

run: setup setup-system
	$(BIN)/arena db upgrade
	$(BIN)/python app.py

test: setup setup-system
	bash scripts/run_tests.sh

lint: setup
	$(BIN)/ruff check arena rating tests bench scripts app.py

clean:
	rm -rf $(VENV) data .pytest_cache
