"""Sign-in, SMS verification, the signed-in session and sign-out: the rules, not the HTTP."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from app.clock import Clock
from app.core.cases import CaseKeeper
from app.core.limits import LoginLimits
from app.core.tokens import CustomerClients
from app.errors import (
    GatewayError,
    MfaInvalid,
    MfaNotPending,
    NotAuthenticated,
    RateLimited,
    UpstreamRejected,
)
from app.insurup.calls import FixedToken
from app.insurup.client import InsurUpClient
from app.insurup.errors import InsurUpUnauthorized
from app.insurup.models import Customer, MfaChallenge, TokenPair
from app.store.crypto import Sealer
from app.store.keys import Keys
from app.store.locks import LeaseLocks, LeasePolicy, StillHeld
from app.store.sessions import (
    SessionInfo,
    SessionRecord,
    SessionStore,
    Tokens,
    Transport,
    handle_of,
    new_session_id,
)
from app.telemetry.metrics import LOGINS
from app.vocabulary import ConsentType, CustomerKind

log = logging.getLogger("app.session")


@dataclass(frozen=True, slots=True)
class SignInDetails:
    """Validated sign-in input (identity and phone already normalised)."""

    kind: CustomerKind
    identity_number: str
    phone_national: str
    birth_date: date | None
    consents: tuple[ConsentType, ...]


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


@dataclass(frozen=True, slots=True)
class SessionRules:
    idle_seconds: int
    absolute_seconds: int
    mfa_max_attempts: int
    # How long sign-in waits for the case step before answering without a case id.
    case_wait_seconds: float


class SessionService:
    def __init__(
        self,
        *,
        store: SessionStore,
        client: InsurUpClient,
        insurup: CustomerClients,
        cases: CaseKeeper,
        limits: LoginLimits,
        sealer: Sealer,
        keys: Keys,
        locks: LeaseLocks,
        leases: LeasePolicy,
        clock: Clock,
        rules: SessionRules,
    ) -> None:
        self._store = store
        self._client = client
        self._insurup = insurup
        self._cases = cases
        self._limits = limits
        self._sealer = sealer
        self._keys = keys
        self._locks = locks
        self._clock = clock
        self._rules = rules
        # Long enough for verify-mfa, the profile read with its retries and the case wait.
        self._mfa_lease = leases.lease(5, extra=rules.case_wait_seconds)

    async def start_login(
        self,
        *,
        details: SignInDetails,
        transport: Transport,
        client_ip: str,
        replacing: SessionRecord | None = None,
    ) -> Started:
        """Ask InsurUp to sign the customer in (and send the SMS), open a session for it."""
        identity = self._sealer.digest(details.identity_number)
        attempt = await self._limits.login(client_ip=client_ip, identity_digest=identity)
        answer = await self._client.login_or_register(
            kind=details.kind,
            identity_number=details.identity_number,
            phone_national=details.phone_national,
            birth_date=details.birth_date,
            consents=details.consents,
        )
        if replacing is not None:
            await self._store.delete(replacing)
        now = int(self._clock.now())
        info = SessionInfo(
            transport=transport,
            stage="mfa_pending",
            created_at=now,
            absolute_expires_at=now + self._rules.absolute_seconds,
            customer_kind=details.kind,
            customer_id=answer.customer_id,
        )
        session_id = new_session_id()
        record = SessionRecord(handle=handle_of(session_id), info=info)
        if isinstance(answer, MfaChallenge):
            await self._limits.sms_sent(identity_digest=identity)
            record.mfa_token = answer.token
            record.login_attempt = attempt
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
        await self._limits.signed_in(attempt)
        LOGINS.labels("login", "authenticated").inc()
        return Started(session_id=session_id, record=record)

    async def verify_mfa(self, *, record: SessionRecord, code: str, client_ip: str) -> Started:
        """Check the SMS code; returns the signed-in session under a new session id (the
        pending session's id stops working: a planted or overheard id gains nothing)."""
        if record.info.stage != "mfa_pending" or record.mfa_token is None:
            raise MfaNotPending()
        await self._limits.mfa(client_ip=client_ip)

        async def first_attempts_outcome() -> Started | None:
            # A double submit: InsurUp's MFA token is single use, so the first attempt runs
            # alone. Its success moves the session to a new id that only its own answer
            # carries; the others then find no pending sign-in (409) and the client keeps the
            # first answer's session. After a wrong code, ours is tried next.
            if await self._store.load(record.handle) is None:
                raise MfaNotPending("No sign-in is waiting any more; sign in again if needed")
            return None

        try:
            return await self._locks.run_once(
                self._keys.mfa_lock(record.handle),
                lease=self._mfa_lease,
                work=lambda: self._verify_once(record, code),
                settled=first_attempts_outcome,
            )
        except StillHeld as exc:
            raise MfaNotPending("Another attempt is still running; try again") from exc

    async def _verify_once(self, record: SessionRecord, code: str) -> Started:
        current = await self._store.load(record.handle)
        if current is None:
            raise MfaNotPending("No sign-in is waiting any more; sign in again if needed")
        if current.info.stage != "mfa_pending" or current.mfa_token is None:
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
        attempt = current.login_attempt
        session_id = new_session_id()
        await self._sign_in(current, pair, new_handle=handle_of(session_id))
        if attempt is not None:
            await self._limits.signed_in(attempt)
        LOGINS.labels("mfa", "authenticated").inc()
        return Started(session_id=session_id, record=current)

    async def _count_failure(self, record: SessionRecord) -> None:
        failures = await self._store.count_mfa_failure(record.handle)
        LOGINS.labels("mfa", "invalid").inc()
        if failures >= self._rules.mfa_max_attempts:
            await self._store.delete(record)
            raise RateLimited("Too many wrong codes; sign in again", retry_after=60)

    async def _sign_in(
        self, record: SessionRecord, pair: TokenPair, *, new_handle: str | None = None
    ) -> None:
        """Sign the session in with InsurUp's pair; with `new_handle`, under that handle."""
        tokens = Tokens(
            access=pair.access_token,
            refresh=pair.refresh_token,
            access_expires_at=pair.access_expires_at(now=self._clock.now()),
        )
        customer = await self._profile(record, pair)
        record.info.customer_id = customer.id if customer else record.info.customer_id
        if record.info.customer_id is None:
            raise NotAuthenticated("The customer could not be identified; sign in again")
        record.info.customer_name = short_name(customer.display_name) if customer else None
        if new_handle is None:
            stored = await self._store.authenticate(record, tokens)
        else:
            stored = await self._store.authenticate_as(record, tokens, handle=new_handle)
        if not stored:
            raise NotAuthenticated()
        await self._wait_for_case(record)

    async def _profile(self, record: SessionRecord, pair: TokenPair) -> Customer | None:
        try:
            return await self._client.bound(FixedToken(pair.access_token)).customer_me()
        except (UpstreamRejected, InsurUpUnauthorized):
            raise
        except GatewayError:
            # The id may already be known from the sign-in answers; the name can wait.
            if pair.customer_id or record.info.customer_id:
                record.info.customer_id = record.info.customer_id or pair.customer_id
                log.warning("customer profile unavailable at sign-in")
                return None
            raise

    async def _wait_for_case(self, record: SessionRecord) -> None:
        """Give the case step a moment so the answer can carry the case id; never fail on it."""
        task = self._cases.start(record)
        try:
            record.case = await asyncio.wait_for(
                asyncio.shield(task), self._rules.case_wait_seconds
            )
        except TimeoutError:
            log.info("case step still running after sign-in")
        except Exception as exc:  # the rule: the case step never fails a sign-in
            log.warning("case step failed at sign-in", extra={"error": type(exc).__name__})

    async def find(self, session_id: str | None) -> SessionRecord | None:
        return await self._store.find(session_id)

    def expires_at(self, record: SessionRecord) -> datetime:
        """When the session ends unless it is used again."""
        ends = record.expires_at(idle_seconds=self._rules.idle_seconds, now=self._clock.now())
        return datetime.fromtimestamp(ends, tz=UTC).replace(microsecond=0)

    def retry_case_if_missing(self, record: SessionRecord) -> None:
        self._cases.retry_if_missing(record)

    async def customer(self, record: SessionRecord) -> Customer:
        return await self._insurup.of(record).customer_me()

    async def logout(self, record: SessionRecord) -> None:
        await self._store.delete(record)
