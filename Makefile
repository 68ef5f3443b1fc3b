# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint bench migrations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

install: $(STAMP)

## make run: set up, migrate, seed the demo once, serve on http://127.0.0.1:8000 (docs at /docs)
run: install
	$(BIN)/realname migrate
	$(BIN)/realname seed-demo
	$(BIN)/realname serve

## make test: set up and run the whole suite (embedded SQLite + Redis unless DATABASE_URL/REDIS_URL)
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy config models services realname admin_api miniapp_api devices integrations

## make bench: benchmarks, reported as ratios against baselines measured in the same run
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## make migrations: after changing models, rewrite migrations/0001_initial.py from them. Nothing is
## deployed yet, so the project keeps ONE initial migration: the old file is removed and written
## again (index/unique columns are resolved to `*_id` columns by realname.db). Commit the result.
migrations: install
	rm -f migrations/0001_initial.py
	DATABASE_URL=sqlite://:memory: $(BIN)/tortoise -c realname.db.TORTOISE_ORM makemigrations
	@test "$$(ls migrations/[0-9]*.py)" = "migrations/0001_initial.py" || \
		{ echo "migrations/ must hold only 0001_initial.py"; exit 1; }

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache
