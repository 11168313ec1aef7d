"""Fixtures that talk to the sandbox only through its HTTP contract (plus the documented
test hooks on the state: counters and fault knobs)."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from app.sandbox import (
    DEMO_AGENT_ID,
    ManualClock,
    SandboxConfig,
    SandboxState,
    create_sandbox_app,
    get_sandbox_state,
)

BASE_URL = "http://insurup.sandbox"
DEMO_TCKN = "11111111110"
OPEN_KASKO_TCKN = "10000000146"
DELAYED_KASKO_TCKN = "10000000214"
NO_CASES_TCKN = "20000000046"
FRESH_TCKN = "10000000382"  # valid checksum, not seeded
OTHER_FRESH_TCKN = "10000000450"
LOGIN = "/api/auth/customer/login-or-register"
VERIFY = "/api/auth/customer/verify-mfa"
REFRESH = "/api/auth/customer/refresh"
ME = "/api/customers/me"
NEW_CASE = "/api/cases:new-sale-opportunity"
GRAPHQL = "/graphql"
PROBLEMS = "https://api.insurup.com/problems/"


def login_body(identity: str = DEMO_TCKN, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "$type": "individual",
        "identityNumber": identity,
        "birthDate": "1990-01-01",
        "phoneNumber": {"countryCode": 90, "number": "5321234567"},
        "agentId": DEMO_AGENT_ID,
    }
    body.update(overrides)
    return body


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def assert_problem(response: httpx.Response, status: int, type_suffix: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEMS + type_suffix
    assert body["status"] == status
    assert body["title"]
    assert body["traceId"]
    return body


@dataclass
class Sandbox:
    client: httpx.AsyncClient
    state: SandboxState
    clock: ManualClock

    async def tokens(self, identity: str = DEMO_TCKN, **overrides: Any) -> dict[str, Any]:
        """Log in (MFA variant) and verify: `{accessToken, refreshToken, customerId}`."""
        return await self._tokens(LOGIN, VERIFY, identity, overrides)

    async def tokens_bare(self, identity: str = DEMO_TCKN, **overrides: Any) -> dict[str, Any]:
        """`tokens` through the paths without `/api` (they serve whatever `api_prefix` says)."""
        return await self._tokens(
            LOGIN.removeprefix("/api"), VERIFY.removeprefix("/api"), identity, overrides
        )

    async def _tokens(
        self, login_path: str, verify_path: str, identity: str, overrides: dict[str, Any]
    ) -> dict[str, Any]:
        login = await self.client.post(login_path, json=login_body(identity, **overrides))
        assert login.status_code == 200, login.text
        verify = await self.client.post(
            verify_path, json={"token": login.json()["token"], "code": "123456"}
        )
        assert verify.status_code == 200, verify.text
        tokens: dict[str, Any] = verify.json()
        return tokens

    async def graphql(
        self, query: str, access_token: str | None, variables: dict[str, Any] | None = None
    ) -> httpx.Response:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        headers = bearer(access_token) if access_token else {}
        return await self.client.post(GRAPHQL, json=body, headers=headers)


SandboxFactory = Callable[..., Awaitable[Sandbox]]


@pytest.fixture
async def make_sandbox() -> AsyncIterator[SandboxFactory]:
    """`await make_sandbox(direct_tokens=True, ...)`: SandboxConfig overrides; a ManualClock
    is injected unless `now` is given."""
    async with AsyncExitStack() as stack:

        async def factory(**overrides: Any) -> Sandbox:
            clock = ManualClock()
            config = replace(SandboxConfig(now=clock), **overrides)
            app = create_sandbox_app(config)
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
            )
            state = get_sandbox_state(app)
            stack.push_async_callback(state.webhooks.aclose)  # no wake-up outlives the test
            return Sandbox(client, state, clock)

        yield factory


@pytest.fixture
async def sandbox(make_sandbox: SandboxFactory) -> Sandbox:
    return await make_sandbox()
