"""Opens and closes what a process shares: one HTTP client to InsurUp and one Redis pool;
the services built on them (`app.wiring`) live as long as these do. Tests build their own
app and may hand in an InsurUp transport and a clock."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from app.clock import Clock
from app.config import Settings
from app.heap import freeze_start_up_objects
from app.insurup.calls import no_cookies
from app.insurup.transport import AiohttpTransport
from app.store.connection import check_redis_settings, open_connections, open_redis
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
        base_url=target.base_url,
        transport=transport,
        timeout=timeout,
        headers=headers,
        cookies=no_cookies(),
    )


def _say_how_payments_end(settings: Settings) -> None:
    """Without a service account or webhooks, a payment whose customer left before it ended
    waits for that customer to come back: operators must hear it, production loudly."""
    account = settings.service_account is not None
    webhooks = settings.webhook_secret is not None
    log.info("payment signals", extra={"service_account": account, "webhooks": webhooks})
    if settings.env == "production" and not (account and webhooks):
        missing = [
            name
            for name, present in (
                ("BFF_INSURUP_CLIENT_ID/BFF_INSURUP_CLIENT_SECRET", account),
                ("BFF_INSURUP_WEBHOOK_SECRET", webhooks),
            )
            if not present
        ]
        log.warning(
            "PAYMENTS MAY STAY PENDING: without %s, a payment is verified only while its "
            "customer has a live session",
            " and ".join(missing),
        )


def lifespan_for(
    settings: Settings, *, insurup: InsurUpTarget | None, clock: Clock
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = open_redis(
            settings.redis_url,
            timeout=settings.redis_timeout_seconds,
            max_connections=settings.redis_max_connections,
            wait=settings.redis_pool_wait_seconds,
            replicas=settings.redis_wait_replicas,
            replica_wait_ms=settings.redis_wait_milliseconds,
        )
        # The pool's connections are opened before the first request is taken (bounded: a
        # Redis that is down at start-up fails the first dial at once, or after one timeout
        # when unreachable); the settings are checked in the background.
        await open_connections(
            redis, settings.redis_max_connections, seconds=2 * settings.redis_timeout_seconds
        )
        redis_check = asyncio.create_task(
            check_redis_settings(
                redis,
                seconds=2 * settings.redis_timeout_seconds,
                replicas=settings.redis_wait_replicas,
            )
        )
        http = _insurup_http(settings, insurup)
        services = build_services(settings, redis=redis, http=http, clock=clock)
        app.state.services = services
        services.start()
        log.info("gateway started", extra={"env": settings.env, "sandbox": settings.uses_sandbox})
        _say_how_payments_end(settings)
        freeze_start_up_objects()
        try:
            yield
        finally:
            await services.aclose()
            await http.aclose()
            redis_check.cancel()
            await asyncio.wait([redis_check])
            await redis.aclose()

    return lifespan
