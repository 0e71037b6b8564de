# Every target works on a fresh machine with only Python 3.11+, make and git.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck check serve clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-virtualenv -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## The bridge's main job on built-in local simulators: no FreeScout or GitHub account needed.
demo: install
	$(BIN)/python -m sandbox.demo $(ARGS)

## The whole suite: lint, types, workflow lint and every test.
test: install lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check bridge sandbox tests bench
	$(BIN)/ruff format --check bridge sandbox tests bench
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

serve: install
	$(BIN)/uvicorn bridge.app:app_from_env --factory --host 127.0.0.1 --port $${PORT:-8000}

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
