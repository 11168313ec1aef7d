"""`GET /api/customers/me`."""

import re

from app.sandbox import DEMO_AGENT_ID

from .conftest import (
    DEMO_TCKN,
    FRESH_TCKN,
    LOGIN,
    ME,
    VERIFY,
    Sandbox,
    SandboxFactory,
    assert_problem,
    bearer,
    login_body,
)


async def test_me_returns_the_demo_customer(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens(DEMO_TCKN)

    response = await sandbox.client.get(ME, headers=bearer(tokens["accessToken"]))

    assert response.status_code == 200
    me = response.json()
    assert next(iter(me)) == "$type"
    assert me["$type"] == "individual"
    assert me["id"] == tokens["customerId"]
    assert me["identityNumber"] == DEMO_TCKN
    assert me["fullName"] == "Ada Yılmaz"
    assert me["birthDate"] == "1990-01-01"
    assert me["primaryPhoneNumber"] == {"countryCode": 90, "number": "5321234567"}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", me["createdAt"])
    assert me["creationChannel"] == "WEBSITE"
    assert me["caseCount"] == 2
    for counter in ("vehicleCount", "propertyCount", "proposalCount", "policyCount"):
        assert me[counter] == 0


async def test_new_customer_gets_a_deterministic_turkish_looking_name(
    make_sandbox: SandboxFactory,
) -> None:
    names = []
    for _ in range(2):
        sandbox = await make_sandbox()
        tokens = await sandbox.tokens(
            FRESH_TCKN,
            birthDate="1988-03-04",
            phoneNumber={"countryCode": 90, "number": "5551234567"},
            approvedConsentTypes=["KVKK", "ETK"],
            agentBranchId="65a1b2c3d4e5f60718293a4b",
        )
        me = (await sandbox.client.get(ME, headers=bearer(tokens["accessToken"]))).json()
        assert me["identityNumber"] == FRESH_TCKN
        assert me["birthDate"] == "1988-03-04"
        assert me["primaryPhoneNumber"] == {"countryCode": 90, "number": "5551234567"}
        assert me["agentBranchId"] == "65a1b2c3d4e5f60718293a4b"
        assert me["consents"] == [
            {"consentType": "KVKK", "isActive": True},
            {"consentType": "ETK", "isActive": True},
        ]
        assert me["caseCount"] == 0
        names.append(me["fullName"])

    assert names[0] == names[1]
    first, last = names[0].split(" ")
    assert first.istitle()
    assert last.istitle()


async def test_company_me_has_title_and_tax_number(sandbox: Sandbox) -> None:
    login = await sandbox.client.post(
        LOGIN,
        json={
            "$type": "company",
            "taxNumber": "1234567890",
            "phoneNumber": {"countryCode": 90, "number": "2125550000"},
            "agentId": DEMO_AGENT_ID,
        },
    )
    verify = await sandbox.client.post(
        VERIFY, json={"token": login.json()["token"], "code": "123456"}
    )

    me = (await sandbox.client.get(ME, headers=bearer(verify.json()["accessToken"]))).json()

    assert me["$type"] == "company"
    assert me["taxNumber"] == "1234567890"
    assert me["title"]
    assert "identityNumber" not in me


async def test_me_requires_a_token(sandbox: Sandbox) -> None:
    response = await sandbox.client.get(ME)

    assert_problem(response, 401, "unauthorized")


async def test_me_is_served_without_the_api_prefix(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens()

    response = await sandbox.client.get("/customers/me", headers=bearer(tokens["accessToken"]))

    assert response.status_code == 200
    assert response.json()["id"] == tokens["customerId"]


async def test_login_is_served_without_the_api_prefix(sandbox: Sandbox) -> None:
    response = await sandbox.client.post("/auth/customer/login-or-register", json=login_body())

    assert response.status_code == 200
