"""The session store: sealed at rest, key rotation, expiry, no resurrection after logout."""

import base64
import secrets
import time

import pytest
import redis.asyncio as aioredis

from app.clock import SYSTEM_CLOCK
from app.store.crypto import Sealer, SealError
from app.store.keys import Keys
from app.store.sessions import (
    CaseOutcome,
    SessionInfo,
    SessionRecord,
    SessionStore,
    Tokens,
    handle_of,
    new_session_id,
)


def _key() -> bytes:
    return secrets.token_bytes(32)


def _store(
    redis_client: aioredis.Redis, prefix: str, keys: list[bytes], idle: int = 1800
) -> SessionStore:
    return SessionStore(
        redis_client,
        keys=Keys(prefix=prefix),
        sealer=Sealer(keys),
        idle_seconds=idle,
        absolute_seconds=43200,
        clock=SYSTEM_CLOCK,
    )


def _record(absolute_in: float = 3600) -> SessionRecord:
    now = int(time.time())  # the store keeps whole seconds
    return SessionRecord(
        handle=handle_of(new_session_id()),
        info=SessionInfo(
            transport="cookie",
            stage="authenticated",
            created_at=now,
            absolute_expires_at=now + absolute_in,
            customer_kind="individual",
            customer_id="c-1",
        ),
        tokens=Tokens(
            access="access-secret-1", refresh="refresh-secret-1", access_expires_at=now + 600
        ),
    )


def test_session_ids_carry_256_bits_and_only_their_hash_is_a_key() -> None:
    session_id = new_session_id()
    assert len(base64.urlsafe_b64decode(session_id + "=")) == 32
    assert session_id not in Keys().session(handle_of(session_id))


def test_a_blob_opens_only_for_its_own_context() -> None:
    sealer = Sealer([_key()])
    blob = sealer.seal(b"secret", context=b"a/tokens")
    assert sealer.open(blob, context=b"a/tokens") == b"secret"
    with pytest.raises(SealError):
        sealer.open(blob, context=b"b/tokens")


async def test_rotation_old_key_still_opens_new_key_seals(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    old, new = _key(), _key()
    record = _record()
    await _store(redis_client, prefix, [old]).create(record)
    rotated = _store(redis_client, prefix, [new, old])
    loaded = await rotated.load(record.handle)
    assert loaded is not None and loaded.tokens == record.tokens
    # A key no longer configured cannot open it: the session is treated as signed out.
    assert await _store(redis_client, prefix, [new]).load(record.handle) is None


async def test_tokens_are_not_in_redis_in_clear(redis_client: aioredis.Redis, prefix: str) -> None:
    record = _record()
    await _store(redis_client, prefix, [_key()]).create(record)
    dump = await redis_client.get(Keys(prefix=prefix).session(record.handle))
    assert isinstance(dump, bytes) and len(dump) > 40
    assert b"access-secret-1" not in dump and b"refresh-secret-1" not in dump and b"c-1" not in dump


async def test_idle_expiry_slides_and_never_passes_the_absolute_end(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = _store(redis_client, prefix, [_key()], idle=1800)
    key = Keys(prefix=prefix).session
    fresh = _record(absolute_in=7200)
    await store.create(fresh)
    await redis_client.expire(key(fresh.handle), 10)
    await store.load(fresh.handle)
    assert 1790 <= await redis_client.ttl(key(fresh.handle)) <= 1800

    ending = _record(absolute_in=100)
    await store.create(ending)
    await store.load(ending.handle)
    assert await redis_client.ttl(key(ending.handle)) <= 100


async def test_past_the_absolute_lifetime_the_session_is_gone(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = _store(redis_client, prefix, [_key()])
    record = _record(absolute_in=-1)
    await store.create(record)
    assert await store.load(record.handle) is None
    assert await redis_client.exists(Keys(prefix=prefix).session(record.handle)) == 0


async def test_late_writes_never_resurrect_a_deleted_session(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = _store(redis_client, prefix, [_key()])
    record = _record()
    await store.create(record)
    loaded = await store.load(record.handle)
    assert loaded is not None
    await store.delete(loaded)
    assert not await store.save_case(loaded, CaseOutcome(case_id="x", created=True))
    assert not await store.replace_tokens(loaded, Tokens("a", "r", time.time()))
    assert await redis_client.exists(Keys(prefix=prefix).session(record.handle)) == 0


async def test_token_compare_and_set_refuses_a_stale_pair(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = _store(redis_client, prefix, [_key()])
    await store.create(_record())
    record = _record()
    await store.create(record)
    first = await store.load(record.handle)
    second = await store.load(record.handle)
    assert first is not None and second is not None
    assert await store.replace_tokens(first, Tokens("a2", "r2", time.time() + 600))
    assert not await store.replace_tokens(second, Tokens("a3", "r3", time.time() + 600))
    final = await store.load(record.handle)
    assert final is not None and final.tokens is not None and final.tokens.access == "a2"


async def test_a_signed_in_session_fits_in_a_kilobyte(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    """With the production key prefix and a 700-character access token (InsurUp's JWT size
    is not documented; customer JWTs with a few claims are 600-800 characters)."""
    record = _record()
    record.info.customer_id = "8f89a1b6-5d1c-4c6e-9a55-0c3d2b1a0f11"
    record.info.customer_name = "Ada Y."
    jwt = "eyJ" + secrets.token_urlsafe(700)[:697]
    record.tokens = Tokens(jwt, secrets.token_urlsafe(48), int(time.time()) + 600)
    record.case = CaseOutcome(case_id="65f1c0ffee0ddba11ca5e001", created=True)
    await _store(redis_client, "bff:", [_key()]).create(record)
    key = Keys(prefix="bff:").session(record.handle)
    try:
        used = await redis_client.memory_usage(key)
    finally:
        await redis_client.delete(
            key, Keys(prefix="bff:").customer_sessions("8f89a1b6-5d1c-4c6e-9a55-0c3d2b1a0f11")
        )
    assert used is not None and used <= 1024, used


async def test_concurrent_case_and_token_writes_both_land(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    import asyncio

    store = _store(redis_client, prefix, [_key()])
    record = _record()
    await store.create(record)
    first = await store.load(record.handle)
    second = await store.load(record.handle)
    assert first is not None and second is not None
    fresh = Tokens("access-2", "refresh-2", int(time.time()) + 600)
    results = await asyncio.gather(
        store.replace_tokens(first, fresh),
        store.save_case(second, CaseOutcome(case_id="case-1", created=True)),
    )
    assert list(results) == [True, True]
    final = await store.load(record.handle)
    assert final is not None
    assert final.tokens == fresh
    assert final.case == CaseOutcome(case_id="case-1", created=True)
