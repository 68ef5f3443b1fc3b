# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint bench migrations clean web web-types web-check

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

install: $(STAMP)

## make run: set up, migrate, seed the demo once, serve on http://127.0.0.1:8000 (docs at /docs)
run: install web
	$(BIN)/realname migrate
	$(BIN)/realname seed-demo
	$(BIN)/realname serve

## make test: set up and run the whole suite (embedded SQLite + Redis unless DATABASE_URL/REDIS_URL)
# The console's end-to-end tests drive Debian's Chromium (with a CJK font): installed when missing.
TEST_PACKAGES := chromium fonts-wqy-microhei
test: install web web-check
	bash scripts/debian-packages.sh $(TEST_PACKAGES)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make web: build the web console (web/dist) when it is missing or older than its sources
WEB_SRC := $(shell find web/src web/public -type f ! -name '*.spec.ts' 2>/dev/null) web/package.json \
	web/package-lock.json web/index.html web/vite.config.ts web/tsconfig.json
web: web/dist/index.html

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && npm run --silent build -- --logLevel warn
	touch $@

## make web-types: regenerate the console's API types from the platform's OpenAPI document
web-types: install web/node_modules/.package-lock.json
	$(BIN)/python -m scripts.openapi > web/openapi.json
	$(BIN)/python -m scripts.openapi --regions > web/src/api/regions.json
	cd web && npx openapi-typescript openapi.json -o src/api/schema.d.ts --silent --default-non-nullable false

## make web-check: fail when the API types are stale; the console's component tests (Vitest)
web-check: install web/node_modules/.package-lock.json
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(BIN)/python -m scripts.openapi > "$$tmp/openapi.json" && \
	$(BIN)/python -m scripts.openapi --regions > "$$tmp/regions.json" && \
	(cd web && npx openapi-typescript "$$tmp/openapi.json" -o "$$tmp/schema.d.ts" --silent --default-non-nullable false) && \
	if ! diff -q "$$tmp/openapi.json" web/openapi.json >/dev/null || \
	   ! diff -q "$$tmp/schema.d.ts" web/src/api/schema.d.ts >/dev/null || \
	   ! diff -q "$$tmp/regions.json" web/src/api/regions.json >/dev/null; then \
	  echo "web/src/api/schema.d.ts is stale (the API changed): run make web-types" >&2; exit 1; fi
	cd web && npx vitest run --silent

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy config models services realname admin_api miniapp_api devices integrations

## make bench: benchmarks, reported as ratios against baselines measured in the same run
bench: install
	bash scripts/debian-packages.sh wrk
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
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache web/dist
