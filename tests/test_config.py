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
