"""Keeping a session's InsurUp access token fresh: refresh once, whoever asks, wherever.

Within a process, concurrent callers that hold the same stale pair share one in-flight
refresh task. Across replicas, a lease lock lets one replica call InsurUp; the others watch
the stored pair until it changes. InsurUp rotates refresh tokens, so two refreshes with one
token would burn the session: the new pair is stored by compare-and-set against the exact
pair we refreshed from.

`CustomerClients.of(record)` is how features reach InsurUp: a client bound to the session,
whose every call carries a fresh token and is retried once after a 401 with a renewed one.
"""

import asyncio
import logging
from typing import NoReturn

from app.clock import Clock
from app.errors import (
    NotAuthenticated,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.insurup.client import InsurUpClient
from app.insurup.errors import InsurUpUnauthorized, RefreshRejected
from app.store.keys import Keys
from app.store.locks import LeaseLocks, LeasePolicy, StillHeld
from app.store.sessions import SessionRecord, SessionStore, Tokens
from app.telemetry.metrics import TOKEN_REFRESHES

log = logging.getLogger("app.core.tokens")

Pair = tuple[Tokens, bytes]


class TokenKeeper:
    def __init__(
        self,
        *,
        store: SessionStore,
        client: InsurUpClient,
        keys: Keys,
        locks: LeaseLocks,
        leases: LeasePolicy,
        clock: Clock,
        refresh_margin: float,
    ) -> None:
        self._store = store
        self._client = client
        self._keys = keys
        self._locks = locks
        self._clock = clock
        self._margin = refresh_margin
        # The lease outlives one refresh call, so a slow InsurUp never lets a second replica in.
        self._lease = leases.lease(2)
        self._inflight: dict[tuple[str, bytes], asyncio.Future[Pair]] = {}

    async def access_token(self, record: SessionRecord) -> str:
        """The session's access token, refreshed first when it lapses within the margin."""
        tokens = record.tokens
        if tokens is None:
            raise NotAuthenticated()
        if tokens.access_expires_at - self._clock.now() > self._margin:
            return tokens.access
        try:
            await self.refresh(record)
        except (UpstreamTimeout, UpstreamUnavailable, UpstreamError):
            # InsurUp is unwell, not the session: while the old token lives, go on with it.
            if tokens.access_expires_at > self._clock.now():
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

    async def _refresh_across_replicas(self, record: SessionRecord) -> Pair:
        stale = record.tokens_tag

        async def rotate() -> Pair:
            current = await self._current(record)
            if current[1] != stale:
                return current
            return await self._rotate(record, current[0])

        async def newer() -> Pair | None:
            current = await self._current(record)
            if current[1] == stale:
                return None
            TOKEN_REFRESHES.labels("shared").inc()
            return current

        try:
            return await self._locks.run_once(
                self._keys.refresh_lock(record.handle),
                lease=self._lease,
                work=rotate,
                settled=newer,
            )
        except StillHeld as exc:
            raise UpstreamTimeout("The sign-in could not be renewed in time") from exc

    async def _current(self, record: SessionRecord) -> Pair:
        current = await self._store.load_tokens(record.handle)
        if current is None:
            raise NotAuthenticated()
        return current

    async def _rotate(self, record: SessionRecord, tokens: Tokens) -> Pair:
        if not tokens.refresh:
            await self._end(record, "no_refresh_token")
        try:
            pair = await self._client.refresh(
                refresh_token=tokens.refresh or "", access_token=tokens.access
            )
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
            access_expires_at=pair.access_expires_at(now=self._clock.now()),
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


class SessionCredential:
    """A customer's session as the credential of InsurUp calls."""

    def __init__(self, keeper: TokenKeeper, record: SessionRecord) -> None:
        self._keeper = keeper
        self._record = record

    async def token(self) -> str:
        return await self._keeper.access_token(self._record)

    async def renewed(self) -> str:
        await self._keeper.refresh(self._record)
        assert self._record.tokens is not None
        return self._record.tokens.access


class CustomerClients:
    """InsurUp clients bound to one customer's session (tokens refreshed inside)."""

    def __init__(self, client: InsurUpClient, tokens: TokenKeeper) -> None:
        self._client = client
        self._tokens = tokens

    def of(self, record: SessionRecord) -> InsurUpClient:
        return self._client.bound(SessionCredential(self._tokens, record))
