"""No InsurUp token, session id, identity or phone number in logs, responses or Redis."""

import httpx
import redis.asyncio as aioredis

from tests.conftest import AppFactory, LogLines
from tests.fake_insurup import MFA_TOKEN, FakeInsurUp
from tests.helpers import CSRF, LOGIN_BODY, bearer


async def test_a_whole_session_leaves_no_secret_anywhere(
    make_app: AppFactory,
    insurup: FakeInsurUp,
    redis_client: aioredis.Redis,
    prefix: str,
    log_lines: LogLines,
) -> None:
    responses: list[httpx.Response] = []
    async with make_app() as api:
        # The bearer sign-in and SMS-code answers are the places session tokens are meant to
        # appear (the second replaces the first); neither is scanned.
        started = await api.post(
            "/api/v1/session", json=LOGIN_BODY, headers={"X-Session-Transport": "bearer"}
        )
        pending = started.json()["sessionToken"]
        assert set(started.json()) == {"status", "sessionToken"}
        responses.append(
            await api.post("/api/v1/session/mfa", json={"code": "000000"}, headers=bearer(pending))
        )
        verified = await api.post(
            "/api/v1/session/mfa", json={"code": "123456"}, headers=bearer(pending)
        )
        token = verified.json()["sessionToken"]
        insurup.revoke_all_access()  # forces a refresh: new tokens flow through
        responses.append(await api.get("/api/v1/customer", headers=bearer(token)))
        responses.append(await api.get("/api/v1/session", headers=bearer(token)))
        bad = {**LOGIN_BODY, "identityNumber": "11111111111", "phoneNumber": "5321234568x"}
        responses.append(await api.post("/api/v1/session", json=bad, headers=CSRF))
        cookie_login = await api.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
        responses.append(cookie_login)
        cookie_id = api.cookies.get("__Host-kasko_session")
        responses.append(await api.get("/metrics"))

        redis_dump = []
        async for key in redis_client.scan_iter(match=f"{prefix}*"):
            redis_dump.append(key)
            kind = await redis_client.type(key)
            if kind == b"hash":
                redis_dump.extend(
                    sum(((k, v) for k, v in (await redis_client.hgetall(key)).items()), ())
                )
            elif kind == b"string":
                redis_dump.append(await redis_client.get(key))
            elif kind == b"set":
                redis_dump.extend(await redis_client.smembers(key))
            elif kind == b"zset":
                redis_dump.extend(await redis_client.zrange(key, 0, -1))
            elif kind == b"list":
                redis_dump.extend(await redis_client.lrange(key, 0, -1))
            ttl = await redis_client.ttl(key)
            assert ttl > 0, f"{key!r} has no TTL"
        await api.delete("/api/v1/session", headers=bearer(token))

    issued = [f"access-{n:04d}-secret" for n in range(1, 4)] + [
        f"refresh-{n:04d}-secret" for n in range(1, 4)
    ]
    secrets = [
        *issued,
        MFA_TOKEN,
        pending,
        token,
        str(cookie_id),
        "11111111110",
        "11111111111",
        "5321234567",
    ]
    assert insurup.router["refresh"].call_count == 1  # the scan covered rotated tokens too

    outputs = {
        "logs": "\n".join(log_lines.lines),
        "responses": "\n".join(
            r.text
            + "\n"
            + "\n".join(f"{k}: {v}" for k, v in r.headers.items() if k.lower() != "set-cookie")
            for r in responses
        ),
        "redis": "\n".join(
            item.decode("latin-1") if isinstance(item, bytes) else str(item) for item in redis_dump
        ),
    }
    assert log_lines.lines, "the test must see the log lines it scans"
    assert len(redis_dump) > 4, "the test must see the Redis values it scans"
    for where, text in outputs.items():
        for secret in secrets:
            assert secret not in text, f"{secret[:6]}... leaked into {where}"
