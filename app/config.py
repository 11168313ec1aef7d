"""Settings, read once at start-up from the environment (prefix ``BFF_``) or ``.env``."""

import base64
import binascii
import json
import secrets
from functools import cached_property
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.vocabulary import PAYMENT_METHODS, Channel

SANDBOX = "sandbox"
# The built-in simulator's packages, used when no groups are configured in development.
SANDBOX_COVERAGE_GROUPS = {
    "65f1c0ffee0ddba11ca5e0aa": "Genişletilmiş Kasko",
    "65f1c0ffee0ddba11ca5e0bb": "Dar Kasko",
}
MEMORY_STORE = "memory://"


def _split_list(value: Any) -> Any:
    """Accept a JSON list or a comma-separated string, as operators write both."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Everything an operator can set. Names are an interface: deploy files rely on them."""

    model_config = SettingsConfigDict(
        env_prefix="BFF_", env_file=".env", extra="ignore", frozen=True
    )

    env: Literal["development", "production", "test"] = "development"

    insurup_base_url: str = SANDBOX
    insurup_agent_id: str | None = None
    insurup_agent_branch_id: str | None = None
    insurup_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    # Below any load balancer's idle timeout in front of InsurUp (typically 60 s or more), so
    # a pooled connection is dropped by us before the server can close it under a request.
    insurup_keepalive_seconds: float = Field(default=5.0, gt=0, le=60)
    insurup_max_connections: int = Field(default=100, ge=1, le=2000)
    insurup_user_agent: str = "kasko-gateway/0.1"
    # Refresh the access token this long before it lapses, so it never expires mid-call.
    token_refresh_margin_seconds: float = Field(default=60.0, ge=0, le=600)

    coverage_group_ids: CsvList = Field(default_factory=list)
    coverage_group_names: CsvList = Field(default_factory=list)

    redis_url: str = MEMORY_STORE
    redis_key_prefix: str = "bff:"
    redis_timeout_seconds: float = Field(default=2.0, gt=0, le=30)

    public_base_url: str = "http://localhost:8000"
    payment_result_url: str | None = None
    allowed_origins: CsvList = Field(default_factory=list)

    session_keys: CsvList = Field(default_factory=list)
    cookie_secure: bool = True
    cookie_name: str = "__Host-kasko_session"
    cookie_samesite: Literal["lax", "strict", "none"] = "lax"
    session_idle_seconds: int = Field(default=1800, ge=60)
    session_absolute_seconds: int = Field(default=43200, ge=300)

    channel_cookie: Channel = "WEBSITE"
    channel_bearer: Channel = "MOBILE_APP"
    # How long login waits for the sale-opportunity step before answering without a case id.
    case_wait_seconds: float = Field(default=2.0, ge=0, le=30)
    # Locks for once-only steps last the holder's InsurUp calls at their timeout plus this.
    lease_margin_seconds: float = Field(default=5.0, gt=0, le=120)

    enabled_payment_methods: CsvList = Field(
        default_factory=lambda: ["3d-secure", "insurance-company-redirect"]
    )

    login_rate_limit_per_ip: str = "30/minute"
    login_rate_limit_per_identity: str = "5/10 minutes"
    mfa_rate_limit_per_ip: str = "30/minute"
    mfa_max_attempts: int = Field(default=5, ge=1, le=20)

    # Server-Sent Events of a quote: one InsurUp poll per interval per replica, whatever the
    # number of subscribers; a stream ends with `timeout` after the limit.
    quote_poll_seconds: float = Field(default=2.0, gt=0, le=60)
    quote_stream_seconds: float = Field(default=300.0, gt=0, le=3600)

    # A product still ACTIVE this long after the provider's callback did not get paid; a
    # payment with no callback at all is abandoned after the second figure.
    payment_grace_seconds: float = Field(default=120.0, ge=0, le=3600)
    payment_abandon_seconds: float = Field(default=1800.0, ge=60, le=86400)
    payment_verify_seconds: float = Field(default=2.0, gt=0, le=60)

    # Brands, models and coverage choices change rarely; an hour keeps InsurUp calls few.
    reference_cache_seconds: int = Field(default=3600, ge=0, le=86400)

    # The reference frontend at /demo: on by default outside production, off in production.
    demo_enabled: bool | None = None

    log_level: str = "INFO"

    _split = field_validator(
        "coverage_group_ids",
        "coverage_group_names",
        "allowed_origins",
        "session_keys",
        "enabled_payment_methods",
        mode="before",
    )(_split_list)

    @field_validator("session_keys")
    @classmethod
    def _keys_are_32_bytes(cls, keys: list[str]) -> list[str]:
        for index, key in enumerate(keys):
            try:
                raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
            except (binascii.Error, ValueError) as exc:
                raise ValueError(f"key {index + 1} is not URL-safe base64") from exc
            if len(raw) != 32:
                raise ValueError(f"key {index + 1} must decode to 32 bytes")
        return keys

    @field_validator("enabled_payment_methods")
    @classmethod
    def _known_methods(cls, methods: list[str]) -> list[str]:
        unknown = sorted(set(methods) - set(PAYMENT_METHODS))
        if unknown:
            raise ValueError(f"unknown payment methods: {', '.join(unknown)}")
        return methods

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, url: str) -> str:
        return url.rstrip("/")

    @model_validator(mode="after")
    def _production_needs_real_parts(self) -> "Settings":
        if self.env != "production":
            return self
        missing = []
        if self.insurup_base_url == SANDBOX:
            missing.append("BFF_INSURUP_BASE_URL (a real InsurUp URL, not sandbox)")
        if not self.insurup_agent_id:
            missing.append("BFF_INSURUP_AGENT_ID")
        if not self.coverage_group_ids:
            missing.append("BFF_COVERAGE_GROUP_IDS")
        if self.redis_url == MEMORY_STORE:
            missing.append("BFF_REDIS_URL (a shared Redis, not memory://)")
        if not self.session_keys:
            missing.append("BFF_SESSION_KEYS")
        if not self.cookie_secure:
            missing.append("BFF_COOKIE_SECURE=true")
        if missing:
            raise ValueError("production refuses to start without: " + "; ".join(missing))
        return self

    @property
    def coverage_groups(self) -> list[tuple[str, str]]:
        """(id, name) of the agency's kasko packages; names default to the id."""
        # Outside production an unconfigured gateway quotes the sandbox's packages, so the
        # embedded sandbox and the compose file's separate one both work out of the box.
        defaults = list(SANDBOX_COVERAGE_GROUPS) if self.env != "production" else []
        ids = self.coverage_group_ids or defaults
        names = self.coverage_group_names or [
            SANDBOX_COVERAGE_GROUPS.get(group_id, group_id) for group_id in ids
        ]
        return [
            (group_id, names[i] if i < len(names) else group_id) for i, group_id in enumerate(ids)
        ]

    @property
    def channels(self) -> dict[Literal["cookie", "bearer"], Channel]:
        """The CRM channel of each session transport."""
        return {"cookie": self.channel_cookie, "bearer": self.channel_bearer}

    @property
    def serves_demo(self) -> bool:
        return self.env != "production" if self.demo_enabled is None else self.demo_enabled

    @property
    def uses_sandbox(self) -> bool:
        return self.insurup_base_url == SANDBOX

    @cached_property
    def encryption_keys(self) -> list[bytes]:
        """Keys for tokens at rest; a random one per process in development only."""
        if self.session_keys:
            return [base64.urlsafe_b64decode(k + "=" * (-len(k) % 4)) for k in self.session_keys]
        return [secrets.token_bytes(32)]

    @property
    def effective_cookie_name(self) -> str:
        # Browsers refuse a __Host- cookie without Secure, so plain-http development drops it.
        if not self.cookie_secure and self.cookie_name.startswith("__Host-"):
            return self.cookie_name.removeprefix("__Host-")
        return self.cookie_name

    @property
    def origins(self) -> list[str]:
        if self.allowed_origins:
            return [o.rstrip("/") for o in self.allowed_origins]
        parts = urlsplit(self.public_base_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if self.env != "production" and parts.hostname in ("localhost", "127.0.0.1"):
            # A newcomer may open either spelling of the local address.
            port = f":{parts.port}" if parts.port else ""
            return [f"{parts.scheme}://localhost{port}", f"{parts.scheme}://127.0.0.1{port}"]
        return [origin]

    @property
    def result_url(self) -> str:
        return self.payment_result_url or f"{self.public_base_url}/demo/#/payment-result"
