"""Rate limits shared by every replica through Redis (the `limits` library): sign-in, SMS
codes, MFA and new quotes."""

import logging
import math

import redis.asyncio as aioredis
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisClusterStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from app.clock import Clock
from app.errors import RateLimited, StoreUnavailable

log = logging.getLogger("app.limits")


def open_limit_storage(redis: "aioredis.Redis", *, memory: bool, prefix: str) -> Storage:
    if memory:
        return MemoryStorage()
    client: object = redis  # a cluster client passes for a plain one (app.store.connection)
    if isinstance(client, RedisCluster):
        # The library's cluster storage, run on the gateway's own cluster client (its bounded
        # wait for a connection, its view of the topology) rather than a second client of its
        # own that nothing would close. Its scripts each touch one key: one slot.
        cluster = RedisClusterStorage(
            "async+redis+cluster://gateway:6379", implementation="redispy", key_prefix=prefix
        )
        cluster.bridge.storage = client  # type: ignore[attr-defined]
        cluster.bridge.register_scripts()
        return cluster
    # One node or Sentinel: reuse the gateway's own connection pool (with Sentinel, the pool
    # that follows the master): one set of connections, one place to tune.
    return RedisStorage(
        "async+redis://pool:6379",
        implementation="redispy",
        key_prefix=prefix,
        connection_pool=redis.connection_pool,  # type: ignore[arg-type]
    )


def _store_failure(exc: Exception) -> StoreUnavailable:
    # Logged like the stores' failures (app.store.connection.guarded): the cause, no detail.
    log.error("store failure", extra={"error": type(exc).__name__})
    return StoreUnavailable()


class _Limits:
    """Moving windows in the shared storage; an exhausted one is `429` with `Retry-After`."""

    def __init__(self, storage: Storage, *, clock: Clock) -> None:
        self._clock = clock
        self._limiter = MovingWindowRateLimiter(storage)

    async def _hit(self, item: RateLimitItem, scope: str, *who: str) -> None:
        """Spend one from the allowance, or refuse."""
        try:
            if await self._limiter.hit(item, scope, *who):
                return
        except (RedisError, OSError) as exc:
            raise _store_failure(exc) from exc
        await self._refuse(item, scope, *who)

    async def _check(self, item: RateLimitItem, scope: str, *who: str) -> None:
        """Refuse when the allowance is spent, without spending any of it."""
        try:
            if await self._limiter.test(item, scope, *who):
                return
        except (RedisError, OSError) as exc:
            raise _store_failure(exc) from exc
        await self._refuse(item, scope, *who)

    async def _count(self, item: RateLimitItem, scope: str, *who: str) -> None:
        """Spend one for something that has already happened (never refuses)."""
        try:
            await self._limiter.hit(item, scope, *who)
        except (RedisError, OSError) as exc:
            raise _store_failure(exc) from exc

    async def _refuse(self, item: RateLimitItem, scope: str, *who: str) -> None:
        try:
            stats = await self._limiter.get_window_stats(item, scope, *who)
        except (RedisError, OSError) as exc:
            raise _store_failure(exc) from exc
        retry_after = max(1, math.ceil(stats.reset_time - self._clock.now()))
        raise RateLimited(retry_after=retry_after)


class LoginLimits(_Limits):
    """Sign-in allowances.

    - per address: every sign-in attempt (`login_rate_limit_per_ip`);
    - per identity *and* address: attempts that did not finish (`login_rate_limit_per_identity`):
      each attempt is counted when it starts and the count is cleared when it ends signed in,
      so what remains are the ones InsurUp refused and the ones whose SMS code never came
      back right. Someone who knows a stranger's identity number spends only the allowance of
      their own address; the owner, elsewhere, still signs in;
    - per identity, from every address: SMS codes InsurUp sent (`sms_rate_limit_per_identity`),
      which bounds SMS pumping. It is checked before and spent after InsurUp sends a code, so
      attempts with wrong details (no SMS) never spend it.
    """

    def __init__(
        self,
        storage: Storage,
        *,
        per_ip: str,
        per_identity: str,
        sms_per_identity: str,
        mfa_per_ip: str,
        clock: Clock,
    ) -> None:
        super().__init__(storage, clock=clock)
        self._per_ip = parse(per_ip)
        self._per_identity = parse(per_identity)
        self._sms_per_identity = parse(sms_per_identity)
        self._mfa_per_ip = parse(mfa_per_ip)

    async def login(self, *, client_ip: str, identity_digest: str) -> str:
        """Before InsurUp is asked. Returns the attempt's key: `signed_in` clears it."""
        await self._hit(self._per_ip, "login-ip", client_ip)
        await self._check(self._sms_per_identity, "sms-id", identity_digest)
        await self._hit(self._per_identity, "login-id", identity_digest, client_ip)
        return f"{identity_digest}/{client_ip}"

    async def sms_sent(self, *, identity_digest: str) -> None:
        await self._count(self._sms_per_identity, "sms-id", identity_digest)

    async def signed_in(self, attempt: str) -> None:
        """The attempt finished: this identity's unfinished attempts from there start anew."""
        identity_digest, _, client_ip = attempt.partition("/")
        try:
            await self._limiter.clear(self._per_identity, "login-id", identity_digest, client_ip)
        except (RedisError, OSError):
            log.warning("could not clear a sign-in allowance")

    async def mfa(self, *, client_ip: str) -> None:
        await self._hit(self._mfa_per_ip, "mfa-ip", client_ip)


class QuoteLimits(_Limits):
    """New quotes per session and per customer: each one makes every insurer price a car."""

    def __init__(
        self, storage: Storage, *, per_session: str, per_customer: str, clock: Clock
    ) -> None:
        super().__init__(storage, clock=clock)
        self._per_session = parse(per_session)
        self._per_customer = parse(per_customer)

    async def quote(self, *, session_handle: str, customer_id: str) -> None:
        await self._hit(self._per_session, "quote-session", session_handle)
        await self._hit(self._per_customer, "quote-customer", customer_id)
