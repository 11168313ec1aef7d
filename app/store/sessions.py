"""Sessions in Redis: one string per session, compressed and sealed.

The value is an 8-byte version tag followed by the sealed record (who, how, lifetimes, the
InsurUp token pair, a pending MFA token, the sale-opportunity outcome). One string keeps a
session under a kilobyte and is read with one command. Every write is a compare-and-set on
the version tag (a small Lua script): a token refresh and the case step writing at the same
time re-read and merge instead of overwriting each other, a rotated token pair replaces only
the pair it was refreshed from, and nothing resurrects a session that was deleted.
"""

import base64
import hashlib
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import orjson
import redis.asyncio as aioredis

from app.clock import Clock
from app.errors import NotAuthenticated
from app.store.connection import guarded
from app.store.crypto import Sealer, SealError
from app.store.keys import Keys

Transport = Literal["cookie", "bearer"]
Stage = Literal["mfa_pending", "authenticated"]

_TAG = 8
_FORMAT = 1  # bump when the layout below changes; older records then read as signed out
_SET_IF_VERSION = """
local current = redis.call('GET', KEYS[1])
if not current or string.sub(current, 1, 8) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
"""
# Delete a pending session (and its strike count) only if it is still the version read.
_DEL_IF_VERSION = """
local current = redis.call('GET', KEYS[1])
if not current or string.sub(current, 1, 8) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
"""
# A record changed under a writer this many times in a row is contended beyond reason.
_MAX_MERGES = 8


def new_session_id() -> str:
    """An opaque id of 256 random bits; only its hash is ever stored."""
    return secrets.token_urlsafe(32)


def handle_of(session_id: str) -> str:
    """What Redis knows of a session id: its SHA-256, URL-safe base64 (shorter than hex)."""
    digest = hashlib.sha256(session_id.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(slots=True)
class SessionInfo:
    """Who signed in, how, and how long the session may live."""

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
    info: SessionInfo
    tokens: Tokens | None = None
    mfa_token: str | None = None
    case: CaseOutcome | None = None
    # While the SMS code is pending: the sign-in attempt's rate-limit key, cleared on success.
    login_attempt: str | None = None
    # Identifies the token pair as read: a refresh replaces only the pair it started from.
    tokens_tag: bytes | None = field(default=None, repr=False)

    @property
    def customer_id(self) -> str:
        """The signed-in customer; only signed-in sessions reach the code that asks."""
        if self.info.customer_id is None:
            raise NotAuthenticated()
        return self.info.customer_id

    def expires_at(self, *, idle_seconds: int, now: float) -> float:
        return min(now + idle_seconds, self.info.absolute_expires_at)


class SessionStore:
    def __init__(
        self,
        redis: "aioredis.Redis",
        *,
        keys: Keys,
        sealer: Sealer,
        idle_seconds: int,
        absolute_seconds: int,
        clock: Clock,
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._absolute = absolute_seconds
        self._keys = keys
        self._sealer = sealer
        self._idle = idle_seconds
        self._set_if_version = redis.register_script(_SET_IF_VERSION)
        self._del_if_version = redis.register_script(_DEL_IF_VERSION)

    # -- encoding --------------------------------------------------------------------------------

    def _encode(self, record: SessionRecord) -> bytes:
        # Positional, not keyed: field names would be a tenth of a session's size.
        info, tokens, case = record.info, record.tokens, record.case
        body = [
            _FORMAT,
            [info.transport, info.stage, int(info.created_at), int(info.absolute_expires_at)],
            [info.customer_kind, info.customer_id, info.customer_name],
            # Whole seconds: refreshing a minute early absorbs the rest.
            [tokens.access, tokens.refresh, int(tokens.access_expires_at)] if tokens else None,
            record.mfa_token,
            [case.case_id, case.created] if case else None,
        ]
        if record.login_attempt is not None:
            # Only pending sessions carry it; signed-in ones keep the shorter layout.
            body.append(record.login_attempt)
        packed = zlib.compress(orjson.dumps(body), 9)
        return secrets.token_bytes(_TAG) + self._sealer.seal(packed, context=record.handle.encode())

    def _decode(self, handle: str, raw: bytes) -> tuple[SessionRecord, bytes]:
        packed = self._sealer.open(raw[_TAG:], context=handle.encode())
        version, times, who, pair, mfa, case, *pending = orjson.loads(zlib.decompress(packed))
        if version != _FORMAT:
            raise ValueError("unknown session format")
        tokens = Tokens(*pair) if pair else None
        record = SessionRecord(
            handle=handle,
            info=SessionInfo(times[0], times[1], times[2], times[3], *who),
            tokens=tokens,
            mfa_token=mfa,
            case=CaseOutcome(*case) if case else None,
            login_attempt=pending[0] if pending else None,
            tokens_tag=_tag_of(tokens),
        )
        return record, raw[:_TAG]

    async def _read(self, handle: str) -> tuple[SessionRecord, bytes] | None:
        raw = await self._redis.get(self._keys.session(handle))
        if not isinstance(raw, bytes):
            return None
        try:
            return self._decode(handle, raw)
        except (SealError, KeyError, TypeError, ValueError, zlib.error):
            return None

    async def _merge(
        self, handle: str, change: Callable[[SessionRecord], SessionRecord | None]
    ) -> SessionRecord | None:
        """Read, change and compare-and-set, again while others write in between. `change`
        returns None to give up; the result is the record as stored, or None."""
        for _ in range(_MAX_MERGES):
            current = await self._read(handle)
            if current is None:
                return None
            record, version = current
            changed = change(record)
            if changed is None:
                return None
            if await self._set_if_version(
                keys=[self._keys.session(handle)], args=[version, self._encode(changed)]
            ):
                changed.tokens_tag = _tag_of(changed.tokens)
                return changed
        return None

    # -- sessions ----------------------------------------------------------------------------

    @guarded
    async def create(self, record: SessionRecord) -> None:
        key = self._keys.session(record.handle)
        await self._redis.set(key, self._encode(record), ex=self._ttl(record.info))
        record.tokens_tag = _tag_of(record.tokens)
        await self._index(record.info, record.handle)

    async def find(self, session_id: str | None) -> SessionRecord | None:
        """The session a client presents, by its id (never stored: only its hash is)."""
        if not session_id or len(session_id) > 128:
            return None
        return await self.load(handle_of(session_id))

    @guarded
    async def load(self, handle: str) -> SessionRecord | None:
        """Read a session and slide its idle expiry: one command (GETEX), one round trip."""
        key = self._keys.session(handle)
        # The command itself: redis-py's `getex` checks its five optional arguments on every
        # call, a cost the hot read path (one session read per request) does not need.
        raw = await self._redis.execute_command("GETEX", key, "EX", self._idle)  # type: ignore[no-untyped-call]
        if not isinstance(raw, bytes):
            return None
        try:
            record, _ = self._decode(handle, raw)
        except (SealError, KeyError, TypeError, ValueError, zlib.error):
            # Sealed by a key we no longer have, or damaged: treat as signed out.
            await self._redis.delete(key)
            return None
        left = record.info.absolute_expires_at - self._clock.now()
        if left <= 0:
            await self.delete(record)
            return None
        if left < self._idle:
            await self._redis.expire(key, max(1, int(left)))
        return record

    @guarded
    async def load_tokens(self, handle: str) -> tuple[Tokens, bytes] | None:
        """The stored pair and its tag, without touching expiry (refresh waits)."""
        current = await self._read(handle)
        if current is None or current[0].tokens is None:
            return None
        record = current[0]
        assert record.tokens is not None and record.tokens_tag is not None
        return record.tokens, record.tokens_tag

    @guarded
    async def load_case(self, handle: str) -> CaseOutcome | None:
        current = await self._read(handle)
        return None if current is None else current[0].case

    @guarded
    async def authenticate(self, record: SessionRecord, tokens: Tokens) -> bool:
        """Turn a pending session into a signed-in one; False if it is gone meanwhile."""
        info = replace(record.info, stage="authenticated")

        def signed_in(current: SessionRecord) -> SessionRecord:
            return replace(current, info=info, tokens=tokens, mfa_token=None, login_attempt=None)

        stored = await self._merge(record.handle, signed_in)
        if stored is None:
            return False
        record.info, record.tokens, record.mfa_token = stored.info, tokens, None
        record.tokens_tag = stored.tokens_tag
        await self._index(record.info, record.handle)
        return True

    @guarded
    async def authenticate_as(self, record: SessionRecord, tokens: Tokens, *, handle: str) -> bool:
        """Turn a pending session into a signed-in one under a new handle (the SMS step issues
        a new session id, so whoever knew the old one learns nothing of the new). Two keys in
        two slots, in this order: write the new record (`SET NX`), then delete the old one
        only if it is still the version read; if it changed or went meanwhile (signed out,
        moved by another attempt) the new one is dropped. One session results, or none: then
        False. On success `record` is the new session."""
        current = await self._read(record.handle)
        if current is None or current[0].info.stage != "mfa_pending":
            return False
        pending, version = current
        old_handle = record.handle
        info = replace(record.info, stage="authenticated")
        moved = SessionRecord(handle=handle, info=info, tokens=tokens, case=pending.case)
        new_key = self._keys.session(handle)
        if not await self._redis.set(new_key, self._encode(moved), ex=self._ttl(info), nx=True):
            return False
        old_keys = [self._keys.session(old_handle), self._keys.mfa_attempts(old_handle)]
        if not await self._del_if_version(keys=old_keys, args=[version]):
            await self._redis.delete(new_key)
            return False
        record.handle, record.info, record.tokens = handle, info, tokens
        record.mfa_token, record.login_attempt, record.case = None, None, pending.case
        record.tokens_tag = _tag_of(tokens)
        await self._index(info, handle)
        if info.customer_id:
            await self._redis.srem(self._keys.customer_sessions(info.customer_id), old_handle)
        return True

    @guarded
    async def replace_tokens(self, record: SessionRecord, tokens: Tokens) -> bool:
        """Store a rotated pair only if nobody else replaced the pair we refreshed from."""
        expected = record.tokens_tag

        def rotated(current: SessionRecord) -> SessionRecord | None:
            if current.tokens_tag != expected:
                return None
            return replace(current, tokens=tokens)

        stored = await self._merge(record.handle, rotated)
        if stored is None:
            return False
        record.tokens, record.tokens_tag = tokens, stored.tokens_tag
        return True

    @guarded
    async def save_case(self, record: SessionRecord, case: CaseOutcome) -> bool:
        stored = await self._merge(record.handle, lambda current: replace(current, case=case))
        if stored is not None:
            record.case = case
        return stored is not None

    @guarded
    async def delete(self, record: SessionRecord) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.delete(self._keys.session(record.handle), self._keys.mfa_attempts(record.handle))
            if record.info.customer_id:
                pipe.srem(self._keys.customer_sessions(record.info.customer_id), record.handle)
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

    async def _index(self, info: SessionInfo, handle: str) -> None:
        """Remember the customer's sessions (sign out everywhere, callbacks after a lapse).
        The set lives as long as the longest session could; dead members are harmless."""
        if info.customer_id is None:
            return
        key = self._keys.customer_sessions(info.customer_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.sadd(key, handle)
            pipe.expire(key, self._absolute)
            await pipe.execute()

    def _ttl(self, info: SessionInfo) -> int:
        return max(1, min(self._idle, int(info.absolute_expires_at - self._clock.now())))

    @guarded
    async def ping(self) -> bool:
        return bool(await self._redis.ping())


def _tag_of(tokens: Tokens | None) -> bytes | None:
    """A short digest of a token pair: equal pairs, equal tags."""
    if tokens is None:
        return None
    return hashlib.sha256(f"{tokens.access}\n{tokens.refresh}".encode()).digest()[:16]
