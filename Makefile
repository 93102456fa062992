# Two commands on a fresh machine: `make run` and `make test`. Every target installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed

.PHONY: venv protos lint test test-unit test-e2e run bench keys clean node prometheus-bin node-client

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml clients/python/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q "uv==$(UV_VERSION)"
	$(UV) pip sync -q --python $(PY) requirements.lock
	$(UV) pip install -q --python $(PY) --no-deps -e . -e clients/python
	touch $@

node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --silent
	touch $@

node: node_modules/.installed

# The Node client's dependencies (clients/node), used by its example and the e2e client tests.
node-client:
	cd clients/node && npm install --no-audit --no-fund --silent

# Regenerates the committed Python stubs from protos/ (the tests check they are fresh).
protos: $(STAMP)
	$(PY) -m tools.gen_protos

lint: $(STAMP) node
	$(PY) -m tools.gen_protos --deps-only
	npx --no-install buf lint
	$(PY) -m ruff check services tests bench tools clients/python/src/ibkr/client

test: $(STAMP) node node-client prometheus-bin
	$(PY) -m pytest -q -p no:cacheprovider

test-unit: $(STAMP) node node-client
	$(PY) -m pytest -q -m "not e2e"

test-e2e: $(STAMP) node node-client prometheus-bin
	$(PY) -m pytest -q -m e2e

# Debian's prometheus (and promtool) for the dashboard-query and rule checks; installed only when missing
# and we are root, else those tests skip.
prometheus-bin:
	@command -v prometheus >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null; }; } || \
	  echo "prometheus not installed: its tests will skip"; }

run: $(STAMP)
	$(PY) -m tools.run_suite

bench: $(STAMP) node-client  # bench_stream's subscribers are Node (grpc-js) when installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules .run
