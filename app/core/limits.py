"""Login and MFA rate limits, shared by every replica through Redis (the `limits` library)."""

import math

import redis.asyncio as aioredis
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from app.clock import Clock
from app.errors import RateLimited, StoreUnavailable


def open_limit_storage(redis: "aioredis.Redis", *, memory: bool, prefix: str) -> Storage:
    if memory:
        return MemoryStorage()
    # Reuse the gateway's own connection pool: one set of connections, one place to tune.
    return RedisStorage(
        "async+redis://pool:6379",
        implementation="redispy",
        key_prefix=prefix,
        connection_pool=redis.connection_pool,  # type: ignore[arg-type]
    )


class LoginLimits:
    def __init__(
        self,
        storage: Storage,
        *,
        per_ip: str,
        per_identity: str,
        mfa_per_ip: str,
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_ip = parse(per_ip)
        self._per_identity = parse(per_identity)
        self._mfa_per_ip = parse(mfa_per_ip)

    async def login(self, *, client_ip: str, identity_digest: str) -> None:
        await self._hit(self._per_ip, "login-ip", client_ip)
        await self._hit(self._per_identity, "login-id", identity_digest)

    async def mfa(self, *, client_ip: str) -> None:
        await self._hit(self._mfa_per_ip, "mfa-ip", client_ip)

    async def _hit(self, item: RateLimitItem, scope: str, who: str) -> None:
        try:
            allowed = await self._limiter.hit(item, scope, who)
            if allowed:
                return
            stats = await self._limiter.get_window_stats(item, scope, who)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable() from exc
        retry_after = max(1, math.ceil(stats.reset_time - self._clock.now()))
        raise RateLimited(retry_after=retry_after)
