"""The InsurUp service-account token, shared by every replica: sealed like customer tokens,
expiring in Redis a margin before InsurUp expires it."""

import orjson
import redis.asyncio as aioredis

from app.store.connection import guarded
from app.store.crypto import Sealer, SealError
from app.store.keys import Keys

_CONTEXT = b"insurup-service-token"


class ServiceTokenStore:
    def __init__(self, redis: "aioredis.Redis", *, keys: Keys, sealer: Sealer) -> None:
        self._redis = redis
        self._keys = keys
        self._sealer = sealer

    @guarded
    async def get(self) -> tuple[str, float] | None:
        """The token and when it lapses, if one is stored and opens with our keys."""
        raw = await self._redis.get(self._keys.service_token())
        if not isinstance(raw, bytes):
            return None
        try:
            token, expires_at = orjson.loads(self._sealer.open(raw, context=_CONTEXT))
        except (SealError, ValueError, TypeError):
            return None
        return str(token), float(expires_at)

    @guarded
    async def put(self, token: str, *, expires_at: float, keep_seconds: float) -> None:
        sealed = self._sealer.seal(orjson.dumps([token, expires_at]), context=_CONTEXT)
        await self._redis.set(
            self._keys.service_token(), sealed, px=max(1, int(keep_seconds * 1000))
        )
