"""Service accounts: `POST /connect/token` (client credentials) and agency-scoped reads."""

import base64
from typing import Any

import httpx
import pytest

from app.sandbox import SandboxConfig, create_sandbox_app

from .conftest import ME, NO_CASES_TCKN, Sandbox, SandboxFactory, assert_problem, bearer
from .flows import pick, shopper
from .test_auth import jwt_parts

TOKEN = "/connect/token"
CREDENTIALS = {
    "grant_type": "client_credentials",
    "client_id": "sa-sandbox",
    "client_secret": "sandbox-secret",
    "scope": "core-api",
}


async def service_token(sandbox: Sandbox, **overrides: str) -> str:
    response = await sandbox.client.post(TOKEN, data=CREDENTIALS | overrides)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def test_client_credentials_give_a_30_minute_bearer_jwt(sandbox: Sandbox) -> None:
    response = await sandbox.client.post(TOKEN, data=CREDENTIALS)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 1800
    assert body["scope"] == "core-api"
    header, claims = jwt_parts(body["access_token"])
    assert header["alg"] == "HS256"
    assert claims["client_id"] == claims["sub"] == "sa-sandbox"
    assert claims["exp"] - claims["iat"] == 1800
    assert sandbox.state.service_tokens_issued == {"sa-sandbox": 1}
    assert sandbox.state.calls["service_token"] == 1


async def test_basic_client_authentication_and_default_scope(sandbox: Sandbox) -> None:
    basic = base64.b64encode(b"sa-sandbox:sandbox-secret").decode()

    response = await sandbox.client.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "core-api"


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        pytest.param(CREDENTIALS | {"client_secret": "wrong"}, 401, "invalid_client", id="secret"),
        pytest.param(CREDENTIALS | {"client_id": "sa-other"}, 401, "invalid_client", id="client"),
        pytest.param(
            {k: v for k, v in CREDENTIALS.items() if k != "client_secret"},
            401,
            "invalid_client",
            id="no-secret",
        ),
        pytest.param(
            CREDENTIALS | {"grant_type": "password"}, 400, "unsupported_grant_type", id="password"
        ),
        pytest.param(
            CREDENTIALS | {"grant_type": "refresh_token"},
            400,
            "unsupported_grant_type",
            id="refresh",
        ),
        pytest.param(
            {k: v for k, v in CREDENTIALS.items() if k != "grant_type"},
            400,
            "invalid_request",
            id="no-grant",
        ),
        pytest.param(CREDENTIALS | {"scope": "admin"}, 400, "invalid_scope", id="scope"),
    ],
)
async def test_token_refusals_are_oauth_errors(
    sandbox: Sandbox, form: dict[str, str], status: int, error: str
) -> None:
    response = await sandbox.client.post(TOKEN, data=form)

    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert sandbox.state.service_tokens_issued == {}


async def test_a_json_body_is_an_invalid_request(sandbox: Sandbox) -> None:
    response = await sandbox.client.post(TOKEN, json=CREDENTIALS)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_clients_and_lifetime_come_from_the_config(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(service_clients={"sa-ours": "s3cret"}, service_token_seconds=60)

    default = await sandbox.client.post(TOKEN, data=CREDENTIALS)
    ours = await sandbox.client.post(
        TOKEN, data=CREDENTIALS | {"client_id": "sa-ours", "client_secret": "s3cret"}
    )

    assert default.status_code == 401
    assert ours.json()["expires_in"] == 60
    token = ours.json()["access_token"]
    sandbox.clock.advance(60)
    expired = await sandbox.client.get(
        "/api/policies/000000000000000000000000", headers=bearer(token)
    )
    assert "expired" in assert_problem(expired, 401, "unauthorized")["detail"]


async def test_a_service_token_reads_any_customers_proposal_and_policy(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option="ASYNC_3D_SECURE")
    redirect_url = (await me.purchase(proposal, product)).json()["redirectUrl"]
    await sandbox.client.post(f"{redirect_url}/approve")
    customer_view = await me.proposal(proposal["proposalId"])
    policy_id = next(p["policyId"] for p in customer_view["products"] if p["policyId"])
    headers = bearer(await service_token(sandbox))

    prefixed = await sandbox.client.get(f"/api/proposals/{proposal['proposalId']}", headers=headers)
    bare = await sandbox.client.get(f"/proposals/{proposal['proposalId']}", headers=headers)
    policy = await sandbox.client.get(f"/api/policies/{policy_id}", headers=headers)
    policy_bare = await sandbox.client.get(f"/policies/{policy_id}", headers=headers)

    assert prefixed.status_code == bare.status_code == 200
    assert prefixed.json() == customer_view
    assert policy.status_code == policy_bare.status_code == 200
    assert policy.json()["insurerCustomerId"] == me.customer_id
    assert sandbox.state.service_calls == {"proposal_get": 2, "policy_get": 2}
    assert sandbox.state.calls["proposal_get"] == 4  # the customer's reads and the service's


async def test_unknown_ids_are_404_for_a_service_token(sandbox: Sandbox) -> None:
    headers = bearer(await service_token(sandbox))

    proposal = await sandbox.client.get("/api/proposals/000000000000000000000000", headers=headers)
    policy = await sandbox.client.get("/api/policies/000000000000000000000000", headers=headers)

    assert_problem(proposal, 404, "resource-not-found")
    assert_problem(policy, 404, "resource-not-found")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", ME, None),
        ("GET", "/customers/me", None),
        ("GET", "/api/customers/me/vehicles", None),
        ("GET", "/api/vehicle-parameters/brands", None),
        ("GET", "/api/proposals/000000000000000000000000/products", None),
        ("GET", "/api/policies/000000000000000000000000/document", None),
        ("POST", "/api/cases:new-sale-opportunity", {}),
        ("POST", "/api/proposals", {}),
    ],
)
async def test_customer_only_endpoints_refuse_a_service_token_with_403(
    sandbox: Sandbox, method: str, path: str, body: Any
) -> None:
    headers = bearer(await service_token(sandbox))

    response = await sandbox.client.request(method, path, json=body, headers=headers)

    assert_problem(response, 403, "access-denied")


async def test_graphql_cases_refuse_a_service_token(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox()
    headers = bearer(await service_token(sandbox))
    strict = await make_sandbox(graphql_unauthorized_status=401)
    strict_headers = bearer(await service_token(strict))
    query = {"query": "{ cases { totalCount } }"}

    soft = await sandbox.client.post("/graphql", json=query, headers=headers)
    hard = await strict.client.post("/graphql", json=query, headers=strict_headers)

    assert soft.status_code == 200
    assert soft.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert sandbox.state.graphql_errors["FORBIDDEN"] == 1
    assert_problem(hard, 403, "access-denied")


async def test_a_customer_token_is_unaffected(sandbox: Sandbox) -> None:
    emre = await shopper(sandbox, NO_CASES_TCKN)
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()

    foreign = await emre.get(f"/api/proposals/{proposal['proposalId']}")

    assert_problem(foreign, 403, "access-denied")
    assert sandbox.state.service_calls == {}


async def test_the_token_endpoint_is_served_under_the_mount_path() -> None:
    app = create_sandbox_app(SandboxConfig())
    transport = httpx.ASGITransport(app=app, root_path="/insurup-sandbox")
    async with httpx.AsyncClient(
        transport=transport, base_url="http://gw.test/insurup-sandbox"
    ) as client:
        response = await client.post(TOKEN, data=CREDENTIALS)
    assert response.status_code == 200, response.text
