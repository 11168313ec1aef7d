"""Agency webhooks (reference 9.2): signed deliveries after a purchase decision, retries,
duplicates, delays, and a receiver that is down or slow."""

import asyncio
import hashlib
import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.sandbox import ManualClock
from app.sandbox.webhooks import SUBSCRIPTION_ID
from bench.servers import free_port, serving

from .conftest import NO_CASES_TCKN, Sandbox, SandboxFactory
from .flows import DECLINING_CARD, Shopper, card, pick, product_in, shopper

HOOK_URL = "https://gateway.example/webhooks/insurup"
SECRET = "whsec_test"
THREE_D = "ASYNC_3D_SECURE"
PURCHASED = "proposal_premium.purchased"
FAILED = "proposal_premium.purchase_failed"
POLICY_CREATED = "policy.created"


class Receiver:
    """The agency's webhook endpoint behind an `httpx.MockTransport`: records every request
    and answers the scripted statuses in turn (200 once they run out)."""

    def __init__(
        self,
        statuses: list[int] | None = None,
        *,
        down: bool = False,
        gate: asyncio.Event | None = None,
    ) -> None:
        self.statuses = list(statuses or [])
        self.down = down
        self.gate = gate
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self._handle)
        self.before: Callable[[], None] = lambda: None
        """Called as each request arrives."""

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        self.before()
        self.requests.append(request)
        if self.gate is not None:
            await self.gate.wait()
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(self.statuses.pop(0) if self.statuses else 200)

    def of(self, event: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.headers["x-webhook-event"] == event]


class Sleeps:
    """An injected `sleep` that records and does not wait (optionally moving a clock)."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.clock: ManualClock | None = None

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)
        await asyncio.sleep(0)

    @property
    def short(self) -> list[float]:
        """Backoffs and delays (the long sleeps are the lifecycle's wake-ups)."""
        return [s for s in self.calls if s < 60]


def body_of(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


async def hooked(make_sandbox: SandboxFactory, receiver: Receiver, **overrides: Any) -> Sandbox:
    settings: dict[str, Any] = {
        "webhook_url": HOOK_URL,
        "webhook_secret": SECRET,
        "webhook_transport": receiver.transport,
        "sleep": Sleeps(),
    }
    return await make_sandbox(**(settings | overrides))


async def start_purchase(
    sandbox: Sandbox, **purchase: Any
) -> tuple[Shopper, dict[str, Any], dict[str, Any], str]:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)
    started = await me.purchase(proposal, product, **purchase)
    assert started.status_code == 200, started.text
    return me, proposal, product, started.json()["redirectUrl"]


async def test_a_purchase_sends_purchased_and_policy_created(
    make_sandbox: SandboxFactory,
) -> None:
    receiver = Receiver()
    sandbox = await hooked(make_sandbox, receiver)
    me, proposal, product, redirect_url = await start_purchase(sandbox, installmentNumber=3)

    approved = await sandbox.client.post(f"{redirect_url}/approve")
    await sandbox.state.webhooks.drain()

    assert approved.status_code == 303
    bought = product_in(await me.proposal(proposal["proposalId"]), product["id"])
    policy = (await me.get(f"/api/policies/{bought['policyId']}")).json()
    [purchased] = receiver.of(PURCHASED)
    [created] = receiver.of(POLICY_CREATED)
    assert len(receiver.requests) == 2
    assert body_of(purchased) == {
        "$event": PURCHASED,
        "proposalId": proposal["proposalId"],
        "policyId": bought["policyId"],
        "productId": product["productId"],
        "installmentNumber": 3,
        "paymentType": THREE_D,
        "policyStartDate": policy["startDate"],
        "policyEndDate": policy["endDate"],
    }
    assert isinstance(body_of(purchased)["productId"], int)
    assert body_of(purchased)["productId"] != product["id"]  # not the proposal-product id
    policy_created = body_of(created)
    assert next(iter(policy_created)) == "$event"
    assert {
        key: policy_created[key]
        for key in (
            "$event",
            "policyId",
            "proposalId",
            "productId",
            "installmentNumber",
            "paymentType",
            "startDate",
            "endDate",
            "insuranceCompanyPolicyNo",
            "insurerCustomerId",
            "insuredCustomerId",
            "channel",
            "grossPremium",
            "netPremium",
        )
    } == {
        "$event": POLICY_CREATED,
        "policyId": policy["id"],
        "proposalId": policy["proposalId"],
        "productId": policy["productId"],
        "installmentNumber": 3,
        "paymentType": THREE_D,
        "startDate": policy["startDate"],
        "endDate": policy["endDate"],
        "insuranceCompanyPolicyNo": policy["insuranceCompanyPolicyNumber"],
        "insurerCustomerId": me.customer_id,
        "insuredCustomerId": me.customer_id,
        "channel": "WEBSITE",
        "grossPremium": policy["grossPremium"],
        "netPremium": policy["netPremium"],
    }
    assert policy_created["insuranceCompany"]["id"] == product["insuranceCompanyId"]
    for request, event in ((purchased, PURCHASED), (created, POLICY_CREATED)):
        assert request.method == "POST"
        assert str(request.url) == HOOK_URL
        assert request.headers["content-type"] == "application/json"
        assert request.headers["x-webhook-event"] == event
        assert request.headers["x-webhook-id"] == SUBSCRIPTION_ID
        assert uuid.UUID(request.headers["x-webhook-delivery"]).version == 4
        expected = hmac.new(SECRET.encode(), request.content, hashlib.sha256).hexdigest()
        assert request.headers["x-webhook-signature"] == expected
    assert purchased.headers["x-webhook-delivery"] != created.headers["x-webhook-delivery"]
    records = sandbox.state.webhook_deliveries
    assert sorted(r.event for r in records) == [POLICY_CREATED, PURCHASED]
    assert all(
        (r.ok, r.status, r.attempt, r.copy, r.error) == (True, 200, 1, 0, None) for r in records
    )


async def test_without_a_secret_there_is_no_signature(make_sandbox: SandboxFactory) -> None:
    receiver = Receiver()
    sandbox = await hooked(make_sandbox, receiver, webhook_secret=None)
    _, _, _, redirect_url = await start_purchase(sandbox)

    await sandbox.client.post(f"{redirect_url}/approve")
    await sandbox.state.webhooks.drain()

    assert len(receiver.requests) == 2
    assert all("x-webhook-signature" not in r.headers for r in receiver.requests)


@pytest.mark.parametrize(
    ("purchase", "button", "form", "reason"),
    [
        pytest.param({}, "decline", {}, "Müşteri ödemeyi iptal etti.", id="decline-button"),
        pytest.param(
            {"card": card(DECLINING_CARD)}, "approve", {}, "51: yetersiz bakiye", id="card"
        ),
        pytest.param({}, "approve", {"smsCode": "000000"}, "SMS kodu hatalı", id="sms-code"),
    ],
)
async def test_a_decline_sends_purchase_failed_and_the_product_is_active_again(
    make_sandbox: SandboxFactory,
    purchase: dict[str, Any],
    button: str,
    form: dict[str, str],
    reason: str,
) -> None:
    receiver = Receiver()
    sandbox = await hooked(make_sandbox, receiver)
    me, proposal, product, redirect_url = await start_purchase(sandbox, **purchase)

    await sandbox.client.post(f"{redirect_url}/{button}", data=form)
    await sandbox.state.webhooks.drain()

    [failed] = receiver.requests
    body = body_of(failed)
    assert failed.headers["x-webhook-event"] == FAILED
    assert set(body) == {
        "$event",
        "proposalId",
        "productId",
        "installmentNumber",
        "paymentType",
        "failureReason",
    }
    assert body["$event"] == FAILED
    assert body["proposalId"] == proposal["proposalId"]
    assert body["productId"] == product["productId"]
    assert body["installmentNumber"] == 1
    assert body["paymentType"] == THREE_D
    assert reason in body["failureReason"]
    after = product_in(await me.proposal(proposal["proposalId"]), product["id"])
    assert (after["state"], after["policyId"]) == ("ACTIVE", None)


async def test_an_expired_page_sends_purchase_failed(make_sandbox: SandboxFactory) -> None:
    receiver = Receiver()
    sandbox = await hooked(make_sandbox, receiver, payment_session_seconds=60.0)
    me, proposal, product, _ = await start_purchase(sandbox)

    sandbox.clock.advance(60.0)
    await me.proposal(proposal["proposalId"])  # any read applies what is due
    await sandbox.state.webhooks.drain()

    [failed] = receiver.requests
    assert body_of(failed)["$event"] == FAILED
    assert "zaman aşımı" in body_of(failed)["failureReason"]
    assert body_of(failed)["productId"] == product["productId"]


async def test_time_driven_webhooks_go_out_without_any_read(make_sandbox: SandboxFactory) -> None:
    receiver = Receiver()
    sleeps = Sleeps()
    sandbox = await hooked(make_sandbox, receiver, sleep=sleeps, payment_session_seconds=60.0)
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)
    sleeps.clock = sandbox.clock  # from now on a wake-up's sleep moves the clock

    await me.purchase(proposal, product)
    await sandbox.state.webhooks.drain(wake_ups=True)

    assert [r.headers["x-webhook-event"] for r in receiver.requests] == [FAILED]
    assert 60.0 in sleeps.calls
    assert sandbox.state.payment_outcomes["expired"] == 1


async def test_with_a_settle_delay_the_webhooks_follow_the_state(
    make_sandbox: SandboxFactory,
) -> None:
    receiver = Receiver()
    sandbox = await hooked(make_sandbox, receiver, purchase_settle_seconds=5.0)
    me, proposal, _, redirect_url = await start_purchase(sandbox)

    await sandbox.client.post(f"{redirect_url}/approve")
    await sandbox.state.webhooks.drain()
    before = len(receiver.requests)
    sandbox.clock.advance(5.0)
    await me.proposal(proposal["proposalId"])
    await sandbox.state.webhooks.drain()

    assert before == 0
    assert {r.headers["x-webhook-event"] for r in receiver.requests} == {PURCHASED, POLICY_CREATED}


async def test_duplicates_repeat_the_delivery_id(make_sandbox: SandboxFactory) -> None:
    receiver = Receiver()
    sandbox = await hooked(
        make_sandbox, receiver, webhook_duplicates=2, webhook_events=frozenset({PURCHASED})
    )
    _, _, _, redirect_url = await start_purchase(sandbox)

    await sandbox.client.post(f"{redirect_url}/approve")
    await sandbox.state.webhooks.drain()

    assert len(receiver.requests) == 3
    assert len({r.headers["x-webhook-delivery"] for r in receiver.requests}) == 1
    assert len({r.content for r in receiver.requests}) == 1
    assert len({r.headers["x-webhook-signature"] for r in receiver.requests}) == 1
    assert [(r.copy, r.attempt) for r in sandbox.state.webhook_deliveries] == [
        (0, 1),
        (1, 1),
        (2, 1),
    ]
    assert len(sandbox.state.policies) == 1  # the purchase happened once


async def test_non_2xx_answers_are_retried_with_backoff(make_sandbox: SandboxFactory) -> None:
    receiver = Receiver([500, 503])
    sleeps = Sleeps()
    sandbox = await hooked(
        make_sandbox, receiver, sleep=sleeps, webhook_events=frozenset({PURCHASED})
    )
    _, _, _, redirect_url = await start_purchase(sandbox)

    await sandbox.client.post(f"{redirect_url}/approve")
    await sandbox.state.webhooks.drain()

    assert [r.status for r in sandbox.state.webhook_deliveries] == [500, 503, 200]
    assert [r.attempt for r in sandbox.state.webhook_deliveries] == [1, 2, 3]
    assert len({r.headers["x-webhook-delivery"] for r in receiver.requests}) == 1
    assert sleeps.short == [1.0, 2.0]


async def test_three_attempts_at_most(make_sandbox: SandboxFactory) -> None:
    receiver = Receiver([500] * 10)
    sandbox = await hooked(make_sandbox, receiver, webhook_events=frozenset({PURCHASED}))
    me, proposal, product, redirect_url = await start_purchase(sandbox)

    await sandbox.client.post(f"{redirect_url}/approve")
    await sandbox.state.webhooks.drain()

    assert len(receiver.requests) == 3
    assert not any(r.ok for r in sandbox.state.webhook_deliveries)
    after = product_in(await me.proposal(proposal["proposalId"]), product["id"])
    assert after["state"] == "PURCHASED"


async def test_a_receiver_that_is_down_breaks_nothing(make_sandbox: SandboxFactory) -> None:
    receiver = Receiver(down=True)
    sandbox = await hooked(make_sandbox, receiver, webhook_duplicates=1)
    me, proposal, product, redirect_url = await start_purchase(sandbox)

    approved = await sandbox.client.post(f"{redirect_url}/approve")
    await sandbox.state.webhooks.drain()

    assert approved.status_code == 303
    records = sandbox.state.webhook_deliveries
    assert len(records) == 2 * 2 * 3  # 2 events x (delivery + 1 duplicate) x 3 attempts
    assert all(r.status is None and r.error and "ConnectError" in r.error for r in records)
    after = product_in(await me.proposal(proposal["proposalId"]), product["id"])
    assert after["state"] == "PURCHASED"


async def test_the_delay_comes_before_the_first_attempt(make_sandbox: SandboxFactory) -> None:
    receiver = Receiver()
    sleeps = Sleeps()
    sandbox = await hooked(
        make_sandbox,
        receiver,
        sleep=sleeps,
        webhook_delay_seconds=7.5,
        webhook_events=frozenset({PURCHASED}),
    )
    _, _, _, redirect_url = await start_purchase(sandbox)
    slept_before_sending: list[list[float]] = []
    receiver.before = lambda: slept_before_sending.append(sleeps.short)

    await sandbox.client.post(f"{redirect_url}/approve")
    await sandbox.state.webhooks.drain()

    assert slept_before_sending == [[7.5]]
    assert len(receiver.requests) == 1


async def test_only_the_chosen_events_are_sent(make_sandbox: SandboxFactory) -> None:
    receiver = Receiver()
    sandbox = await hooked(make_sandbox, receiver, webhook_events=frozenset({FAILED}))
    _, _, _, approved_url = await start_purchase(sandbox)
    await sandbox.client.post(f"{approved_url}/approve")
    me = await shopper(sandbox, NO_CASES_TCKN)
    proposal = await me.priced_proposal()
    product = pick(proposal, option=THREE_D)
    declined_url = (await me.purchase(proposal, product)).json()["redirectUrl"]

    await sandbox.client.post(f"{declined_url}/decline")
    await sandbox.state.webhooks.drain()

    assert [r.headers["x-webhook-event"] for r in receiver.requests] == [FAILED]


async def test_a_slow_receiver_never_blocks_the_request(make_sandbox: SandboxFactory) -> None:
    gate = asyncio.Event()
    receiver = Receiver(gate=gate)
    sandbox = await hooked(make_sandbox, receiver)
    _, _, _, redirect_url = await start_purchase(sandbox)

    approved = await asyncio.wait_for(sandbox.client.post(f"{redirect_url}/approve"), 5)
    assert approved.status_code == 303
    assert sandbox.state.webhook_deliveries == []  # still waiting for the receiver
    gate.set()
    await sandbox.state.webhooks.drain()

    assert len(sandbox.state.webhook_deliveries) == 2


async def test_no_webhook_url_sends_nothing(sandbox: Sandbox) -> None:
    _, _, _, redirect_url = await start_purchase(sandbox)

    await sandbox.client.post(f"{redirect_url}/approve")
    await sandbox.state.webhooks.drain()

    assert sandbox.state.webhook_deliveries == []
    assert sandbox.state.webhooks.enabled is False


# --- over real HTTP ---------------------------------------------------------------------


def receiving_app(
    received: list[tuple[dict[str, str], bytes]],
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        request = Request(scope, receive)
        received.append((dict(request.headers), await request.body()))
        await Response(status_code=204)(scope, receive, send)

    return app


async def test_deliveries_over_real_http(make_sandbox: SandboxFactory) -> None:
    received: list[tuple[dict[str, str], bytes]] = []
    async with serving(receiving_app(received)) as base:
        sandbox = await make_sandbox(
            webhook_url=f"{base}/webhooks/insurup", webhook_secret=SECRET, sleep=Sleeps()
        )
        _, _, _, redirect_url = await start_purchase(sandbox)
        await sandbox.client.post(f"{redirect_url}/decline")
        await sandbox.state.webhooks.drain()

    [(headers, raw)] = received
    assert headers["x-webhook-event"] == FAILED
    assert headers["content-type"] == "application/json"
    assert (
        headers["x-webhook-signature"] == hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    )
    assert json.loads(raw)["$event"] == FAILED
    assert [r.status for r in sandbox.state.webhook_deliveries] == [204]


async def test_a_target_that_is_not_listening(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(
        webhook_url=f"http://127.0.0.1:{free_port()}/hooks", sleep=Sleeps()
    )
    _, _, _, redirect_url = await start_purchase(sandbox)

    declined = await sandbox.client.post(f"{redirect_url}/decline")
    await sandbox.state.webhooks.drain()

    assert declined.status_code == 303
    assert [(r.attempt, r.status) for r in sandbox.state.webhook_deliveries] == [
        (1, None),
        (2, None),
        (3, None),
    ]
    assert all(r.error for r in sandbox.state.webhook_deliveries)
