"""Opens and closes what a process shares: one HTTP client to InsurUp and one Redis pool;
the services built on them (`app.wiring`) live as long as these do. Tests build their own
app and may hand in an InsurUp transport and a clock."""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from app.clock import Clock
from app.config import Settings
from app.insurup.transport import AiohttpTransport
from app.store.connection import open_redis
from app.wiring import build_services

log = logging.getLogger("app.lifespan")


@dataclass(frozen=True, slots=True)
class InsurUpTarget:
    """Where InsurUp calls go: a transport and the base URL (tests and the sandbox set both)."""

    transport: httpx.AsyncBaseTransport | None
    base_url: str


def _insurup_http(settings: Settings, target: InsurUpTarget | None) -> httpx.AsyncClient:
    timeout = httpx.Timeout(settings.insurup_timeout_seconds)
    headers = {"User-Agent": settings.insurup_user_agent, "Accept": "application/json"}
    target = target or InsurUpTarget(transport=None, base_url=settings.insurup_base_url)
    transport = target.transport or AiohttpTransport(
        max_connections=settings.insurup_max_connections,
        keepalive_expiry=settings.insurup_keepalive_seconds,
    )
    return httpx.AsyncClient(
        base_url=target.base_url, transport=transport, timeout=timeout, headers=headers
    )


def lifespan_for(
    settings: Settings, *, insurup: InsurUpTarget | None, clock: Clock
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = open_redis(settings.redis_url, timeout=settings.redis_timeout_seconds)
        http = _insurup_http(settings, insurup)
        services = build_services(settings, redis=redis, http=http, clock=clock)
        app.state.services = services
        log.info("gateway started", extra={"env": settings.env, "sandbox": settings.uses_sandbox})
        try:
            yield
        finally:
            await services.aclose()
            await http.aclose()
            await redis.aclose()

    return lifespan
