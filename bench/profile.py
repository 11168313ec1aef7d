"""Where the hot read path spends its time: `GET /api/v1/quotes/{id}` driven in process
(ASGI, no network on our side; Redis real, InsurUp answered by a canned proposal), profiled
with pyinstrument. `make profile` prints the call tree and the time per request."""

import asyncio
import base64
import secrets
import time

import httpx
from pyinstrument import Profiler

from app.config import Settings
from app.main import create_app
from bench.gateway import PREFIX, QUOTE, _cleanup, _seed_session
from bench.upstream import PROPOSAL

REQUESTS = 500


async def main() -> None:
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    settings = Settings(
        _env_file=None,
        insurup_base_url="https://insurup.test",
        insurup_agent_id="3f2b9c1e-5a7d-4e21-9c0b-000000000001",
        redis_url="redis://127.0.0.1:6379/0",
        redis_key_prefix=PREFIX,
        session_keys=[key],
        log_level="WARNING",
        demo_enabled=False,
    )
    proposal = httpx.MockTransport(
        lambda _: httpx.Response(
            200, content=PROPOSAL, headers={"content-type": "application/json"}
        )
    )
    app = create_app(settings, insurup_transport=proposal, configure_logs=False)
    session_id, _ = await _seed_session([base64.urlsafe_b64decode(key)])
    headers = {"Authorization": f"Bearer {session_id}"}
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://gateway"
            ) as client,
        ):
            for _ in range(50):
                (await client.get(f"/api/v1/quotes/{QUOTE}", headers=headers)).raise_for_status()
            started = time.perf_counter()
            for _ in range(REQUESTS):
                await client.get(f"/api/v1/quotes/{QUOTE}", headers=headers)
            plain = (time.perf_counter() - started) / REQUESTS * 1000
            profiler = Profiler(interval=0.0002, async_mode="enabled")
            profiler.start()
            for _ in range(REQUESTS):
                await client.get(f"/api/v1/quotes/{QUOTE}", headers=headers)
            profiler.stop()
    finally:
        await _cleanup()
    print(profiler.output_text(unicode=False, color=False))
    print(f"{plain:.3f} ms per request in process (without the profiler; client side included)")


if __name__ == "__main__":
    asyncio.run(main())
