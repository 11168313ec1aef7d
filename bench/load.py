"""`make load N=...`: N customers buy kasko at once against two gateway replicas, one Redis
(or, with `--redis redis+cluster://...`, a Redis Cluster) and the sandbox, all on loopback;
prints completed sales per second and checks that no case, purchase or policy happened
twice."""

import argparse
import asyncio
import base64
import collections
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx

from app.config import Settings
from app.main import create_app
from app.sandbox import SandboxConfig, create_sandbox_app, get_sandbox_state
from app.sandbox.state import SandboxState
from app.store.connection import open_redis
from bench.sale import run_sales
from bench.servers import free_port, serving

REDIS_URL = "redis://127.0.0.1:6379/0"


def load_settings(settings: Settings, insurup: str, public: str) -> Settings:
    return settings.model_copy(
        update={
            "insurup_base_url": insurup,
            "insurup_agent_id": None,
            "public_base_url": public,
            "cookie_secure": False,
            # Every simulated customer comes from 127.0.0.1.
            "login_rate_limit_per_ip": "100000/minute",
            "mfa_rate_limit_per_ip": "100000/minute",
            "payment_verify_seconds": 0.05,
        }
    )


@asynccontextmanager
async def two_replicas(
    settings: Settings,
) -> AsyncIterator[tuple[list[httpx.AsyncClient], httpx.AsyncClient, SandboxState]]:
    sandbox = create_sandbox_app(SandboxConfig(pricing_delay_seconds=(0.2, 1.5)))
    async with AsyncExitStack() as stack:
        insurup = await stack.enter_async_context(serving(sandbox))
        replicas = []
        for port in (free_port(), free_port()):
            public = f"http://127.0.0.1:{port}"
            app = create_app(load_settings(settings, insurup, public), configure_logs=False)
            await stack.enter_async_context(serving(app, port))
            client = httpx.AsyncClient(base_url=public, timeout=60)
            replicas.append(await stack.enter_async_context(client))
        browser = await stack.enter_async_context(httpx.AsyncClient(timeout=60))
        yield replicas, browser, get_sandbox_state(sandbox)


async def main(customers: int, redis_url: str, wait_replicas: int = 0) -> None:
    prefix = f"bffload-{uuid.uuid4().hex[:8]}:"
    settings = Settings(
        _env_file=None,
        env="test",
        redis_url=redis_url,
        redis_wait_replicas=wait_replicas,
        redis_key_prefix=prefix,
        session_keys=[base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()],
        log_level="WARNING",
    )
    try:
        async with two_replicas(settings) as (replicas, browser, state):
            outcomes, seconds = await run_sales(customers, replicas, browser, first=10_000)
    finally:
        redis = open_redis(redis_url, timeout=5)
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
        for key in keys:  # one by one: on a cluster they live in many slots
            await redis.delete(key)
        await redis.aclose()
    failed = [o for o in outcomes if not o.ok]
    policies = collections.Counter(p.customer_id for p in state.policies.values())
    durations = sorted(o.seconds for o in outcomes)
    print(
        f"{customers} customers, two replicas, Redis at {redis_url} "
        f"(writes confirmed by {wait_replicas} replica(s)), sandbox; {seconds:.1f}s"
    )
    print(f"completed sales: {customers - len(failed)}, failed: {len(failed)}")
    for outcome in failed[:5]:
        print(f"  customer {outcome.customer} at {outcome.step}: {outcome.error}")
    print(
        f"duplicates: cases {sum(c - 1 for c in state.case_creations.values())}, "
        f"purchases {sum(c - 1 for c in state.purchase_starts.values())}, "
        f"policies {sum(c - 1 for c in policies.values())}"
    )
    print(f"median sale {durations[len(durations) // 2]:.1f}s, slowest {durations[-1]:.1f}s")
    print(f"completed sales per second: {(customers - len(failed)) / seconds:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("customers", type=int, nargs="?", default=100)
    parser.add_argument("--redis", default=REDIS_URL, help="BFF_REDIS_URL form, cluster too")
    parser.add_argument(
        "--wait-replicas", type=int, default=0, help="BFF_REDIS_WAIT_REPLICAS for the run"
    )
    arguments = parser.parse_args()
    asyncio.run(main(arguments.customers, arguments.redis, arguments.wait_replicas))
