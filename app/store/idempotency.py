"""Idempotency records: a request with the same key and body is answered once, replayed after.

A record is born `pending` with a short lease (a replica that dies mid-request frees the key
when the lease ends), and becomes `done` with the answer, kept 24 hours. Keys are scoped to
the customer. Only what the answer contains is stored: never the request body.
"""

import contextlib
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from pydantic import BaseModel

from app.errors import IdempotencyKeyReused, RequestInProgress, StoreUnavailable
from app.store.connection import DEL_IF_EQUAL, guarded
from app.store.keys import Keys

KEEP_SECONDS = 24 * 3600

Answer = TypeVar("Answer", bound=BaseModel)


def fingerprint(payload: object) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


class IdempotencyStore:
    def __init__(self, redis: "aioredis.Redis", *, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._del_if_equal = redis.register_script(DEL_IF_EQUAL)

    async def once(
        self,
        *,
        owner: str,
        scope: str,
        key: str,
        fingerprint: str,
        lease_seconds: float,
        run: Callable[[], Awaitable[Answer]],
        answer: type[Answer],
    ) -> Answer:
        """`run` once per key: a repeat with the same body gets the first answer again, one
        with another body `422`, one while the first still runs `409`. A failed `run` frees
        the key for another try."""
        name = self._name(owner, scope, key)
        # This attempt's own pending record (unique): only it may be taken back.
        pending = orjson.dumps({"state": "pending", "fp": fingerprint, "attempt": _attempt()})
        try:
            replay = await self._begin(
                name, pending, fingerprint, lease_seconds=max(1, int(lease_seconds))
            )
        except StoreUnavailable:
            # The record may be on the master although it was not acknowledged (too few
            # replicas confirmed it): take it back, or a retry would wait out the lease.
            await self._abandon_quietly(name, pending)
            raise
        if replay is not None:
            return answer.model_validate(replay)
        try:
            result = await run()
        except BaseException:
            await self._abandon(name, pending)
            raise
        await self._complete(name, fingerprint, result.model_dump(by_alias=True))
        return result

    def _name(self, owner: str, scope: str, key: str) -> str:
        # The client's key is hashed: it is free text we do not want in key names.
        return self._keys.idempotency(owner, scope, hashlib.sha256(key.encode()).hexdigest())

    @guarded
    async def _begin(
        self, name: str, pending: bytes, fingerprint: str, *, lease_seconds: int
    ) -> dict[str, Any] | None:
        """None: go ahead (the key is now ours); else the stored answer. Raises on misuse."""
        if await self._redis.set(name, pending, nx=True, ex=lease_seconds):
            return None
        raw = await self._redis.get(name)
        if raw is None:  # expired between the two calls: take it now
            if await self._redis.set(name, pending, nx=True, ex=lease_seconds):
                return None
            raise RequestInProgress()
        record = orjson.loads(raw)
        if record.get("fp") != fingerprint:
            raise IdempotencyKeyReused()
        if record.get("state") != "done":
            raise RequestInProgress()
        return dict(record["body"])

    @guarded
    async def _complete(self, name: str, fingerprint: str, body: dict[str, Any]) -> None:
        record = {"state": "done", "fp": fingerprint, "body": body}
        await self._redis.set(name, orjson.dumps(record), ex=KEEP_SECONDS)

    @guarded
    async def _abandon(self, name: str, pending: bytes) -> None:
        """The request failed before doing anything lasting: let the client try the key again.
        Only this attempt's record: one that outlived its lease may belong to another by now."""
        await self._del_if_equal(keys=[name], args=[pending])

    async def _abandon_quietly(self, name: str, pending: bytes) -> None:
        with contextlib.suppress(StoreUnavailable):  # if not, the lease ends it
            await self._abandon(name, pending)


def _attempt() -> str:
    return secrets.token_hex(8)
