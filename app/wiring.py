"""Builds the gateway's services from the settings and the process's shared resources: the
one place that knows which service needs which. Routers reach services through their
feature's `deps.py`; nothing else reads this container."""

from dataclasses import dataclass

import httpx
import redis.asyncio as aioredis

from app.clock import Clock
from app.config import MEMORY_STORE, Settings
from app.core.cases import CaseKeeper
from app.core.limits import LoginLimits, QuoteLimits, open_limit_storage
from app.core.service_account import ServiceAccount
from app.core.tokens import CustomerClients, TokenKeeper
from app.insurup.client import Agent, InsurUpClient
from app.ops.readiness import ReadinessProbe
from app.payments.reconciler import Reconciler
from app.payments.service import PaymentService, PaymentTimings
from app.policies.service import PolicyService
from app.quotes.events import QuoteWatcher
from app.quotes.normalize import QuoteNormalizer
from app.quotes.service import QuoteService
from app.session.service import SessionRules, SessionService
from app.store.cache import ReferenceCache
from app.store.crypto import Sealer
from app.store.idempotency import IdempotencyStore
from app.store.information_forms import InformationForms
from app.store.keys import Keys
from app.store.locks import LeaseLocks, LeasePolicy
from app.store.payments import PaymentStore
from app.store.service_tokens import ServiceTokenStore
from app.store.sessions import SessionStore
from app.store.webhook_deliveries import WebhookDeliveries
from app.vehicles.service import VehicleService
from app.webhooks.service import WebhookService

# The built-in sandbox accepts any agent; outside production one is made up if none is set.
SANDBOX_AGENT_ID = "00000000-0000-4000-8000-00000000a9e7"


@dataclass(frozen=True, slots=True)
class Services:
    """What the routes use, built once per process."""

    settings: Settings
    sessions: SessionStore
    cases: CaseKeeper
    session: SessionService
    vehicles: VehicleService
    quotes: QuoteService
    payments: PaymentService
    policies: PolicyService
    readiness: ReadinessProbe
    webhooks: WebhookService
    reconciler: Reconciler

    def start(self) -> None:
        """Start the background work that runs for the life of the process."""
        self.reconciler.start()

    async def aclose(self) -> None:
        """Stop the background work the services started (reconciler, payment follow-ups,
        quote polls, case steps)."""
        await self.reconciler.aclose()
        await self.payments.aclose()
        await self.quotes.aclose()
        await self.cases.aclose()


def build_services(
    settings: Settings, *, redis: "aioredis.Redis", http: httpx.AsyncClient, clock: Clock
) -> Services:
    keys = Keys(prefix=settings.redis_key_prefix)
    sealer = Sealer(settings.encryption_keys)
    locks = LeaseLocks(redis)
    leases = LeasePolicy(
        call_timeout=settings.insurup_timeout_seconds, margin=settings.lease_margin_seconds
    )
    client = InsurUpClient.over(
        http,
        agent=Agent(
            agent_id=settings.insurup_agent_id or SANDBOX_AGENT_ID,
            branch_id=settings.insurup_agent_branch_id,
        ),
        document_hosts=settings.document_host_patterns,
    )
    sessions = SessionStore(
        redis,
        keys=keys,
        sealer=sealer,
        idle_seconds=settings.session_idle_seconds,
        absolute_seconds=settings.session_absolute_seconds,
        clock=clock,
    )
    tokens = TokenKeeper(
        store=sessions,
        client=client,
        keys=keys,
        locks=locks,
        leases=leases,
        clock=clock,
        refresh_margin=settings.token_refresh_margin_seconds,
    )
    insurup = CustomerClients(client, tokens)
    channels = settings.channels
    cases = CaseKeeper(
        store=sessions, insurup=insurup, keys=keys, locks=locks, leases=leases, channels=channels
    )
    limit_storage = open_limit_storage(
        redis, memory=settings.redis_url == MEMORY_STORE, prefix=keys.rate_limit_prefix
    )
    limits = LoginLimits(
        limit_storage,
        per_ip=settings.login_rate_limit_per_ip,
        per_identity=settings.login_rate_limit_per_identity,
        sms_per_identity=settings.sms_rate_limit_per_identity,
        mfa_per_ip=settings.mfa_rate_limit_per_ip,
        clock=clock,
    )
    cache = ReferenceCache(redis, keys=keys, ttl_seconds=settings.reference_cache_seconds)
    idempotency = IdempotencyStore(redis, keys=keys)
    forms = InformationForms(
        redis, keys=keys, clock=clock, keep_seconds=settings.session_absolute_seconds
    )
    quotes = QuoteService(
        insurup=insurup,
        idempotency=idempotency,
        normalizer=QuoteNormalizer(
            enabled_methods=settings.enabled_payment_methods,
            online_insurers=settings.online_insurer_ids,
        ),
        watcher=QuoteWatcher(interval=settings.quote_poll_seconds),
        coverage_groups=settings.coverage_groups,
        channels=channels,
        leases=leases,
        cache=cache,
        limits=QuoteLimits(
            limit_storage,
            per_session=settings.quote_rate_limit_per_session,
            per_customer=settings.quote_rate_limit_per_customer,
            clock=clock,
        ),
        forms=forms,
    )
    payment_store = PaymentStore(redis, keys=keys, clock=clock)
    payments = PaymentService(
        insurup=insurup,
        agency=_agency(
            settings,
            client=client,
            http=http,
            redis=redis,
            keys=keys,
            sealer=sealer,
            locks=locks,
            leases=leases,
            clock=clock,
        ),
        payments=payment_store,
        sessions=sessions,
        idempotency=idempotency,
        quotes=quotes,
        forms=forms,
        cases=cases,
        keys=keys,
        locks=locks,
        leases=leases,
        clock=clock,
        callback_base=settings.public_base_url,
        timings=PaymentTimings(
            grace_seconds=settings.payment_grace_seconds,
            abandon_seconds=settings.payment_abandon_seconds,
            verify_every_seconds=settings.payment_verify_seconds,
            return_wait_seconds=settings.payment_return_wait_seconds,
        ),
    )
    return Services(
        settings=settings,
        sessions=sessions,
        cases=cases,
        session=SessionService(
            store=sessions,
            client=client,
            insurup=insurup,
            cases=cases,
            limits=limits,
            sealer=sealer,
            keys=keys,
            locks=locks,
            leases=leases,
            clock=clock,
            rules=SessionRules(
                idle_seconds=settings.session_idle_seconds,
                absolute_seconds=settings.session_absolute_seconds,
                mfa_max_attempts=settings.mfa_max_attempts,
                case_wait_seconds=settings.case_wait_seconds,
            ),
        ),
        vehicles=VehicleService(insurup=insurup, cache=cache),
        quotes=quotes,
        payments=payments,
        policies=PolicyService(insurup=insurup, cache=cache),
        readiness=ReadinessProbe(store=sessions, insurup=client),
        webhooks=WebhookService(
            secret=settings.webhook_secret,
            deliveries=WebhookDeliveries(redis, keys=keys),
            payments=payments,
        ),
        reconciler=Reconciler(
            payments=payments,
            store=payment_store,
            clock=clock,
            interval=settings.payment_reconcile_seconds,
        ),
    )


def _agency(
    settings: Settings,
    *,
    client: InsurUpClient,
    http: httpx.AsyncClient,
    redis: "aioredis.Redis",
    keys: Keys,
    sealer: Sealer,
    locks: LeaseLocks,
    leases: LeasePolicy,
    clock: Clock,
) -> InsurUpClient | None:
    """InsurUp as the agency, through the service account, when one is configured."""
    account = settings.service_account
    if account is None:
        return None
    client_id, secret, auth_url = account
    return client.bound(
        ServiceAccount(
            http=http,
            auth_url=auth_url or str(http.base_url),
            client_id=client_id,
            client_secret=secret,
            store=ServiceTokenStore(redis, keys=keys, sealer=sealer),
            keys=keys,
            locks=locks,
            leases=leases,
            clock=clock,
        )
    )
