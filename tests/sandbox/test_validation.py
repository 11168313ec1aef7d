"""The sandbox accepts the contract bodies and rejects the seed guide's shapes (section 11)."""

from typing import Any

import pytest

from .conftest import (
    DEMO_TCKN,
    LOGIN,
    NEW_CASE,
    Sandbox,
    assert_problem,
    bearer,
    login_body,
)


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


SEED_LOGIN = {
    "type": "individual",
    "identityNumber": DEMO_TCKN,
    "birthday": "01.01.1990",
    "phoneNumber": "+905321234567",
    "agentId": "AGENT-001",
}


@pytest.mark.parametrize(
    ("body", "property_names"),
    [
        pytest.param(
            {**_without(login_body(), "$type"), "type": "individual"},
            {"$type", "type"},
            id="type-instead-of-$type",
        ),
        pytest.param(login_body(**{"$type": "corporate"}), {"$type"}, id="corporate-discriminator"),
        pytest.param(
            {**_without(login_body(), "birthDate"), "birthday": "1990-01-01"},
            {"birthday"},
            id="birthday-key",
        ),
        pytest.param(login_body(birthDate="01.01.1990"), {"birthDate"}, id="dotted-birth-date"),
        pytest.param(login_body(birthDate="1990-02-30"), {"birthDate"}, id="impossible-date"),
        pytest.param(
            login_body(phoneNumber="+905321234567"), {"phoneNumber"}, id="phone-as-string"
        ),
        pytest.param(
            login_body(phoneNumber={"countryCode": 90, "number": "05321234567"}),
            {"phoneNumber.number"},
            id="phone-with-leading-zero",
        ),
        pytest.param(
            login_body(phoneNumber={"countryCode": "+90", "number": "5321234567"}),
            {"phoneNumber.countryCode"},
            id="country-code-with-plus",
        ),
        pytest.param(login_body(agentId="AGENT-001"), {"agentId"}, id="non-guid-agent-id"),
        pytest.param(_without(login_body(), "agentId"), {"agentId"}, id="missing-agent-id"),
        pytest.param(login_body(identityNumber="11111111111"), {"identityNumber"}, id="bad-tckn"),
        pytest.param(
            login_body(**{"$type": "company"}),
            {"taxNumber", "identityNumber", "birthDate"},
            id="company-with-identity-number",
        ),
        pytest.param(
            SEED_LOGIN,
            {"$type", "type", "birthday", "phoneNumber", "agentId"},
            id="whole-seed-body",
        ),
    ],
)
async def test_seed_login_shapes_are_rejected(
    sandbox: Sandbox, body: dict[str, Any], property_names: set[str]
) -> None:
    response = await sandbox.client.post(LOGIN, json=body)

    problem = assert_problem(response, 422, "input-validation")
    errors = problem["validationErrors"]
    assert {e["propertyName"] for e in errors} == property_names
    for error in errors:
        assert set(error) == {"propertyName", "errorMessage", "attemptedValue"}
        assert error["errorMessage"]


async def test_validation_errors_carry_the_attempted_value_and_a_hint(sandbox: Sandbox) -> None:
    response = await sandbox.client.post(LOGIN, json=SEED_LOGIN)

    errors = {
        e["propertyName"]: e
        for e in assert_problem(response, 422, "input-validation")["validationErrors"]
    }
    assert errors["agentId"]["attemptedValue"] == "AGENT-001"
    assert errors["phoneNumber"]["attemptedValue"] == "+905321234567"
    assert errors["$type"]["attemptedValue"] is None
    assert "$type" in errors["type"]["errorMessage"]
    assert "birthDate" in errors["birthday"]["errorMessage"]


async def test_identity_checksum_validation_can_be_switched_off(make_sandbox: Any) -> None:
    sandbox = await make_sandbox(validate_identity_checksums=False)

    response = await sandbox.client.post(LOGIN, json=login_body("11111111111"))

    assert response.status_code == 200


async def test_malformed_json_is_a_400_problem(sandbox: Sandbox) -> None:
    response = await sandbox.client.post(
        LOGIN, content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 400, "input-validation")


async def test_a_json_array_body_is_a_400_problem(sandbox: Sandbox) -> None:
    response = await sandbox.client.post(LOGIN, json=[login_body()])

    assert_problem(response, 400, "input-validation")


async def test_non_json_content_type_is_415(sandbox: Sandbox) -> None:
    response = await sandbox.client.post(LOGIN, data={"identityNumber": DEMO_TCKN})

    assert_problem(response, 415, "unsupported-media-type")


@pytest.mark.parametrize(
    ("overrides", "property_name"),
    [
        pytest.param({"channel": "MOBILE"}, "channel", id="seed-MOBILE"),
        pytest.param({"channel": "website"}, "channel", id="lowercase-website"),
        pytest.param({"productBranch": "kasko"}, "productBranch", id="lowercase-branch"),
        pytest.param({"productBranch": "CASCO"}, "productBranch", id="unknown-branch"),
        pytest.param({"productBranch": None}, "productBranch", id="null-branch"),
        pytest.param({"assetType": "CAR"}, "assetType", id="unknown-asset-type"),
        pytest.param({"assetId": "vehicle-1"}, "assetId", id="non-guid-asset-id"),
        pytest.param({"caseType": "SALE_OPPORTUNITY"}, "caseType", id="unknown-property"),
    ],
)
async def test_bad_case_bodies_are_rejected(
    sandbox: Sandbox, overrides: dict[str, Any], property_name: str
) -> None:
    tokens = await sandbox.tokens()
    body = {"customerId": tokens["customerId"], "productBranch": "KASKO", **overrides}

    response = await sandbox.client.post(NEW_CASE, json=body, headers=bearer(tokens["accessToken"]))

    problem = assert_problem(response, 422, "input-validation")
    assert [e["propertyName"] for e in problem["validationErrors"]] == [property_name]
    assert sandbox.state.case_creations[tokens["customerId"]] == 0


async def test_non_guid_customer_id_is_rejected(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens()

    response = await sandbox.client.post(
        NEW_CASE,
        json={"customerId": "CUST-1", "productBranch": "KASKO"},
        headers=bearer(tokens["accessToken"]),
    )

    assert_problem(response, 422, "input-validation")
