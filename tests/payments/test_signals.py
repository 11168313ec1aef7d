"""How a payment ends without its customer: signed InsurUp webhooks, the reconciler with a
service account, the information form a purchase needs, and the way out of a stuck quote.
Two replicas share Redis and InsurUp (respx) throughout."""

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from app.config import Settings
from app.store.keys import Keys
from tests.conftest import AppFactory, LogLines, ManualClock, app_of
from tests.fake_insurup import (
    AUTH_URL,
    PROPOSAL_ID,
    SERVICE_CLIENT,
    SERVICE_SECRET,
    FakeInsurUp,
    product,
)
from tests.helpers import CSRF, sign_in_cookie
from tests.payments.test_payments import BODY, PURCHASE, key, open_form

SECRET = "webhook-secret-for-tests"
POLICY = "65f1c0ffee0ddba11ca5e777"
HOOK = "/api/v1/webhooks/insurup"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "insurup_client_id": SERVICE_CLIENT,
            "insurup_client_secret": SecretStr(SERVICE_SECRET),
            "insurup_auth_url": AUTH_URL,
            "insurup_webhook_secret": SecretStr(SECRET),
            # The reconciler is driven by the tests (run_once), not by its timer.
            "payment_reconcile_seconds": 600,
            "payment_return_wait_seconds": 0.2,
        }
    )


@pytest.fixture
async def pair(
    make_app: AppFactory, insurup: FakeInsurUp
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    insurup.proposal_products = [product("p1"), product("p2")]
    async with make_app() as one, make_app() as two:
        await sign_in_cookie(one)
        await open_form(one)
        await open_form(one, "p2")
        two.cookies = one.cookies
        yield one, two


def _insurer_product_id(insurup: FakeInsurUp, product_id: str = "p1") -> int:
    return int(next(p for p in insurup.proposal_products if p["id"] == product_id)["productId"])


def delivery(
    event: str, payload: dict[str, Any], *, delivery_id: str = "d-1", secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps({"$event": event, **payload})
    headers = {
        "content-type": "application/json",
        "x-webhook-event": event,
        "x-webhook-id": "wh-1",
        "x-webhook-delivery": delivery_id,
        "x-webhook-signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }
    return body, headers


def purchased(insurup: FakeInsurUp, product_id: str = "p1") -> dict[str, Any]:
    return {
        "proposalId": PROPOSAL_ID,
        "policyId": POLICY,
        "productId": _insurer_product_id(insurup, product_id),
        "installmentNumber": 3,
        "paymentType": "ASYNC_3D_SECURE",
        "policyStartDate": "2026-12-01",
        "policyEndDate": "2027-12-01",
    }


async def _start(api: httpx.AsyncClient, n: int = 1, path: str = PURCHASE) -> str:
    started = await api.post(path, json=BODY, headers=key(n))
    assert started.status_code == 201, started.text
    return str(started.json()["paymentId"])


async def test_a_signed_purchase_webhook_settles_a_payment_whose_customer_signed_out(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient], insurup: FakeInsurUp
) -> None:
    one, two = pair
    payment_id = await _start(one)
    await one.delete("/api/v1/session", headers=CSRF)  # gone before the bank page ends
    body, headers = delivery("proposal_premium.purchased", purchased(insurup))
    answer = await two.post(HOOK, content=body, headers=headers)
    assert answer.status_code == 200
    assert answer.json() == {"status": "processed"}

    await sign_in_cookie(one)
    seen = (await one.get(f"/api/v1/payments/{payment_id}")).json()
    assert seen["status"] == "succeeded"
    assert seen["policyId"] == POLICY


async def test_a_purchase_failed_webhook_fails_it_at_once_and_frees_the_quote(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient], insurup: FakeInsurUp
) -> None:
    one, two = pair
    payment_id = await _start(one)
    callback = insurup.purchases[-1]["callbackUrl"].removeprefix("https://shop.example")
    await one.get(callback)  # the bank sent the customer back
    body, headers = delivery(
        "proposal_premium.purchase_failed",
        {
            "proposalId": PROPOSAL_ID,
            "productId": _insurer_product_id(insurup),
            "installmentNumber": 3,
            "paymentType": "ASYNC_3D_SECURE",
            "failureReason": "Kart limiti yetersiz",
        },
    )
    assert (await two.post(HOOK, content=body, headers=headers)).status_code == 200
    seen = (await one.get(f"/api/v1/payments/{payment_id}")).json()
    assert (seen["status"], seen["failureReason"]) == ("failed", "declined")
    # The quote is free again: the customer may pay (another product, another card) now.
    assert (await one.post(PURCHASE, json=BODY, headers=key(2))).status_code == 201


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-webhook-signature": "0" * 64},
        {"x-webhook-signature": "not-hex"},
    ],
)
async def test_a_forged_or_unsigned_webhook_changes_nothing_and_asks_insurup_nothing(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient],
    insurup: FakeInsurUp,
    headers: dict[str, str],
) -> None:
    one, two = pair
    payment_id = await _start(one)
    calls = len(insurup.router.calls)
    body, signed = delivery("proposal_premium.purchased", purchased(insurup))
    forged = {k: v for k, v in signed.items() if k != "x-webhook-signature"} | headers
    answer = await two.post(HOOK, content=body, headers=forged)
    assert answer.status_code == 401
    assert answer.json()["code"] == "webhook_signature_invalid"
    assert len(insurup.router.calls) == calls
    # Signed with another secret: refused the same way.
    other_body, other = delivery("proposal_premium.purchased", purchased(insurup), secret="x")
    assert (await two.post(HOOK, content=other_body, headers=other)).status_code == 401
    status = await one.get(f"/api/v1/payments/{payment_id}")
    assert status.json()["status"] == "pending"


async def test_one_delivery_sent_ten_times_to_two_replicas_settles_once(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient],
    insurup: FakeInsurUp,
    log_lines: LogLines,
) -> None:
    one, two = pair
    payment_id = await _start(one)
    body, headers = delivery("proposal_premium.purchased", purchased(insurup), delivery_id="d-9")
    answers = await asyncio.gather(
        *[(one, two)[i % 2].post(HOOK, content=body, headers=headers) for i in range(10)]
    )
    assert {a.status_code for a in answers} == {200}
    assert sorted(a.json()["status"] for a in answers).count("processed") == 1
    settled = [
        json.loads(line) for line in log_lines.lines if json.loads(line)["msg"] == "payment settled"
    ]
    assert len(settled) == 1
    assert settled[0]["paymentId"] == payment_id
    assert settled[0]["signal"] == "webhook"
    # A later redelivery (InsurUp's retry, a staff redelivery) is acknowledged, not redone.
    again = await two.post(HOOK, content=body, headers=headers)
    assert again.json() == {"status": "duplicate"}


async def test_other_events_are_acknowledged_and_ignored(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    _, two = pair
    body, headers = delivery("customer.created", {"customerId": "c-1"})
    answer = await two.post(HOOK, content=body, headers=headers)
    assert (answer.status_code, answer.json()) == (200, {"status": "ignored"})


async def test_bodies_over_64_kib_are_refused(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient], insurup: FakeInsurUp
) -> None:
    _, two = pair
    body, headers = delivery(
        "proposal_premium.purchased", purchased(insurup) | {"padding": "x" * 70_000}
    )
    answer = await two.post(HOOK, content=body, headers=headers)
    assert answer.status_code == 413


async def test_without_a_webhook_secret_the_route_is_not_there(
    make_app: AppFactory, settings: Settings, insurup: FakeInsurUp
) -> None:
    plain = settings.model_copy(update={"insurup_webhook_secret": None})
    insurup.proposal_products = [product("p1")]
    async with make_app(plain) as api:
        body, headers = delivery("proposal_premium.purchased", purchased(insurup))
        answer = await api.post(HOOK, content=body, headers=headers)
    assert answer.status_code == 404


async def test_the_reconciler_alone_settles_a_payment_with_no_customer_left(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient], insurup: FakeInsurUp
) -> None:
    one, two = pair
    payment_id = await _start(one)
    await one.delete("/api/v1/session", headers=CSRF)
    insurup.set_state("p1", "PURCHASED", policy_id=POLICY)

    reconciler = app_of(two).state.services.reconciler
    assert await reconciler.run_once() == 1
    assert await reconciler.run_once() == 0  # settled: off the pending list

    await sign_in_cookie(one)
    seen = (await one.get(f"/api/v1/payments/{payment_id}")).json()
    assert (seen["status"], seen["policyId"]) == ("succeeded", POLICY)
    # Read as the agency: one service-account token for both replicas.
    assert len(insurup.service_tokens) == 1


async def test_a_pending_payment_nobody_finishes_is_abandoned_and_frees_the_quote(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient],
    insurup: FakeInsurUp,
    settings: Settings,
    clock: ManualClock,
    log_lines: LogLines,
) -> None:
    one, two = pair
    insurup.purchasing_on_start = True  # InsurUp holds the product: the quote looks stuck
    payment_id = await _start(one)
    other = await one.post(PURCHASE.replace("/p1/", "/p2/"), json=BODY, headers=key(2))
    assert other.status_code == 409
    assert other.json()["code"] == "payment_in_progress"
    assert other.json()["paymentId"] == payment_id
    assert "new quote" in other.json()["detail"]

    clock.advance(settings.payment_abandon_seconds + 1)
    await app_of(two).state.services.reconciler.run_once()
    seen = (await one.get(f"/api/v1/payments/{payment_id}")).json()
    assert (seen["status"], seen["failureReason"]) == ("failed", "abandoned")
    assert any("abandoned" in line for line in log_lines.lines)


async def test_a_product_insurup_let_go_after_the_callback_is_declined_without_waiting(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient], insurup: FakeInsurUp
) -> None:
    """InsurUp held the product (PURCHASING) for this payment; after the customer came back
    it is ACTIVE again and has no policy: the payment did not go through. No grace period."""
    one, _ = pair
    insurup.purchasing_on_start = True
    payment_id = await _start(one)
    insurup.set_state("p1", "ACTIVE")  # the bank declined
    path = insurup.purchases[-1]["callbackUrl"].removeprefix("https://shop.example")
    answer = await one.get(path, headers={"Accept": "application/json"})
    assert answer.json() == {"paymentId": payment_id, "status": "failed"}
    seen = (await one.get(f"/api/v1/payments/{payment_id}")).json()
    assert seen["failureReason"] == "declined"


async def test_insurup_refusing_another_product_of_a_held_quote_is_payment_in_progress(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient], insurup: FakeInsurUp
) -> None:
    """A product held outside this gateway: InsurUp's own words never reach the customer."""
    one, _ = pair
    insurup.set_state("p2", "PURCHASING")
    answer = await one.post(PURCHASE, json=BODY, headers=key(1))
    assert answer.status_code == 409
    assert answer.json()["code"] == "payment_in_progress"
    assert "PURCHASING" not in answer.text


async def test_a_purchase_needs_the_information_form_opened_and_accepted(
    make_app: AppFactory, insurup: FakeInsurUp, redis_client: aioredis.Redis, prefix: str
) -> None:
    insurup.proposal_products = [product("p1")]
    async with make_app() as api:
        await sign_in_cookie(api)
        unopened = await api.post(PURCHASE, json=BODY, headers=key(1))
        assert unopened.status_code == 422
        assert unopened.json()["code"] == "information_form_required"
        assert insurup.purchases == []

        await open_form(api)
        refused = await api.post(
            PURCHASE, json={**BODY, "informationFormAccepted": False}, headers=key(2)
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "informationFormAccepted"

        payment_id = await _start(api, 3)
    raw = await redis_client.get(Keys(prefix=prefix).payment(payment_id))
    assert raw is not None
    assert orjson.loads(raw)["informationFormAcceptedAt"] is not None


async def test_the_form_opened_in_another_session_does_not_count(
    make_app: AppFactory, insurup: FakeInsurUp
) -> None:
    insurup.proposal_products = [product("p1")]
    async with make_app() as first, make_app() as second:
        await sign_in_cookie(first)
        await open_form(first)
        await sign_in_cookie(second)
        answer = await second.post(PURCHASE, json=BODY, headers=key(1))
    assert answer.json()["code"] == "information_form_required"


async def test_a_3d_secure_form_hand_off_is_passed_on(
    make_app: AppFactory, insurup: FakeInsurUp
) -> None:
    insurup.proposal_products = [product("p1")]
    insurup.purchase_form = {"method": "POST", "formParameters": {"PaReq": "abc", "MD": 7}}
    async with make_app() as api:
        await sign_in_cookie(api)
        await open_form(api)
        started = await api.post(PURCHASE, json=BODY, headers=key(1))
    assert started.status_code == 201
    assert started.json()["redirect"] == {
        "url": "https://bank.example/3ds/abc",
        "method": "POST",
        "fields": {"PaReq": "abc", "MD": "7"},
    }
    assert started.json().get("redirectUrl") is None  # a GET would not work here


async def test_the_service_account_token_is_fetched_once_and_never_kept_in_clear(
    make_app: AppFactory,
    insurup: FakeInsurUp,
    redis_client: aioredis.Redis,
    prefix: str,
    log_lines: LogLines,
) -> None:
    insurup.proposal_products = [product("p1")]
    async with make_app() as one, make_app() as two:
        await sign_in_cookie(one)
        await open_form(one)
        ids = [await _start(one, n) for n in (1,)]
        accounts = [
            app_of(api).state.services.payments._agency for api in (one, two) for _ in range(5)
        ]
        proposals = await asyncio.gather(*[a.proposal(proposal_id=PROPOSAL_ID) for a in accounts])
        assert all(p.proposal_id == PROPOSAL_ID for p in proposals)
        assert len(insurup.service_tokens) == 1  # ten reads, two replicas, one token

        # InsurUp refuses the token (revoked): renewed once, the read succeeds.
        insurup.service_tokens.clear()
        await accounts[0].proposal(proposal_id=PROPOSAL_ID)
        assert len(insurup.service_tokens) == 1
    token = insurup.service_tokens[0]
    stored = [
        await redis_client.get(k)
        async for k in redis_client.scan_iter(f"{prefix}*")
        if await redis_client.type(k) == b"string"
    ]
    assert ids and not any(token.encode() in (v or b"") for v in stored)
    assert SERVICE_SECRET not in "\n".join(log_lines.lines)
    assert token not in "\n".join(log_lines.lines)


async def test_a_failure_webhook_for_a_customer_who_never_came_back_is_abandoned(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient], insurup: FakeInsurUp
) -> None:
    one, two = pair
    payment_id = await _start(one)
    body, headers = delivery(
        "proposal_premium.purchase_failed",
        {"proposalId": PROPOSAL_ID, "productId": _insurer_product_id(insurup)},
    )
    assert (await two.post(HOOK, content=body, headers=headers)).status_code == 200
    await asyncio.sleep(0.4)  # the wait for the customer's return (0.2 s here) is over
    seen = (await one.get(f"/api/v1/payments/{payment_id}")).json()
    assert (seen["status"], seen["failureReason"]) == ("failed", "abandoned")


async def test_a_failure_webhook_that_beats_the_customer_back_is_still_a_decline(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient], insurup: FakeInsurUp
) -> None:
    """InsurUp's webhook reaches the gateway before the bank sends the browser back."""
    one, two = pair
    payment_id = await _start(one)
    body, headers = delivery(
        "proposal_premium.purchase_failed",
        {"proposalId": PROPOSAL_ID, "productId": _insurer_product_id(insurup)},
    )
    assert (await two.post(HOOK, content=body, headers=headers)).status_code == 200
    callback = insurup.purchases[-1]["callbackUrl"].removeprefix("https://shop.example")
    await one.get(callback)  # the browser, a moment later
    await asyncio.sleep(0.4)
    seen = (await one.get(f"/api/v1/payments/{payment_id}")).json()
    assert (seen["status"], seen["failureReason"]) == ("failed", "declined")


async def test_a_replica_that_died_holding_a_payment_check_leaves_it_to_the_others(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient],
    insurup: FakeInsurUp,
    redis_client: aioredis.Redis,
    prefix: str,
) -> None:
    """The dead replica's lock lapses on its own (its lease); the survivor's reconciler then
    checks and settles: no payment is stuck."""
    one, two = pair
    payment_id = await _start(one)
    insurup.set_state("p1", "PURCHASED", policy_id=POLICY)
    lock = Keys(prefix=prefix).payment_check_lock(payment_id)
    await redis_client.set(lock, "dead-replica", px=300)  # what a killed replica leaves

    reconciler = app_of(two).state.services.reconciler
    await reconciler.run_once()
    assert (await one.get(f"/api/v1/payments/{payment_id}")).json()["status"] == "pending"
    await asyncio.sleep(0.35)
    await reconciler.run_once()
    assert (await one.get(f"/api/v1/payments/{payment_id}")).json()["status"] == "succeeded"
