# Every target works on a fresh machine with only Python 3.11+, make and git.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install lock install-system demo test test-real-freescout real-freescout-up real-freescout-down lint typecheck check serve clean

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

## System packages of the real-FreeScout lane (Debian, needs root): PHP 8.2 with FreeScout's extensions
## and MariaDB. Skipped when they are already there.
SYSTEM_PACKAGES := php8.2-cli php8.2-mysql php8.2-mbstring php8.2-xml php8.2-imap php8.2-gd php8.2-curl \
	php8.2-zip php8.2-intl php8.2-bcmath mariadb-server
install-system:
	@if dpkg-query -W -f='$${Status}\n' $(SYSTEM_PACKAGES) 2>/dev/null | grep -vq '^install ok installed$$' \
		|| ! dpkg-query -W $(SYSTEM_PACKAGES) >/dev/null 2>&1; then \
		sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends $(SYSTEM_PACKAGES); \
	else echo "install-system: PHP 8.2 and MariaDB already installed"; fi

## The bridge's main job on built-in local simulators: no FreeScout or GitHub account needed.
demo: install
	$(BIN)/python -m sandbox.demo $(ARGS)

## The whole suite: lint, types, workflow lint and every test.
test: install lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Only the real-FreeScout lane (FREESCOUT_SRC=tree or FREESCOUT_TARBALL=file; default ../shared/freescout/).
test-real-freescout: install
	$(BIN)/python -m pytest tests/real_freescout $(PYTEST_ARGS)

## A real FreeScout on loopback for a human (prints URL, API key, webhook secret); stop it with the -down target.
real-freescout-up: install
	$(BIN)/python -m sandbox.real_freescout up
real-freescout-down: install
	$(BIN)/python -m sandbox.real_freescout down

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
