"""Fixtures: a real Redis (unique key prefix per test), InsurUp played by respx, and apps
driven in process through httpx's ASGI transport with their lifespan running."""

import base64
import logging
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
import redis.asyncio as aioredis
import respx

from app.config import Settings
from app.main import create_app
from app.ops.logging import JsonFormatter
from tests.fake_insurup import BASE_URL, FakeInsurUp, install

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PUBLIC = "https://shop.example"
AGENT_ID = "3f2b9c1e-5a7d-4e21-9c0b-000000000001"

AppFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # a clear message beats forty connection errors
        pytest.fail(f"tests need Redis at {REDIS_URL} (make test starts one): {exc}")
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis_client: aioredis.Redis) -> AsyncIterator[str]:
    value = f"bfftest-{uuid.uuid4().hex[:10]}:"
    yield value
    keys = [key async for key in redis_client.scan_iter(match=f"{value}*")]
    if keys:
        await redis_client.delete(*keys)


@pytest.fixture
def session_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def settings(prefix: str, session_key: str) -> Settings:
    return Settings(
        _env_file=None,
        env="test",
        insurup_base_url=BASE_URL,
        insurup_agent_id=AGENT_ID,
        coverage_group_ids=["65f1c0ffee0ddba11ca5e0aa"],
        redis_url=REDIS_URL,
        redis_key_prefix=prefix,
        session_keys=[session_key],
        public_base_url=PUBLIC,
        insurup_timeout_seconds=2,
        case_wait_seconds=2,
    )


@pytest.fixture
def insurup_router() -> respx.MockRouter:
    return respx.MockRouter(base_url=BASE_URL, assert_all_called=False, assert_all_mocked=True)


@pytest.fixture
def insurup(insurup_router: respx.MockRouter) -> FakeInsurUp:
    return install(insurup_router)


@pytest.fixture
def make_app(settings: Settings, insurup_router: respx.MockRouter) -> AppFactory:
    """Build an app instance (call twice for two replicas sharing Redis and InsurUp)."""

    @asynccontextmanager
    async def factory(
        custom: Settings | None = None,
        *,
        raise_app_exceptions: bool = True,
        use_sandbox: bool = False,
    ) -> AsyncIterator[httpx.AsyncClient]:
        mock = None if use_sandbox else httpx.MockTransport(insurup_router.async_handler)
        app = create_app(custom or settings, insurup_transport=mock, configure_logs=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
            async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
                yield client

    return factory


@pytest.fixture
async def client(make_app: AppFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with make_app() as api:
        yield api


class LogLines(logging.Handler):
    """Every log line exactly as production would print it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    handler = LogLines()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)
