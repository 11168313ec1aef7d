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


ANY_OPERATION = "*"
"""Fault-knob key that applies to every operation without its own entry."""

KNOWN_OPERATION_KEYS = frozenset({*(op.value for op in Operation), ANY_OPERATION})

DEFAULT_COVERAGE_GROUPS: Mapping[str, str] = {
    "65f1c0ffee0ddba11ca5e0aa": "Genişletilmiş Kasko",
    "65f1c0ffee0ddba11ca5e0bb": "Dar Kasko",
}
"""Coverage groups (teminat grupları) the agency has made in its CRM, id -> name."""

_OBJECT_ID = re.compile(r"[0-9a-f]{24}")


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

    # --- GraphQL ----------------------------------------------------------
    graphql_unauthorized_status: int = 200
    """200: GraphQL auth failures are `{"errors": [...UNAUTHORIZED]}` with HTTP 200.
    401: answer with a 401 unauthorized problem instead (DOC-GQL lists 401 too)."""

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


def config_from_env(environ: Mapping[str, str]) -> SandboxConfig:
    """Fault knobs for demos from the environment (the separate compose service and the
    embedded sandbox of `make run` alike), e.g. `SANDBOX_LATENCY_SECONDS=proposal_get=0.5`,
    `SANDBOX_ERROR_RATE=purchase=0.2`, `SANDBOX_TIMEOUT=vehicle_lookup`,
    `SANDBOX_DOCUMENT_INLINE=true`, `SANDBOX_PUBLIC_BASE_URL=http://localhost:8099`. Unset
    variables keep the defaults."""
    timeout = {p.strip() for p in environ.get("SANDBOX_TIMEOUT", "").split(",") if p.strip()}
    return SandboxConfig(
        latency_seconds=_pairs(environ.get("SANDBOX_LATENCY_SECONDS", "")),
        error_rate=_pairs(environ.get("SANDBOX_ERROR_RATE", "")),
        timeout=frozenset(timeout),
        document_inline=environ.get("SANDBOX_DOCUMENT_INLINE", "").lower() in ("1", "true", "yes"),
        public_base_url=environ.get("SANDBOX_PUBLIC_BASE_URL") or None,
    )
