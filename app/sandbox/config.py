"""Static configuration of one simulator instance.

Everything time-related goes through `now` and `sleep`, so tests can drive the clock
(`ManualClock`) instead of sleeping.
"""

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlsplit

import httpx


class Operation(StrEnum):
    """Operation names used by the fault knobs and the call counters."""

    LOGIN = "login"
    VERIFY_MFA = "verify_mfa"
    REFRESH = "refresh"
    CUSTOMER_ME = "customer_me"
    CASES_QUERY = "cases_query"
    CASE_CREATE = "case_create"
    VEHICLES_LIST = "vehicles_list"
    VEHICLE_GET = "vehicle_get"
    VEHICLE_CREATE = "vehicle_create"
    VEHICLE_LOOKUP = "vehicle_lookup"
    BRANDS = "brands"
    MODELS = "models"
    COVERAGE_CHOICES = "coverage_choices"
    INSURANCE_COMPANIES = "insurance_companies"
    PROPOSAL_CREATE = "proposal_create"
    PROPOSAL_GET = "proposal_get"
    PRODUCTS_LIST = "products_list"
    PRODUCT_GET = "product_get"
    PRODUCT_COVERAGE = "product_coverage"
    PREMIUM_DETAIL = "premium_detail"
    PRODUCT_RETRY = "product_retry"
    INFORMATION_FORM = "information_form"
    PURCHASE = "purchase"
    POLICY_GET = "policy_get"
    POLICY_DOCUMENT = "policy_document"
    POLICY_DOCUMENT_SEND = "policy_document_send"
    DOCUMENT_DOWNLOAD = "document_download"
    """`GET /sandbox/documents/...pdf`, the file behind a document `url`."""
    SERVICE_TOKEN = "service_token"  # noqa: S105 - an operation name, not a secret
    """`POST /connect/token` (service accounts, client credentials)."""


ANY_OPERATION = "*"
"""Fault-knob key that applies to every operation without its own entry."""

KNOWN_OPERATION_KEYS = frozenset({*(op.value for op in Operation), ANY_OPERATION})

DEFAULT_COVERAGE_GROUPS: Mapping[str, str] = {
    "65f1c0ffee0ddba11ca5e0aa": "Genişletilmiş Kasko",
    "65f1c0ffee0ddba11ca5e0bb": "Dar Kasko",
}
"""Coverage groups (teminat grupları) the agency has made in its CRM, id -> name."""

DEFAULT_SERVICE_CLIENTS: Mapping[str, str] = {"sa-sandbox": "sandbox-secret"}
"""Service accounts (client id -> client secret) `POST /connect/token` accepts."""

API_PREFIX_MODES = ("serve", "redirect-308", "redirect-307")
"""`serve`: `/api/...` and bare paths both answer; `redirect-30x`: `/api/...` redirects."""


class WebhookEvent(StrEnum):
    """The webhook events the sandbox sends (reference 9.2)."""

    PURCHASED = "proposal_premium.purchased"
    PURCHASE_FAILED = "proposal_premium.purchase_failed"
    POLICY_CREATED = "policy.created"


ALL_WEBHOOK_EVENTS: frozenset[str] = frozenset(event.value for event in WebhookEvent)

_OBJECT_ID = re.compile(r"[0-9a-f]{24}")
T = TypeVar("T", int, float)


class ManualClock:
    """A settable clock for `SandboxConfig.now`: `clock.advance(601)` expires a token."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self._now = start

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        self._now += seconds


@dataclass(frozen=True, kw_only=True)
class SandboxConfig:
    """Knobs of the simulator. All fields have defaults; `SandboxConfig()` is a faithful setup."""

    # --- auth -------------------------------------------------------------
    mfa_code: str = "123456"
    """The OTP every verify-mfa call must send (no SMS is sent)."""
    direct_tokens: bool = False
    """Login answers `{accessToken, refreshToken, expiresIn}` instead of `{token, customerId}`."""
    access_token_seconds: int = 600
    mfa_token_seconds: int = 300
    refresh_token_seconds: int = 14 * 24 * 3600
    """Customer refresh-token lifetime is undocumented upstream; 14 days is our choice."""
    jwt_secret: bytes | None = None
    """HS256 key; None = the per-process random secret."""
    validate_identity_checksums: bool = True
    """Reject TCKN / VKN numbers whose check digits are wrong (422 input-validation)."""
    refresh_requires_access_token: bool = False
    """False: `auth/customer/refresh` ignores any `Authorization` header. True: it answers
    401 unless the request carries `Authorization: Bearer <the access token issued together
    with that refresh token>` (signature checked, expiry not)."""

    # --- service accounts (reference 9.3) -----------------------------------
    service_clients: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_SERVICE_CLIENTS)
    )
    """`client_id -> client_secret` pairs `POST /connect/token` accepts (client credentials)."""
    service_token_seconds: int = 1800
    """Lifetime (`expires_in`) of a service-account access token."""

    # --- routing ------------------------------------------------------------
    api_prefix: str = "serve"
    """`serve`: REST is served under `/api/...` and bare. `redirect-308` / `redirect-307`:
    every REST request under `/api/...` answers that status with `Location` = the same path
    without `/api` (query kept) and an empty body; the bare paths serve. GraphQL
    (`/graphql`, `/api/graphql`), `/connect/token` and `/sandbox/...` are not affected."""
    api_redirect_host: str | None = None
    """With a redirecting `api_prefix`: the origin (`https://elsewhere.example`) the
    `Location` points at instead of the one the request used."""

    # --- GraphQL ----------------------------------------------------------
    graphql_unauthorized_status: int = 200
    """200: GraphQL auth failures are `{"errors": [...UNAUTHORIZED]}` with HTTP 200.
    401: answer with a 401 unauthorized problem instead (DOC-GQL lists 401 too)."""
    legacy_cases_id_field: bool = True
    """True: the legacy `cases` items have an `id` field. False: selecting `id` on items is
    Hot Chocolate's validation error `HC0020` (HTTP 200, `errors` only, no `data`)."""

    # --- world ------------------------------------------------------------
    seed_world: bool = True
    """Create the seeded customers and cases (see README.md)."""

    # --- proposals and purchase ----------------------------------------------
    coverage_groups: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_COVERAGE_GROUPS)
    )
    """Named coverage groups. `POST proposals` accepts any 24-hex id; these get their name
    (and a name containing "dar" prices a narrow, cheaper kasko)."""
    pricing_delay_seconds: tuple[float, float] = (0.5, 4.0)
    """Each product is priced after its own delay within this range (web services in the
    lower half, robots in the upper 45 %), evaluated lazily from `now`."""
    purchase_settle_seconds: float = 0.0
    """How long a product stays PURCHASING after the payment page's decision."""
    payment_session_seconds: float = 900.0
    """An undecided payment page expires after this; the product goes back to ACTIVE."""
    callback_without_purchase: bool = False
    """The payment page's Approve / Decline only send the browser to `callbackUrl` (with the
    usual misleading query) and change nothing: the product stays PURCHASING."""
    public_base_url: str | None = None
    """Where browsers reach this sandbox, for the payment page `redirectUrl` points them to
    (compose: the gateway calls `http://sandbox:8099`, browsers `http://localhost:8099`).
    None: the address the caller used."""
    document_inline: bool = False
    """`GET policies/{id}/document` answers the PDF bytes (`application/pdf`) instead of
    `{"url": ...}` (InsurUp's docs disagree; the gateway must handle both)."""
    purchase_form_post: bool = False
    """`purchase/async` for `3d-secure` / `third-party-3d-secure` answers `{redirectUrl,
    method: "POST", formParameters: {PaReq, MD, TermUrl}}` and the payment page must be
    reached with a form POST of those fields (a GET answers 405)."""

    # --- vehicle lookup ---------------------------------------------------------
    lookup_partial_model: bool = False
    """The external lookup answers `partialModel {brand, type}` (no year) instead of
    `model {brand, year, type}`."""
    lookup_masked: bool = False
    """The external lookup answers `chassis` / `engine` masked (`W***8`) with
    `chassisIsMasked` / `engineIsMasked` true."""

    # --- webhooks (reference 9.2) -------------------------------------------------
    webhook_url: str | None = None
    """Where the sandbox POSTs webhook deliveries; None: no webhooks."""
    webhook_secret: str | None = None
    """HMAC-SHA256 key of `x-webhook-signature`; None: the header is left out."""
    webhook_duplicates: int = 0
    """Each delivery is sent this many extra times, with the same `x-webhook-delivery`."""
    webhook_delay_seconds: float = 0.0
    """Wait (through `sleep`) before the first attempt of a delivery."""
    webhook_events: AbstractSet[str] = ALL_WEBHOOK_EVENTS
    """Which events are sent (a subset of `WebhookEvent` values)."""
    webhook_transport: httpx.AsyncBaseTransport | None = None
    """Tests: the httpx transport deliveries go through (e.g. `httpx.MockTransport`);
    None: the network."""

    # --- faults -------------------------------------------------------------
    latency_seconds: Mapping[str, float] = field(default_factory=dict)
    error_rate: Mapping[str, float] = field(default_factory=dict)
    timeout: AbstractSet[str] = frozenset()
    timeout_fault_seconds: float = 30.0
    """How long an injected timeout hangs before answering 504 (longer than client timeouts)."""
    random_seed: int | None = None
    """Seed for `error_rate` draws; None = nondeterministic."""

    # --- time -------------------------------------------------------------
    now: Callable[[], float] = field(default=time.time)
    """Wall clock in epoch seconds (token expiry, createdAt, ids)."""
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)
    """Used for injected latency and timeouts."""

    def __post_init__(self) -> None:
        for name in ("latency_seconds", "error_rate"):
            knob: Mapping[str, float] = getattr(self, name)
            _check_operation_keys(name, knob.keys())
            for key, value in knob.items():
                if value < 0:
                    raise ValueError(f"{name}[{key!r}] must be >= 0")
        for key, rate in self.error_rate.items():
            if rate > 1:
                raise ValueError(f"error_rate[{key!r}] must be <= 1")
        _check_operation_keys("timeout", self.timeout)
        for name in ("access_token_seconds", "mfa_token_seconds", "refresh_token_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        if self.timeout_fault_seconds < 0:
            raise ValueError("timeout_fault_seconds must be >= 0")
        if self.graphql_unauthorized_status not in (200, 401):
            raise ValueError("graphql_unauthorized_status must be 200 or 401")
        if not (self.mfa_code.isdigit() and len(self.mfa_code) == 6):
            raise ValueError("mfa_code must be 6 digits")
        self._check_sales_knobs()
        self._check_service_knobs()
        self._check_routing_knobs()
        self._check_webhook_knobs()

    def _check_sales_knobs(self) -> None:
        low, high = self.pricing_delay_seconds
        if not 0 <= low <= high:
            raise ValueError("pricing_delay_seconds must be (low, high) with 0 <= low <= high")
        for name in ("purchase_settle_seconds", "payment_session_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        bad = sorted(k for k in self.coverage_groups if not _OBJECT_ID.fullmatch(k))
        if bad:
            raise ValueError(f"coverage_groups: ids must be 24 lowercase hex digits: {bad}")

    def _check_service_knobs(self) -> None:
        if self.service_token_seconds <= 0:
            raise ValueError("service_token_seconds must be > 0")
        for client_id, secret in self.service_clients.items():
            if not client_id or not secret or any(c.isspace() for c in client_id):
                raise ValueError(
                    "service_clients: ids and secrets must be non-empty (ids without spaces)"
                )

    def _check_routing_knobs(self) -> None:
        if self.api_prefix not in API_PREFIX_MODES:
            raise ValueError(f"api_prefix must be one of {list(API_PREFIX_MODES)}")
        if self.api_redirect_host is None:
            return
        if self.api_prefix == "serve":
            raise ValueError("api_redirect_host needs api_prefix redirect-308 or redirect-307")
        parts = urlsplit(self.api_redirect_host)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise ValueError("api_redirect_host must be an origin like https://elsewhere.example")

    def _check_webhook_knobs(self) -> None:
        if self.webhook_url is not None:
            parts = urlsplit(self.webhook_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("webhook_url must be an absolute http(s) URL")
        if self.webhook_secret == "":
            raise ValueError("webhook_secret must be None or non-empty")
        if self.webhook_duplicates < 0:
            raise ValueError("webhook_duplicates must be >= 0")
        if self.webhook_delay_seconds < 0:
            raise ValueError("webhook_delay_seconds must be >= 0")
        unknown = sorted(set(self.webhook_events) - ALL_WEBHOOK_EVENTS)
        if unknown:
            raise ValueError(
                f"webhook_events: unknown event(s) {unknown}; known: {sorted(ALL_WEBHOOK_EVENTS)}"
            )


def _check_operation_keys(name: str, keys: Iterable[str]) -> None:
    unknown = sorted(k for k in keys if k not in KNOWN_OPERATION_KEYS)
    if unknown:
        known = sorted(KNOWN_OPERATION_KEYS)
        raise ValueError(f"{name}: unknown operation(s) {unknown}; known: {known}")


def _pairs(text: str) -> dict[str, float]:
    """`proposal_get=0.5,purchase=1` -> {"proposal_get": 0.5, "purchase": 1.0}."""
    pairs: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        pairs[name.strip()] = float(value)
    return pairs


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    """A boolean variable: 1/true/yes/on or 0/false/no/off; unset or empty = `default`."""
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"{name} must be true or false, not {environ[name]!r}")


def _names(text: str) -> frozenset[str]:
    return frozenset(p.strip() for p in text.split(",") if p.strip())


def _clients(text: str) -> dict[str, str]:
    """`id:secret,id2:secret2` -> {"id": "secret", "id2": "secret2"}."""
    clients: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        client_id, colon, secret = part.partition(":")
        if not colon:
            raise ValueError(f"SANDBOX_SERVICE_CLIENTS: {part!r} is not id:secret")
        clients[client_id.strip()] = secret.strip()
    return clients


def _number(environ: Mapping[str, str], name: str, kind: Callable[[str], T], default: T) -> T:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None


def config_from_env(environ: Mapping[str, str]) -> SandboxConfig:
    """Knobs for demos from the environment (the separate compose service and the embedded
    sandbox of `make run` alike), e.g. `SANDBOX_LATENCY_SECONDS=proposal_get=0.5`,
    `SANDBOX_ERROR_RATE=purchase=0.2`, `SANDBOX_TIMEOUT=vehicle_lookup`,
    `SANDBOX_DOCUMENT_INLINE=true`, `SANDBOX_PUBLIC_BASE_URL=http://localhost:8099`,
    `SANDBOX_API_PREFIX=redirect-308`, `SANDBOX_WEBHOOK_URL=http://127.0.0.1:8000/hooks`
    (README.md lists them all). Unset or empty variables keep the defaults."""
    defaults = SandboxConfig(seed_world=False)
    clients = environ.get("SANDBOX_SERVICE_CLIENTS", "").strip()
    events = environ.get("SANDBOX_WEBHOOK_EVENTS", "").strip()
    return SandboxConfig(
        latency_seconds=_pairs(environ.get("SANDBOX_LATENCY_SECONDS", "")),
        error_rate=_pairs(environ.get("SANDBOX_ERROR_RATE", "")),
        timeout=_names(environ.get("SANDBOX_TIMEOUT", "")),
        document_inline=_flag(environ, "SANDBOX_DOCUMENT_INLINE", defaults.document_inline),
        public_base_url=environ.get("SANDBOX_PUBLIC_BASE_URL") or None,
        refresh_requires_access_token=_flag(
            environ,
            "SANDBOX_REFRESH_REQUIRES_ACCESS_TOKEN",
            defaults.refresh_requires_access_token,
        ),
        legacy_cases_id_field=_flag(
            environ, "SANDBOX_LEGACY_CASES_ID_FIELD", defaults.legacy_cases_id_field
        ),
        api_prefix=environ.get("SANDBOX_API_PREFIX", "").strip() or defaults.api_prefix,
        api_redirect_host=environ.get("SANDBOX_API_REDIRECT_HOST", "").strip() or None,
        lookup_partial_model=_flag(
            environ, "SANDBOX_LOOKUP_PARTIAL_MODEL", defaults.lookup_partial_model
        ),
        lookup_masked=_flag(environ, "SANDBOX_LOOKUP_MASKED", defaults.lookup_masked),
        purchase_form_post=_flag(
            environ, "SANDBOX_PURCHASE_FORM_POST", defaults.purchase_form_post
        ),
        service_clients=_clients(clients) if clients else defaults.service_clients,
        service_token_seconds=_number(
            environ, "SANDBOX_SERVICE_TOKEN_SECONDS", int, defaults.service_token_seconds
        ),
        webhook_url=environ.get("SANDBOX_WEBHOOK_URL", "").strip() or None,
        webhook_secret=environ.get("SANDBOX_WEBHOOK_SECRET") or None,
        webhook_duplicates=_number(
            environ, "SANDBOX_WEBHOOK_DUPLICATES", int, defaults.webhook_duplicates
        ),
        webhook_delay_seconds=_number(
            environ, "SANDBOX_WEBHOOK_DELAY_SECONDS", float, defaults.webhook_delay_seconds
        ),
        webhook_events=_names(events) if events else defaults.webhook_events,
    )
