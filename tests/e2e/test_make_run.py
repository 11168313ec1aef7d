"""README's promise: `make run` starts the gateway with the sandbox and the in-process store,
and a newcomer can sign in and get prices with the documented test identity."""

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import httpx

from bench.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def _start_make_run(port: int) -> "subprocess.Popen[bytes]":
    env = {k: v for k, v in os.environ.items() if not k.startswith("BFF_")}
    return subprocess.Popen(  # noqa: S603 - our own Makefile
        ["make", "--no-print-directory", "run", f"PORT={port}"],  # noqa: S607
        cwd=ROOT,
        env={**env, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


async def test_make_run_serves_the_sandbox_sale_as_documented() -> None:
    port = free_port()
    process = await asyncio.to_thread(_start_make_run, port)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as web:
            for _ in range(300):
                try:
                    if (await web.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            # The allowed origins follow PORT, both spellings of the local address.
            headers = {"X-CSRF": "1", "Origin": f"http://localhost:{port}"}
            assert (await web.get("/api/v1/consents", headers=headers)).status_code == 200
            other = {"Origin": f"http://127.0.0.1:{port}"}
            assert (await web.get("/api/v1/consents", headers=other)).status_code == 200
            stranger = {"Origin": "http://localhost:8000"}
            assert (await web.get("/api/v1/consents", headers=stranger)).status_code == 403
            login = {
                "customerType": "individual",
                "identityNumber": "11111111110",
                "birthDate": "1990-01-01",
                "phoneNumber": "+90 532 123 45 67",
                "consents": ["KVKK"],
            }
            assert (
                await web.post("/api/v1/session", json=login, headers=headers)
            ).status_code == 202
            session = await web.post(
                "/api/v1/session/mfa", json={"code": "123456"}, headers=headers
            )
            assert session.status_code == 200, session.text
            assert session.json()["caseId"]
            facts = await web.post(
                "/api/v1/vehicles/lookup",
                json={"plate": "34ABC123", "documentSerial": "AB123456"},
                headers=headers,
            )
            assert facts.json()["brand"]["name"] == "RENAULT"
            assert (await web.get("/readyz")).json()["status"] == "ready"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode()
    assert f"http://localhost:{port}/demo" in output  # it tells the newcomer what to open
    assert "11111111110" in output
