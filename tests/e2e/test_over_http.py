"""Over real HTTP: uvicorn serves the sandbox and two gateway replicas on free loopback ports,
sharing one real Redis; the gateway reaches InsurUp through its production transport."""

import asyncio

import httpx

from app.config import Settings
from app.main import create_app
from app.sandbox import create_sandbox_app
from bench.servers import serving
from tests.helpers import LOGIN_BODY, bearer


async def test_sign_in_on_one_replica_and_continue_on_the_other(settings: Settings) -> None:
    async with serving(create_sandbox_app()) as insurup:
        remote = settings.model_copy(
            update={"insurup_base_url": insurup, "public_base_url": "http://127.0.0.1"}
        )
        one_app = create_app(remote, configure_logs=False)
        two_app = create_app(remote, configure_logs=False)
        async with serving(one_app) as one, serving(two_app) as two, httpx.AsyncClient() as web:
            started = await web.post(
                f"{one}/api/v1/session", json=LOGIN_BODY, headers={"X-Session-Transport": "bearer"}
            )
            assert started.status_code == 202, started.text
            token = started.json()["sessionToken"]
            verified = await web.post(
                f"{two}/api/v1/session/mfa", json={"code": "123456"}, headers=bearer(token)
            )
            assert verified.status_code == 200, verified.text
            assert len(verified.json()["caseId"]) == 24
            token = verified.json()["sessionToken"]  # the SMS step issues a new one
            answers = await asyncio.gather(
                *[
                    web.get(f"{(one, two)[i % 2]}/api/v1/customer", headers=bearer(token))
                    for i in range(20)
                ]
            )
            assert {a.status_code for a in answers} == {200}
            assert answers[0].headers["x-request-id"]
            session = await web.get(f"{one}/api/v1/session", headers=bearer(token))
            assert session.json()["caseId"] == verified.json()["caseId"]
