# The kasko sales gateway. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REDIS_PORT ?= 6379
export TEST_REDIS_URL ?= redis://127.0.0.1:$(REDIS_PORT)/0
# The TypeScript client; its packages (Node.js and npm) also give the browser tests axe-core.
CLIENT := clients/typescript
CLIENT_BUNDLE := app/demo/static/vendor/kasko-client.js

.PHONY: install run test check lint typecheck format openapi redis chromium bench profile load load-cluster clean lock audit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Exactly the versions in requirements.lock (hash-checked), then the project itself.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed ## make the virtual environment and install everything

PORT ?= 8000

run: install ## start the gateway on http://localhost:$(PORT) (sandbox InsurUp, in-process store)
	@echo "Shop (reference frontend): http://localhost:$(PORT)/demo   API docs: http://localhost:$(PORT)/docs"
	@echo "Sandbox sign-in: TCKN 11111111110, birth date 1990-01-01, phone +90 532 123 45 67, SMS code 123456"
	BFF_COOKIE_SECURE=$${BFF_COOKIE_SECURE:-false} \
	BFF_PUBLIC_BASE_URL=$${BFF_PUBLIC_BASE_URL:-http://localhost:$(PORT)} \
		$(BIN)/uvicorn --factory app.main:create_app \
		--host $${HOST:-127.0.0.1} --port $(PORT) --no-access-log

redis: ## make sure a Redis answers on 127.0.0.1:$(REDIS_PORT) (starts one if none does)
	@scripts/ensure-redis.sh $(REDIS_PORT)

chromium: ## make sure Debian's Chromium is there for the browser tests (installs it if not)
	@scripts/ensure-chromium.sh

test: install redis chromium $(CLIENT)/node_modules/.package-lock.json ## run the test suite against a real Redis and a real browser (and axe-core)
	$(BIN)/python -m pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy app tests bench

check: install lint typecheck ## quick static checks

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

openapi: install ## regenerate openapi/openapi.json from the code
	$(BIN)/python -m app.openapi_export

bench: install redis ## the hot path against a bare proxy, and the transport (loopback, ~2 min; BENCH_ARGS="--baseline DIR" adds a checkout)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python -m bench.transport
	$(BIN)/python -m bench.gateway $(BENCH_ARGS)

profile: install redis ## the hot read path's call tree (pyinstrument, in process)
	$(BIN)/python -m bench.profile

.PHONY: layers
layers: install redis ## the hot read path's cost per layer, in process (~1 min; LAYERS_ARGS="--baseline DIR" compares)
	$(BIN)/python -m bench.layers $(LAYERS_ARGS)

.PHONY: instructions
instructions: install redis ## instructions per hot-path request under valgrind: noise-free before/after (INSTRUCTIONS_ARGS="--baseline DIR")
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
	$(BIN)/python -m bench.instructions $(INSTRUCTIONS_ARGS)

load: install redis ## N customers buy at once on two replicas (make load N=200)
	$(BIN)/python -m bench.load $${N:-100}

load-cluster: install redis ## make load on one Redis, then on a local Redis Cluster without and with replica confirmation, in one run
	$(BIN)/python -m bench.load $${N:-100}
	@trap 'scripts/redis-cluster.sh stop $(LOAD_CLUSTER_PORT)' EXIT; \
	scripts/redis-cluster.sh start $(LOAD_CLUSTER_PORT) && \
	for wait in 0 1; do \
		$(BIN)/python -m bench.load $${N:-100} --wait-replicas $$wait \
			--redis redis+cluster://127.0.0.1:$(LOAD_CLUSTER_PORT),127.0.0.1:$$(($(LOAD_CLUSTER_PORT) + 1)) \
			|| exit 1; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# pyproject.toml says what the project accepts; requirements.lock pins what it installs (the
# dev extra included), with hashes. Existing pins are kept; to move one:
# make lock LOCK_ARGS="--upgrade-package fastapi" (or LOCK_ARGS=--upgrade for all).
lock: ## re-pin requirements.lock after editing pyproject.toml (pip-compile, hashes; a few minutes)
	@test -x $(BIN)/pip-compile || $(BIN)/python -m pip install --quiet "pip-tools>=7.4,<8"
	CUSTOM_COMPILE_COMMAND="make lock" PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= \
		$(BIN)/pip-compile --quiet --extra dev --generate-hashes --allow-unsafe --strip-extras \
		--index-url https://pypi.org/simple --output-file requirements.lock $(LOCK_ARGS) pyproject.toml

audit: install ## known vulnerabilities of requirements.lock (pip-audit; says NOT AUDITED when its service is unreachable)
	$(BIN)/python scripts/audit.py

.PHONY: nginx
nginx: ## make sure Debian's nginx is there for tests/topology (installs it if not)
	@scripts/ensure-nginx.sh

# The TypeScript client in clients/typescript: needs Node.js 20+ and npm besides `make install`.

.PHONY: node client client-check
node: ## make sure Node.js and npm are there (installs Debian's packages if not)
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }

$(CLIENT)/node_modules/.package-lock.json: $(CLIENT)/package-lock.json | node
	cd $(CLIENT) && npm ci --no-audit --no-fund --loglevel=error

client: $(CLIENT)/node_modules/.package-lock.json ## regenerate the client's types from openapi/openapi.json and the demo's built client
	cd $(CLIENT) && npm run --silent generate && npm run --silent bundle

client-check: install $(CLIENT)/node_modules/.package-lock.json ## the TypeScript client: no drift, strict types, build, tests against a real gateway
	@cd $(CLIENT) && npm run --silent generate:check || { \
		echo "$(CLIENT)/src/schema.d.ts differs from openapi/openapi.json: run make client" >&2; exit 1; }
	cd $(CLIENT) && rm -rf build && mkdir build && BUNDLE_OUT=build/kasko-client.js npm run --silent bundle
	@cmp -s $(CLIENT)/build/kasko-client.js $(CLIENT_BUNDLE) || { \
		echo "$(CLIENT_BUNDLE) differs from a fresh build: run make client" >&2; exit 1; }
	cd $(CLIENT) && npm run --silent typecheck && npm run --silent build && npm test

.PHONY: probe
probe: install ## read-only check of InsurUp's contract with the gateway's settings (make probe ARGS="--identity ... --birth-date ... --phone ...")
	$(BIN)/python -m app.insurup.probe $(ARGS)

# Redis Cluster and Sentinel: the Redis-backed tests, then the failover tests (tests/cluster),
# against a local set-up from Debian's redis-server that is stopped afterwards, whatever happens.
CLUSTER_PORT ?= 7000
LOAD_CLUSTER_PORT ?= 7100
SENTINEL_PORT ?= 7100
SENTINEL_REPLICAS ?= 1
REDIS_BACKED_TESTS := tests/session tests/store tests/payments tests/quotes tests/vehicles \
	tests/policies tests/http tests/e2e/test_over_http.py

.PHONY: test-cluster test-sentinel
test-cluster: install ## the Redis-backed tests and a master killed under load, on a local 3-master Redis Cluster (~2 min)
	@trap 'scripts/redis-cluster.sh stop $(CLUSTER_PORT)' EXIT; trap 'exit 130' INT TERM; \
	scripts/redis-cluster.sh start $(CLUSTER_PORT) && \
	export TEST_REDIS_WAIT_REPLICAS=1 TEST_REDIS_URL=redis+cluster://127.0.0.1:$(CLUSTER_PORT),127.0.0.1:$$(($(CLUSTER_PORT) + 1)),127.0.0.1:$$(($(CLUSTER_PORT) + 2)) && \
	timeout 240 $(BIN)/python -m pytest $(REDIS_BACKED_TESTS) && \
	timeout 120 $(BIN)/python -m pytest -s tests/cluster  # -s: the failover figures

test-sentinel: install ## the Redis-backed tests and a failover under load, on a local master, replica and three sentinels (~1.5 min)
	@trap 'scripts/redis-sentinel.sh stop $(SENTINEL_PORT)' EXIT; trap 'exit 130' INT TERM; \
	scripts/redis-sentinel.sh start $(SENTINEL_PORT) $(SENTINEL_REPLICAS) && \
	export TEST_REDIS_WAIT_REPLICAS=$(SENTINEL_REPLICAS) TEST_REDIS_URL=redis+sentinel://127.0.0.1:$$(($(SENTINEL_PORT) + 10)),127.0.0.1:$$(($(SENTINEL_PORT) + 11)),127.0.0.1:$$(($(SENTINEL_PORT) + 12))/bff && \
	timeout 240 $(BIN)/python -m pytest $(REDIS_BACKED_TESTS) && \
	timeout 120 $(BIN)/python -m pytest -s tests/cluster  # -s: the failover figures
