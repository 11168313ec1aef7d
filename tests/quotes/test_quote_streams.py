"""A thousand customers' browsers following quotes on one replica: every stream is served and
ends with `complete`, and InsurUp is polled once per interval per quote, not per browser."""

import asyncio
import json
import time

import pytest

from app.config import Settings
from tests.conftest import AppFactory
from tests.fake_insurup import PROPOSAL_ID, FakeInsurUp, product
from tests.helpers import sign_in_cookie

STREAMS = 1000
INTERVAL = 0.1


@pytest.mark.parametrize("store", ["redis", "memory"])
async def test_a_thousand_live_quote_streams_on_one_replica_are_all_served(
    make_app: AppFactory, settings: Settings, insurup: FakeInsurUp, store: str
) -> None:
    custom = settings.model_copy(
        update={
            "quote_poll_seconds": INTERVAL,
            "quote_stream_seconds": 30,
            "redis_max_connections": Settings.model_fields["redis_max_connections"].default,
        }
    )
    if store == "memory":
        custom = custom.model_copy(update={"redis_url": "memory://"})
    insurup.proposal_products = [product("a", state="WAITING"), product("b", state="WAITING")]
    async with make_app(custom) as api:
        await sign_in_cookie(api)
        path = f"/api/v1/quotes/{PROPOSAL_ID}/events"

        async def follow() -> list[str]:
            events = []
            async with api.stream("GET", path, timeout=30) as stream:
                assert stream.status_code == 200
                async for line in stream.aiter_lines():
                    if line.startswith("event: "):
                        events.append(line.removeprefix("event: "))
            return events

        browsers = [asyncio.create_task(follow()) for _ in range(STREAMS)]
        polls_before = insurup.router["proposal"].call_count
        await asyncio.sleep(1.0)  # everyone is waiting on the shared poll now
        started = time.monotonic()
        for item in insurup.proposal_products:
            item["state"] = "ACTIVE"
        seen = await asyncio.wait_for(asyncio.gather(*browsers), 60)
        elapsed = time.monotonic() - started
        polls = insurup.router["proposal"].call_count - polls_before

    assert all(events and events[-1] == "complete" for events in seen), json.dumps(
        [e for e in seen if not e or e[-1] != "complete"][:3]
    )
    # One poll per interval for the one quote (plus the first read each watch makes), never
    # one per browser: a thousand browsers cost what one does.
    assert polls <= (1.0 + elapsed) / INTERVAL + 10, polls
