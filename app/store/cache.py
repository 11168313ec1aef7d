"""Reference data cached in Redis (brands, models, coverage choices, insurers): shared by
replicas, expiring on its own. A cache failure never fails the request: it only costs an
upstream call. Values are stored as JSON and read back through their own type."""

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
from pydantic import TypeAdapter, ValidationError
from redis.exceptions import RedisError

from app.store.keys import Keys

log = logging.getLogger("app.store.cache")

T = TypeVar("T")


class ReferenceCache:
    def __init__(self, redis: "aioredis.Redis", *, keys: Keys, ttl_seconds: int) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl = ttl_seconds

    async def get_or_load(
        self, name: str, load: Callable[[], Awaitable[T]], *, shape: TypeAdapter[T]
    ) -> T:
        key = self._keys.cache(name)
        try:
            raw = await self._redis.get(key)
        except (RedisError, OSError) as exc:
            log.warning("cache read failed", extra={"error": type(exc).__name__})
            raw = None
        if raw is not None:
            try:
                return shape.validate_json(raw)
            except ValidationError:
                log.warning("cache entry of another shape ignored", extra={"entry": name})
        value = await load()
        try:
            await self._redis.set(key, shape.dump_json(value), ex=self._ttl)
        except (RedisError, OSError) as exc:
            log.warning("cache write failed", extra={"error": type(exc).__name__})
        return value
