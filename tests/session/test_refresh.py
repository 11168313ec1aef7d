"""Token refresh: before expiry and on a 401, once per session across replicas."""

import asyncio

import httpx
import redis.asyncio as aioredis

from app.config import Settings
from app.store.keys import Keys
from app.store.sessions import handle_of
from tests.conftest import AppFactory, ManualClock
from tests.fake_insurup import FakeInsurUp
from tests.helpers import bearer, sign_in_bearer


async def test_fifty_rejected_calls_on_two_replicas_share_one_refresh(
    make_app: AppFactory, insurup: FakeInsurUp
) -> None:
    async with make_app() as one, make_app() as two:
        token = await sign_in_bearer(one)
        insurup.revoke_all_access()  # InsurUp now answers 401 to the stored access token
        refreshes_before = insurup.router["refresh"].call_count
        first_refresh_token = next(iter(insurup.live_refresh))

        calls = [
            (one if i % 2 else two).get("/api/v1/customer", headers=bearer(token))
            for i in range(50)
        ]
        answers = await asyncio.gather(*calls)

        assert [a.status_code for a in answers] == [200] * 50
        assert insurup.router["refresh"].call_count == refreshes_before + 1
        assert insurup.used_refresh == [first_refresh_token]

        # The next refresh uses the rotated refresh token, not the burnt one.
        rotated = next(iter(insurup.live_refresh))
        insurup.revoke_all_access()
        again = await two.get("/api/v1/customer", headers=bearer(token))
        assert again.status_code == 200
        assert insurup.used_refresh == [first_refresh_token, rotated]


async def test_token_close_to_expiry_is_refreshed_before_the_call(
    client: httpx.AsyncClient, insurup: FakeInsurUp, clock: ManualClock, settings: Settings
) -> None:
    token = await sign_in_bearer(client)
    assert (await client.get("/api/v1/customer", headers=bearer(token))).status_code == 200
    assert insurup.router["refresh"].call_count == 0
    # InsurUp's token lives 600 s; now it has less than the refresh margin left.
    clock.advance(600 - settings.token_refresh_margin_seconds + 1)
    before = insurup.router["me"].call_count

    answer = await client.get("/api/v1/customer", headers=bearer(token))

    assert answer.status_code == 200
    assert insurup.router["refresh"].call_count == 1
    # No 401 round trip was needed: the refresh came first.
    assert insurup.router["me"].call_count == before + 1


async def test_refresh_rejected_ends_the_session(
    client: httpx.AsyncClient,
    insurup: FakeInsurUp,
    redis_client: aioredis.Redis,
    settings: Settings,
) -> None:
    token = await sign_in_bearer(client)
    insurup.revoke_all_access()
    insurup.live_refresh.clear()

    answer = await client.get("/api/v1/customer", headers=bearer(token))

    assert answer.status_code == 401
    assert answer.json()["code"] == "session_expired"
    key = Keys(prefix=settings.redis_key_prefix).session(handle_of(token))
    assert await redis_client.exists(key) == 0
    assert (await client.get("/api/v1/session", headers=bearer(token))).status_code == 401


async def test_refresh_timeout_does_not_end_the_session(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    token = await sign_in_bearer(client)
    insurup.revoke_all_access()
    insurup.router["refresh"].side_effect = httpx.ReadTimeout("slow")

    answer = await client.get("/api/v1/customer", headers=bearer(token))
    assert answer.status_code == 504
    assert answer.json()["code"] == "upstream_timeout"

    insurup.router["refresh"].side_effect = insurup.refresh
    assert (await client.get("/api/v1/customer", headers=bearer(token))).status_code == 200


async def test_refresh_5xx_does_not_end_the_session(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    token = await sign_in_bearer(client)
    insurup.revoke_all_access()
    insurup.router["refresh"].side_effect = None
    insurup.router["refresh"].return_value = httpx.Response(500, text="boom")

    answer = await client.get("/api/v1/customer", headers=bearer(token))
    assert answer.status_code == 502
    assert answer.json()["code"] == "upstream_error"
    assert (await client.get("/api/v1/session", headers=bearer(token))).status_code == 200


async def test_a_refresh_sends_the_expired_access_token_too(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    """InsurUp's kasko guide sends `Authorization: Bearer <expired token>` with the body;
    a server that does not need it ignores it, one that needs it would end every session."""
    token = await sign_in_bearer(client)
    stale = next(iter(insurup.live_access))
    insurup.revoke_all_access()
    assert (await client.get("/api/v1/customer", headers=bearer(token))).status_code == 200
    assert insurup.refresh_authorizations == [f"Bearer {stale}"]
