# The kasko sales gateway. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REDIS_PORT ?= 6379
export TEST_REDIS_URL ?= redis://127.0.0.1:$(REDIS_PORT)/0

.PHONY: install run test check lint typecheck format openapi redis chromium bench profile load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## make the virtual environment and install everything

run: install ## start the gateway on http://localhost:8000 (sandbox InsurUp, in-process store)
	@echo "Gateway: http://localhost:8000  API docs: http://localhost:8000/docs"
	@echo "Sandbox sign-in: TCKN 11111111110, birth date 1990-01-01, phone +90 532 123 45 67, SMS code 123456"
	BFF_COOKIE_SECURE=$${BFF_COOKIE_SECURE:-false} $(BIN)/uvicorn --factory app.main:create_app \
		--host $${HOST:-127.0.0.1} --port $${PORT:-8000} --no-access-log

redis: ## make sure a Redis answers on 127.0.0.1:$(REDIS_PORT) (starts one if none does)
	@scripts/ensure-redis.sh $(REDIS_PORT)

chromium: ## make sure Debian's Chromium is there for the browser tests (installs it if not)
	@scripts/ensure-chromium.sh

test: install redis chromium ## run the test suite against a real Redis and a real browser
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

bench: install redis ## the hot path against a bare proxy, and the transport (loopback, ~2 min)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python -m bench.transport
	$(BIN)/python -m bench.gateway

profile: install redis ## the hot read path's call tree (pyinstrument, in process)
	$(BIN)/python -m bench.profile

load: install redis ## N customers buy at once on two replicas (make load N=200)
	$(BIN)/python -m bench.load $${N:-100}

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

.PHONY: nginx
nginx: ## make sure Debian's nginx is there for tests/topology (installs it if not)
	@scripts/ensure-nginx.sh

# The TypeScript client in clients/typescript: needs Node.js 20+ and npm besides `make install`.
CLIENT := clients/typescript
CLIENT_BUNDLE := app/demo/static/vendor/kasko-client.js

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
