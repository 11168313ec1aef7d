"""Async purchase, the fake payment page and the misleading callback (reference 6, 7)."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import NO_CASES_TCKN, Sandbox, SandboxFactory, assert_problem
from .flows import (
    CALLBACK,
    DECLINING_CARD,
    PRICING_DONE,
    Shopper,
    card,
    pick,
    product_in,
    shopper,
)

THREE_D = "ASYNC_3D_SECURE"
REDIRECT = "ASYNC_INSURANCE_COMPANY_REDIRECT"
THIRD_PARTY = "ASYNC_THIRD_PARTY_3D_SECURE"


def callback_query(location: str) -> dict[str, str]:
    assert location.startswith("https://gateway.example/payments/callback/tok123?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def product_now(me: Shopper, proposal: dict[str, Any], product_id: str) -> dict[str, Any]:
    return product_in(await me.proposal(proposal["proposalId"]), product_id)


async def test_three_d_secure_purchase_end_to_end(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)

    started = await me.purchase(proposal, product, installmentNumber=3)

    assert started.status_code == 200, started.text
    redirect_url = started.json()["redirectUrl"]
    assert redirect_url.startswith("http://insurup.sandbox/sandbox/pay/")
    assert (await product_now(me, proposal, product["id"]))["state"] == "PURCHASING"
    assert (await me.proposal(proposal["proposalId"]))["state"] == "PURCHASING"

    page = await sandbox.client.get(redirect_url)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert product["insuranceCompanyName"] in html
    assert "**** **** **** 4242" in html
    assert "4242424242424242" not in html
    assert 'name="smsCode"' in html
    assert f'action="{redirect_url}/approve"' in html
    assert f'action="{redirect_url}/decline"' in html
    assert "<script" not in html
    assert "http" not in html.replace(redirect_url, "")  # no external assets

    approved = await sandbox.client.post(f"{redirect_url}/approve", data={"smsCode": "123456"})

    assert approved.status_code == 303
    query = callback_query(approved.headers["location"])
    assert query["lang"] == "tr"  # the callback's own query survives
    assert query["success"] == "true"
    assert query["status"] == "PURCHASED"
    bought = await product_now(me, proposal, product["id"])
    assert bought["state"] == "PURCHASED"
    assert bought["policyId"]
    assert query["policyId"] != bought["policyId"]  # the callback's policyId is made up
    assert (await me.proposal(proposal["proposalId"]))["state"] == "PURCHASED"
    policy = (await me.get(f"/api/policies/{bought['policyId']}")).json()
    assert policy["installmentNumber"] == 3
    assert policy["grossPremium"] == product["premiums"][1]["grossPremium"]
    assert policy["paymentType"] == THREE_D
    document = (await me.get(f"/api/policies/{bought['policyId']}/document")).json()
    pdf = await sandbox.client.get(document["url"])
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert pdf.content.rstrip().endswith(b"%%EOF")
    assert sandbox.state.purchase_starts[product["id"]] == 1
    assert sandbox.state.payment_outcomes["approved"] == 1


async def test_declining_card_ends_active_without_policy(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)
    started = await me.purchase(proposal, product, card=card(DECLINING_CARD))
    redirect_url = started.json()["redirectUrl"]

    approve = await sandbox.client.post(f"{redirect_url}/approve")  # no body: a non-browser client

    assert approve.status_code == 303
    assert callback_query(approve.headers["location"])["status"] == "PURCHASED"  # a lie
    after = await product_now(me, proposal, product["id"])
    assert after["state"] == "ACTIVE"
    assert after["policyId"] is None
    assert sandbox.state.payment_outcomes["declined"] == 1
    assert sandbox.state.policies == {}
    page = await sandbox.client.get(redirect_url)
    assert "reddedildi" in page.text
    again = await me.purchase(proposal, product)  # the product can be bought again
    assert again.status_code == 200


@pytest.mark.parametrize(("button", "data"), [("decline", {}), ("approve", {"smsCode": "000000"})])
async def test_decline_button_and_failing_sms_code(
    sandbox: Sandbox, button: str, data: dict[str, str]
) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)
    redirect_url = (await me.purchase(proposal, product)).json()["redirectUrl"]

    response = await sandbox.client.post(f"{redirect_url}/{button}", data=data)

    assert response.status_code == 303
    assert callback_query(response.headers["location"])["success"] == "true"
    assert (await product_now(me, proposal, product["id"]))["state"] == "ACTIVE"


@pytest.mark.parametrize(
    ("option", "type_"),
    [(REDIRECT, "insurance-company-redirect"), (THIRD_PARTY, "third-party-3d-secure")],
)
async def test_other_async_methods(sandbox: Sandbox, option: str, type_: str) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=option)

    started = await me.purchase(proposal, product, **{"$type": type_})

    assert started.status_code == 200, started.text
    redirect_url = started.json()["redirectUrl"]
    page = (await sandbox.client.get(redirect_url)).text
    assert ("smsCode" in page) is (type_ != "insurance-company-redirect")
    approved = await sandbox.client.post(f"{redirect_url}/approve")
    assert approved.status_code == 303
    bought = await product_now(me, proposal, product["id"])
    assert bought["state"] == "PURCHASED"
    policy = (await me.get(f"/api/policies/{bought['policyId']}")).json()
    assert policy["paymentType"] == option


async def test_robot_products_are_refused(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    robot = pick(proposal, product_type="ROBOT")

    response = await me.purchase(proposal, robot, **{"$type": "insurance-company-redirect"})

    problem = assert_problem(response, 422, "business-validation")
    assert problem["codes"] == ["PRODUCT_NOT_PURCHASABLE"]


async def test_inactive_products_are_refused(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    vehicle_id = await me.add_vehicle()
    proposal_id = (await me.create_proposal(vehicle_id)).json()["proposalId"]
    waiting_proposal = await me.proposal(proposal_id)
    waiting = pick(waiting_proposal, state="WAITING", option=THREE_D)

    on_waiting = await me.purchase(waiting_proposal, waiting)

    assert_problem(on_waiting, 409, "resource-invalid-state")
    for _ in range(20):  # which product fails is a hash of the proposal id
        sandbox.clock.advance(PRICING_DONE)
        priced = await me.proposal(proposal_id)
        failed = [
            p
            for p in priced["products"]
            if p["state"] == "FAILED" and p["productType"] == "WEB_SERVICE"
        ]
        if failed:
            break
        proposal_id = (await me.create_proposal(vehicle_id)).json()["proposalId"]
    on_failed = await me.purchase(priced, failed[0])
    assert_problem(on_failed, 409, "resource-invalid-state")


async def test_one_purchase_at_a_time_per_proposal(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    first = pick(proposal, option=THREE_D)
    second = pick(proposal, option=REDIRECT)
    assert (await me.purchase(proposal, first)).status_code == 200

    again = await me.purchase(proposal, first)
    other = await me.purchase(proposal, second, **{"$type": "insurance-company-redirect"})

    assert_problem(again, 409, "resource-invalid-state")
    assert_problem(other, 409, "resource-invalid-state")


@pytest.mark.parametrize(
    ("option", "type_"),
    [(THREE_D, "insurance-company-redirect"), (REDIRECT, "3d-secure")],
)
async def test_unsupported_payment_method_is_refused(
    sandbox: Sandbox, option: str, type_: str
) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=option)

    response = await me.purchase(proposal, product, **{"$type": type_})

    problem = assert_problem(response, 422, "business-validation")
    assert problem["codes"] == ["PAYMENT_OPTION_NOT_SUPPORTED"]


async def test_installment_must_be_offered(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()

    response = await me.purchase(proposal, pick(proposal, option=THREE_D), installmentNumber=2)

    problem = assert_problem(response, 422, "business-validation")
    assert problem["codes"] == ["INSTALLMENT_NOT_OFFERED"]


@pytest.mark.parametrize(
    ("overrides", "properties"),
    [
        pytest.param({"card": card("4242424242424241")}, {"card.number"}, id="luhn"),
        pytest.param({"card": card("42424242")}, {"card.number"}, id="short-number"),
        pytest.param({"card": card("4242 4242 4242 4242")}, {"card.number"}, id="spaces"),
        pytest.param({"card": card(cvc="12")}, {"card.cvc"}, id="cvc"),
        pytest.param({"card": card(expiryMonth="1")}, {"card.expiryMonth"}, id="month-m"),
        pytest.param({"card": card(expiryMonth="13")}, {"card.expiryMonth"}, id="month-13"),
        pytest.param({"card": card(expiryYear="30")}, {"card.expiryYear"}, id="year-yy"),
        pytest.param({"card": card(expiryYear="2024")}, {"card.expiryYear"}, id="expired"),
        pytest.param({"card": card(number=4242424242424242)}, {"card.number"}, id="number-int"),
        pytest.param({"card": None}, {"card"}, id="no-card"),
        pytest.param({"callbackUrl": "/payments/callback"}, {"callbackUrl"}, id="relative-url"),
        pytest.param({"callbackUrl": "javascript:alert(1)"}, {"callbackUrl"}, id="js-url"),
        pytest.param({"callbackUrl": None}, {"callbackUrl"}, id="no-callback"),
        pytest.param({"$type": "credit-card"}, {"$type"}, id="sync-type"),
        pytest.param(
            {"identityNumber": "11111111110"}, {"identityNumber"}, id="identity-at-top-level"
        ),
    ],
)
async def test_bad_purchase_bodies_are_input_validation_problems(
    sandbox: Sandbox, overrides: dict[str, Any], properties: set[str]
) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)

    response = await me.purchase(proposal, product, **overrides)

    problem = assert_problem(response, 422, "input-validation")
    assert {i["propertyName"] for i in problem["validationErrors"]} == properties
    assert "424242424242" not in response.text  # card data is never echoed
    assert all(
        i["attemptedValue"] is None
        for i in problem["validationErrors"]
        if i["propertyName"].startswith("card")
    )
    assert (await product_now(me, proposal, product["id"]))["state"] == "ACTIVE"


async def test_redirect_type_takes_no_card_and_type_comes_first(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=REDIRECT)
    path = f"/api/proposals/{proposal['proposalId']}/products/{product['id']}/purchase/async"
    common = {
        "proposalId": proposal["proposalId"],
        "proposalProductId": product["id"],
        "installmentNumber": 1,
        "callbackUrl": CALLBACK,
    }

    with_card = await me.post(
        path, {"$type": "insurance-company-redirect", **common, "card": card()}
    )
    type_last = await me.post(path, {**common, "$type": "insurance-company-redirect"})
    other_ids = await me.post(
        path, {"$type": "insurance-company-redirect", **common, "proposalProductId": "x" * 24}
    )

    assert_problem(with_card, 422, "input-validation")
    assert "424242424242" not in with_card.text
    problem = assert_problem(type_last, 422, "input-validation")
    assert [i["propertyName"] for i in problem["validationErrors"]] == ["$type"]
    assert_problem(other_ids, 422, "input-validation")


async def test_no_card_number_or_cvc_is_kept(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)

    await me.purchase(proposal, product, card=card(cvc="987"))

    (session,) = sandbox.state.payment_sessions.values()
    # Compare whole values, not substrings: a random id may well contain "987".
    kept = [str(value) for value in vars(session).values()]
    assert not any("4242424242424242" in value for value in kept)
    assert "987" not in kept
    assert session.card_last4 == "4242"


async def test_settle_delay_keeps_the_product_purchasing(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(purchase_settle_seconds=5.0)
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)
    redirect_url = (await me.purchase(proposal, product)).json()["redirectUrl"]

    await sandbox.client.post(f"{redirect_url}/approve")
    during = await product_now(me, proposal, product["id"])
    sandbox.clock.advance(5.0)
    after = await product_now(me, proposal, product["id"])

    assert during["state"] == "PURCHASING"
    assert during["policyId"] is None
    assert after["state"] == "PURCHASED"
    assert after["policyId"]


async def test_callback_without_purchase_changes_nothing(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)
    redirect_url = (await me.purchase(proposal, product)).json()["redirectUrl"]

    response = await sandbox.client.post(f"{redirect_url}/callback-without-purchase")

    assert response.status_code == 303
    assert callback_query(response.headers["location"])["status"] == "PURCHASED"
    assert (await product_now(me, proposal, product["id"]))["state"] == "PURCHASING"
    assert sandbox.state.callback_redirects == [response.headers["location"]]


async def test_callback_without_purchase_knob(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(callback_without_purchase=True)
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)
    redirect_url = (await me.purchase(proposal, product)).json()["redirectUrl"]

    response = await sandbox.client.post(f"{redirect_url}/approve")

    assert response.status_code == 303
    assert (await product_now(me, proposal, product["id"]))["state"] == "PURCHASING"
    assert sandbox.state.payment_outcomes["callback_without_purchase"] == 1


async def test_an_abandoned_payment_expires_back_to_active(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(payment_session_seconds=60.0)
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)
    redirect_url = (await me.purchase(proposal, product)).json()["redirectUrl"]

    sandbox.clock.advance(60.0)
    after = await product_now(me, proposal, product["id"])
    late_approve = await sandbox.client.post(f"{redirect_url}/approve")

    assert after["state"] == "ACTIVE"
    assert late_approve.status_code == 303
    assert (await product_now(me, proposal, product["id"]))["state"] == "ACTIVE"
    assert sandbox.state.payment_outcomes["expired"] == 1


async def test_a_repeated_approval_repeats_the_redirect_only(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)
    redirect_url = (await me.purchase(proposal, product)).json()["redirectUrl"]

    first = await sandbox.client.post(f"{redirect_url}/approve")
    second = await sandbox.client.post(f"{redirect_url}/approve")
    declined_later = await sandbox.client.post(f"{redirect_url}/decline")

    assert first.headers["location"] == second.headers["location"]
    assert declined_later.status_code == 303
    assert len(sandbox.state.policies) == 1
    assert (await product_now(me, proposal, product["id"]))["state"] == "PURCHASED"


async def test_unknown_payment_session_is_404(sandbox: Sandbox) -> None:
    assert_problem(await sandbox.client.get("/sandbox/pay/nope"), 404, "resource-not-found")
    response = await sandbox.client.post("/sandbox/pay/nope/approve")
    assert_problem(response, 404, "resource-not-found")


async def test_purchase_needs_the_owner(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    emre = await shopper(sandbox, NO_CASES_TCKN)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)

    foreign = await emre.purchase(proposal, product)
    anonymous = await sandbox.client.post(
        f"/api/proposals/{proposal['proposalId']}/products/{product['id']}/purchase/async",
        json={},
    )

    assert_problem(foreign, 403, "access-denied")
    assert_problem(anonymous, 401, "unauthorized")


async def test_fault_knob_on_purchase(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)
    sandbox.state.faults.fail_next["purchase"] = 1

    faulted = await me.purchase(proposal, product)
    between = await product_now(me, proposal, product["id"])
    retried = await me.purchase(proposal, product)

    assert between["state"] == "ACTIVE"
    assert_problem(faulted, 503, "upstream-service")
    assert retried.status_code == 200
    assert sandbox.state.injected_faults["purchase"] == 1
    assert sandbox.state.purchase_starts[product["id"]] == 1


async def test_the_redirect_can_name_the_address_browsers_use(make_sandbox: SandboxFactory) -> None:
    # Compose: the gateway calls http://sandbox:8099, the browser reaches localhost:8099.
    sandbox = await make_sandbox(public_base_url="http://localhost:8099/")
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)
    redirect_url = (await me.purchase(proposal, product)).json()["redirectUrl"]
    assert redirect_url.startswith("http://localhost:8099/sandbox/pay/")
