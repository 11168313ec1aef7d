"""The whole sale over real HTTP against the sandbox, as a customer's browser would do it.

Two set-ups: the embedded sandbox that `make run` uses (mounted in the gateway), and the
sandbox as a separate server reached through the production transport (as in compose).
Redis is real. The browser follows every redirect the bank page and the gateway send.
"""

import asyncio
import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from app.sandbox import SandboxConfig, create_sandbox_app
from bench.servers import free_port, serving

LOGIN = {
    "customerType": "individual",
    "identityNumber": "11111111110",
    "birthDate": "1990-01-01",
    "phoneNumber": "+90 532 123 45 67",
    "consents": ["KVKK", "ETK"],
}
CSRF = {"X-CSRF": "1"}
APPROVING_CARD = {
    "number": "4242 4242 4242 4242",
    "cvc": "123",
    "expiryMonth": "12",
    "expiryYear": "2030",
    "holderName": "ADA YILMAZ",
}
DECLINING_CARD = {**APPROVING_CARD, "number": "4000 0000 0000 0002"}


@asynccontextmanager
async def gateway(settings: Settings, mode: str) -> AsyncIterator[httpx.AsyncClient]:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    update: dict[str, Any] = {
        "public_base_url": public,
        "cookie_secure": False,
        "insurup_agent_id": None,
        "coverage_group_ids": [],
        "quote_poll_seconds": 0.2,
        "payment_grace_seconds": 0.5,
        "payment_verify_seconds": 0.05,
        "payment_result_url": f"{public}/result",
    }
    if mode == "embedded":
        async with _browser(
            settings.model_copy(update={**update, "insurup_base_url": "sandbox"}), port
        ) as web:
            yield web
        return
    # A bank page left alone expires after a second here, so "never paid" settles quickly.
    sandbox = create_sandbox_app(
        SandboxConfig(pricing_delay_seconds=(0.2, 1.5), payment_session_seconds=1.0)
    )
    async with serving(sandbox) as insurup:
        remote = {**update, "insurup_base_url": insurup}
        async with _browser(settings.model_copy(update=remote), port) as web:
            yield web


@asynccontextmanager
async def _browser(settings: Settings, port: int) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, configure_logs=False)
    async with serving(app, port) as base, httpx.AsyncClient(base_url=base, timeout=20) as web:
        yield web


async def _sign_in_and_quote(web: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    assert (await web.post("/api/v1/session", json=LOGIN, headers=CSRF)).status_code == 202
    session = await web.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
    assert session.status_code == 200, session.text
    assert session.json()["caseId"]

    car = {"plate": "34ABC123", "documentSerial": "AB123456"}
    facts = await web.post("/api/v1/vehicles/lookup", json=car, headers=CSRF)
    assert facts.status_code == 200, facts.text
    assert (facts.json()["brand"]["name"], facts.json()["modelYear"]) == ("RENAULT", 2021)
    vehicle = await web.post("/api/v1/vehicles", json=car, headers=CSRF)
    assert vehicle.status_code in (201, 409), vehicle.text
    if vehicle.status_code == 409:  # registered by an earlier sale of this demo customer
        vehicle_id = (await web.get("/api/v1/vehicles")).json()[0]["id"]
    else:
        vehicle_id = vehicle.json()["id"]

    quote = await web.post(
        "/api/v1/quotes",
        json={"vehicleId": vehicle_id},
        headers={**CSRF, "Idempotency-Key": f"q-{vehicle_id}"},
    )
    assert quote.status_code == 201, quote.text
    quote_id = quote.json()["quoteId"]
    complete: dict[str, Any] | None = None
    seen_products = 0
    async with web.stream("GET", f"/api/v1/quotes/{quote_id}/events") as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        name = ""
        async for line in events.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name == "product":
                seen_products += 1
            elif line.startswith("data: ") and name == "complete":
                import json

                complete = json.loads(line.removeprefix("data: "))
                break
    assert complete is not None and complete["complete"] is True
    assert seen_products >= len(complete["products"])
    return quote_id, complete


def _pick(quote: dict[str, Any], method: str) -> dict[str, Any]:
    return next(p for p in quote["products"] if p["purchasable"] and method in p["paymentMethods"])


async def _pay(
    web: httpx.AsyncClient,
    quote_id: str,
    product: dict[str, Any],
    method: str,
    card: dict[str, str] | None,
    button: str,
    key: str,
) -> tuple[str, httpx.Response]:
    shown = await web.get(
        f"/api/v1/quotes/{quote_id}/products/{product['productId']}/information-form"
    )
    assert shown.status_code == 200 and shown.content.startswith(b"%PDF"), shown.text
    body: dict[str, Any] = {
        "installmentNumber": product["premiums"][0]["installmentNumber"],
        "method": method,
        "informationFormAccepted": True,
    }
    if card:
        body["card"] = card
    started = await web.post(
        f"/api/v1/quotes/{quote_id}/products/{product['productId']}/purchase",
        json=body,
        headers={**CSRF, "Idempotency-Key": key},
    )
    assert started.status_code == 201, started.text
    payment_id = started.json()["paymentId"]
    page = await web.get(started.json()["redirectUrl"])
    assert page.status_code == 200 and "<form" in page.text
    form = {"smsCode": "123456"} if card else {}
    # Post where the page's own form posts, as a browser would.
    actions = re.findall(r'<form method="post" action="([^"]+)"', page.text)
    action = next(a for a in actions if a.endswith(f"/{button}"))
    to_callback = await web.post(html.unescape(action), data=form)
    assert to_callback.status_code == 303
    assert "/api/v1/payments/callback/" in to_callback.headers["location"]
    result = await web.get(to_callback.headers["location"])
    assert result.status_code == 303
    return payment_id, result


async def _settled(web: httpx.AsyncClient, payment_id: str) -> dict[str, Any]:
    for _ in range(100):
        payment = (await web.get(f"/api/v1/payments/{payment_id}")).json()
        if payment["status"] != "pending":
            return payment  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError("the payment never settled")


@pytest.mark.parametrize("mode", ["embedded", "remote"])
async def test_the_whole_sale_with_3d_secure(settings: Settings, mode: str) -> None:
    async with gateway(settings, mode) as web:
        quote_id, quote = await _sign_in_and_quote(web)
        assert any(not p["purchasable"] for p in quote["products"]), "robots are never for sale"
        product = _pick(quote, "3d-secure")
        payment_id, result = await _pay(
            web, quote_id, product, "3d-secure", APPROVING_CARD, "approve", "payment-0001"
        )
        assert result.headers["location"].endswith(
            f"/result?paymentId={payment_id}&status=succeeded"
        )
        payment = (await web.get(f"/api/v1/payments/{payment_id}")).json()
        assert payment["status"] == "succeeded" and payment["policyId"]
        policy = await web.get(f"/api/v1/policies/{payment['policyId']}")
        assert policy.status_code == 200, policy.text
        assert policy.json()["insurer"]["name"] == product["insurer"]["name"]
        pdf = await web.get(f"/api/v1/policies/{payment['policyId']}/document")
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        assert "attachment" in pdf.headers["content-disposition"]


@pytest.mark.parametrize("mode", ["embedded", "remote"])
async def test_a_declined_card_and_a_callback_without_purchase_never_succeed(
    settings: Settings, mode: str
) -> None:
    async with gateway(settings, mode) as web:
        quote_id, quote = await _sign_in_and_quote(web)
        product = _pick(quote, "3d-secure")
        declined, result = await _pay(
            web, quote_id, product, "3d-secure", DECLINING_CARD, "approve", "payment-decl"
        )
        assert "status=succeeded" not in result.headers["location"]
        assert (await _settled(web, declined))["status"] == "failed"

        # The product is free again; this time the sandbox sends the customer back unpaid.
        sneaky, result = await _pay(
            web,
            quote_id,
            product,
            "3d-secure",
            APPROVING_CARD,
            "callback-without-purchase",
            "payment-sneak",
        )
        assert "status=succeeded" not in result.headers["location"]
        for _ in range(5):
            status = (await web.get(f"/api/v1/payments/{sneaky}")).json()["status"]
            assert status == "pending"  # InsurUp still says PURCHASING: no success claimed
            await asyncio.sleep(0.05)
        if mode == "remote":  # once the bank session lapses the product is ACTIVE again
            assert (await _settled(web, sneaky))["status"] == "failed"


async def test_the_whole_sale_with_the_insurers_own_page(settings: Settings) -> None:
    async with gateway(settings, "embedded") as web:
        quote_id, quote = await _sign_in_and_quote(web)
        product = _pick(quote, "insurance-company-redirect")
        payment_id, result = await _pay(
            web, quote_id, product, "insurance-company-redirect", None, "approve", "payment-redir"
        )
        assert result.headers["location"].endswith("status=succeeded")
        payment = (await web.get(f"/api/v1/payments/{payment_id}")).json()
        assert payment["method"] == "insurance-company-redirect"
        pdf = await web.get(f"/api/v1/policies/{payment['policyId']}/document")
        assert pdf.content.startswith(b"%PDF")
