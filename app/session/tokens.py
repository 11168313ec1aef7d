"""Keeping a session's InsurUp access token fresh: refresh once, whoever asks, wherever.

Within a process, concurrent callers that hold the same stale pair share one in-flight
refresh task. Across replicas, a Redis lease lock lets one replica call InsurUp; the others
watch the stored pair until it changes. InsurUp rotates refresh tokens, so two refreshes
with one token would burn the session: the new pair is stored by compare-and-set against
the exact pair we refreshed from.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

from app.errors import (
    NotAuthenticated,
    SessionExpired,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.insurup.client import InsurUpClient
from app.insurup.errors import InsurUpUnauthorized, RefreshRejected
from app.ops.metrics import TOKEN_REFRESHES
from app.store.keys import Keys
from app.store.sessions import SessionRecord, SessionStore, Tokens

log = logging.getLogger("app.session.tokens")

T = TypeVar("T")

# Refresh this long before expiry so a token never lapses between our check and InsurUp's.
REFRESH_MARGIN_SECONDS = 60
_POLL_SECONDS = 0.05


class TokenKeeper:
    def __init__(
        self,
        *,
        store: SessionStore,
        client: InsurUpClient,
        keys: Keys,
        call_timeout: float,
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
    ) -> None:
        self._margin = refresh_margin
        self._store = store
        self._client = client
        self._keys = keys
        # The lease outlives one refresh call, so a slow InsurUp never lets a second replica in.
        self._lease = call_timeout * 2 + 5
        self._inflight: dict[tuple[str, bytes], asyncio.Future[tuple[Tokens, bytes]]] = {}

    async def call(self, record: SessionRecord, request: Callable[[str], Awaitable[T]]) -> T:
        """Run one InsurUp call with a fresh token; on a 401, refresh once and retry once."""
        token = await self.access_token(record)
        try:
            return await request(token)
        except InsurUpUnauthorized:
            await self.refresh(record)
            assert record.tokens is not None
            try:
                return await request(record.tokens.access)
            except InsurUpUnauthorized as exc:
                raise SessionExpired() from exc

    async def access_token(self, record: SessionRecord) -> str:
        tokens = record.tokens
        if tokens is None:
            raise NotAuthenticated()
        now = time.time()
        if tokens.access_expires_at - now > self._margin:
            return tokens.access
        try:
            await self.refresh(record)
        except (UpstreamTimeout, UpstreamUnavailable, UpstreamError):
            # InsurUp is unwell, not the session: while the old token lives, go on with it.
            if tokens.access_expires_at > time.time():
                return tokens.access
            raise
        assert record.tokens is not None
        return record.tokens.access

    async def refresh(self, record: SessionRecord) -> None:
        """Replace the record's pair with a newer one, refreshing only if nobody else did."""
        key = (record.handle, record.tokens_tag or b"")
        shared = self._inflight.get(key)
        if shared is None:
            shared = asyncio.ensure_future(self._refresh_across_replicas(record))
            self._inflight[key] = shared
            shared.add_done_callback(lambda _: self._inflight.pop(key, None))
        # Shielded: one caller's disconnect must not cancel the refresh the others wait on.
        tokens, tag = await asyncio.shield(shared)
        record.tokens, record.tokens_tag = tokens, tag

    async def _refresh_across_replicas(self, record: SessionRecord) -> tuple[Tokens, bytes]:
        lock = self._keys.refresh_lock(record.handle)
        stale = record.tokens_tag
        deadline = time.monotonic() + self._lease + 5
        while True:
            owner = await self._store.try_lock(lock, seconds=self._lease)
            if owner is not None:
                try:
                    current = await self._current(record)
                    if current[1] != stale:
                        return current
                    return await self._rotate(record, current[0])
                finally:
                    await self._store.unlock(lock, owner)
            await asyncio.sleep(_POLL_SECONDS)
            current = await self._current(record)
            if current[1] != stale:
                TOKEN_REFRESHES.labels("shared").inc()
                return current
            if time.monotonic() > deadline:
                raise UpstreamTimeout("The sign-in could not be renewed in time")

    async def _current(self, record: SessionRecord) -> tuple[Tokens, bytes]:
        current = await self._store.load_tokens(record.handle)
        if current is None:
            raise NotAuthenticated()
        return current

    async def _rotate(self, record: SessionRecord, tokens: Tokens) -> tuple[Tokens, bytes]:
        if not tokens.refresh:
            await self._end(record, "no_refresh_token")
        try:
            pair = await self._client.refresh(refresh_token=tokens.refresh or "")
        except (InsurUpUnauthorized, UpstreamRejected) as exc:
            if isinstance(exc, UpstreamRejected) and exc.status != 422:
                raise
            # Refused: unless another replica stored a newer pair meanwhile (a lease that
            # lapsed under a slow call), the session is over.
            current = await self._current(record)
            if current[1] != record.tokens_tag:
                return current
            await self._end(record, "rejected")
        except Exception:
            TOKEN_REFRESHES.labels("failed").inc()
            raise
        rotated = Tokens(
            access=pair.access_token,
            # InsurUp rotates the refresh token; keep the old one only if none came back.
            refresh=pair.refresh_token or tokens.refresh,
            access_expires_at=pair.access_expires_at(),
        )
        if not await self._store.replace_tokens(record, rotated):
            # Someone replaced the pair under us (or the session ended): theirs stands.
            TOKEN_REFRESHES.labels("lost_race").inc()
            return await self._current(record)
        TOKEN_REFRESHES.labels("ok").inc()
        assert record.tokens_tag is not None
        return rotated, record.tokens_tag

    async def _end(self, record: SessionRecord, reason: str) -> NoReturn:
        TOKEN_REFRESHES.labels(reason).inc()
        log.info("session ended: refresh refused", extra={"reason": reason})
        await self._store.delete(record)
        raise RefreshRejected()
