"""What a session did about a product that must be remembered for a while: which
pre-contract information forms it opened (a purchase needs its product's form opened in the
same session, and accepted, as a distance sale requires), and which products it asked to be
called back about (asked once, however often the button is pressed)."""

import redis.asyncio as aioredis

from app.clock import Clock
from app.store.connection import guarded
from app.store.keys import Keys


class InformationForms:
    def __init__(
        self, redis: "aioredis.Redis", *, keys: Keys, clock: Clock, keep_seconds: int
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._clock = clock
        self._keep = keep_seconds

    @guarded
    async def opened(self, handle: str, quote_id: str, product_id: str) -> None:
        key = self._keys.information_form(handle, quote_id, product_id)
        await self._redis.set(key, repr(self._clock.now()), ex=self._keep, nx=True)

    @guarded
    async def call_back_asked(self, handle: str, quote_id: str, product_id: str) -> bool:
        """True the first time this session asks about this product."""
        key = self._keys.call_back_request(handle, quote_id, product_id)
        return bool(await self._redis.set(key, repr(self._clock.now()), ex=self._keep, nx=True))

    @guarded
    async def opened_at(self, handle: str, quote_id: str, product_id: str) -> float | None:
        raw = await self._redis.get(self._keys.information_form(handle, quote_id, product_id))
        return None if raw is None else float(raw)
