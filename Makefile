# Every target works on a fresh machine with only Python 3.11+, make and git.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install lock demo test lint typecheck check serve clean

install: $(STAMP)

# Every download is checked against a hash in requirements.lock (setuptools, the build backend, included),
# so the package itself is built without build isolation: nothing unpinned is fetched.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-virtualenv --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --require-virtualenv --no-deps --no-build-isolation -e .
	touch $(STAMP)

## Regenerate both hashed locks after a change to pyproject.toml's dependencies (needs uv; keeps the
## current pins unless UPGRADE="--upgrade" or UPGRADE="--upgrade-package NAME" is given).
lock:
	uv pip compile pyproject.toml build-requirements.in --extra dev --python-version 3.11 --universal \
	  --generate-hashes $(UPGRADE) -o requirements.lock
	uv pip compile pyproject.toml build-requirements.in --python-version 3.11 --universal \
	  --generate-hashes -c requirements.lock -o requirements-runtime.lock

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
