# KAM: `make run` starts the app with demo data; `make test` runs every test.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format check-migrations messages clean

$(STAMP): requirements-dev.lock pyproject.toml
	@test -x $(BIN)/python || $$(scripts/find-python) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/kam serve --demo

test: $(STAMP)
	$(BIN)/ruff check src benchmarks scripts
	$(BIN)/ruff format --check src benchmarks scripts
	$(BIN)/python -m django check --settings=kam.settings
	KAM_DATA_DIR=$$(mktemp -d) $(BIN)/python -m django makemigrations --check --dry-run --settings=kam.settings
	$(BIN)/pytest
	@if [ -n "$$KAM_TEST_POSTGRES" ]; then \
		echo "== the same suite on PostgreSQL ($${KAM_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/kam_ci}) =="; \
		KAM_CONN_MAX_AGE=0 KAM_DATABASE_URL=$${KAM_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/kam_ci} $(BIN)/pytest --create-db; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src benchmarks scripts
	$(BIN)/mypy src

format: $(STAMP)
	$(BIN)/ruff check --fix src benchmarks scripts
	$(BIN)/ruff format src benchmarks scripts

messages: $(STAMP)
	cd src/kam && for app in */locale; do (cd $$(dirname $$app) && ../../../$(BIN)/django-admin compilemessages -l zh_Hans >/dev/null); done

clean:
	rm -rf $(VENV) var
