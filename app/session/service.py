"""Sign-in, SMS verification, the signed-in session and sign-out: the rules, not the HTTP."""

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import date

from app.errors import (
    GatewayError,
    MfaInvalid,
    MfaNotPending,
    NotAuthenticated,
    RateLimited,
    UpstreamRejected,
)
from app.insurup.client import InsurUpClient
from app.insurup.errors import InsurUpUnauthorized
from app.insurup.models import Customer, CustomerKind, LoginRequest, MfaChallenge, TokenPair
from app.ops.metrics import LOGINS
from app.session.case import CaseKeeper
from app.session.limits import LoginLimits
from app.session.tokens import TokenKeeper
from app.store.crypto import Sealer
from app.store.keys import Keys
from app.store.sessions import (
    Meta,
    SessionRecord,
    SessionStore,
    Tokens,
    Transport,
    handle_of,
    new_session_id,
)

log = logging.getLogger("app.session")

_POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class LoginForm:
    """Validated sign-in input (identity and phone already normalised)."""

    kind: CustomerKind
    identity_number: str
    phone_national: str
    birth_date: date | None


@dataclass(frozen=True, slots=True)
class Started:
    session_id: str
    record: SessionRecord


def short_name(full_name: str | None) -> str | None:
    """`Ada Yılmaz` -> `Ada Y.`: enough to greet, little to leak."""
    if not full_name:
        return None
    parts = full_name.split()
    if len(parts) == 1:
        return parts[0]
    return " ".join(parts[:-1]) + f" {parts[-1][0]}."


class SessionService:
    def __init__(
        self,
        *,
        store: SessionStore,
        client: InsurUpClient,
        tokens: TokenKeeper,
        cases: CaseKeeper,
        limits: LoginLimits,
        sealer: Sealer,
        absolute_seconds: int,
        mfa_max_attempts: int,
        case_wait_seconds: float,
        keys: Keys,
        call_timeout: float,
    ) -> None:
        self._keys = keys
        # Long enough for verify-mfa, the profile read with its retries and the case wait.
        self._lock_seconds = call_timeout * 5 + case_wait_seconds + 5
        self._store = store
        self._client = client
        self._tokens = tokens
        self._cases = cases
        self._limits = limits
        self._sealer = sealer
        self._absolute = absolute_seconds
        self._mfa_max = mfa_max_attempts
        self._case_wait = case_wait_seconds

    async def start_login(
        self,
        *,
        form: LoginForm,
        transport: Transport,
        client_ip: str,
        replacing: SessionRecord | None = None,
    ) -> Started:
        """Ask InsurUp to sign the customer in (and send the SMS), open a session for it."""
        await self._limits.login(
            client_ip=client_ip, identity_digest=self._sealer.digest(form.identity_number)
        )
        answer = await self._client.login_or_register(
            LoginRequest(
                kind=form.kind,
                identity_number=form.identity_number,
                phone_national=form.phone_national,
                birth_date=form.birth_date,
                agent_id=self._client.agent_id,
                agent_branch_id=self._client.agent_branch_id,
            )
        )
        if replacing is not None:
            await self._store.delete(replacing)
        now = int(time.time())
        meta = Meta(
            transport=transport,
            stage="mfa_pending",
            created_at=now,
            absolute_expires_at=now + self._absolute,
            customer_kind=form.kind,
            customer_id=answer.customer_id,
        )
        session_id = new_session_id()
        record = SessionRecord(handle=handle_of(session_id), meta=meta)
        if isinstance(answer, MfaChallenge):
            record.mfa_token = answer.token
            await self._store.create(record)
            LOGINS.labels("login", "mfa_required").inc()
            return Started(session_id=session_id, record=record)
        await self._store.create(record)
        try:
            await self._sign_in(record, answer)
        except BaseException:
            # Half a sign-in is no session: nothing is left behind for the next request.
            await self._store.delete(record)
            raise
        LOGINS.labels("login", "authenticated").inc()
        return Started(session_id=session_id, record=record)

    async def verify_mfa(
        self, *, record: SessionRecord, code: str, client_ip: str
    ) -> SessionRecord:
        """Check the SMS code; returns the signed-in session."""
        if record.meta.stage != "mfa_pending" or record.mfa_token is None:
            raise MfaNotPending()
        await self._limits.mfa(client_ip=client_ip)
        lock = self._keys.mfa_lock(record.handle)
        for _ in range(2):
            owner = await self._store.try_lock(lock, seconds=self._lock_seconds)
            if owner is not None:
                try:
                    return await self._verify_once(record, code)
                finally:
                    await self._store.unlock(lock, owner)
            # A double submit: InsurUp's MFA token is single use, so let the first attempt
            # finish and answer with its outcome instead of burning the token twice.
            settled = await self._after_other_attempt(record.handle, lock)
            if settled is None:
                raise MfaNotPending("The sign-in has ended; sign in again")
            if settled.meta.stage == "authenticated":
                return settled
            record = settled
        raise MfaNotPending("Another attempt is still running; try again")

    async def _after_other_attempt(self, handle: str, lock: str) -> SessionRecord | None:
        # Another replica holds the lock, so no local event can tell us when it is done: poll,
        # boundedly (the lease expires on its own if that replica died).
        for _ in range(int(self._lock_seconds / _POLL_SECONDS)):
            if not await self._store.is_locked(lock):
                break
            await asyncio.sleep(_POLL_SECONDS)
        return await self._store.load(handle)

    async def _verify_once(self, record: SessionRecord, code: str) -> SessionRecord:
        current = await self._store.load(record.handle)
        if current is None:
            raise MfaNotPending("The sign-in has ended; sign in again")
        if current.meta.stage == "authenticated":
            return current
        if current.mfa_token is None:
            raise MfaNotPending()
        try:
            pair = await self._client.verify_mfa(mfa_token=current.mfa_token, code=code)
        except UpstreamRejected as exc:
            await self._count_failure(current)
            raise MfaInvalid() from exc
        except InsurUpUnauthorized as exc:
            # InsurUp no longer knows the MFA token (expired): start again.
            await self._store.delete(current)
            LOGINS.labels("mfa", "expired").inc()
            raise MfaNotPending("The SMS code has expired; sign in again") from exc
        await self._sign_in(current, pair)
        LOGINS.labels("mfa", "authenticated").inc()
        return current

    async def _count_failure(self, record: SessionRecord) -> None:
        failures = await self._store.count_mfa_failure(record.handle)
        LOGINS.labels("mfa", "invalid").inc()
        if failures >= self._mfa_max:
            await self._store.delete(record)
            raise RateLimited("Too many wrong codes; sign in again", retry_after=60)

    async def _sign_in(self, record: SessionRecord, pair: TokenPair) -> None:
        tokens = Tokens(
            access=pair.access_token,
            refresh=pair.refresh_token,
            access_expires_at=pair.access_expires_at(),
        )
        customer = await self._profile(record, pair)
        record.meta.customer_id = customer.id if customer else record.meta.customer_id
        if record.meta.customer_id is None:
            raise NotAuthenticated("The customer could not be identified; sign in again")
        record.meta.customer_name = short_name(customer.display_name) if customer else None
        if not await self._store.authenticate(record, tokens):
            raise NotAuthenticated()
        await self._wait_for_case(record)

    async def _profile(self, record: SessionRecord, pair: TokenPair) -> Customer | None:
        try:
            return await self._client.customer_me(token=pair.access_token)
        except (UpstreamRejected, InsurUpUnauthorized):
            raise
        except GatewayError:
            # The id may already be known from the sign-in answers; the name can wait.
            if pair.customer_id or record.meta.customer_id:
                record.meta.customer_id = record.meta.customer_id or pair.customer_id
                log.warning("customer profile unavailable at sign-in")
                return None
            raise

    async def _wait_for_case(self, record: SessionRecord) -> None:
        """Give the case step a moment so the answer can carry the case id; never fail on it."""
        task = self._cases.start(record)
        try:
            record.case = await asyncio.wait_for(asyncio.shield(task), self._case_wait)
        except TimeoutError:
            log.info("case step still running after sign-in")
        except Exception as exc:  # the rule: the case step never fails a sign-in
            log.warning("case step failed at sign-in", extra={"error": type(exc).__name__})

    async def resolve(self, session_id: str | None) -> SessionRecord | None:
        if not session_id or len(session_id) > 128:
            return None
        return await self._store.load(handle_of(session_id))

    def follow_up(self, record: SessionRecord) -> None:
        """On any signed-in call: retry a case step that has not succeeded yet, in the back."""
        if record.meta.stage == "authenticated" and record.case is None:
            self._cases.start(record)

    async def customer(self, record: SessionRecord) -> Customer:
        return await self._tokens.call(record, lambda t: self._client.customer_me(token=t))

    async def logout(self, record: SessionRecord) -> None:
        await self._store.delete(record)
