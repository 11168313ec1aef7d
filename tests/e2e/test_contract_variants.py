"""Where InsurUp's behaviour is not documented, the gateway works with either answer: the
sandbox plays each variant (in process, its clock the test's), the gateway is unchanged."""

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from app.sandbox import ManualClock, SandboxConfig, create_sandbox_app, get_sandbox_state
from app.sandbox.state import SandboxState
from tests.conftest import PUBLIC
from tests.helpers import CSRF, LOGIN_BODY

INSURUP = "http://insurup.sandbox"


@asynccontextmanager
async def against(
    settings: Settings, **variant: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, SandboxState, ManualClock]]:
    insurup_time = ManualClock(start=time.time())  # JWT `exp` agrees with the gateway's time
    sandbox = create_sandbox_app(
        SandboxConfig(now=insurup_time, pricing_delay_seconds=(0.0, 0.0), **variant)
    )
    custom = settings.model_copy(
        update={"insurup_base_url": INSURUP, "insurup_agent_id": None, "coverage_group_ids": []}
    )
    app = create_app(
        custom, insurup_transport=httpx.ASGITransport(app=sandbox), configure_logs=False
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as api:
            yield api, get_sandbox_state(sandbox), insurup_time


async def _sign_in(api: httpx.AsyncClient) -> dict[str, Any]:
    assert (await api.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)).status_code == 202
    verified = await api.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
    assert verified.status_code == 200, verified.text
    return dict(verified.json())


@pytest.mark.parametrize("required", [True, False])
async def test_sessions_outlive_the_first_token_whether_refresh_needs_the_header_or_not(
    settings: Settings, required: bool
) -> None:
    async with against(settings, refresh_requires_access_token=required) as (api, state, clock):
        await _sign_in(api)
        clock.advance(601)  # InsurUp now refuses the first access token
        profile = await api.get("/api/v1/customer")
        assert profile.status_code == 200, profile.text
        assert state.calls["refresh"] == 1
        assert (await api.get("/api/v1/customer")).status_code == 200
        assert state.calls["refresh"] == 1  # the new pair holds


@pytest.mark.parametrize("has_id", [True, False])
async def test_the_case_step_works_whether_legacy_cases_have_an_id_or_not(
    settings: Settings, has_id: bool
) -> None:
    async with against(settings, legacy_cases_id_field=has_id) as (api, _, _):
        session = await _sign_in(api)
        # The demo customer has no open kasko case: one is created either way.
        assert session["caseId"]
        assert (await api.get("/api/v1/vehicles")).status_code == 200


@pytest.mark.parametrize("mode", ["serve", "redirect-308", "redirect-307"])
async def test_the_sale_works_whether_api_paths_are_served_or_redirected_to_root(
    settings: Settings, mode: str
) -> None:
    async with against(settings, api_prefix=mode) as (api, state, _):
        await _sign_in(api)
        car = {"plate": "34ABC123", "documentSerial": "AB123456"}
        looked = await api.post("/api/v1/vehicles/lookup", json=car, headers=CSRF)
        assert looked.status_code == 200, looked.text
        created = await api.post("/api/v1/vehicles", json=car, headers=CSRF)
        assert created.status_code in (201, 409), created.text
    assert (sum(state.redirects.values()) > 0) is (mode != "serve")


async def test_a_redirect_to_another_host_is_refused_and_the_token_stays_home(
    settings: Settings,
) -> None:
    async with against(
        settings, api_prefix="redirect-308", api_redirect_host="https://elsewhere.example"
    ) as (api, _, _):
        started = await api.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
    assert started.status_code == 502
    assert started.json()["code"] == "upstream_error"
