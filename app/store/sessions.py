"""Sessions in Redis: one hash per session, each field sealed on its own.

Fields: `meta` (who, how, lifetimes), `tokens` (InsurUp's pair), `mfa` (the pending MFA token),
`case` (the sale-opportunity outcome). Separate fields let a token refresh and the case step
write at the same time without one overwriting the other. Writes go through small Lua
scripts that refuse to touch a session that is gone, so a logout is never undone by a
late write, and the token field is replaced only by compare-and-set.
"""

import hashlib
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Literal

import orjson
import redis.asyncio as aioredis

from app.errors import NotAuthenticated
from app.store.connection import guarded
from app.store.crypto import Sealer, SealError
from app.store.keys import Keys

Transport = Literal["cookie", "bearer"]
Stage = Literal["mfa_pending", "authenticated"]

_SET_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""
_SET_IF_EQUAL = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""
_DEL_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def new_session_id() -> str:
    """An opaque id of 256 random bits; only its hash is ever stored."""
    return secrets.token_urlsafe(32)


def handle_of(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(slots=True)
class Meta:
    transport: Transport
    stage: Stage
    created_at: float
    absolute_expires_at: float
    customer_kind: str
    customer_id: str | None = None
    customer_name: str | None = None


@dataclass(frozen=True, slots=True)
class Tokens:
    access: str
    refresh: str | None
    access_expires_at: float


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    case_id: str | None
    created: bool


@dataclass(slots=True)
class SessionRecord:
    handle: str
    meta: Meta
    tokens: Tokens | None = None
    mfa_token: str | None = None
    case: CaseOutcome | None = None
    # The sealed tokens exactly as read: the compare-and-set of a refresh compares these bytes.
    tokens_blob: bytes | None = field(default=None, repr=False)

    @property
    def customer_id(self) -> str:
        """The signed-in customer; only signed-in sessions reach the code that asks."""
        if self.meta.customer_id is None:
            raise NotAuthenticated()
        return self.meta.customer_id

    def expires_at(self, *, idle_seconds: int, now: float | None = None) -> float:
        current = time.time() if now is None else now
        return min(current + idle_seconds, self.meta.absolute_expires_at)


class SessionStore:
    def __init__(
        self,
        redis: "aioredis.Redis",
        *,
        keys: Keys,
        sealer: Sealer,
        idle_seconds: int,
        absolute_seconds: int,
    ) -> None:
        self._redis = redis
        self._absolute = absolute_seconds
        self._keys = keys
        self._sealer = sealer
        self._idle = idle_seconds
        self._set_if_exists = redis.register_script(_SET_IF_EXISTS)
        self._set_if_equal = redis.register_script(_SET_IF_EQUAL)
        self._del_if_equal = redis.register_script(_DEL_IF_EQUAL)

    # -- sealing -----------------------------------------------------------------------------

    def _seal(self, handle: str, name: str, value: object) -> bytes:
        return self._sealer.seal(orjson.dumps(value), context=f"{handle}/{name}".encode())

    def _open(self, handle: str, name: str, blob: bytes) -> object:
        return orjson.loads(self._sealer.open(blob, context=f"{handle}/{name}".encode()))

    def seal_tokens(self, handle: str, tokens: Tokens) -> bytes:
        return self._seal(handle, "tokens", asdict(tokens))

    # -- sessions ----------------------------------------------------------------------------

    @guarded
    async def create(self, record: SessionRecord) -> None:
        handle = record.handle
        fields: dict[str, bytes] = {"meta": self._seal(handle, "meta", asdict(record.meta))}
        if record.tokens is not None:
            fields["tokens"] = self.seal_tokens(handle, record.tokens)
        if record.mfa_token is not None:
            fields["mfa"] = self._seal(handle, "mfa", record.mfa_token)
        if record.case is not None:
            fields["case"] = self._seal(handle, "case", asdict(record.case))
        key = self._keys.session(handle)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
            pipe.expire(key, self._ttl(record.meta))
            await pipe.execute()
        await self._index(record.meta, handle)

    @guarded
    async def load(self, handle: str) -> SessionRecord | None:
        """Read a session and slide its idle expiry, in one round trip."""
        key = self._keys.session(handle)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(key)
            pipe.expire(key, self._idle)
            raw, _ = await pipe.execute()
        if not raw:
            return None
        try:
            record = self._decode(handle, raw)
        except (SealError, KeyError, TypeError, orjson.JSONDecodeError):
            # Sealed by a key we no longer have, or damaged: treat as signed out.
            await self._redis.delete(key)
            return None
        left = record.meta.absolute_expires_at - time.time()
        if left <= 0:
            await self.delete(record)
            return None
        if left < self._idle:
            await self._redis.expire(key, max(1, int(left)))
        return record

    def _decode(self, handle: str, raw: dict[bytes, bytes]) -> SessionRecord:
        meta = Meta(**self._open(handle, "meta", raw[b"meta"]))  # type: ignore[arg-type]
        record = SessionRecord(handle=handle, meta=meta)
        if b"tokens" in raw:
            record.tokens = Tokens(**self._open(handle, "tokens", raw[b"tokens"]))  # type: ignore[arg-type]
            record.tokens_blob = raw[b"tokens"]
        if b"mfa" in raw:
            record.mfa_token = str(self._open(handle, "mfa", raw[b"mfa"]))
        if b"case" in raw:
            record.case = CaseOutcome(**self._open(handle, "case", raw[b"case"]))  # type: ignore[arg-type]
        return record

    @guarded
    async def load_tokens(self, handle: str) -> tuple[Tokens, bytes] | None:
        """The stored pair and its sealed bytes, without touching expiry (refresh waits)."""
        blob = await self._redis.hget(self._keys.session(handle), "tokens")
        if not isinstance(blob, bytes):
            return None
        try:
            tokens = Tokens(**self._open(handle, "tokens", blob))  # type: ignore[arg-type]
        except (SealError, TypeError, orjson.JSONDecodeError):
            return None
        return tokens, blob

    @guarded
    async def load_case(self, handle: str) -> CaseOutcome | None:
        blob = await self._redis.hget(self._keys.session(handle), "case")
        if not isinstance(blob, bytes):
            return None
        try:
            return CaseOutcome(**self._open(handle, "case", blob))  # type: ignore[arg-type]
        except (SealError, TypeError, orjson.JSONDecodeError):
            return None

    @guarded
    async def authenticate(self, record: SessionRecord, tokens: Tokens) -> bool:
        """Turn a pending session into a signed-in one; False if it is gone meanwhile."""
        handle = record.handle
        record.meta.stage = "authenticated"
        blob = self.seal_tokens(handle, tokens)
        stored = await self._set_if_exists(
            keys=[self._keys.session(handle)],
            args=["meta", self._seal(handle, "meta", asdict(record.meta)), "tokens", blob],
        )
        if not stored:
            return False
        await self._redis.hdel(self._keys.session(handle), "mfa")
        record.tokens, record.tokens_blob, record.mfa_token = tokens, blob, None
        await self._index(record.meta, handle)
        return True

    @guarded
    async def replace_tokens(self, record: SessionRecord, tokens: Tokens) -> bool:
        """Store a rotated pair only if nobody else replaced the pair we refreshed from."""
        blob = self.seal_tokens(record.handle, tokens)
        swapped = await self._set_if_equal(
            keys=[self._keys.session(record.handle)],
            args=["tokens", record.tokens_blob or b"", blob],
        )
        if swapped:
            record.tokens, record.tokens_blob = tokens, blob
        return bool(swapped)

    @guarded
    async def save_case(self, record: SessionRecord, case: CaseOutcome) -> bool:
        handle = record.handle
        stored = await self._set_if_exists(
            keys=[self._keys.session(handle)],
            args=["case", self._seal(handle, "case", asdict(case))],
        )
        if stored:
            record.case = case
        return bool(stored)

    @guarded
    async def delete(self, record: SessionRecord) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.delete(self._keys.session(record.handle), self._keys.mfa_attempts(record.handle))
            if record.meta.customer_id:
                pipe.srem(self._keys.customer_sessions(record.meta.customer_id), record.handle)
            await pipe.execute()

    @guarded
    async def count_mfa_failure(self, handle: str) -> int:
        key = self._keys.mfa_attempts(handle)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self._idle)
            count, _ = await pipe.execute()
        return int(count)

    @guarded
    async def customer_session_handles(self, customer_id: str) -> set[str]:
        members = await self._redis.smembers(self._keys.customer_sessions(customer_id))
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}

    async def _index(self, meta: Meta, handle: str) -> None:
        """Remember the customer's sessions (sign out everywhere, callbacks after a lapse).
        The set lives as long as the longest session could; dead members are harmless."""
        if meta.customer_id is None:
            return
        key = self._keys.customer_sessions(meta.customer_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.sadd(key, handle)
            pipe.expire(key, self._absolute)
            await pipe.execute()

    def _ttl(self, meta: Meta) -> int:
        return max(1, min(self._idle, int(meta.absolute_expires_at - time.time())))

    # -- locks -------------------------------------------------------------------------------

    @guarded
    async def try_lock(self, key: str, *, seconds: float) -> str | None:
        """A lease lock (`SET NX PX`): the owner token, or None when someone else holds it."""
        owner = secrets.token_hex(16)
        taken = await self._redis.set(key, owner, nx=True, px=int(seconds * 1000))
        return owner if taken else None

    @guarded
    async def unlock(self, key: str, owner: str) -> None:
        await self._del_if_equal(keys=[key], args=[owner])

    @guarded
    async def is_locked(self, key: str) -> bool:
        return bool(await self._redis.exists(key))

    @guarded
    async def ping(self) -> bool:
        return bool(await self._redis.ping())
