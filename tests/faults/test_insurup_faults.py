"""InsurUp slow, failing, answering garbage or HTML, under concurrent load: the documented
codes, never a 500, the session intact, and full service once InsurUp is well again."""

import asyncio
import itertools
from collections import Counter

import httpx

from tests.conftest import AppFactory
from tests.fake_insurup import PROPOSAL_ID, FakeInsurUp, product
from tests.helpers import bearer, sign_in_bearer


async def test_mixed_insurup_failures_under_load(
    make_app: AppFactory, insurup: FakeInsurUp
) -> None:
    insurup.proposal_products = [product("a"), product("b", state="WAITING")]
    faults = itertools.cycle(
        [
            "ok",
            httpx.ReadTimeout("slow"),
            httpx.Response(500, text="<html><body>Internal Server Error</body></html>"),
            httpx.Response(200, text="<!doctype html><p>maintenance</p>"),
            httpx.Response(200, content=b'{"proposalId": "x", "products": [{"id": 1'),
            httpx.Response(503, text="Service Unavailable"),
            httpx.ConnectError("refused"),
        ]
    )

    def flaky(request: httpx.Request) -> httpx.Response:
        fault = next(faults)
        if fault == "ok":
            return insurup.read_proposal(request)
        if isinstance(fault, Exception):
            raise fault
        assert isinstance(fault, httpx.Response)
        return fault

    async with make_app() as api:
        token = await sign_in_bearer(api)
        insurup.router["proposal"].side_effect = flaky
        answers = await asyncio.gather(
            *[api.get(f"/api/v1/quotes/{PROPOSAL_ID}", headers=bearer(token)) for _ in range(70)]
        )
        seen = Counter((a.status_code, a.json().get("code")) for a in answers)
        assert set(seen) <= {
            (200, None),
            (502, "upstream_error"),
            (502, "upstream_unavailable"),
            (504, "upstream_timeout"),
        }, seen
        assert seen[(200, None)] > 0 and len(seen) > 2
        for answer in answers:
            assert "<html" not in answer.text and "Traceback" not in answer.text
            if answer.status_code != 200:
                assert answer.headers["content-type"] == "application/problem+json"

        insurup.router["proposal"].side_effect = insurup.read_proposal
        healed = await asyncio.gather(
            *[api.get(f"/api/v1/quotes/{PROPOSAL_ID}", headers=bearer(token)) for _ in range(20)]
        )
        assert {a.status_code for a in healed} == {200}
        assert insurup.router["refresh"].call_count == 0  # InsurUp's trouble never ended a session
