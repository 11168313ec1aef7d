"""Opening Redis, or the embedded in-process stand-in behind `memory://`."""

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.config import MEMORY_STORE
from app.errors import StoreUnavailable

log = logging.getLogger("app.store")

P = ParamSpec("P")

# Delete a key only if it still holds the caller's value (lock owners, product claims).
DEL_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
T = TypeVar("T")


def open_redis(url: str, *, timeout: float) -> "aioredis.Redis":
    if url == MEMORY_STORE:
        import fakeredis  # only development uses it; keep it off the production import path

        log.warning("using the embedded in-process store: one process only, nothing is kept")
        return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    return aioredis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        max_connections=200,
    )


def guarded(func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Turn any Redis failure into `503 store_unavailable`, once, at the store boundary."""

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await func(*args, **kwargs)
        except (RedisError, OSError) as exc:
            log.error("store failure", extra={"error": type(exc).__name__})
            raise StoreUnavailable() from exc

    return wrapper
