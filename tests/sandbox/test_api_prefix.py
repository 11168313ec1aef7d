"""`api_prefix`: `/api/...` served (default) or redirected to the bare path (307 / 308),
`api_redirect_host` for a cross-origin Location."""

from dataclasses import replace

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from app.sandbox import ManualClock, SandboxConfig, create_sandbox_app, get_sandbox_state

from .conftest import (
    BASE_URL,
    LOGIN,
    ME,
    Sandbox,
    SandboxFactory,
    assert_problem,
    bearer,
    login_body,
)

MOUNT = "/insurup-sandbox"


async def test_by_default_both_spellings_serve(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens()

    prefixed = await sandbox.client.get(ME, headers=bearer(tokens["accessToken"]))
    bare = await sandbox.client.get("/customers/me", headers=bearer(tokens["accessToken"]))

    assert prefixed.status_code == bare.status_code == 200
    assert sandbox.state.redirects == {}


@pytest.mark.parametrize(("mode", "status"), [("redirect-308", 308), ("redirect-307", 307)])
async def test_prefixed_rest_calls_redirect_to_the_bare_path(
    make_sandbox: SandboxFactory, mode: str, status: int
) -> None:
    sandbox = await make_sandbox(api_prefix=mode)
    tokens = await sandbox.tokens_bare()

    me = await sandbox.client.get(f"{ME}?lang=tr&x=a%2Fb", headers=bearer(tokens["accessToken"]))
    login = await sandbox.client.post(LOGIN, json=login_body())
    colon = await sandbox.client.post("/api/cases:new-sale-opportunity", json={})

    assert me.status_code == status
    assert me.headers["location"] == f"{BASE_URL}/customers/me?lang=tr&x=a%2Fb"
    assert me.content == b""
    assert login.status_code == status
    assert login.headers["location"] == f"{BASE_URL}/auth/customer/login-or-register"
    assert colon.headers["location"] == f"{BASE_URL}/cases:new-sale-opportunity"
    assert sandbox.state.redirects == {
        "/api/customers/me": 1,
        "/api/auth/customer/login-or-register": 1,
        "/api/cases:new-sale-opportunity": 1,
    }
    assert sandbox.state.calls["login"] == 1  # only the bare login of tokens_bare() ran


async def test_a_following_client_gets_there_with_method_and_body(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(api_prefix="redirect-308")

    login = await sandbox.client.post(LOGIN, json=login_body(), follow_redirects=True)

    assert login.status_code == 200, login.text
    assert [r.status_code for r in login.history] == [308]
    assert set(login.json()) == {"token", "customerId"}


async def test_graphql_token_endpoint_and_sandbox_pages_are_not_redirected(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(api_prefix="redirect-308")
    tokens = await sandbox.tokens_bare()
    query = {"query": "{ cases { totalCount } }"}

    for path in ("/graphql", "/api/graphql"):
        response = await sandbox.client.post(
            path, json=query, headers=bearer(tokens["accessToken"])
        )
        assert response.json() == {"data": {"cases": {"totalCount": 2}}}
    token = await sandbox.client.post(
        "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sa-sandbox",
            "client_secret": "sandbox-secret",
            "scope": "core-api",
        },
    )
    assert token.status_code == 200
    assert (await sandbox.client.get("/sandbox/logos/axa.svg")).status_code == 200
    assert_problem(await sandbox.client.get("/sandbox/pay/nope"), 404, "resource-not-found")
    assert sandbox.state.redirects == {}


async def test_the_redirect_can_point_at_another_origin(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(
        api_prefix="redirect-307", api_redirect_host="https://elsewhere.example/"
    )

    response = await sandbox.client.get("/api/vehicle-parameters/models?brandReference=052")
    me = await sandbox.client.get("/api/customers/me")

    assert response.status_code == 307
    assert response.headers["location"] == (
        "https://elsewhere.example/vehicle-parameters/models?brandReference=052"
    )
    assert me.headers["location"] == "https://elsewhere.example/customers/me"


async def test_the_location_keeps_the_mount_path() -> None:
    config = replace(SandboxConfig(now=ManualClock()), api_prefix="redirect-308")
    sandbox = create_sandbox_app(config)
    parent = Starlette(routes=[Mount(MOUNT, app=sandbox)])
    # As a browser reaches the mounted sandbox, and as the gateway calls it (root_path).
    mounted = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=parent), base_url="http://gateway.test:8000"
    )
    rooted = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox, root_path=MOUNT),
        base_url=f"http://gateway.test:8000{MOUNT}",
    )
    async with mounted, rooted:
        for client in (mounted, rooted):
            prefix = MOUNT if client is mounted else ""
            response = await client.get(f"{prefix}/api/customers/me?a=1")
            assert response.status_code == 308
            assert response.headers["location"] == (
                f"http://gateway.test:8000{MOUNT}/customers/me?a=1"
            )
            bare = await client.get(f"{prefix}/customers/me")
            assert_problem(bare, 401, "unauthorized")  # served, not redirected
            token = await client.post(
                f"{prefix}/connect/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "sa-sandbox",
                    "client_secret": "sandbox-secret",
                },
            )
            assert token.status_code == 200
    assert get_sandbox_state(sandbox).redirects == {"/api/customers/me": 2}


async def test_the_schema_lists_the_bare_paths_when_api_redirects(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(api_prefix="redirect-308")

    paths = set((await sandbox.client.get("/openapi.json")).json()["paths"])

    assert {"/customers/me", "/proposals/{proposal_id}", "/api/graphql"} <= paths
    assert "/api/customers/me" not in paths
