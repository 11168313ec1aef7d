"""docker-compose.yml without containers: the whole sale through the balancer, and one replica
stopped in the middle of it.

Debian's nginx runs deploy/nginx.conf (round robin, no stickiness, unbuffered) in front of two
gateway processes started as the Dockerfile starts them; the InsurUp sandbox is its own
process, as in compose; one real Redis. The test is the customer's browser: one cookie jar,
every gateway call through the balancer, the bank page on the sandbox.
"""

import asyncio
import html
import json
import re
import signal
import time
from typing import Any

import httpx

from tests.topology.conftest import (
    Balancer,
    Processes,
    Store,
    free_ports,
    gateway_env,
    new_session_key,
    start_balancer,
    start_gateway,
    start_sandbox,
)

LOGIN = {
    "customerType": "individual",
    "identityNumber": "11111111110",
    "birthDate": "1990-01-01",
    "phoneNumber": "+90 532 123 45 67",
    "consents": ["KVKK"],
}
CSRF = {"X-CSRF": "1"}
CAR = {"plate": "34ABC123", "documentSerial": "AB123456"}
CARD = {
    "number": "4242424242424242",
    "cvc": "123",
    "expiryMonth": "12",
    "expiryYear": "2030",
    "holderName": "Ada Yilmaz",
}
SETTLE_SECONDS = 20.0
STREAM_SECONDS = 20


async def _post(
    web: httpx.AsyncClient, path: str, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    """A POST as the documented client sends it: after a 502 (the balancer lost the replica
    with the request), once more with the same Idempotency-Key."""
    headers = {**CSRF, **({"Idempotency-Key": key} if key else {})}
    answer = await web.post(path, json=body, headers=headers)
    if answer.status_code == 502 and key:
        answer = await web.post(path, json=body, headers=headers)
    return answer


async def _events(web: httpx.AsyncClient, quote_id: str) -> list[tuple[float, str, Any]]:
    """Every event of the quote's stream with the moment it arrived, until the stream ends."""
    received: list[tuple[float, str, Any]] = []
    async with web.stream("GET", f"/api/v1/quotes/{quote_id}/events") as stream:
        assert stream.status_code == 200, await stream.aread()
        assert stream.headers["content-type"].startswith("text/event-stream")
        name = ""
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                received.append((time.monotonic(), name, json.loads(line.removeprefix("data:"))))
    return received


async def _bank_approves(web: httpx.AsyncClient, redirect_url: str, public: str) -> str:
    """The sandbox's 3-D Secure page, as a browser: submit the code, follow the way back."""
    page = await web.get(redirect_url)
    assert page.status_code == 200 and "<form" in page.text, page.text[:500]
    actions = re.findall(r'<form method="post" action="([^"]+)"', page.text)
    approve = html.unescape(next(action for action in actions if action.endswith("/approve")))
    to_callback = await web.post(approve, data={"smsCode": "123456"})
    assert to_callback.status_code == 303, to_callback.text
    callback = to_callback.headers["location"]
    assert callback.startswith(f"{public}/api/v1/payments/callback/"), callback
    result = await web.get(callback)  # through the balancer, to whichever replica is left
    assert result.status_code == 303, result.text
    return str(result.headers["location"])


async def _settled(web: httpx.AsyncClient, payment_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        answer = await web.get(f"/api/v1/payments/{payment_id}")
        assert answer.status_code == 200, answer.text
        payment: dict[str, Any] = answer.json()
        if payment["status"] != "pending" or time.monotonic() > deadline:
            return payment
        await asyncio.sleep(0.1)


def _answered_by(balancer: Balancer) -> list[str]:
    """The replica that finally answered each of the customer's requests so far."""
    return [tried[-1] for _, path, _, tried in balancer.hops() if path.startswith("/api/")]


async def test_the_whole_sale_through_the_balancer_with_a_replica_stopped_midway(
    processes: Processes,
    nginx_binary: str,
    store: Store,
) -> None:
    sandbox_port, one_port, two_port, balancer_port = free_ports(4)
    public = f"http://127.0.0.1:{balancer_port}"
    env = gateway_env(
        public=public,
        store=store,
        session_keys=new_session_key(),
        insurup=f"http://127.0.0.1:{sandbox_port}",
        BFF_QUOTE_POLL_SECONDS="0.3",
        BFF_QUOTE_STREAM_SECONDS=str(STREAM_SECONDS),  # a stuck quote ends with `timeout`
        BFF_PAYMENT_VERIFY_SECONDS="0.1",
    )
    await start_sandbox(processes, sandbox_port)
    one, _ = await asyncio.gather(
        start_gateway(processes, "gateway-1", one_port, env),
        start_gateway(processes, "gateway-2", two_port, env),
    )
    upstreams = [f"127.0.0.1:{one_port}", f"127.0.0.1:{two_port}"]
    balancer = await start_balancer(processes, nginx_binary, balancer_port, upstreams)

    async with httpx.AsyncClient(base_url=public, timeout=30) as web:
        # Sign in with a cookie (not Secure: plain http here) and the SMS code.
        started = await _post(web, "/api/v1/session", LOGIN)
        assert started.status_code == 202, started.text
        assert "secure" not in started.headers["set-cookie"].lower()
        assert web.cookies, "the browser keeps the session cookie"
        verified = await _post(web, "/api/v1/session/mfa", {"code": "123456"})
        assert verified.status_code == 200, verified.text
        assert verified.json()["caseId"]

        facts = await _post(web, "/api/v1/vehicles/lookup", CAR)
        assert facts.status_code == 200, facts.text
        assert facts.json()["brand"]["name"] == "RENAULT"
        vehicle = await _post(web, "/api/v1/vehicles", CAR)
        assert vehicle.status_code == 201, vehicle.text
        quote = await _post(
            web, "/api/v1/quotes", {"vehicleId": vehicle.json()["id"]}, key="topology-quote-1"
        )
        assert quote.status_code == 201, quote.text
        quote_id = quote.json()["quoteId"]

        # No stickiness: the one customer has been served by both replicas so far.
        assert set(_answered_by(balancer)) == set(upstreams), balancer.hops()

        # Replica 1 is told to stop now; the sale goes on through the balancer.
        processes.signal(one)
        stream_opened = time.monotonic()
        async with asyncio.timeout(STREAM_SECONDS + 10):
            events = await _events(web, quote_id)
        # A graceful stop: it finishes what it serves (maybe this very stream), then exits
        # (uvicorn re-raises the SIGTERM it handled, hence that exit status).
        exit_code = await asyncio.to_thread(one.process.wait, 20)
        assert exit_code in (0, -signal.SIGTERM), one.tail()
        assert "Application shutdown complete" in one.tail(), one.tail()
        stopped_at = len(balancer.hops())

        names = [name for _, name, _ in events]
        assert names[-1] == "complete", names
        complete_at, _, complete = events[-1]
        products = [(at, data) for at, name, data in events if name == "product"]
        assert products, names
        # Unbuffered: the first product arrives while pricing is still going on, well before
        # the stream ends (the sandbox prices robots 2.4-4 s after the quote).
        first_at = products[0][0]
        assert complete_at - first_at > 1.0, (first_at - stream_opened, complete_at - first_at)
        assert len(products) >= len(complete["products"])

        product = next(
            p
            for p in complete["products"]
            if p["purchasable"] and "3d-secure" in p["paymentMethods"]
        )
        product_path = f"/api/v1/quotes/{quote_id}/products/{product['productId']}"
        shown = await web.get(f"{product_path}/information-form")  # read before paying, by law
        assert shown.status_code == 200 and shown.content.startswith(b"%PDF"), shown.text
        purchase_path = f"{product_path}/purchase"
        purchase_body = {
            "installmentNumber": 1,
            "method": "3d-secure",
            "card": CARD,
            "informationFormAccepted": True,
        }
        bought = await _post(web, purchase_path, purchase_body, key="topology-payment-1")
        assert bought.status_code == 201, bought.text
        payment_id = bought.json()["paymentId"]
        # The same key again (a client that never saw the answer) is the same payment.
        again = await _post(web, purchase_path, purchase_body, key="topology-payment-1")
        assert again.status_code in (200, 201), again.text
        assert again.json()["paymentId"] == payment_id

        landing = await _bank_approves(web, bought.json()["redirectUrl"], public)
        assert f"paymentId={payment_id}" in landing and "status=succeeded" in landing, landing

        payment = await _settled(web, payment_id)
        assert payment["status"] == "succeeded" and payment["policyId"], payment
        document = await web.get(f"/api/v1/policies/{payment['policyId']}/document")
        assert document.status_code == 200, document.text
        assert document.content.startswith(b"%PDF")

    # After replica 1 stopped, every request was answered by replica 2, none with a 502.
    after = balancer.hops()[stopped_at:]
    assert after and all(tried[-1] == upstreams[1] for _, _, _, tried in after), after
    assert all(status != 502 for _, _, status, _ in balancer.hops()), balancer.hops()
    # Exactly one payment record, whatever was retried.
    payments = await store.keys("payment:*")
    assert len(payments) == 1, payments
