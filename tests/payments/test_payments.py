"""The money path: idempotent purchase, refusals before InsurUp, a callback nobody can fool."""

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from app.config import Settings
from app.errors import StoreUnavailable
from app.store.payments import Payment, PaymentStore
from tests.conftest import AppFactory, LogLines, ManualClock
from tests.fake_insurup import PROPOSAL_ID, FakeInsurUp, product
from tests.helpers import CSRF, sign_in_cookie

CARD = {
    "number": "4242 4242 4242 4242",
    "cvc": "123",
    "expiryMonth": "12",
    "expiryYear": "30",
    "holderName": "ADA YILMAZ",
}
BODY = {
    "installmentNumber": 3,
    "method": "3d-secure",
    "card": CARD,
    "informationFormAccepted": True,
}
PURCHASE = f"/api/v1/quotes/{PROPOSAL_ID}/products/p1/purchase"


async def open_form(api: httpx.AsyncClient, product_id: str = "p1") -> None:
    """What a distance sale needs first: the product's pre-contract form, opened."""
    form = await api.get(f"/api/v1/quotes/{PROPOSAL_ID}/products/{product_id}/information-form")
    assert form.status_code == 200, form.text
    assert form.headers["content-type"] == "application/pdf"


def key(n: int = 1) -> dict[str, str]:
    return {**CSRF, "Idempotency-Key": f"purchase-key-{n:04d}"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"payment_verify_seconds": 0.01, "payment_result_url": "https://shop.example/paid"}
    )


@pytest.fixture
async def api(make_app: AppFactory, insurup: FakeInsurUp) -> AsyncIterator[httpx.AsyncClient]:
    insurup.proposal_products = [
        product("p1", premiums=(9000.0, 9200.0)),
        product("robot", product_type="ROBOT"),
        product("sleepy", state="WAITING"),
        product("redirect-only", options=("ASYNC_INSURANCE_COMPANY_REDIRECT",)),
    ]
    async with make_app() as client:
        await sign_in_cookie(client)
        for product_id in ("p1", "redirect-only"):
            await open_form(client, product_id)
        yield client


def _callback_path(insurup: FakeInsurUp) -> str:
    url = insurup.purchases[-1]["callbackUrl"]
    match = re.fullmatch(r"https://shop\.example(/api/v1/payments/callback/[A-Za-z0-9_-]{43})", url)
    assert match, url
    return match.group(1)


async def test_a_purchase_sends_the_contract_body_and_returns_the_redirect(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    started = await api.post(PURCHASE, json=BODY, headers=key())
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["status"] == "pending"
    assert body["redirectUrl"] == "https://bank.example/3ds/abc"
    sent = insurup.purchases[-1]
    assert next(iter(sent)) == "$type"
    assert {k: v for k, v in sent.items() if k != "callbackUrl"} == {
        "$type": "3d-secure",
        "proposalId": PROPOSAL_ID,
        "proposalProductId": "p1",
        "installmentNumber": 3,
        "card": {
            "identityNumber": None,
            "number": "4242424242424242",
            "cvc": "123",
            "expiryMonth": "12",
            "expiryYear": "2030",
            "holderName": "ADA YILMAZ",
        },
    }
    payment = await api.get(f"/api/v1/payments/{body['paymentId']}")
    assert payment.json()["status"] == "pending"
    assert payment.json()["method"] == "3d-secure"


async def test_twenty_purchases_with_one_key_on_two_replicas_make_one_insurup_call(
    make_app: AppFactory, insurup: FakeInsurUp
) -> None:
    insurup.proposal_products = [product("p1")]
    async with make_app() as one, make_app() as two:
        await sign_in_cookie(one)
        await open_form(one)
        two.cookies = one.cookies
        answers = await asyncio.gather(
            *[(one, two)[i % 2].post(PURCHASE, json=BODY, headers=key()) for i in range(20)]
        )
        assert len(insurup.purchases) == 1
        assert {a.status_code for a in answers} <= {201, 409}
        created = [a.json() for a in answers if a.status_code == 201]
        assert created and all(c == created[0] for c in created)
        assert all(
            a.json()["code"] == "request_in_progress" for a in answers if a.status_code == 409
        )
        replay = await two.post(PURCHASE, json=BODY, headers=key())
        assert replay.json() == created[0]
        assert len(insurup.purchases) == 1


async def test_same_key_other_body_and_other_key_while_pending(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    first = await api.post(PURCHASE, json=BODY, headers=key(1))
    assert first.status_code == 201
    first_id = first.json()["paymentId"]
    reused = await api.post(PURCHASE, json={**BODY, "installmentNumber": 1}, headers=key(1))
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    second = await api.post(PURCHASE, json=BODY, headers=key(2))
    assert second.status_code == 409
    assert second.json()["code"] == "payment_in_progress"
    assert second.json()["paymentId"] == first_id
    assert len(insurup.purchases) == 1


async def test_the_key_is_required(api: httpx.AsyncClient, insurup: FakeInsurUp) -> None:
    answer = await api.post(PURCHASE, json=BODY, headers=CSRF)
    assert answer.status_code == 400
    assert answer.json()["code"] == "idempotency_key_required"
    short = await api.post(PURCHASE, json=BODY, headers={**CSRF, "Idempotency-Key": "short"})
    assert short.status_code == 422
    assert "Idempotency-Key" in [e["field"] for e in short.json()["errors"]]
    assert insurup.purchases == []


@pytest.mark.parametrize(
    ("product_id", "body", "status", "code"),
    [
        ("robot", BODY, 409, "product_not_purchasable"),
        ("sleepy", BODY, 409, "product_not_purchasable"),
        ("redirect-only", BODY, 422, "payment_method_not_supported"),
        ("p1", {**BODY, "installmentNumber": 12}, 422, "validation_failed"),
        ("p1", {**BODY, "card": {**CARD, "number": "4242424242424241"}}, 422, "validation_failed"),
        ("p1", {**BODY, "card": {**CARD, "cvc": "12"}}, 422, "validation_failed"),
        ("p1", {**BODY, "card": {**CARD, "expiryYear": "2020"}}, 422, "validation_failed"),
        ("p1", {**BODY, "card": {**CARD, "expiryMonth": "13"}}, 422, "validation_failed"),
        ("p1", {"installmentNumber": 1, "method": "3d-secure"}, 422, "validation_failed"),
        ("p1", {**BODY, "method": "insurance-company-redirect"}, 422, "validation_failed"),
        ("missing", BODY, 404, "not_found"),
    ],
)
async def test_refused_before_insurup_is_asked_to_charge(
    api: httpx.AsyncClient,
    insurup: FakeInsurUp,
    product_id: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    path = f"/api/v1/quotes/{PROPOSAL_ID}/products/{product_id}/purchase"
    answer = await api.post(path, json=body, headers=key())
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code
    assert insurup.purchases == []
    for secret in ("4242424242424242", "4242424242424241", '"123"', '"12"'):
        assert secret not in answer.text


async def test_redirect_method_needs_no_card(api: httpx.AsyncClient, insurup: FakeInsurUp) -> None:
    path = f"/api/v1/quotes/{PROPOSAL_ID}/products/redirect-only/purchase"
    body = {"installmentNumber": 1, "informationFormAccepted": True}
    answer = await api.post(path, json=body, headers=key())
    assert answer.status_code == 201, answer.text
    assert insurup.purchases[-1]["$type"] == "insurance-company-redirect"
    assert "card" not in insurup.purchases[-1]


async def test_a_callback_claiming_success_while_insurup_says_active_is_not_success(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    started = (await api.post(PURCHASE, json=BODY, headers=key())).json()
    path = _callback_path(insurup)
    answer = await api.get(path, params={"success": "true", "status": "PURCHASED", "mdStatus": "1"})
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        f"https://shop.example/paid?paymentId={started['paymentId']}&status=pending"
    )
    assert (await api.get(f"/api/v1/payments/{started['paymentId']}")).json()["status"] == "pending"


async def test_insurup_purchased_makes_it_succeeded_with_the_policy(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    started = (await api.post(PURCHASE, json=BODY, headers=key())).json()
    insurup.set_state("p1", "PURCHASED", policy_id="65f1c0ffee0ddba11ca5e777")
    api.cookies.clear()  # the callback needs no session
    answer = await api.post(
        _callback_path(insurup), data={"status": "failed"}, headers={"Accept": "application/json"}
    )
    assert answer.status_code == 200
    assert answer.json() == {"paymentId": started["paymentId"], "status": "succeeded"}


async def test_twenty_concurrent_callbacks_make_one_transition(
    make_app: AppFactory, insurup: FakeInsurUp
) -> None:
    insurup.proposal_products = [product("p1")]
    async with make_app() as one, make_app() as two:
        await sign_in_cookie(one)
        await open_form(one)
        await one.post(PURCHASE, json=BODY, headers=key())
        insurup.set_state("p1", "PURCHASED", policy_id="65f1c0ffee0ddba11ca5e777")
        before = _metric(await one.get("/metrics"), 'bff_payments_total{outcome="succeeded"}')
        path = _callback_path(insurup)
        answers = await asyncio.gather(
            *[
                (one, two)[i % 2].get(path, headers={"Accept": "application/json"})
                for i in range(20)
            ]
        )
        after = _metric(await one.get("/metrics"), 'bff_payments_total{outcome="succeeded"}')
    assert {a.json()["status"] for a in answers} == {"succeeded"}
    assert after - before == 1


def _metric(response: httpx.Response, name: str) -> float:
    for line in response.text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


async def test_a_forged_token_is_404_without_asking_insurup(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    reads = insurup.router["proposal"].call_count
    answer = await api.get("/api/v1/payments/callback/" + "A" * 43)
    assert answer.status_code == 404
    assert insurup.router["proposal"].call_count == reads


async def test_still_active_after_the_grace_period_is_failed_and_frees_the_product(
    make_app: AppFactory, settings: Settings, insurup: FakeInsurUp, clock: ManualClock
) -> None:
    insurup.proposal_products = [product("p1")]
    async with make_app() as api:
        await sign_in_cookie(api)
        await open_form(api)
        started = (await api.post(PURCHASE, json=BODY, headers=key(1))).json()
        await api.get(_callback_path(insurup))
        clock.advance(settings.payment_grace_seconds + 1)
        status = await api.get(f"/api/v1/payments/{started['paymentId']}")
        assert status.json()["status"] == "failed"
        assert status.json()["failureReason"] == "payment_not_completed"
        again = await api.post(PURCHASE, json=BODY, headers=key(2))
        assert again.status_code == 201


async def test_a_failed_start_is_not_left_pending(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    insurup.router["purchase"].side_effect = None
    insurup.router["purchase"].return_value = httpx.Response(
        422, json={"detail": "Kart reddedildi"}
    )
    failed = await api.post(PURCHASE, json=BODY, headers=key(1))
    assert failed.status_code == 422
    assert failed.json()["code"] == "upstream_rejected"
    insurup.router["purchase"].side_effect = insurup.purchase
    retry = await api.post(PURCHASE, json=BODY, headers=key(1))
    assert retry.status_code == 201


async def test_payments_are_visible_only_to_their_customer(
    api: httpx.AsyncClient, insurup: FakeInsurUp, make_app: AppFactory
) -> None:
    started = (await api.post(PURCHASE, json=BODY, headers=key())).json()
    assert (await api.get(f"/api/v1/payments/{started['paymentId']}")).status_code == 200
    async with make_app() as stranger:
        assert (await stranger.get(f"/api/v1/payments/{started['paymentId']}")).status_code == 401


async def test_card_data_appears_nowhere(
    api: httpx.AsyncClient,
    insurup: FakeInsurUp,
    redis_client: aioredis.Redis,
    prefix: str,
    log_lines: LogLines,
) -> None:
    texts = []
    bad = {**BODY, "card": {**CARD, "cvc": "98x", "number": "4242 4242 4242 4241"}}
    texts.append((await api.post(PURCHASE, json=bad, headers=key(9))).text)
    started = await api.post(PURCHASE, json=BODY, headers=key(1))
    texts.append(started.text)
    texts.append((await api.post(PURCHASE, json=BODY, headers=key(1))).text)
    texts.append((await api.get(f"/api/v1/payments/{started.json()['paymentId']}")).text)
    callback = _callback_path(insurup)
    texts.append((await api.get(callback, headers={"Accept": "application/json"})).text)
    dump: list[str] = []
    async for name in redis_client.scan_iter(match=f"{prefix}*"):
        kind = await redis_client.type(name)
        values = []
        if kind == b"string":
            values = [await redis_client.get(name)]
        elif kind == b"hash":
            values = list((await redis_client.hgetall(name)).values())
        dump += [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values]
    everything = "\n".join(texts + log_lines.lines + dump)
    assert len(dump) > 3 and log_lines.lines
    for secret in ("4242424242424242", "4242 4242 4242 4242", "4242424242424241", '"123"', "98x"):
        assert secret not in everything, secret
    # The callback token is a credential too: only its hash is stored, it is never logged.
    token = callback.rsplit("/", 1)[1]
    assert token not in "\n".join(log_lines.lines + dump)


async def test_the_bank_sends_the_customer_back_to_the_origin_holding_their_cookie(
    settings: Settings, insurup: FakeInsurUp, insurup_router: object, clock: ManualClock
) -> None:
    """In development both `localhost` and `127.0.0.1` are served; a customer on one must come
    back from the bank page to the same one, or their cookie (and session) is left behind."""
    from app.main import create_app

    local = settings.model_copy(
        update={
            "public_base_url": "http://localhost:8000",
            "cookie_secure": False,
            "payment_result_url": None,
        }
    )
    insurup.proposal_products = [product("p1")]
    app = create_app(
        local,
        insurup_transport=httpx.MockTransport(insurup.router.async_handler),
        configure_logs=False,
        clock=clock,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as api:
            await sign_in_cookie(api)
            await open_form(api)
            assert (await api.post(PURCHASE, json=BODY, headers=key(1))).status_code == 201
            callback = insurup.purchases[-1]["callbackUrl"]
            assert callback.startswith("http://127.0.0.1:8000/api/v1/payments/callback/")
            back = await api.get(callback.removeprefix("http://127.0.0.1:8000"))
    assert back.headers["location"].startswith("http://127.0.0.1:8000/demo/#/payment-result?")


async def test_a_store_failure_before_the_start_leaves_the_quote_free_for_the_next_try(
    api: httpx.AsyncClient, insurup: FakeInsurUp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quote's claim was written, the payment record not (Redis failed, or too few
    replicas confirmed it): nothing was started, so the claim is given back at once instead
    of holding the quote, for a payment that does not exist, until it expires."""
    create = PaymentStore.create
    failures = [StoreUnavailable()]

    async def failing_once(self: PaymentStore, payment: Payment, *, callback_token: str) -> None:
        if failures:
            raise failures.pop()
        await create(self, payment, callback_token=callback_token)

    monkeypatch.setattr(PaymentStore, "create", failing_once)
    refused = await api.post(PURCHASE, json=BODY, headers=key(1))
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "store_unavailable"
    assert not insurup.purchases
    started = await api.post(PURCHASE, json=BODY, headers=key(2))
    assert started.status_code == 201, started.text
    assert len(insurup.purchases) == 1
