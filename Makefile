# The two commands: `make run` starts everything on embedded defaults, `make test` runs the whole suite.
# Both install what they need: uv into .tools/, then the workspace into .venv/ from uv.lock.
SHELL := /bin/bash
UV := .tools/bin/uv
BIN := .venv/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
MANIFESTS := pyproject.toml uv.lock $(wildcard */pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml)

.PHONY: install run test lint typecheck unit asyncapi clean

$(UV):
	@./scripts/bootstrap-uv.sh

.venv/.synced: $(UV) $(MANIFESTS)
	@$(UV) sync --all-packages --frozen --quiet --python python3
	@touch $@

install: .venv/.synced

run: install
	@$(BIN)/hlasatel-dev run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

unit: install
	$(BIN)/pytest -m unit -q

asyncapi: install
	$(BIN)/python -m hlasatel_contracts.asyncapi contracts/asyncapi.json

clean:
	rm -rf .venv .tools var
