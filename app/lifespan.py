"""Opens and closes what a process shares: one HTTP client to InsurUp, one Redis pool, and
the services built on them. Tests build their own app and may hand in an InsurUp transport."""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import httpx
import redis.asyncio as aioredis
from fastapi import FastAPI

from app.config import MEMORY_STORE, Settings
from app.insurup.client import InsurUpClient
from app.insurup.transport import AiohttpTransport
from app.payments.service import PaymentService, PaymentTimings
from app.policies.service import PolicyService
from app.quotes.events import QuoteWatcher
from app.quotes.normalize import QuoteNormalizer
from app.quotes.service import QuoteService
from app.session.case import CaseKeeper
from app.session.limits import LoginLimits, open_limit_storage
from app.session.service import SessionService
from app.session.tokens import TokenKeeper
from app.store.cache import ReferenceCache
from app.store.connection import open_redis
from app.store.crypto import Sealer
from app.store.idempotency import IdempotencyStore
from app.store.keys import Keys
from app.store.payments import PaymentStore
from app.store.sessions import SessionStore
from app.vehicles.service import VehicleService

log = logging.getLogger("app.lifespan")

SANDBOX_AGENT_ID = "00000000-0000-4000-8000-00000000a9e7"


@dataclass(frozen=True, slots=True)
class Gateway:
    """Everything a request handler may need, built once per process."""

    settings: Settings
    redis: "aioredis.Redis"
    http: httpx.AsyncClient
    insurup: InsurUpClient
    store: SessionStore
    tokens: TokenKeeper
    cases: CaseKeeper
    sessions: SessionService
    vehicles: VehicleService
    idempotency: IdempotencyStore
    quotes: QuoteService
    watcher: QuoteWatcher
    payments: PaymentService
    policies: PolicyService


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


def build_gateway(settings: Settings, *, insurup: InsurUpTarget | None = None) -> Gateway:
    redis = open_redis(settings.redis_url, timeout=settings.redis_timeout_seconds)
    http = _insurup_http(settings, insurup)
    keys = Keys(prefix=settings.redis_key_prefix)
    sealer = Sealer(settings.encryption_keys)
    client = InsurUpClient(
        http,
        agent_id=settings.insurup_agent_id or SANDBOX_AGENT_ID,
        agent_branch_id=settings.insurup_agent_branch_id,
    )
    store = SessionStore(
        redis,
        keys=keys,
        sealer=sealer,
        idle_seconds=settings.session_idle_seconds,
        absolute_seconds=settings.session_absolute_seconds,
    )
    tokens = TokenKeeper(
        store=store,
        client=client,
        keys=keys,
        call_timeout=settings.insurup_timeout_seconds,
        refresh_margin=settings.token_refresh_margin_seconds,
    )
    cases = CaseKeeper(
        store=store,
        client=client,
        tokens=tokens,
        keys=keys,
        channels={"cookie": settings.channel_cookie, "bearer": settings.channel_bearer},
        call_timeout=settings.insurup_timeout_seconds,
    )
    limits = LoginLimits(
        open_limit_storage(
            redis, memory=settings.redis_url == MEMORY_STORE, prefix=keys.rate_limit_prefix
        ),
        per_ip=settings.login_rate_limit_per_ip,
        per_identity=settings.login_rate_limit_per_identity,
        mfa_per_ip=settings.mfa_rate_limit_per_ip,
    )
    sessions = SessionService(
        store=store,
        client=client,
        tokens=tokens,
        cases=cases,
        limits=limits,
        sealer=sealer,
        absolute_seconds=settings.session_absolute_seconds,
        mfa_max_attempts=settings.mfa_max_attempts,
        case_wait_seconds=settings.case_wait_seconds,
        keys=keys,
        call_timeout=settings.insurup_timeout_seconds,
    )
    cache = ReferenceCache(redis, keys=keys, ttl_seconds=settings.reference_cache_seconds)
    vehicles = VehicleService(client=client, tokens=tokens, cache=cache)
    idempotency = IdempotencyStore(redis, keys=keys)
    quotes = QuoteService(
        client=client,
        tokens=tokens,
        idempotency=idempotency,
        normalizer=QuoteNormalizer(enabled_methods=settings.enabled_payment_methods),
        coverage_groups=settings.coverage_groups,
        channels={"cookie": settings.channel_cookie, "bearer": settings.channel_bearer},
        call_timeout=settings.insurup_timeout_seconds,
        cache=cache,
    )
    payments = PaymentService(
        client=client,
        tokens=tokens,
        payments=PaymentStore(redis, keys=keys),
        sessions=store,
        idempotency=idempotency,
        quotes=quotes,
        callback_base=settings.public_base_url,
        timings=PaymentTimings(
            grace_seconds=settings.payment_grace_seconds,
            abandon_seconds=settings.payment_abandon_seconds,
            verify_every_seconds=settings.payment_verify_seconds,
            call_timeout=settings.insurup_timeout_seconds,
        ),
    )
    return Gateway(
        payments=payments,
        policies=PolicyService(client=client, tokens=tokens, cache=cache),
        vehicles=vehicles,
        idempotency=idempotency,
        quotes=quotes,
        watcher=QuoteWatcher(interval=settings.quote_poll_seconds),
        settings=settings,
        redis=redis,
        http=http,
        insurup=client,
        store=store,
        tokens=tokens,
        cases=cases,
        sessions=sessions,
    )


def lifespan_for(
    settings: Settings, *, insurup: InsurUpTarget | None = None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = build_gateway(settings, insurup=insurup)
        app.state.gateway = gateway
        log.info(
            "gateway started",
            extra={"env": settings.env, "sandbox": settings.uses_sandbox},
        )
        try:
            yield
        finally:
            await gateway.watcher.aclose()
            await gateway.cases.aclose()
            await gateway.http.aclose()
            await gateway.redis.aclose()

    return lifespan
