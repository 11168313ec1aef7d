"""Payments that end right without their customer, over real HTTP: two gateway replicas
sharing Redis, the sandbox as InsurUp sending signed webhooks to one of them and answering
the service account of both. The customer's browser uses the other replica."""

import asyncio
import html
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from app.config import Settings
from app.main import create_app
from app.sandbox import SandboxConfig, create_sandbox_app, get_sandbox_state
from app.sandbox.state import SandboxState
from bench.servers import free_port, serving
from tests.e2e.test_whole_sale import APPROVING_CARD, CSRF, DECLINING_CARD, LOGIN, _pick

SECRET = "e2e-webhook-secret"


@dataclass
class Shop:
    web: httpx.AsyncClient  # the customer's browser, on replica one
    replicas: list[str]
    sandbox: SandboxState


@asynccontextmanager
async def shop(settings: Settings, **sandbox: Any) -> AsyncIterator[Shop]:
    ports = [free_port(), free_port()]
    config = SandboxConfig(
        pricing_delay_seconds=(0.1, 0.6),
        webhook_url=f"http://127.0.0.1:{ports[1]}/api/v1/webhooks/insurup",
        webhook_secret=SECRET,
        **sandbox,
    )
    app = create_sandbox_app(config)
    async with serving(app) as insurup:
        common: dict[str, Any] = {
            "insurup_base_url": insurup,
            "insurup_agent_id": None,
            "coverage_group_ids": [],
            "cookie_secure": False,
            "quote_poll_seconds": 0.2,
            "payment_verify_seconds": 0.2,
            "insurup_client_id": "sa-sandbox",
            "insurup_client_secret": SecretStr("sandbox-secret"),
            "insurup_auth_url": insurup,
            "insurup_webhook_secret": SecretStr(SECRET),
            "payment_reconcile_seconds": 0.5,
        }
        replicas = [
            create_app(
                settings.model_copy(
                    update={
                        **common,
                        "public_base_url": f"http://127.0.0.1:{port}",
                        "payment_result_url": f"http://127.0.0.1:{port}/result",
                    }
                ),
                configure_logs=False,
            )
            for port in ports
        ]
        async with (
            serving(replicas[0], ports[0]) as one,
            serving(replicas[1], ports[1]) as two,
            httpx.AsyncClient(base_url=one, timeout=20) as web,
        ):
            state = get_sandbox_state(app)
            try:
                yield Shop(web=web, replicas=[one, two], sandbox=state)
            finally:
                # While the replicas still answer: no webhook is left in flight at shutdown.
                await state.webhooks.aclose()


async def _quote(web: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    assert (await web.post("/api/v1/session", json=LOGIN, headers=CSRF)).status_code == 202
    assert (
        await web.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
    ).status_code == 200
    car = {"plate": "34ABC123", "documentSerial": "AB123456"}
    vehicle = await web.post("/api/v1/vehicles", json=car, headers=CSRF)
    vehicle_id = (
        vehicle.json()["id"]
        if vehicle.status_code == 201
        else (await web.get("/api/v1/vehicles")).json()[0]["id"]
    )
    quote_id = (
        await web.post(
            "/api/v1/quotes",
            json={"vehicleId": vehicle_id},
            headers={**CSRF, "Idempotency-Key": f"q-{time.monotonic_ns()}"},
        )
    ).json()["quoteId"]
    for _ in range(100):
        quote = (await web.get(f"/api/v1/quotes/{quote_id}")).json()
        if quote["complete"]:
            return quote_id, quote
        await asyncio.sleep(0.1)
    raise AssertionError("the quote never completed")


async def _start(
    web: httpx.AsyncClient, quote_id: str, product: dict[str, Any], key: str
) -> tuple[str, str]:
    """Start paying; the payment id and the bank page."""
    base = f"/api/v1/quotes/{quote_id}/products/{product['productId']}"
    assert (await web.get(f"{base}/information-form")).status_code == 200
    started = await web.post(
        f"{base}/purchase",
        json={
            "installmentNumber": product["premiums"][0]["installmentNumber"],
            "method": "3d-secure",
            "card": APPROVING_CARD if key != "declined" else DECLINING_CARD,
            "informationFormAccepted": True,
        },
        headers={**CSRF, "Idempotency-Key": f"pay-{key}-0001"},
    )
    assert started.status_code == 201, started.text
    return started.json()["paymentId"], started.json()["redirect"]["url"]


async def _press(web: httpx.AsyncClient, page_url: str, button: str) -> str:
    """Press a button on the bank page; where the bank then sends the browser."""
    page = await web.get(page_url)
    actions = re.findall(r'<form method="post" action="([^"]+)"', page.text)
    action = next(a for a in actions if a.endswith(f"/{button}"))
    pressed = await web.post(html.unescape(action), data={"smsCode": "123456"})
    assert pressed.status_code == 303
    return pressed.headers["location"]


async def _until(web: httpx.AsyncClient, payment_id: str, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        payment = (await web.get(f"/api/v1/payments/{payment_id}")).json()
        if payment.get("status") not in (None, "pending"):
            return dict(payment)
        await asyncio.sleep(0.1)
    raise AssertionError("the payment did not settle in time")


async def test_a_customer_who_left_before_the_bank_page_ended_gets_the_policy_by_webhook(
    settings: Settings,
) -> None:
    async with shop(settings) as s:
        quote_id, quote = await _quote(s.web)
        payment_id, page = await _start(s.web, quote_id, _pick(quote, "3d-secure"), "left")
        await s.web.delete("/api/v1/session", headers=CSRF)
        await _press(s.web, page, "approve")  # and the tab is closed: no callback
        await s.sandbox.webhooks.drain()

        await s.web.post("/api/v1/session", json=LOGIN, headers=CSRF)
        await s.web.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
        payment = await _until(s.web, payment_id, 10)
    assert payment["status"] == "succeeded" and payment["policyId"]
    assert any(d.ok for d in s.sandbox.webhook_deliveries)


async def test_without_webhooks_the_reconciler_alone_settles_it(settings: Settings) -> None:
    async with shop(settings, webhook_events=frozenset()) as s:
        quote_id, quote = await _quote(s.web)
        payment_id, page = await _start(s.web, quote_id, _pick(quote, "3d-secure"), "recon")
        await s.web.delete("/api/v1/session", headers=CSRF)
        await _press(s.web, page, "approve")

        await s.web.post("/api/v1/session", json=LOGIN, headers=CSRF)
        await s.web.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
        # Read without asking InsurUp (the status poll would be one more signal): wait for
        # the replicas' reconcilers, which need no session, to settle it.
        payment = await _until(s.web, payment_id, 15)
    assert payment["status"] == "succeeded"
    assert not s.sandbox.webhook_deliveries
    assert sum(s.sandbox.service_tokens_issued.values()) >= 1


async def test_a_declined_card_is_failed_within_seconds_of_the_callback(
    settings: Settings,
) -> None:
    async with shop(settings) as s:
        quote_id, quote = await _quote(s.web)
        product = _pick(quote, "3d-secure")
        payment_id, page = await _start(s.web, quote_id, product, "declined")
        callback = await _press(s.web, page, "approve")  # the bank declines this card
        came_back = time.monotonic()
        result = await s.web.get(callback)
        assert result.status_code == 303
        payment = await _until(s.web, payment_id, 10)
        assert time.monotonic() - came_back < 10
        assert (payment["status"], payment["failureReason"]) == ("failed", "declined")
        # The quote is free again: another card, at once.
        again, _ = await _start(s.web, quote_id, product, "again")
        assert again != payment_id


@pytest.mark.parametrize("webhooks", [True, False])
async def test_an_abandoned_bank_page_ends_abandoned_and_frees_the_quote(
    settings: Settings, webhooks: bool
) -> None:
    knobs: dict[str, Any] = {"payment_session_seconds": 1.0}
    if not webhooks:
        knobs["webhook_events"] = frozenset()
    async with shop(settings, **knobs) as s:
        quote_id, quote = await _quote(s.web)
        product = _pick(quote, "3d-secure")
        payment_id, _ = await _start(s.web, quote_id, product, "abandon")
        busy = await s.web.post(
            f"/api/v1/quotes/{quote_id}/products/{product['productId']}/purchase",
            json={"installmentNumber": 1, "informationFormAccepted": True},
            headers={**CSRF, "Idempotency-Key": "pay-second-click"},
        )
        assert busy.status_code == 409
        assert busy.json()["code"] == "payment_in_progress"
        assert busy.json()["paymentId"] == payment_id
        if webhooks:
            payment = await _until(s.web, payment_id, 10)
            assert (payment["status"], payment["failureReason"]) == ("failed", "abandoned")
            again, _ = await _start(s.web, quote_id, product, "after")
            assert again != payment_id
        else:
            # No signal: when the page lapses at InsurUp (ACTIVE again) nothing says why; the
            # payment stays pending until the abandon limit, and the way out, at once, is a
            # new quote for the same vehicle, in one call.
            fresh, fresh_quote = await _quote(s.web)
            assert fresh != quote_id
            assert any(p["purchasable"] for p in fresh_quote["products"])
