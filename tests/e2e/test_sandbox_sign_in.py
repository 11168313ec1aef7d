"""The gateway against the built-in InsurUp sandbox (in process): the real contract, no mocks."""

import functools
import time

import httpx
import pytest

from app.config import Settings
from tests.conftest import AppFactory
from tests.helpers import CSRF, LOGIN_BODY


@pytest.fixture
def sandbox_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"insurup_base_url": "sandbox", "insurup_agent_id": None})


@pytest.fixture
def sandbox_app(sandbox_settings: Settings, make_app: AppFactory) -> AppFactory:
    return functools.partial(make_app, sandbox_settings, use_sandbox=True)


async def test_demo_customer_signs_in_and_gets_a_new_case(sandbox_app: AppFactory) -> None:
    async with sandbox_app() as api:
        started = await api.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
        assert started.status_code == 202, started.text
        verified = await api.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
        assert verified.status_code == 200, verified.text
        session = verified.json()
        assert session["customerName"] == "Ada Y."
        # The demo customer has only a TRAFIK case and a closed KASKO one: a new case is made.
        assert len(session["caseId"]) == 24
        profile = await api.get("/api/v1/customer")
        assert profile.status_code == 200
        assert profile.json()["fullName"] == "Ada Yılmaz"


@pytest.mark.parametrize("tckn", ["10000000146", "10000000214"])
async def test_an_open_or_delayed_kasko_case_is_reused(sandbox_app: AppFactory, tckn: str) -> None:
    body = {**LOGIN_BODY, "identityNumber": tckn}
    async with sandbox_app() as api:
        await api.post("/api/v1/session", json=body, headers=CSRF)
        first = await api.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
        case_id = first.json()["caseId"]
        assert case_id
        # A second sign-in of the same customer finds the same case instead of adding one.
        await api.post("/api/v1/session", json=body, headers=CSRF)
        second = await api.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
        assert second.json()["caseId"] == case_id


async def test_wrong_sandbox_code_is_mfa_invalid(sandbox_app: AppFactory) -> None:
    async with sandbox_app() as api:
        await api.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
        wrong = await api.post("/api/v1/session/mfa", json={"code": "654321"}, headers=CSRF)
        assert wrong.status_code == 400
        assert wrong.json()["code"] == "mfa_invalid"


async def test_new_customer_registers_through_the_gateway(sandbox_app: AppFactory) -> None:
    body = {**LOGIN_BODY, "identityNumber": "20000000046"}
    async with sandbox_app() as api:
        started = await api.post("/api/v1/session", json=body, headers=CSRF)
        assert started.status_code == 202, started.text
        verified = await api.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
        assert verified.status_code == 200
        assert httpx.codes.is_success((await api.get("/api/v1/customer")).status_code)


async def test_a_hanging_embedded_sandbox_is_the_documented_504_at_the_gateways_timeout(
    sandbox_settings: Settings, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process no socket enforces the InsurUp timeout; the gateway still answers
    `504 upstream_timeout` at BFF_INSURUP_TIMEOUT_SECONDS, as it would in production."""
    monkeypatch.setenv("SANDBOX_TIMEOUT", "customer_me")
    quick = sandbox_settings.model_copy(update={"insurup_timeout_seconds": 0.3})
    async with make_app(quick, use_sandbox=True) as api:
        await api.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
        # The profile can wait at sign-in; the profile route cannot.
        await api.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
        started = time.monotonic()
        profile = await api.get("/api/v1/customer")
        waited = time.monotonic() - started
    assert profile.status_code == 504, profile.text
    assert profile.json()["code"] == "upstream_timeout"
    assert waited < 5  # reads are retried, but never near the sandbox's 30 s hang
