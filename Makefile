# The two commands a newcomer needs: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@echo "installing socialdesk and its dependencies into $(VENV) (about a minute)"
	$(BIN)/pip install --progress-bar on -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Create the virtualenv, migrate a SQLite database, load the real demo data, serve on :8000
## (or another port: make demo PORT=8123; HOST=0.0.0.0 to listen beyond this machine).
demo: $(STAMP)
	$(BIN)/socialdesk demo $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST))

## Lint, type-check, then the whole suite on SQLite and on PostgreSQL.
test: $(STAMP) lint
	bash scripts/ensure-chromium.sh
	SOCIALDESK_TEST_BACKEND=sqlite $(BIN)/pytest
	SOCIALDESK_TEST_BACKEND=postgresql $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/socialdesk bench ingest
	$(BIN)/socialdesk bench list

clean:
	rm -rf $(VENV) socialdesk.db socialdesk.db-wal socialdesk.db-shm socialdesk.db-writer.lock
