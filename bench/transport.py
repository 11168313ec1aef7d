"""Why the InsurUp client runs httpx on an aiohttp transport: both measured in one run.

Starts `bench/upstream.py` in its own process, then sends the same requests, at the same
concurrency, through one `httpx.AsyncClient` on httpx's default transport and on ours.
Prints requests per second, p50/p99 latency and the ratio. Loopback only; bounded.
"""

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.insurup.transport import AiohttpTransport
from bench.servers import free_port


async def _wait_until_up(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(100):
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise SystemExit("upstream did not start")


async def _run(
    name: str, transport: httpx.AsyncBaseTransport, url: str, requests: int, concurrency: int
) -> float:
    latencies: list[float] = []
    async with httpx.AsyncClient(transport=transport, base_url=url) as client:
        for _ in range(50):  # warm the pool
            await client.get("/api/customers/me")
        queue = iter(range(requests))

        async def worker() -> None:
            for _ in queue:
                started = time.perf_counter()
                response = await client.get("/api/customers/me")
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    rate = requests / elapsed
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"{name:<28} {rate:8.0f} req/s   p50 {cuts[49] * 1000:6.2f} ms   "
        f"p99 {cuts[98] * 1000:6.2f} ms"
    )
    return rate


async def compare(url: str, requests: int, concurrency: int) -> None:
    await _wait_until_up(url)
    print(f"{requests} GETs, {concurrency} at a time, one AsyncClient, loopback upstream")
    default = await _run(
        "httpx default transport",
        httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=100)),
        url,
        requests,
        concurrency,
    )
    ours = await _run("httpx on AiohttpTransport", AiohttpTransport(), url, requests, concurrency)
    print(f"ratio aiohttp-transport/default: {ours / default:.2f}")


def main(requests: int, concurrency: int) -> None:
    port = free_port()
    upstream = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(Path(__file__).with_name("upstream.py")), str(port)]
    )
    try:
        asyncio.run(compare(f"http://127.0.0.1:{port}", requests, concurrency))
    finally:
        upstream.terminate()
        upstream.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    main(args.requests, args.concurrency)
