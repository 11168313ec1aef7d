"""Customer auth: login-or-register, verify-mfa, refresh, access tokens."""

import asyncio
import base64
import json
import re
from typing import Any

from app.sandbox import DEMO_AGENT_ID

from .conftest import (
    DEMO_TCKN,
    FRESH_TCKN,
    LOGIN,
    ME,
    REFRESH,
    VERIFY,
    Sandbox,
    SandboxFactory,
    assert_problem,
    bearer,
    login_body,
)

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header_b64, payload_b64, signature_b64 = token.split(".")
    assert signature_b64

    def decode(part: str) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(
            base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        )
        return decoded

    return decode(header_b64), decode(payload_b64)


# --- login-or-register -----------------------------------------------------------------


async def test_login_answers_mfa_token_and_customer_id(sandbox: Sandbox) -> None:
    response = await sandbox.client.post(LOGIN, json=login_body())

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "customerId"}
    assert body["token"]
    assert GUID.match(body["customerId"])


async def test_customer_id_is_stable_per_identity_and_accepts_number_or_string(
    sandbox: Sandbox,
) -> None:
    first = await sandbox.client.post(LOGIN, json=login_body(FRESH_TCKN))
    as_number = await sandbox.client.post(
        LOGIN, json=login_body(FRESH_TCKN, identityNumber=int(FRESH_TCKN))
    )
    string_country_code = await sandbox.client.post(
        LOGIN,
        json=login_body(FRESH_TCKN, phoneNumber={"countryCode": "90", "number": "5321234567"}),
    )

    ids = {r.json()["customerId"] for r in (first, as_number, string_country_code)}
    assert len(ids) == 1
    assert sandbox.state.logins[ids.pop()] == 3


async def test_customer_id_is_the_same_in_a_fresh_simulator(make_sandbox: SandboxFactory) -> None:
    one, two = await make_sandbox(), await make_sandbox()

    a = await one.client.post(LOGIN, json=login_body(FRESH_TCKN))
    b = await two.client.post(LOGIN, json=login_body(FRESH_TCKN))

    assert a.json()["customerId"] == b.json()["customerId"]


async def test_each_login_issues_a_fresh_mfa_token_and_only_the_latest_works(
    sandbox: Sandbox,
) -> None:
    first = (await sandbox.client.post(LOGIN, json=login_body())).json()["token"]
    second = (await sandbox.client.post(LOGIN, json=login_body())).json()["token"]
    assert first != second

    stale = await sandbox.client.post(VERIFY, json={"token": first, "code": "123456"})
    fresh = await sandbox.client.post(VERIFY, json={"token": second, "code": "123456"})

    assert_problem(stale, 401, "unauthorized")
    assert fresh.status_code == 200


async def test_direct_tokens_variant(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(direct_tokens=True, access_token_seconds=120)

    response = await sandbox.client.post(LOGIN, json=login_body())

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"accessToken", "refreshToken", "expiresIn"}
    assert body["expiresIn"] == 120
    me = await sandbox.client.get(ME, headers=bearer(body["accessToken"]))
    assert me.status_code == 200


async def test_registering_requires_birth_date_but_a_known_customer_may_omit_it(
    sandbox: Sandbox,
) -> None:
    unknown = login_body(FRESH_TCKN)
    del unknown["birthDate"]
    known = login_body(DEMO_TCKN)
    del known["birthDate"]

    rejected = await sandbox.client.post(LOGIN, json=unknown)
    accepted = await sandbox.client.post(LOGIN, json=known)

    problem = assert_problem(rejected, 422, "input-validation")
    assert [e["propertyName"] for e in problem["validationErrors"]] == ["birthDate"]
    assert accepted.status_code == 200


async def test_company_and_foreign_customers_can_log_in(sandbox: Sandbox) -> None:
    company = {
        "$type": "company",
        "taxNumber": "1234567890",
        "phoneNumber": {"countryCode": 90, "number": "2125550000"},
        "agentId": DEMO_AGENT_ID,
        "approvedConsentTypes": ["KVKK"],
    }
    foreign = login_body("99123456780", **{"$type": "foreign"})

    for body in (company, foreign):
        response = await sandbox.client.post(LOGIN, json=body)
        assert response.status_code == 200, response.text


# --- verify-mfa ---------------------------------------------------------------------------


async def test_verify_mfa_returns_tokens_without_expires_in(sandbox: Sandbox) -> None:
    login = (await sandbox.client.post(LOGIN, json=login_body())).json()

    response = await sandbox.client.post(VERIFY, json={"token": login["token"], "code": "123456"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"accessToken", "refreshToken", "customerId"}
    assert body["customerId"] == login["customerId"]


async def test_wrong_code_is_a_business_validation_problem_and_keeps_the_token(
    sandbox: Sandbox,
) -> None:
    token = (await sandbox.client.post(LOGIN, json=login_body())).json()["token"]

    wrong = await sandbox.client.post(VERIFY, json={"token": token, "code": "654321"})
    right = await sandbox.client.post(VERIFY, json={"token": token, "code": "123456"})

    problem = assert_problem(wrong, 422, "business-validation")
    assert problem["codes"] == ["MFA_CODE_INVALID"]
    assert right.status_code == 200


async def test_code_comes_from_the_config(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(mfa_code="000042")
    token = (await sandbox.client.post(LOGIN, json=login_body())).json()["token"]

    default = await sandbox.client.post(VERIFY, json={"token": token, "code": "123456"})
    configured = await sandbox.client.post(VERIFY, json={"token": token, "code": "000042"})

    assert_problem(default, 422, "business-validation")
    assert configured.status_code == 200


async def test_malformed_code_is_an_input_validation_problem(sandbox: Sandbox) -> None:
    token = (await sandbox.client.post(LOGIN, json=login_body())).json()["token"]

    for code in ("12345", "abcdef", 123456):
        response = await sandbox.client.post(VERIFY, json={"token": token, "code": code})
        assert_problem(response, 422, "input-validation")


async def test_mfa_token_is_single_use(sandbox: Sandbox) -> None:
    token = (await sandbox.client.post(LOGIN, json=login_body())).json()["token"]

    first = await sandbox.client.post(VERIFY, json={"token": token, "code": "123456"})
    second = await sandbox.client.post(VERIFY, json={"token": token, "code": "123456"})

    assert first.status_code == 200
    assert_problem(second, 401, "unauthorized")


async def test_mfa_token_expires_after_300_seconds(sandbox: Sandbox) -> None:
    token = (await sandbox.client.post(LOGIN, json=login_body())).json()["token"]
    sandbox.clock.advance(300)

    response = await sandbox.client.post(VERIFY, json={"token": token, "code": "123456"})

    assert_problem(response, 401, "unauthorized")


async def test_unknown_mfa_token_is_unauthorized(sandbox: Sandbox) -> None:
    response = await sandbox.client.post(VERIFY, json={"token": "nope", "code": "123456"})

    assert_problem(response, 401, "unauthorized")


# --- refresh ---------------------------------------------------------------------------------


async def test_refresh_rotates_and_rejects_the_used_token(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens()

    first = await sandbox.client.post(REFRESH, json={"refreshToken": tokens["refreshToken"]})
    replay = await sandbox.client.post(REFRESH, json={"refreshToken": tokens["refreshToken"]})

    assert first.status_code == 200
    rotated = first.json()
    assert set(rotated) == {"accessToken", "refreshToken", "expiresIn"}
    assert rotated["expiresIn"] == 600
    assert rotated["refreshToken"] != tokens["refreshToken"]
    assert rotated["accessToken"] != tokens["accessToken"]
    assert_problem(replay, 401, "unauthorized")
    again = await sandbox.client.post(REFRESH, json={"refreshToken": rotated["refreshToken"]})
    assert again.status_code == 200


async def test_refresh_accepts_an_expired_access_token_in_the_header(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens()
    sandbox.clock.advance(3600)

    response = await sandbox.client.post(
        REFRESH,
        json={"refreshToken": tokens["refreshToken"]},
        headers=bearer(tokens["accessToken"]),
    )

    assert response.status_code == 200
    me = await sandbox.client.get(ME, headers=bearer(response.json()["accessToken"]))
    assert me.status_code == 200


async def test_unknown_refresh_token_is_unauthorized(sandbox: Sandbox) -> None:
    response = await sandbox.client.post(REFRESH, json={"refreshToken": "rt_forged"})

    assert_problem(response, 401, "unauthorized")


async def test_refresh_token_expires(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(refresh_token_seconds=3600)
    tokens = await sandbox.tokens()
    sandbox.clock.advance(3600)

    response = await sandbox.client.post(REFRESH, json={"refreshToken": tokens["refreshToken"]})

    assert_problem(response, 401, "unauthorized")


async def test_concurrent_refreshes_with_one_token_let_exactly_one_win(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens()
    body = {"refreshToken": tokens["refreshToken"]}

    responses = await asyncio.gather(*(sandbox.client.post(REFRESH, json=body) for _ in range(5)))

    assert sorted(r.status_code for r in responses) == [200, 401, 401, 401, 401]


# --- access tokens ----------------------------------------------------------------------------


async def test_access_token_is_an_hs256_jwt(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens()

    header, payload = jwt_parts(tokens["accessToken"])

    assert header == {"alg": "HS256", "typ": "JWT"}
    assert payload["sub"] == tokens["customerId"]
    assert payload["iat"] == int(sandbox.clock())
    assert payload["exp"] - payload["iat"] == 600
    assert payload["jti"]


async def test_access_token_expires_after_its_lifetime(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(access_token_seconds=60)
    tokens = await sandbox.tokens()
    sandbox.clock.advance(59)
    assert (await sandbox.client.get(ME, headers=bearer(tokens["accessToken"]))).status_code == 200
    sandbox.clock.advance(1)

    response = await sandbox.client.get(ME, headers=bearer(tokens["accessToken"]))

    problem = assert_problem(response, 401, "unauthorized")
    assert problem["title"] == "Unauthorized"
    assert "expired" in problem["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_missing_forged_or_foreign_tokens_are_unauthorized(
    sandbox: Sandbox, make_sandbox: SandboxFactory
) -> None:
    tokens = await sandbox.tokens()
    header, payload, signature = tokens["accessToken"].split(".")
    tampered = f"{header}.{payload}.{signature[:-2]}AA"
    other_process = await make_sandbox(jwt_secret=b"another-secret")
    foreign = (await other_process.tokens())["accessToken"]

    cases: list[dict[str, str]] = [
        {},
        {"Authorization": tokens["accessToken"]},  # no scheme
        {"Authorization": "Basic abc"},
        bearer("not-a-jwt"),
        bearer(tampered),
        bearer(foreign),
    ]
    for headers in cases:
        response = await sandbox.client.get(ME, headers=headers)
        assert_problem(response, 401, "unauthorized")


async def test_a_token_minted_by_another_simulator_with_the_same_secret_is_unknown(
    make_sandbox: SandboxFactory,
) -> None:
    one = await make_sandbox()
    two = await make_sandbox()
    token = (await one.tokens())["accessToken"]

    response = await two.client.get(ME, headers=bearer(token))

    assert_problem(response, 401, "unauthorized")
