"""A replica killed in the middle of a purchase and of a token refresh (real processes, real
Redis, the sandbox as InsurUp): what the customer sees, and that nothing happens twice."""

import asyncio
import base64
import os
import secrets
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from app.config import Settings
from app.sandbox import ManualClock, SandboxConfig, create_sandbox_app, get_sandbox_state
from app.sandbox.state import SandboxState
from bench.servers import free_port, serving, start_replica, wait_healthy
from tests.conftest import REDIS_URL

LOGIN = {
    "customerType": "individual",
    "identityNumber": "20000000046",
    "birthDate": "2000-02-29",
    "phoneNumber": "05442223344",
    "consents": ["KVKK"],
}
CARD = {
    "number": "4242424242424242",
    "cvc": "123",
    "expiryMonth": "12",
    "expiryYear": "2030",
    "holderName": "EMRE SAHIN",
}
TIMEOUT = 2  # InsurUp call timeout of the replicas: with the margin, it sets every lease
MARGIN = 0.5  # BFF_LEASE_MARGIN_SECONDS: short leases, so a dead replica's lapse soon


@asynccontextmanager
async def cluster(
    settings: Settings, sandbox: SandboxConfig
) -> AsyncIterator[tuple[list[str], list[Any], SandboxState]]:
    app = create_sandbox_app(sandbox)
    async with serving(app) as insurup:
        env = {
            "BFF_ENV": "test",
            "BFF_INSURUP_BASE_URL": insurup,
            "BFF_REDIS_URL": REDIS_URL,
            "BFF_REDIS_KEY_PREFIX": settings.redis_key_prefix,
            "BFF_SESSION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "BFF_INSURUP_TIMEOUT_SECONDS": str(TIMEOUT),
            "BFF_COOKIE_SECURE": "false",
            "BFF_LOG_LEVEL": "WARNING",
            "BFF_TOKEN_REFRESH_MARGIN_SECONDS": "0.5",
            "BFF_LEASE_MARGIN_SECONDS": str(MARGIN),
        }
        ports = [free_port(), free_port()]
        processes = [
            start_replica(port, {**env, "BFF_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"})
            for port in ports
        ]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        try:
            for url in urls:
                await wait_healthy(url)
            yield urls, processes, get_sandbox_state(app)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
                    process.wait(10)


async def _sign_in(web: httpx.AsyncClient, url: str) -> dict[str, str]:
    started = await web.post(
        f"{url}/api/v1/session", json=LOGIN, headers={"X-Session-Transport": "bearer"}
    )
    auth = {"Authorization": f"Bearer {started.json()['sessionToken']}"}
    verified = await web.post(f"{url}/api/v1/session/mfa", json={"code": "123456"}, headers=auth)
    assert verified.status_code == 200, verified.text
    return {"Authorization": f"Bearer {verified.json()['sessionToken']}"}


def _kill(process: Any) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)


async def test_replica_killed_during_a_purchase(settings: Settings) -> None:
    # InsurUp takes 1.5 s to start the payment, so the kill lands while the call is out.
    sandbox = SandboxConfig(pricing_delay_seconds=(0.1, 0.3), latency_seconds={"purchase": 1.5})
    async with (
        cluster(settings, sandbox) as (urls, processes, state),
        httpx.AsyncClient(timeout=30) as web,
    ):
        one, two = urls
        auth = await _sign_in(web, one)
        car = {"plate": "34KIL123", "documentSerial": "AB123456"}
        vehicle = (await web.post(f"{one}/api/v1/vehicles", json=car, headers=auth)).json()
        quote_id = (
            await web.post(f"{one}/api/v1/quotes", json={"vehicleId": vehicle["id"]}, headers=auth)
        ).json()["quoteId"]
        quote: dict[str, Any] = {}
        for _ in range(100):
            quote = (await web.get(f"{two}/api/v1/quotes/{quote_id}", headers=auth)).json()
            if quote["complete"]:
                break
            await asyncio.sleep(0.1)
        product = next(
            p for p in quote["products"] if p["purchasable"] and "3d-secure" in p["paymentMethods"]
        )
        base = f"/api/v1/quotes/{quote_id}/products/{product['productId']}"
        form = await web.get(f"{one}{base}/information-form", headers=auth)
        assert form.status_code == 200, form.text
        path = f"{base}/purchase"
        body = {
            "installmentNumber": 1,
            "method": "3d-secure",
            "card": CARD,
            "informationFormAccepted": True,
        }
        headers = {**auth, "Idempotency-Key": "kill-purchase-0001"}

        in_flight = asyncio.create_task(web.post(f"{one}{path}", json=body, headers=headers))
        await asyncio.sleep(0.5)
        _kill(processes[0])
        try:
            await in_flight
            raise AssertionError("the killed replica answered")
        except httpx.TransportError:
            pass  # what the customer's app sees: the connection dropped

        # The other replica knows the first attempt is unfinished and does not start another.
        retry = await web.post(f"{two}{path}", json=body, headers=headers)
        assert retry.status_code == 409
        assert retry.json()["code"] == "request_in_progress"

        # Once the dead replica's lease lapses the key is free again. Whether or not its call
        # reached InsurUp, exactly one payment is ever started: if InsurUp took it, the fresh
        # read shows the product being paid for (409); if not, the retry starts it (201).
        # Until then the answer is 409: the request (or the payment it opened) is in progress.
        lease = TIMEOUT * 3 + MARGIN
        started = time.monotonic()
        again = retry
        while again.status_code == 409 and again.json()["code"] in (
            "request_in_progress",
            "payment_in_progress",
        ):
            assert time.monotonic() - started < lease + 2, "the lease lapses on its own"
            await asyncio.sleep(0.25)
            again = await web.post(f"{two}{path}", json=body, headers=headers)
        if again.status_code == 409:
            assert again.json()["code"] == "product_not_purchasable", again.text
            assert sum(state.purchase_starts.values()) == 1
        else:
            assert again.status_code == 201, again.text
            assert sum(state.purchase_starts.values()) == 1
            assert again.json()["redirectUrl"].startswith("http")


async def test_replica_killed_during_a_token_refresh(settings: Settings) -> None:
    # A refresh takes InsurUp 1.5 s (the replicas wait 2 s); InsurUp's time is the test's.
    insurup_time = ManualClock(start=time.time())
    sandbox = SandboxConfig(now=insurup_time, latency_seconds={"refresh": 1.5})
    async with (
        cluster(settings, sandbox) as (urls, processes, state),
        httpx.AsyncClient(timeout=30) as web,
    ):
        one, two = urls
        auth = await _sign_in(web, one)
        insurup_time.advance(601)  # InsurUp now refuses the access token: the call refreshes
        in_flight = asyncio.create_task(web.get(f"{one}/api/v1/customer", headers=auth))
        await asyncio.sleep(0.5)
        _kill(processes[0])
        try:
            early = await in_flight
            raise AssertionError(f"the killed replica answered: {early.status_code}")
        except httpx.TransportError:
            pass

        # The survivor waits out the dead replica's refresh lock (bounded by its lease), then
        # refreshes once. If InsurUp had finished the dead call, the refresh token it used is
        # burnt (rotation) and the session ends cleanly with `session_expired`: the customer
        # signs in again. If the call died with the connection, the refresh just works.
        started = time.monotonic()
        answer = await web.get(f"{two}/api/v1/customer", headers=auth)
        waited = time.monotonic() - started
        assert waited < (TIMEOUT * 2 + MARGIN) + 6 + 2, "bounded by the lock's lease"
        assert state.calls["refresh"] == 2  # the dead replica's attempt and one more, no storm
        if answer.status_code == 200:
            again = await web.get(f"{two}/api/v1/customer", headers=auth)
            assert again.status_code == 200
        else:
            assert answer.status_code == 401
            assert answer.json()["code"] == "session_expired"
            assert (await web.get(f"{two}/api/v1/session", headers=auth)).status_code == 401
            fresh = await _sign_in(web, two)
            assert (await web.get(f"{two}/api/v1/customer", headers=fresh)).status_code == 200
