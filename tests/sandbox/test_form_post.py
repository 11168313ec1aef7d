"""`purchase_form_post`: 3-D Secure hand-off with an auto-posted form (PaReq, MD, TermUrl)."""

from typing import Any
from urllib.parse import urlencode

import pytest

from .conftest import Sandbox, SandboxFactory, assert_problem
from .flows import CALLBACK, Shopper, pick, product_in, shopper

THREE_D = "ASYNC_3D_SECURE"
REDIRECT = "ASYNC_INSURANCE_COMPANY_REDIRECT"
THIRD_PARTY = "ASYNC_THIRD_PARTY_3D_SECURE"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def start(me: Shopper, option: str, type_: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start a purchase: (the product plus its `proposalId`, the purchase/async answer)."""
    proposal = await me.priced_proposal()
    product = pick(proposal, option=option)
    started = await me.purchase(proposal, product, **{"$type": type_})
    assert started.status_code == 200, started.text
    answer: dict[str, Any] = started.json()
    return product | {"proposalId": proposal["proposalId"]}, answer


async def test_by_default_the_answer_is_a_redirect_url_only(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    _, answer = await start(me, THREE_D, "3d-secure")

    posted = await sandbox.client.post(answer["redirectUrl"], data={"MD": "x"})

    assert set(answer) == {"redirectUrl"}
    assert (await sandbox.client.get(answer["redirectUrl"])).status_code == 200
    problem = assert_problem(posted, 405, "method-not-allowed")
    assert posted.headers["allow"] == "GET"
    assert "GET" in problem["detail"]


@pytest.mark.parametrize(
    ("option", "type_"), [(THREE_D, "3d-secure"), (THIRD_PARTY, "third-party-3d-secure")]
)
async def test_card_methods_hand_off_with_a_form_post(
    make_sandbox: SandboxFactory, option: str, type_: str
) -> None:
    sandbox = await make_sandbox(purchase_form_post=True)
    me = await shopper(sandbox)
    product, answer = await start(me, option, type_)

    assert set(answer) == {"redirectUrl", "method", "formParameters"}
    assert answer["method"] == "POST"
    parameters = answer["formParameters"]
    assert list(parameters) == ["PaReq", "MD", "TermUrl"]
    assert answer["redirectUrl"].startswith("http://insurup.sandbox/sandbox/pay/")
    assert parameters["MD"] == answer["redirectUrl"].rsplit("/", 1)[1]
    assert parameters["TermUrl"] == CALLBACK
    assert {"+", "/", "="} <= set(parameters["PaReq"])  # base64 that needs form encoding

    get = await sandbox.client.get(answer["redirectUrl"])
    assert_problem(get, 405, "method-not-allowed")
    assert get.headers["allow"] == "POST"

    # What a browser sends for an auto-submitted <form method="post">.
    page = await sandbox.client.post(
        answer["redirectUrl"], content=urlencode(parameters), headers=FORM
    )
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert product["insuranceCompanyName"] in page.text
    assert 'name="smsCode"' in page.text
    assert f'action="{answer["redirectUrl"]}/approve"' in page.text

    approved = await sandbox.client.post(f"{answer['redirectUrl']}/approve")
    assert approved.status_code == 303
    after = product_in(await me.proposal(product["proposalId"]), product["id"])
    assert after["state"] == "PURCHASED"


@pytest.mark.parametrize(
    ("tamper", "properties"),
    [
        pytest.param(lambda p: {}, {"PaReq", "MD", "TermUrl"}, id="nothing"),
        pytest.param(lambda p: p | {"PaReq": p["PaReq"].replace("+", " ")}, {"PaReq"}, id="plus"),
        pytest.param(lambda p: p | {"MD": "0" * 32}, {"MD"}, id="other-md"),
        pytest.param(lambda p: p | {"TermUrl": "https://x.example/"}, {"TermUrl"}, id="term"),
    ],
)
async def test_the_form_must_carry_the_handed_out_values(
    make_sandbox: SandboxFactory, tamper: Any, properties: set[str]
) -> None:
    sandbox = await make_sandbox(purchase_form_post=True)
    me = await shopper(sandbox)
    _, answer = await start(me, THREE_D, "3d-secure")

    response = await sandbox.client.post(
        answer["redirectUrl"], data=tamper(answer["formParameters"])
    )

    problem = assert_problem(response, 400, "input-validation")
    assert {i["propertyName"] for i in problem["validationErrors"]} == properties


async def test_a_raw_plus_in_pareq_is_a_space_on_the_wire(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(purchase_form_post=True)
    me = await shopper(sandbox)
    _, answer = await start(me, THREE_D, "3d-secure")
    parameters = answer["formParameters"]
    unescaped = "&".join(f"{name}={value}" for name, value in parameters.items())

    response = await sandbox.client.post(answer["redirectUrl"], content=unescaped, headers=FORM)

    assert_problem(response, 400, "input-validation")


async def test_insurer_redirect_stays_a_plain_get(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(purchase_form_post=True)
    me = await shopper(sandbox)
    _, answer = await start(me, REDIRECT, "insurance-company-redirect")

    page = await sandbox.client.get(answer["redirectUrl"])
    posted = await sandbox.client.post(answer["redirectUrl"], data={"MD": "x"})

    assert set(answer) == {"redirectUrl"}
    assert page.status_code == 200
    assert_problem(posted, 405, "method-not-allowed")
