"""Idempotency records: a request with the same key and body is answered once, replayed after.

A record is born `pending` with a short lease (a replica that dies mid-request frees the key
when the lease ends), and becomes `done` with the answer, kept 24 hours. Keys are scoped to
the customer. Only what the answer contains is stored: never the request body.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis

from app.errors import IdempotencyKeyReused, RequestInProgress
from app.store.connection import guarded
from app.store.keys import Keys

KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    body: dict[str, Any]


def fingerprint(payload: object) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


class IdempotencyStore:
    def __init__(self, redis: "aioredis.Redis", *, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    def _key(self, owner: str, scope: str, key: str) -> str:
        # The client's key is hashed: it is free text we do not want in key names.
        return self._keys.idempotency(owner, scope, hashlib.sha256(key.encode()).hexdigest())

    @guarded
    async def begin(
        self, *, owner: str, scope: str, key: str, fingerprint: str, lease_seconds: int
    ) -> Replay | None:
        """None: go ahead (the key is now ours). A `Replay`: answer with it. Raises on misuse."""
        name = self._key(owner, scope, key)
        pending = orjson.dumps({"state": "pending", "fp": fingerprint})
        if await self._redis.set(name, pending, nx=True, ex=lease_seconds):
            return None
        raw = await self._redis.get(name)
        if raw is None:  # expired between the two calls: take it now
            taken = await self._redis.set(name, pending, nx=True, ex=lease_seconds)
            if taken:
                return None
            raise RequestInProgress()
        record = orjson.loads(raw)
        if record.get("fp") != fingerprint:
            raise IdempotencyKeyReused()
        if record.get("state") != "done":
            raise RequestInProgress()
        return Replay(status=int(record["status"]), body=dict(record["body"]))

    @guarded
    async def complete(
        self,
        *,
        owner: str,
        scope: str,
        key: str,
        fingerprint: str,
        status: int,
        body: dict[str, Any],
    ) -> None:
        record = {"state": "done", "fp": fingerprint, "status": status, "body": body}
        await self._redis.set(self._key(owner, scope, key), orjson.dumps(record), ex=KEEP_SECONDS)

    @guarded
    async def abandon(self, *, owner: str, scope: str, key: str) -> None:
        """The request failed before doing anything lasting: let the client try the key again."""
        await self._redis.delete(self._key(owner, scope, key))
