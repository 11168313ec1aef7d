"""Settings: production refuses to start on development defaults; lists parse both ways."""

import base64
import secrets

import pytest
from pydantic import ValidationError

from app.config import Settings

KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _production(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "production",
        "insurup_base_url": "https://api.insurup.com",
        "insurup_agent_id": "3f2b9c1e-5a7d-4e21-9c0b-000000000001",
        "coverage_group_ids": "65f1c0ffee0ddba11ca5e0aa",
        "redis_url": "rediss://redis.internal:6380/0",
        "session_keys": KEY,
        "payment_result_url": "https://shop.example/payment-result",
        "kvkk_notice_url": "https://shop.example/kvkk",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_production_with_real_parts_starts() -> None:
    settings = _production()
    assert settings.coverage_group_ids == ["65f1c0ffee0ddba11ca5e0aa"]
    assert settings.encryption_keys == [base64.urlsafe_b64decode(KEY)]


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"insurup_base_url": "sandbox"}, "BFF_INSURUP_BASE_URL"),
        ({"insurup_agent_id": None}, "BFF_INSURUP_AGENT_ID"),
        ({"coverage_group_ids": ""}, "BFF_COVERAGE_GROUP_IDS"),
        ({"redis_url": "memory://"}, "BFF_REDIS_URL"),
        ({"session_keys": ""}, "BFF_SESSION_KEYS"),
        ({"cookie_secure": False}, "BFF_COOKIE_SECURE"),
        ({"payment_result_url": None}, "BFF_PAYMENT_RESULT_URL"),
    ],
)
def test_production_refuses_development_defaults(override: dict[str, object], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        _production(**override)


def test_environment_variables_are_read_with_the_bff_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BFF_COVERAGE_GROUP_IDS", '["a", "b"]')
    monkeypatch.setenv("BFF_ALLOWED_ORIGINS", "https://a.example, https://b.example/")
    monkeypatch.setenv("BFF_INSURUP_TIMEOUT_SECONDS", "7")
    settings = Settings(_env_file=None)
    assert settings.coverage_group_ids == ["a", "b"]
    assert settings.origins == ["https://a.example", "https://b.example"]
    assert settings.insurup_timeout_seconds == 7


def test_a_session_key_must_be_32_bytes() -> None:
    short = base64.urlsafe_b64encode(b"x" * 16).decode()
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(_env_file=None, session_keys=short)  # type: ignore[arg-type]


def test_unknown_payment_methods_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown payment methods"):
        Settings(_env_file=None, enabled_payment_methods="3d-secure,cash")  # type: ignore[arg-type]


def test_origins_default_to_the_public_url() -> None:
    settings = Settings(_env_file=None, public_base_url="https://kasko.agency.example/")
    assert settings.origins == ["https://kasko.agency.example"]


def test_local_development_accepts_both_spellings_of_the_local_origin() -> None:
    settings = Settings(_env_file=None, public_base_url="http://localhost:8000")
    assert settings.origins == ["http://localhost:8000", "http://127.0.0.1:8000"]


def test_production_turns_docs_off_unless_asked_and_development_keeps_them() -> None:
    assert _production().serves_docs is False
    assert _production(docs_enabled=True).serves_docs is True
    assert Settings(_env_file=None).serves_docs is True


def test_document_hosts_default_to_insurups_own() -> None:
    assert _production().document_host_patterns == [
        "api.insurup.com",
        "insurup.com",
        "*.insurup.com",
    ]
    custom = _production(document_hosts="Files.Example.com, *.cdn.example")
    assert custom.document_host_patterns == ["files.example.com", "*.cdn.example"]


@pytest.mark.parametrize("bad", ["https://files.example", "files.example/p", "*", "a..b"])
def test_a_document_host_must_be_a_host_name(bad: str) -> None:
    with pytest.raises(ValidationError, match="document_hosts"):
        _production(document_hosts=bad)


def test_rate_limits_and_the_metrics_token_are_checked_at_start() -> None:
    with pytest.raises(ValidationError, match="quote_rate_limit_per_customer"):
        _production(quote_rate_limit_per_customer="lots")
    with pytest.raises(ValidationError, match="metrics_token"):
        _production(metrics_token="short")
    token = _production(metrics_token="m" * 32).metrics_token
    assert token is not None and "m" * 32 not in repr(token)
