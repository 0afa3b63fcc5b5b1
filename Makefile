# The commands a newcomer runs. Each one installs what it needs first (scripts/bootstrap.sh).
BIN := .venv/bin

.PHONY: bootstrap demo test lint typecheck unit bench down

bootstrap:
	@bash scripts/bootstrap.sh

## demo: the main job — backing services up, the platform deployed, real traffic through it,
## then what reached MySQL and the platform's status
demo: bootstrap
	$(BIN)/hyperscale local up
	$(BIN)/hyperscale deploy --env local
	$(BIN)/hyperscale smoke --env local
	$(BIN)/hyperscale status --env local

## test: lint, type-check, then every test against the real services
test: bootstrap lint typecheck unit

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck:
	$(BIN)/mypy
	$(BIN)/mypy --strict services/events/platform_events services/api/platform_api services/consumer/platform_consumer

# Test workers, each with its own services on its own ports (tests/workers.py).
TEST_WORKERS ?= 2

unit:
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

bench: bootstrap
	$(BIN)/python benchmarks/cli_startup.py

down:
	$(BIN)/hyperscale local down
