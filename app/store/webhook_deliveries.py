"""InsurUp webhook deliveries seen: each delivery id is processed once, whichever replica it
reaches and however often InsurUp sends it."""

import redis.asyncio as aioredis

from app.store.connection import guarded
from app.store.keys import Keys

# A delivery being processed holds this short claim; a processed one is remembered a week
# (InsurUp retries within minutes; staff may redeliver later).
_PROCESSING_SECONDS = 30
_DONE_SECONDS = 7 * 24 * 3600


class WebhookDeliveries:
    def __init__(self, redis: "aioredis.Redis", *, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    @guarded
    async def claim(self, delivery_id: str) -> bool:
        """True for the one caller that processes this delivery now."""
        key = self._keys.webhook_delivery(delivery_id)
        return bool(await self._redis.set(key, b"processing", nx=True, ex=_PROCESSING_SECONDS))

    @guarded
    async def done(self, delivery_id: str) -> None:
        await self._redis.set(self._keys.webhook_delivery(delivery_id), b"done", ex=_DONE_SECONDS)

    @guarded
    async def release(self, delivery_id: str) -> None:
        """Processing failed: let InsurUp's retry try again."""
        await self._redis.delete(self._keys.webhook_delivery(delivery_id))
