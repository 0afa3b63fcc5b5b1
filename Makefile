# The commands a newcomer runs. Each one installs what it needs first (scripts/bootstrap.sh).
BIN := .venv/bin

.PHONY: bootstrap demo test lint typecheck unit bench down

bootstrap:
	@bash scripts/bootstrap.sh

## demo: the main job — bring up the platform's backing services and show their status
demo: bootstrap
	$(BIN)/hyperscale local up
	$(BIN)/hyperscale local status

## test: lint, type-check, then every test against the real services
test: bootstrap lint typecheck unit

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

unit:
	$(BIN)/pytest

bench: bootstrap
	$(BIN)/python benchmarks/cli_startup.py

down:
	$(BIN)/hyperscale local down
