"""Payment records: what was started, how to verify it, and its outcome.

A record refers to its session by the session's hash, never by the session id. No card data
is ever part of it. Status changes are compare-and-set in Lua, so of many concurrent
callbacks exactly one moves a payment out of `pending`.
"""

import hashlib
from typing import Literal

import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from app.clock import Clock
from app.store.connection import DEL_IF_EQUAL, guarded
from app.store.keys import Keys
from app.vocabulary import PaymentMethod

PaymentStatus = Literal["pending", "succeeded", "failed"]
KEEP_SECONDS = 7 * 24 * 3600

_TRANSITION = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local current = cjson.decode(raw)
if current['status'] ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
"""
_FIRST_CALLBACK = """
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local current = cjson.decode(raw)
if current['callbackAt'] == nil or current['callbackAt'] == cjson.null then
  current['callbackAt'] = tonumber(ARGV[1])
  raw = cjson.encode(current)
  redis.call('SET', KEYS[1], raw, 'KEEPTTL')
end
return raw
"""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Payment(BaseModel):
    """A payment as stored: JSON in the API's camelCase spelling (the Lua scripts read
    `status` and `callbackAt`)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    payment_id: str
    customer_id: str
    session_handle: str
    quote_id: str
    product_id: str
    installment_number: int
    method: PaymentMethod
    created_at: float
    updated_at: float
    status: PaymentStatus = "pending"
    policy_id: str | None = None
    failure_reason: str | None = None
    callback_at: float | None = None
    # InsurUp answered the start with a redirect: the customer can be paying right now.
    redirect_issued: bool = False

    def dump(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()


def _load(raw: bytes | str) -> Payment:
    return Payment.model_validate_json(raw)


class PaymentStore:
    def __init__(self, redis: "aioredis.Redis", *, keys: Keys, clock: Clock) -> None:
        self._redis = redis
        self._keys = keys
        self._clock = clock
        self._transition = redis.register_script(_TRANSITION)
        self._first_callback = redis.register_script(_FIRST_CALLBACK)
        self._del_if_equal = redis.register_script(DEL_IF_EQUAL)

    @guarded
    async def claim_product(self, payment: Payment, *, seconds: int) -> str | None:
        """Mark the product as being paid for; the id of the payment already doing so, if any."""
        key = self._keys.product_payment(payment.quote_id, payment.product_id)
        if await self._redis.set(key, payment.payment_id, nx=True, ex=seconds):
            return None
        holder = await self._redis.get(key)
        return holder.decode() if isinstance(holder, bytes) else holder

    @guarded
    async def release_product(self, payment: Payment) -> None:
        key = self._keys.product_payment(payment.quote_id, payment.product_id)
        await self._del_if_equal(keys=[key], args=[payment.payment_id])

    @guarded
    async def create(self, payment: Payment, *, callback_token: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._keys.payment(payment.payment_id), payment.dump(), ex=KEEP_SECONDS)
            pipe.set(
                self._keys.callback(token_digest(callback_token)),
                payment.payment_id,
                ex=KEEP_SECONDS,
            )
            await pipe.execute()

    @guarded
    async def get(self, payment_id: str) -> Payment | None:
        raw = await self._redis.get(self._keys.payment(payment_id))
        return None if raw is None else _load(raw)

    @guarded
    async def by_callback(self, callback_token: str) -> Payment | None:
        payment_id = await self._redis.get(self._keys.callback(token_digest(callback_token)))
        if payment_id is None:
            return None
        text = payment_id.decode() if isinstance(payment_id, bytes) else str(payment_id)
        return await self.get(text)

    @guarded
    async def note_callback(self, payment: Payment) -> Payment:
        """Remember when the provider first sent the customer back (the grace period's start)."""
        raw = await self._first_callback(
            keys=[self._keys.payment(payment.payment_id)], args=[repr(self._clock.now())]
        )
        return payment if raw is None else _load(raw)

    @guarded
    async def update_pending(self, payment: Payment, **changes: object) -> bool:
        """Change a payment only while it is still pending (settle it, or note its redirect):
        of many concurrent callers, one settles it; True for a caller whose change was stored."""
        updated = payment.model_copy(update={**changes, "updated_at": self._clock.now()})
        stored = await self._transition(
            keys=[self._keys.payment(payment.payment_id)], args=["pending", updated.dump()]
        )
        return bool(stored)

    @guarded
    async def checked_recently(self, payment_id: str, *, every_seconds: float) -> bool:
        """Whether InsurUp was asked about this payment within the check interval."""
        last = await self._redis.get(self._keys.payment_checked(payment_id))
        return last is not None and self._clock.now() - float(last) < every_seconds

    @guarded
    async def mark_checked(self, payment_id: str, *, every_seconds: float) -> None:
        """At most one InsurUp check per payment per interval, across replicas: the time of
        the check, kept (a little longer than) the interval."""
        key = self._keys.payment_checked(payment_id)
        await self._redis.set(key, repr(self._clock.now()), px=int(every_seconds * 1000) + 1000)
