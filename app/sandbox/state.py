"""The in-memory world of one simulator instance: customers, tokens, cases, vehicles,
proposals, payment sessions, policies, counters.

Concurrency: every method is synchronous and runs under one re-entrant lock, and no
method awaits. On an event loop that makes each call atomic (e.g. two concurrent
refreshes with the same token: exactly one wins); the lock also makes it safe to poke
the state from another thread (Starlette's TestClient runs the app in a portal thread).
"""

import itertools
import os
import random
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .config import SandboxConfig
from .enums import (
    AssetType,
    CaseMainState,
    CaseStatus,
    CaseSubState,
    CaseType,
    Channel,
    ConsentType,
    CustomerKind,
    ProductBranch,
    SaleOpportunitySubType,
)
from .identity import customer_id_for, fake_company_title, fake_full_name
from .records import PaymentSession, Policy, Proposal, ProposalProduct, Vehicle
from .tokens import PROCESS_SECRET, decode_jwt, encode_jwt, opaque_token
from .webhooks import WebhookAttempt, WebhookDispatcher

SERVICE_SCOPE = "core-api"
"""The one scope service accounts ask for (reference 9.3)."""


def iso_datetime(epoch: float) -> str:
    """ISO-8601 UTC with milliseconds and a `Z`, as .NET serialises a DateTime."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class PhoneNumber:
    country_code: int
    number: str

    def to_json(self) -> dict[str, object]:
        return {"countryCode": self.country_code, "number": self.number}


@dataclass
class Customer:
    id: str
    kind: CustomerKind
    phone: PhoneNumber
    agent_id: str
    created_at: float
    identity_number: str | None = None
    tax_number: str | None = None
    full_name: str | None = None
    title: str | None = None
    birth_date: str | None = None
    agent_branch_id: str | None = None
    creation_channel: Channel = Channel.WEBSITE
    consents: list[ConsentType] = field(default_factory=list)

    @property
    def number(self) -> str:
        """The identity or tax number that identifies the customer at login."""
        number = self.tax_number if self.kind is CustomerKind.COMPANY else self.identity_number
        assert number is not None
        return number


@dataclass
class Case:
    id: str
    ref: str
    customer_id: str
    product_branch: ProductBranch
    created_at: float
    type: CaseType = CaseType.SALE_OPPORTUNITY
    status: CaseStatus = CaseStatus.OPEN
    main_state: CaseMainState = CaseMainState.OPEN
    sub_state: CaseSubState = CaseSubState.OPEN_INITIAL
    channel: Channel = Channel.UNKNOWN
    asset_type: AssetType | None = None
    asset_id: str | None = None
    agent_branch_id: str | None = None
    sale_opportunity_sub_type: SaleOpportunitySubType | None = SaleOpportunitySubType.NEW_SALE


@dataclass(frozen=True)
class Grant:
    """An issued MFA / refresh / access token (access tokens are keyed by `jti`)."""

    key: str
    customer_id: str
    expires_at: float
    paired_jti: str | None = None
    """Refresh tokens: the `jti` of the access token issued together with it."""


@dataclass(frozen=True)
class ServiceAccount:
    """The caller behind a service-account (client credentials) access token: agency
    scope, any customer's data, no customer of its own."""

    client_id: str
    jti: str
    expires_at: float


@dataclass(frozen=True)
class TokenPair:
    customer_id: str
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass
class FaultKnobs:
    """Runtime-mutable fault settings, initialised from the config (see faults.py)."""

    latency_seconds: dict[str, float] = field(default_factory=dict)
    error_rate: dict[str, float] = field(default_factory=dict)
    timeout: set[str] = field(default_factory=set)
    fail_next: Counter[str] = field(default_factory=Counter)
    """Operation -> how many upcoming calls fail with an injected 503 (deterministic)."""

    @classmethod
    def from_config(cls, config: SandboxConfig) -> "FaultKnobs":
        return cls(
            latency_seconds=dict(config.latency_seconds),
            error_rate=dict(config.error_rate),
            timeout=set(config.timeout),
        )

    def clear(self) -> None:
        self.latency_seconds.clear()
        self.error_rate.clear()
        self.timeout.clear()
        self.fail_next.clear()


class TokenRejectedError(Exception):
    """An access token that is malformed, forged, unknown or expired."""


class RefreshRejectedError(Exception):
    """A refresh call that must be refused (401); the message says why."""


class SandboxState:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.secret = config.jwt_secret or PROCESS_SECRET
        self.faults = FaultKnobs.from_config(config)
        self.random = random.Random(config.random_seed)  # noqa: S311 - fault draws, not crypto

        self.customers: dict[str, Customer] = {}
        self.cases: dict[str, Case] = {}

        # counters for tests
        self.calls: Counter[str] = Counter()
        """Operation name -> requests that reached it (faulted ones included)."""
        self.injected_faults: Counter[str] = Counter()
        """Operation name -> injected errors and timeouts."""
        self.logins: Counter[str] = Counter()
        """Customer id -> successful login-or-register calls."""
        self.case_creations: Counter[str] = Counter()
        """Customer id -> cases created through `cases:new-sale-opportunity`."""
        self.consents: dict[str, set[str]] = {}
        """Customer id -> consent types (`KVKK`, `ETK`) approved through login-or-register
        (union over the customer's logins; an entry exists after any successful login)."""
        self.graphql_errors: Counter[str] = Counter()
        """GraphQL `extensions.code` (`BAD_REQUEST`, `UNAUTHORIZED`, `FORBIDDEN`, `HC0020`)
        -> error answers."""
        self.redirects: Counter[str] = Counter()
        """Requested path (`/api/customers/me`, no query) -> `/api` redirects answered."""
        self.service_tokens_issued: Counter[str] = Counter()
        """Service-account client id -> access tokens issued by `POST /connect/token`."""
        self.service_calls: Counter[str] = Counter()
        """Operation -> calls authenticated with a service-account token (`calls` counts
        them too)."""
        self.webhook_deliveries: list[WebhookAttempt] = []
        """Every webhook POST attempt, in order (see webhooks.py)."""
        self.webhooks = WebhookDispatcher(config, self.webhook_deliveries)
        """`await state.webhooks.drain()` waits for the queued deliveries."""

        # sales slices (records.py); read them under `state.lock`
        self.vehicles: dict[str, Vehicle] = {}
        self.proposals: dict[str, Proposal] = {}
        self.products: dict[str, ProposalProduct] = {}
        """Proposal-product id -> product (also reachable through its proposal)."""
        self.payment_sessions: dict[str, PaymentSession] = {}
        self.policies: dict[str, Policy] = {}

        self.vehicle_creations: Counter[str] = Counter()
        """Customer id -> vehicles created through `POST customers/{id}/vehicles`."""
        self.vehicle_lookups: Counter[str] = Counter()
        """Plate text (`34ABC123`) -> external lookups, failed ones included."""
        self.proposal_creations: Counter[str] = Counter()
        """Customer id -> proposals created."""
        self.product_retries: Counter[str] = Counter()
        """Proposal-product id -> accepted retries."""
        self.purchase_starts: Counter[str] = Counter()
        """Proposal-product id -> accepted `purchase/async` calls."""
        self.payment_outcomes: Counter[str] = Counter()
        """`approved` / `declined` / `expired` / `callback_without_purchase` -> count."""
        self.callback_redirects: list[str] = []
        """Every `Location` the payment page sent a browser to, in order."""
        self.document_downloads: Counter[str] = Counter()
        """Document file name (`{policyId}.pdf`, `information-form-{ppid}.pdf`) -> downloads."""
        self.document_sends: Counter[str] = Counter()
        """Policy id -> `document/send` calls."""
        self.document_send_channels: Counter[str] = Counter()
        """`email` / `sms` -> `document/send` calls."""

        self._lock = threading.RLock()
        self._by_identity: dict[tuple[CustomerKind, str], str] = {}
        self._mfa: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}
        self._access: dict[str, Grant] = {}
        self._service: dict[str, ServiceAccount] = {}
        self._case_seq = itertools.count(120)
        self._policy_seq = itertools.count(123)
        self._object_id_seq = itertools.count(int.from_bytes(os.urandom(3), "big"))

    def now(self) -> float:
        return self.config.now()

    @property
    def lock(self) -> threading.RLock:
        """The state's re-entrant lock: hold it across read-modify-write sequences."""
        return self._lock

    # --- customers -----------------------------------------------------------

    def find_customer(self, kind: CustomerKind, number: str) -> Customer | None:
        with self._lock:
            customer_id = self._by_identity.get((kind, number))
            return None if customer_id is None else self.customers[customer_id]

    def customer_by_number(self, number: str) -> Customer | None:
        """Test helper: the customer with this identity or tax number, any kind."""
        with self._lock:
            for kind in CustomerKind:
                customer = self.find_customer(kind, number)
                if customer is not None:
                    return customer
            return None

    def register_customer(
        self,
        *,
        kind: CustomerKind,
        number: str,
        phone: PhoneNumber,
        agent_id: str,
        birth_date: str | None = None,
        agent_branch_id: str | None = None,
        consents: list[ConsentType] | None = None,
        full_name: str | None = None,
        created_at: float | None = None,
        creation_channel: Channel = Channel.WEBSITE,
    ) -> Customer:
        """Create the customer, or return the existing one for this identity unchanged."""
        with self._lock:
            existing = self.find_customer(kind, number)
            if existing is not None:
                return existing
            company = kind is CustomerKind.COMPANY
            customer = Customer(
                id=customer_id_for(kind.value, number),
                kind=kind,
                phone=phone,
                agent_id=agent_id,
                created_at=self.now() if created_at is None else created_at,
                identity_number=None if company else number,
                tax_number=number if company else None,
                full_name=None if company else (full_name or fake_full_name(number)),
                title=(full_name or fake_company_title(number)) if company else None,
                birth_date=None if company else birth_date,
                agent_branch_id=agent_branch_id,
                creation_channel=creation_channel,
                consents=list(consents or []),
            )
            self.customers[customer.id] = customer
            self._by_identity[(kind, number)] = customer.id
            return customer

    def record_consents(self, customer_id: str, consents: Iterable[ConsentType]) -> None:
        """Consents approved at a login: added to `consents[customer_id]` and to the
        customer's `consents` (shown by `customers/me`); nothing is ever withdrawn here."""
        with self._lock:
            approved = self.consents.setdefault(customer_id, set())
            customer = self.customers[customer_id]
            for consent in consents:
                approved.add(consent.value)
                if consent not in customer.consents:
                    customer.consents.append(consent)

    # --- tokens ----------------------------------------------------------------

    def issue_mfa_token(self, customer_id: str) -> Grant:
        """A fresh MFA token; earlier pending MFA tokens of the customer stop working."""
        with self._lock:
            self._prune()
            for key in [k for k, g in self._mfa.items() if g.customer_id == customer_id]:
                del self._mfa[key]
            grant = Grant(
                key=opaque_token("mfa"),
                customer_id=customer_id,
                expires_at=self.now() + self.config.mfa_token_seconds,
            )
            self._mfa[grant.key] = grant
            return grant

    def peek_mfa_token(self, token: str) -> Grant | None:
        """The pending, unexpired MFA grant for `token` (not consumed)."""
        with self._lock:
            grant = self._mfa.get(token)
            if grant is None or grant.expires_at <= self.now():
                return None
            return grant

    def consume_mfa_token(self, token: str) -> Grant | None:
        with self._lock:
            grant = self.peek_mfa_token(token)
            if grant is not None:
                del self._mfa[token]
            return grant

    def issue_tokens(self, customer_id: str) -> TokenPair:
        with self._lock:
            self._prune()
            issued_at = int(self.now())
            lifetime = self.config.access_token_seconds
            jti = opaque_token("jti")
            claims = {
                "iss": "https://api.insurup.com",
                "sub": customer_id,
                "customer_id": customer_id,
                "iat": issued_at,
                "nbf": issued_at,
                "exp": issued_at + lifetime,
                "jti": jti,
            }
            self._access[jti] = Grant(jti, customer_id, float(issued_at + lifetime))
            refresh = Grant(
                key=opaque_token("rt"),
                customer_id=customer_id,
                expires_at=self.now() + self.config.refresh_token_seconds,
                paired_jti=jti,
            )
            self._refresh[refresh.key] = refresh
            return TokenPair(
                customer_id=customer_id,
                access_token=encode_jwt(claims, self.secret),
                refresh_token=refresh.key,
                expires_in=lifetime,
            )

    def rotate_refresh_token(self, token: str, access_token: str | None = None) -> TokenPair:
        """Burn `token` and issue a new pair. RefreshRejectedError if it is unknown, used or
        expired, or (with `refresh_requires_access_token`) `access_token` is not the validly
        signed access token issued together with it (an expired one is fine); a refusal for
        the missing or wrong access token leaves the refresh token usable."""
        with self._lock:
            grant = self._refresh.get(token)
            if grant is None or grant.expires_at <= self.now():
                raise RefreshRejectedError(
                    "The refresh token is invalid, expired or already used; log in again."
                )
            if self.config.refresh_requires_access_token:
                self._check_paired_access_token(grant, access_token)
            del self._refresh[token]
            return self.issue_tokens(grant.customer_id)

    def _check_paired_access_token(self, grant: Grant, access_token: str | None) -> None:
        if access_token is None:
            raise RefreshRejectedError(
                "A bearer access token (the one issued with this refresh token) is required."
            )
        claims = decode_jwt(access_token, self.secret)
        if claims is None:
            raise RefreshRejectedError("The access token is malformed or its signature is invalid.")
        if claims.get("jti") != grant.paired_jti or claims.get("sub") != grant.customer_id:
            raise RefreshRejectedError(
                "The access token was not issued together with this refresh token."
            )

    def identify(self, access_token: str) -> Customer | ServiceAccount:
        """The customer or service account behind a valid access token; raises
        TokenRejectedError otherwise."""
        claims = decode_jwt(access_token, self.secret)
        if claims is None:
            raise TokenRejectedError("The access token is malformed or its signature is invalid.")
        if "client_id" in claims:
            return self._service_account(claims)
        return self._customer_of(claims)

    def authenticate(self, access_token: str) -> Customer:
        """The customer of a valid customer access token; raises TokenRejectedError otherwise
        (for a service-account token too)."""
        principal = self.identify(access_token)
        if isinstance(principal, ServiceAccount):
            raise TokenRejectedError("A service-account token is not a customer token.")
        return principal

    def _customer_of(self, claims: dict[str, Any]) -> Customer:
        with self._lock:
            grant = self._access.get(str(claims.get("jti")))
            if grant is None or grant.customer_id != claims.get("sub"):
                raise TokenRejectedError("The access token is unknown.")
            if grant.expires_at <= self.now():
                expired = iso_datetime(grant.expires_at)
                raise TokenRejectedError(f"The access token expired at {expired}.")
            customer = self.customers.get(grant.customer_id)
            if customer is None:
                raise TokenRejectedError("The access token's customer no longer exists.")
            return customer

    def _service_account(self, claims: dict[str, Any]) -> ServiceAccount:
        with self._lock:
            account = self._service.get(str(claims.get("jti")))
            if account is None or account.client_id != claims.get("client_id"):
                raise TokenRejectedError("The access token is unknown.")
            if account.expires_at <= self.now():
                expired = iso_datetime(account.expires_at)
                raise TokenRejectedError(f"The access token expired at {expired}.")
            if account.client_id not in self.config.service_clients:
                raise TokenRejectedError("The service account no longer exists.")
            return account

    def issue_service_token(self, client_id: str) -> str:
        """A client-credentials access token (an HS256 JWT) for a configured service account."""
        with self._lock:
            self._prune()
            issued_at = int(self.now())
            lifetime = self.config.service_token_seconds
            jti = opaque_token("jti")
            claims = {
                "iss": "https://auth.insurup.com",
                "sub": client_id,
                "client_id": client_id,
                "scope": SERVICE_SCOPE,
                "iat": issued_at,
                "nbf": issued_at,
                "exp": issued_at + lifetime,
                "jti": jti,
            }
            self._service[jti] = ServiceAccount(client_id, jti, float(issued_at + lifetime))
            self.service_tokens_issued[client_id] += 1
            return encode_jwt(claims, self.secret)

    def revoke_tokens(self, customer_id: str) -> None:
        """Test helper: invalidate every token of a customer (like a server-side logout)."""
        with self._lock:
            for store in (self._mfa, self._refresh, self._access):
                for key in [k for k, g in store.items() if g.customer_id == customer_id]:
                    del store[key]

    def _prune(self) -> None:
        now = self.now()
        for store in (self._mfa, self._refresh, self._access):
            for key in [k for k, g in store.items() if g.expires_at <= now]:
                del store[key]
        for key in [k for k, a in self._service.items() if a.expires_at <= now]:
            del self._service[key]

    # --- cases -------------------------------------------------------------------

    def new_object_id(self) -> str:
        """A 24-hex MongoDB-style ObjectId: 4-byte time, 5 random bytes, 3-byte counter."""
        with self._lock:
            counter = next(self._object_id_seq) % 0x1000000
        seconds = int(self.now()) & 0xFFFFFFFF
        return f"{seconds:08x}{os.urandom(5).hex()}{counter:06x}"

    def add_case(
        self,
        *,
        customer_id: str,
        product_branch: ProductBranch,
        channel: Channel = Channel.UNKNOWN,
        asset_type: AssetType | None = None,
        asset_id: str | None = None,
        agent_branch_id: str | None = None,
        case_type: CaseType = CaseType.SALE_OPPORTUNITY,
        status: CaseStatus = CaseStatus.OPEN,
        main_state: CaseMainState = CaseMainState.OPEN,
        sub_state: CaseSubState = CaseSubState.OPEN_INITIAL,
        created_at: float | None = None,
        case_id: str | None = None,
    ) -> Case:
        with self._lock:
            created = self.now() if created_at is None else created_at
            year = datetime.fromtimestamp(created, UTC).year
            case = Case(
                id=case_id or self.new_object_id(),
                ref=f"SF-{year}-{next(self._case_seq):06d}",
                customer_id=customer_id,
                product_branch=product_branch,
                created_at=created,
                type=case_type,
                status=status,
                main_state=main_state,
                sub_state=sub_state,
                channel=channel,
                asset_type=asset_type,
                asset_id=asset_id,
                agent_branch_id=agent_branch_id,
                sale_opportunity_sub_type=(
                    SaleOpportunitySubType.NEW_SALE
                    if case_type is CaseType.SALE_OPPORTUNITY
                    else None
                ),
            )
            self.cases[case.id] = case
            return case

    def cases_of(self, customer_id: str) -> list[Case]:
        """The customer's cases in creation order."""
        with self._lock:
            return [case for case in self.cases.values() if case.customer_id == customer_id]

    # --- vehicles, proposals, payments, policies ------------------------------------

    def add_vehicle(self, vehicle: Vehicle) -> Vehicle:
        with self._lock:
            self.vehicles[vehicle.id] = vehicle
            return vehicle

    def vehicles_of(self, customer_id: str) -> list[Vehicle]:
        """The customer's vehicles in creation order."""
        with self._lock:
            return [v for v in self.vehicles.values() if v.customer_id == customer_id]

    def add_proposal(self, proposal: Proposal) -> Proposal:
        with self._lock:
            self.proposals[proposal.id] = proposal
            for product in proposal.products:
                self.products[product.id] = product
            return proposal

    def proposals_of(self, customer_id: str) -> list[Proposal]:
        with self._lock:
            return [p for p in self.proposals.values() if p.insurer_customer_id == customer_id]

    def add_payment_session(self, session: PaymentSession) -> PaymentSession:
        with self._lock:
            self.payment_sessions[session.id] = session
            return session

    def next_policy_number(self, epoch: float) -> str:
        """`KSK-2026-000123`: kasko prefix, year, a running number."""
        with self._lock:
            year = datetime.fromtimestamp(epoch, UTC).year
            return f"KSK-{year}-{next(self._policy_seq):06d}"

    def add_policy(self, policy: Policy) -> Policy:
        with self._lock:
            self.policies[policy.id] = policy
            return policy

    def policies_of(self, customer_id: str) -> list[Policy]:
        with self._lock:
            return [p for p in self.policies.values() if p.customer_id == customer_id]
