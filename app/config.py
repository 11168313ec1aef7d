"""Settings, read once at start-up from the environment (prefix ``BFF_``) or ``.env``."""

import base64
import binascii
import json
import re
import secrets
from functools import cached_property
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.vocabulary import PAYMENT_METHODS, Channel

SANDBOX = "sandbox"
# The built-in simulator's packages, used when no groups are configured in development.
SANDBOX_COVERAGE_GROUPS = {
    "65f1c0ffee0ddba11ca5e0aa": "Genişletilmiş Kasko",
    "65f1c0ffee0ddba11ca5e0bb": "Dar Kasko",
}
MEMORY_STORE = "memory://"
# The built-in sandbox's service account (development only; the sandbox knows it too).
SANDBOX_SERVICE_CLIENT = "sa-sandbox"
SANDBOX_SERVICE_SECRET = "sandbox-secret"  # noqa: S105 - a simulator's well-known test secret


def _split_list(value: Any) -> Any:
    """Accept a JSON list or a comma-separated string, as operators write both."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]
# A host name, or `*.` and a domain (its subdomains); letters, digits, dots and dashes.
_LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
_HOST_PATTERN = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")


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
    # Connections per Redis node per process; a request that finds them all busy waits for
    # one instead of failing, at most the wait below (then `503 store_unavailable`). A burst
    # of 1,000 requests on one 2-core process waited up to 2.8 s.
    redis_max_connections: int = Field(default=100, ge=1, le=10000)
    redis_pool_wait_seconds: float = Field(default=10.0, gt=0, le=60)
    # Replicas that must confirm every lasting write (Redis WAIT) before the gateway answers
    # or acts on it; within the milliseconds below, else `503 store_unavailable`. With 0 a
    # failover can lose what was just acknowledged (Redis replicates asynchronously). Set it
    # to the number of replicas of each master (README: Deployment options); a master with
    # fewer connected refuses every write until one is back.
    redis_wait_replicas: int = Field(default=0, ge=0, le=10)
    redis_wait_milliseconds: int = Field(default=500, ge=10, le=10000)

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
    # Sign-ins that did not finish (InsurUp refused them, or no right SMS code followed),
    # counted per identity *and* client address: a stranger who knows someone's identity
    # number spends only their own allowance, never the owner's.
    login_rate_limit_per_identity: str = "5/10 minutes"
    # SMS codes sent for one identity, from every address together: bounds SMS pumping. Keep
    # it above what one address may start in the same window (the figure above), so no
    # single address can use it up.
    sms_rate_limit_per_identity: str = "10/10 minutes"
    mfa_rate_limit_per_ip: str = "30/minute"
    # New quotes (each one asks every insurer): per session and per customer.
    quote_rate_limit_per_session: str = "5/minute"
    quote_rate_limit_per_customer: str = "10/minute"
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
    # How long a failure webhook waits for the customer's return from the bank page (which
    # tells a declined card from an abandoned page).
    payment_return_wait_seconds: float = Field(default=3.0, ge=0, le=60)
    # The background check of pending payments (no customer needed): how often it looks.
    payment_reconcile_seconds: float = Field(default=15.0, gt=0, le=600)

    # InsurUp insurer ids the agency may sell online (distance-sales permission); empty:
    # all. Products of other insurers are shown but not purchasable (`not_sold_online`).
    online_insurer_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    # Shown next to the consent checkbox at sign-in (the KVKK information notice).
    kvkk_notice_url: str | None = None

    # InsurUp service account (client credentials, agency scope): payments are verified
    # without a customer session. Optional; the secret is a secret.
    insurup_client_id: str | None = None
    insurup_client_secret: SecretStr | None = None
    insurup_auth_url: str = "https://auth.insurup.com"
    # InsurUp webhooks (purchases, failures, policies) are accepted only with this secret set.
    insurup_webhook_secret: SecretStr | None = None

    # Brands, models and coverage choices change rarely; an hour keeps InsurUp calls few.
    reference_cache_seconds: int = Field(default=3600, ge=0, le=86400)

    # The reference frontend at /demo: on by default outside production, off in production.
    demo_enabled: bool | None = None
    # /docs, /redoc and /openapi.json: on by default outside production, off in production.
    docs_enabled: bool | None = None
    # Bearer token for /metrics and the details of /readyz (secret). Without one, production
    # answers 404 on /metrics and only ready / not ready on /readyz.
    metrics_token: SecretStr | None = None
    # Request bodies above this are refused (413) before they are read.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    # Hosts a policy document's `url` may point to (`host` or `*.domain`); default: the
    # InsurUp API's host, insurup.com and its subdomains.
    document_hosts: CsvList = Field(default_factory=list)

    log_level: str = "INFO"

    _split = field_validator(
        "coverage_group_ids",
        "coverage_group_names",
        "allowed_origins",
        "session_keys",
        "enabled_payment_methods",
        "document_hosts",
        mode="before",
    )(_split_list)

    @field_validator(
        "login_rate_limit_per_ip",
        "login_rate_limit_per_identity",
        "sms_rate_limit_per_identity",
        "mfa_rate_limit_per_ip",
        "quote_rate_limit_per_session",
        "quote_rate_limit_per_customer",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError("must be a rate such as `10/minute` or `5/10 minutes`") from exc
        return value

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return token

    @field_validator("document_hosts")
    @classmethod
    def _host_patterns(cls, hosts: list[str]) -> list[str]:
        patterns = [host.lower().rstrip(".") for host in hosts]
        for pattern in patterns:
            if not _HOST_PATTERN.match(pattern):
                raise ValueError(f"`{pattern}` is not a host name or `*.domain`")
        return patterns

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
    def _replica_wait_fits_the_command_timeout(self) -> "Settings":
        # The WAIT's answer is read like any other: within the command timeout.
        if self.redis_wait_replicas and (
            self.redis_wait_milliseconds >= 1000 * self.redis_timeout_seconds
        ):
            raise ValueError(
                "BFF_REDIS_WAIT_MILLISECONDS must be shorter than BFF_REDIS_TIMEOUT_SECONDS"
            )
        return self

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
        if not self.payment_result_url:
            missing.append("BFF_PAYMENT_RESULT_URL (the shop's page for a payment's outcome)")
        if not self.kvkk_notice_url:
            missing.append("BFF_KVKK_NOTICE_URL (the personal-data notice shown at sign-in)")
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
    def service_account(self) -> tuple[str, SecretStr, str | None] | None:
        """(client id, secret, auth URL) of the InsurUp service account, if there is one. The
        built-in sandbox has its own (auth URL None: the sandbox itself)."""
        if self.insurup_client_id and self.insurup_client_secret:
            return self.insurup_client_id, self.insurup_client_secret, self.insurup_auth_url
        if self.uses_sandbox:
            return SANDBOX_SERVICE_CLIENT, SecretStr(SANDBOX_SERVICE_SECRET), None
        return None

    @cached_property
    def webhook_secret(self) -> SecretStr | None:
        """The InsurUp webhook secret; the built-in sandbox gets a random one per process."""
        if self.insurup_webhook_secret is not None:
            return self.insurup_webhook_secret
        return SecretStr(secrets.token_urlsafe(32)) if self.uses_sandbox else None

    @property
    def serves_demo(self) -> bool:
        return self.env != "production" if self.demo_enabled is None else self.demo_enabled

    @property
    def serves_docs(self) -> bool:
        return self.env != "production" if self.docs_enabled is None else self.docs_enabled

    @property
    def document_host_patterns(self) -> list[str]:
        """Where a policy document may be fetched from: configured, or InsurUp's own hosts."""
        if self.document_hosts:
            return self.document_hosts
        own = [] if self.uses_sandbox else [urlsplit(self.insurup_base_url).hostname or ""]
        return [host for host in [*own, "insurup.com", "*.insurup.com"] if host]

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
        return self.result_url_on(None)

    def result_url_on(self, origin: str | None) -> str:
        """Where the callback sends the customer: the configured page, or the demo's result
        view on the origin the customer is on."""
        base = origin or self.public_base_url
        return self.payment_result_url or f"{base}/demo/#/payment-result"
