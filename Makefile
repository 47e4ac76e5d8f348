# The two commands: `make run` starts everything on embedded defaults, `make test` runs the whole suite.
# Both install what they need: uv into .tools/, then the workspace into .venv/ from uv.lock.
SHELL := /bin/bash
UV := .tools/bin/uv
BIN := .venv/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
MANIFESTS := pyproject.toml uv.lock $(wildcard */pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml)
ASSETS_LOCK := services/console/src/hlasatel_console/assets.lock.json
VENDOR := services/console/src/hlasatel_console/static/vendor/.installed

.PHONY: install run test lint typecheck unit asyncapi clean browser screenshots

$(UV):
	@./scripts/bootstrap-uv.sh

.venv/.synced: $(UV) $(MANIFESTS)
	@$(UV) sync --all-packages --frozen --quiet --python python3
	@touch $@

# the console's scripts and styles from the npm registry, checked against the lock file's integrity
$(VENDOR): .venv/.synced $(ASSETS_LOCK)
	@$(BIN)/console fetch-assets

install: .venv/.synced $(VENDOR)

# the browser tests drive Debian's Chromium (Playwright cannot download a browser here)
browser:
	@command -v chromium >/dev/null || ./scripts/install-chromium.sh

# the console's browser journeys, their screenshots copied to docs/console/ for the README
screenshots: install browser
	HLASATEL_SCREENSHOTS=1 $(BIN)/pytest -m browser

run: install
	@$(BIN)/hlasatel-dev run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck browser
	$(BIN)/pytest

unit: install
	$(BIN)/pytest -m unit -q

asyncapi: install
	$(BIN)/python -m hlasatel_contracts.asyncapi contracts/asyncapi.json

clean:
	rm -rf .venv .tools var
