"""`approvedConsentTypes` at login-or-register: validated and recorded per customer."""

from typing import Any

import pytest

from .conftest import (
    DEMO_TCKN,
    FRESH_TCKN,
    LOGIN,
    ME,
    Sandbox,
    assert_problem,
    bearer,
    login_body,
)


async def test_consents_are_recorded_per_customer(sandbox: Sandbox) -> None:
    first = await sandbox.client.post(
        LOGIN, json=login_body(FRESH_TCKN, approvedConsentTypes=["KVKK"])
    )
    customer_id = first.json()["customerId"]
    assert sandbox.state.consents[customer_id] == {"KVKK"}

    await sandbox.client.post(LOGIN, json=login_body(FRESH_TCKN, approvedConsentTypes=["ETK"]))
    await sandbox.client.post(LOGIN, json=login_body(FRESH_TCKN))  # nothing new, nothing lost

    assert sandbox.state.consents[customer_id] == {"KVKK", "ETK"}
    tokens = await sandbox.tokens(FRESH_TCKN)
    me = (await sandbox.client.get(ME, headers=bearer(tokens["accessToken"]))).json()
    assert me["consents"] == [
        {"consentType": "KVKK", "isActive": True},
        {"consentType": "ETK", "isActive": True},
    ]


async def test_a_known_customer_records_consents_too(sandbox: Sandbox) -> None:
    plain = await sandbox.client.post(LOGIN, json=login_body(DEMO_TCKN))
    customer_id = plain.json()["customerId"]
    assert sandbox.state.consents[customer_id] == set()

    await sandbox.client.post(
        LOGIN, json=login_body(DEMO_TCKN, approvedConsentTypes=["ETK", "KVKK", "KVKK"])
    )

    assert sandbox.state.consents[customer_id] == {"KVKK", "ETK"}


@pytest.mark.parametrize(
    ("consents", "property_name"),
    [
        (["KVKK", "SMS"], "approvedConsentTypes[1]"),
        (["kvkk"], "approvedConsentTypes[0]"),
        ([1], "approvedConsentTypes[0]"),
        ("KVKK", "approvedConsentTypes"),
        ({"KVKK": True}, "approvedConsentTypes"),
    ],
)
async def test_anything_but_kvkk_or_etk_is_a_400_naming_the_field(
    sandbox: Sandbox, consents: Any, property_name: str
) -> None:
    response = await sandbox.client.post(
        LOGIN, json=login_body(FRESH_TCKN, approvedConsentTypes=consents)
    )

    problem = assert_problem(response, 400, "input-validation")
    assert [i["propertyName"] for i in problem["validationErrors"]] == [property_name]
    assert sandbox.state.consents == {}
    assert sandbox.state.customer_by_number(FRESH_TCKN) is None


async def test_null_or_empty_consents_are_fine(sandbox: Sandbox) -> None:
    nothing: tuple[list[str] | None, ...] = (None, [])
    for consents in nothing:
        response = await sandbox.client.post(
            LOGIN, json=login_body(FRESH_TCKN, approvedConsentTypes=consents)
        )
        assert response.status_code == 200, response.text
    assert sandbox.state.consents[response.json()["customerId"]] == set()


async def test_a_refused_login_records_nothing(sandbox: Sandbox) -> None:
    body = login_body(FRESH_TCKN, approvedConsentTypes=["KVKK"])
    del body["birthDate"]  # registering needs it

    assert_problem(await sandbox.client.post(LOGIN, json=body), 422, "input-validation")
    assert sandbox.state.consents == {}
