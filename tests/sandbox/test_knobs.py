"""The variant knobs: defaults are today's behaviour, nonsense is refused, the environment
sets them (`SANDBOX_*`)."""

from typing import Any

import pytest

from app.sandbox import SandboxConfig
from app.sandbox.config import ALL_WEBHOOK_EVENTS, config_from_env


def test_defaults_are_the_faithful_setup() -> None:
    config = SandboxConfig()

    assert config.refresh_requires_access_token is False
    assert config.legacy_cases_id_field is True
    assert config.api_prefix == "serve"
    assert config.api_redirect_host is None
    assert config.lookup_partial_model is False
    assert config.lookup_masked is False
    assert config.purchase_form_post is False
    assert dict(config.service_clients) == {"sa-sandbox": "sandbox-secret"}
    assert config.service_token_seconds == 1800
    assert config.webhook_url is None
    assert config.webhook_secret is None
    assert config.webhook_duplicates == 0
    assert config.webhook_delay_seconds == 0.0
    assert set(config.webhook_events) == {
        "proposal_premium.purchased",
        "proposal_premium.purchase_failed",
        "policy.created",
    }
    assert config.webhook_transport is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"api_prefix": "redirect"},
        {"api_prefix": "redirect-301"},
        {"api_redirect_host": "https://elsewhere.example"},  # needs a redirecting api_prefix
        {"api_prefix": "redirect-308", "api_redirect_host": "elsewhere.example"},
        {"api_prefix": "redirect-308", "api_redirect_host": "https://elsewhere.example/api"},
        {"api_prefix": "redirect-307", "api_redirect_host": "ftp://elsewhere.example"},
        {"service_token_seconds": 0},
        {"service_clients": {"": "secret"}},
        {"service_clients": {"sa-x": ""}},
        {"webhook_url": "/hooks"},
        {"webhook_url": "mailto:hooks@example.com"},
        {"webhook_secret": ""},
        {"webhook_duplicates": -1},
        {"webhook_delay_seconds": -0.5},
        {"webhook_events": frozenset({"proposal_premium.purchased", "policy.updated"})},
    ],
)
def test_new_knobs_reject_nonsense(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the messages vary by field
        SandboxConfig(**overrides)


def test_every_new_knob_comes_from_the_environment() -> None:
    config = config_from_env(
        {
            "SANDBOX_REFRESH_REQUIRES_ACCESS_TOKEN": "true",
            "SANDBOX_LEGACY_CASES_ID_FIELD": "false",
            "SANDBOX_API_PREFIX": "redirect-307",
            "SANDBOX_API_REDIRECT_HOST": "https://elsewhere.example",
            "SANDBOX_LOOKUP_PARTIAL_MODEL": "1",
            "SANDBOX_LOOKUP_MASKED": "yes",
            "SANDBOX_PURCHASE_FORM_POST": "on",
            "SANDBOX_SERVICE_CLIENTS": "sa-one:s3cret, sa-two:with:colon",
            "SANDBOX_SERVICE_TOKEN_SECONDS": "60",
            "SANDBOX_WEBHOOK_URL": "http://127.0.0.1:8000/webhooks/insurup",
            "SANDBOX_WEBHOOK_SECRET": "whsec",
            "SANDBOX_WEBHOOK_DUPLICATES": "2",
            "SANDBOX_WEBHOOK_DELAY_SECONDS": "1.5",
            "SANDBOX_WEBHOOK_EVENTS": "proposal_premium.purchased,policy.created",
        }
    )

    assert config.refresh_requires_access_token is True
    assert config.legacy_cases_id_field is False
    assert config.api_prefix == "redirect-307"
    assert config.api_redirect_host == "https://elsewhere.example"
    assert config.lookup_partial_model is True
    assert config.lookup_masked is True
    assert config.purchase_form_post is True
    assert dict(config.service_clients) == {"sa-one": "s3cret", "sa-two": "with:colon"}
    assert config.service_token_seconds == 60
    assert config.webhook_url == "http://127.0.0.1:8000/webhooks/insurup"
    assert config.webhook_secret == "whsec"
    assert config.webhook_duplicates == 2
    assert config.webhook_delay_seconds == 1.5
    assert set(config.webhook_events) == {"proposal_premium.purchased", "policy.created"}


def test_unset_or_empty_variables_keep_the_defaults() -> None:
    empty = {
        name: ""
        for name in (
            "SANDBOX_REFRESH_REQUIRES_ACCESS_TOKEN",
            "SANDBOX_LEGACY_CASES_ID_FIELD",
            "SANDBOX_API_PREFIX",
            "SANDBOX_API_REDIRECT_HOST",
            "SANDBOX_SERVICE_CLIENTS",
            "SANDBOX_SERVICE_TOKEN_SECONDS",
            "SANDBOX_WEBHOOK_URL",
            "SANDBOX_WEBHOOK_SECRET",
            "SANDBOX_WEBHOOK_DUPLICATES",
            "SANDBOX_WEBHOOK_DELAY_SECONDS",
            "SANDBOX_WEBHOOK_EVENTS",
        )
    }

    unset, blank = config_from_env({}), config_from_env(empty)

    assert unset == blank
    assert unset.legacy_cases_id_field is True
    assert unset.api_prefix == "serve"
    assert dict(unset.service_clients) == {"sa-sandbox": "sandbox-secret"}
    assert set(unset.webhook_events) == ALL_WEBHOOK_EVENTS
    assert config_from_env({"SANDBOX_LEGACY_CASES_ID_FIELD": "0"}).legacy_cases_id_field is False


@pytest.mark.parametrize(
    "environ",
    [
        {"SANDBOX_LOOKUP_MASKED": "maybe"},
        {"SANDBOX_API_PREFIX": "redirect"},
        {"SANDBOX_SERVICE_CLIENTS": "sa-one"},
        {"SANDBOX_WEBHOOK_DUPLICATES": "two"},
        {"SANDBOX_WEBHOOK_EVENTS": "proposal_premium.received"},
    ],
)
def test_bad_environment_values_fail_loudly(environ: dict[str, str]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        config_from_env(environ)
