"""Payment records: what was started, how to verify it, and its outcome.

A record refers to its session by the session's hash, never by the session id. No card data
is ever part of it. Status changes are compare-and-set in Lua, so of many concurrent
callbacks exactly one moves a payment out of `pending`.
"""

import hashlib
import time
from dataclasses import asdict, dataclass, field
from typing import Literal

import orjson
import redis.asyncio as aioredis

from app.store.connection import DEL_IF_EQUAL, guarded
from app.store.keys import Keys

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


@dataclass(slots=True)
class Payment:
    paymentId: str  # noqa: N815 - stored as JSON in the API's own spelling
    customerId: str  # noqa: N815
    sessionHandle: str  # noqa: N815
    quoteId: str  # noqa: N815
    productId: str  # noqa: N815
    installmentNumber: int  # noqa: N815
    method: str
    status: PaymentStatus = "pending"
    policyId: str | None = None  # noqa: N815
    failureReason: str | None = None  # noqa: N815
    createdAt: float = field(default_factory=time.time)  # noqa: N815
    updatedAt: float = field(default_factory=time.time)  # noqa: N815
    callbackAt: float | None = None  # noqa: N815
    # InsurUp answered the start with a redirect: the customer can be paying right now.
    redirectIssued: bool = False  # noqa: N815

    def dump(self) -> bytes:
        return orjson.dumps(asdict(self))


def _load(raw: bytes | str) -> Payment:
    return Payment(**orjson.loads(raw))


class PaymentStore:
    def __init__(self, redis: "aioredis.Redis", *, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._transition = redis.register_script(_TRANSITION)
        self._first_callback = redis.register_script(_FIRST_CALLBACK)
        self._del_if_equal = redis.register_script(DEL_IF_EQUAL)

    @guarded
    async def claim_product(self, payment: Payment, *, seconds: int) -> str | None:
        """Mark the product as being paid for; the id of the payment already doing so, if any."""
        key = self._keys.product_payment(payment.quoteId, payment.productId)
        if await self._redis.set(key, payment.paymentId, nx=True, ex=seconds):
            return None
        holder = await self._redis.get(key)
        return holder.decode() if isinstance(holder, bytes) else holder

    @guarded
    async def release_product(self, payment: Payment) -> None:
        key = self._keys.product_payment(payment.quoteId, payment.productId)
        await self._del_if_equal(keys=[key], args=[payment.paymentId])

    @guarded
    async def create(self, payment: Payment, *, callback_token: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._keys.payment(payment.paymentId), payment.dump(), ex=KEEP_SECONDS)
            pipe.set(
                self._keys.callback(token_digest(callback_token)),
                payment.paymentId,
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
            keys=[self._keys.payment(payment.paymentId)], args=[repr(time.time())]
        )
        return payment if raw is None else _load(raw)

    @guarded
    async def update_pending(self, payment: Payment, **changes: object) -> bool:
        """Change a payment only while it is still pending (settle it, or note its redirect):
        of many concurrent callers, one settles it; True for a caller whose change was stored."""
        updated = Payment(**{**asdict(payment), **changes, "updatedAt": time.time()})
        stored = await self._transition(
            keys=[self._keys.payment(payment.paymentId)], args=["pending", updated.dump()]
        )
        return bool(stored)

    @guarded
    async def start_verifying(self, payment_id: str, *, every_seconds: float) -> bool:
        """At most one InsurUp check per payment per interval, across replicas: True for the
        caller that should check now. The key stays `verifying` until `done_verifying`, then
        lives out the interval as a throttle."""
        key = self._keys.payment_verify_lock(payment_id)
        return bool(await self._redis.set(key, b"verifying", nx=True, px=int(every_seconds * 1000)))

    @guarded
    async def done_verifying(self, payment_id: str) -> None:
        key = self._keys.payment_verify_lock(payment_id)
        await self._redis.set(key, b"done", xx=True, keepttl=True)

    @guarded
    async def verifying(self, payment_id: str) -> bool:
        return await self._redis.get(self._keys.payment_verify_lock(payment_id)) == b"verifying"
