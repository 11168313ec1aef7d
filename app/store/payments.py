"""Payment records: what was started, how to verify it, and its outcome.

A record refers to its session by the session's hash, never by the session id. No card data
is ever part of it. A payment settles once: the change out of `pending` is a compare-and-set
in Lua that also takes it off the pending index, so of many concurrent signals (webhook,
callback, reconciler, status poll) exactly one settles it.
"""

import hashlib
from typing import Literal, cast

import orjson
import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from app.clock import Clock
from app.store.connection import DEL_IF_EQUAL, guarded
from app.store.keys import Keys
from app.vocabulary import PaymentMethod

PaymentStatus = Literal["pending", "succeeded", "failed"]
# What reached the gateway first with the outcome (`start`: the start itself failed).
Signal = Literal["webhook", "callback", "reconciler", "status", "start"]
KEEP_SECONDS = 7 * 24 * 3600

# KEYS: payment, pending index. ARGV: expected status, the changed fields (JSON), payment id.
# Only the changed fields are written, so concurrent changes of other fields survive.
_TRANSITION = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local current = cjson.decode(raw)
if current['status'] ~= ARGV[1] then return 0 end
for field, value in pairs(cjson.decode(ARGV[2])) do current[field] = value end
redis.call('SET', KEYS[1], cjson.encode(current), 'KEEPTTL')
if current['status'] ~= ARGV[1] then redis.call('ZREM', KEYS[2], ARGV[3]) end
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
    # InsurUp's product id (an integer): its webhooks name the product by it.
    insurer_product_id: int | None = None
    # When the customer accepted the pre-contract information form, which they had opened.
    information_form_accepted_at: float | None = None
    status: PaymentStatus = "pending"
    policy_id: str | None = None
    failure_reason: str | None = None
    callback_at: float | None = None
    # InsurUp answered the start with a redirect: the customer can be paying right now.
    redirect_issued: bool = False
    # InsurUp was seen holding the product for this payment (PURCHASING).
    seen_purchasing: bool = False
    settled_by: Signal | None = None

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
    async def claim_quote(self, payment: Payment, *, seconds: int) -> str | None:
        """Mark the quote as being paid for (InsurUp buys one product of a quote at a time);
        the id of the payment already doing so, if any."""
        key = self._keys.quote_payment(payment.quote_id)
        if await self._redis.set(key, payment.payment_id, nx=True, ex=seconds):
            return None
        return await self.paying_for(payment.quote_id)

    @guarded
    async def paying_for(self, quote_id: str) -> str | None:
        """The payment that holds the quote's claim, if one does."""
        holder = await self._redis.get(self._keys.quote_payment(quote_id))
        return holder.decode() if isinstance(holder, bytes) else holder

    @guarded
    async def release_quote(self, payment: Payment) -> None:
        key = self._keys.quote_payment(payment.quote_id)
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
            pipe.zadd(self._keys.pending_payments(), {payment.payment_id: payment.created_at})
            await pipe.execute()
        if payment.insurer_product_id is not None:
            index = self._keys.product_payment_index(payment.quote_id, payment.insurer_product_id)
            await self._redis.set(index, payment.payment_id, ex=KEEP_SECONDS)

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
    async def by_product(self, quote_id: str, insurer_product_id: int) -> Payment | None:
        """The last payment for a product, by the ids InsurUp's webhooks carry."""
        index = self._keys.product_payment_index(quote_id, insurer_product_id)
        payment_id = await self._redis.get(index)
        if payment_id is None:
            return None
        text = payment_id.decode() if isinstance(payment_id, bytes) else str(payment_id)
        return await self.get(text)

    @guarded
    async def pending(self, *, limit: int) -> list[tuple[str, float]]:
        """Pending payments, oldest first, with when each started."""
        members = await self._redis.zrange(
            self._keys.pending_payments(), 0, limit - 1, withscores=True
        )
        pending: list[tuple[str, float]] = []
        for pair in members:
            member, score = cast("tuple[bytes | str, float]", pair)
            name = member.decode() if isinstance(member, bytes) else str(member)
            pending.append((name, float(score)))
        return pending

    @guarded
    async def forget_pending(self, payment_id: str) -> None:
        """Take a payment whose record is gone off the pending index."""
        await self._redis.zrem(self._keys.pending_payments(), payment_id)

    @guarded
    async def note_callback(self, payment: Payment) -> Payment:
        """Remember when the provider first sent the customer back (the grace period's start)."""
        raw = await self._first_callback(
            keys=[self._keys.payment(payment.payment_id)], args=[repr(self._clock.now())]
        )
        return payment if raw is None else _load(raw)

    @guarded
    async def update_pending(self, payment: Payment, **changes: object) -> bool:
        """Change a payment only while it is still pending (settle it, or note its progress):
        of many concurrent callers, one settles it; True for a caller whose change was stored."""
        fields = Payment.model_fields
        changed = {fields[name].alias or name: value for name, value in changes.items()}
        changed["updatedAt"] = self._clock.now()
        stored = await self._transition(
            keys=[self._keys.payment(payment.payment_id), self._keys.pending_payments()],
            args=["pending", orjson.dumps(changed), payment.payment_id],
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
