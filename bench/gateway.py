"""The gateway's hot read path against two yardsticks, measured in one run.

`GET /api/v1/quotes/{id}` through the gateway (session from Redis, InsurUp call, normalising)
versus (a) the same proposal read straight from a minimal upstream stub and (b) a bare
pass-through proxy (FastAPI + aiohttp, no session, no normalising). Every server is one uvicorn
process with uvloop and httptools; the load comes from wrk with the same settings for all.
Loopback only, bounded in time. Prints throughput, p50/p99, CPU time per request, Redis
commands per request and Redis bytes per session, then the ratios; the last line is
`ratio gateway/passthrough: 0.NN`.

The targets take turns: `--rounds` rounds, each a short wrk run per target in a rotating
order, and every figure is the median over the rounds; the ratio is the median of each
round's own ratio. Other work on the machine (two cores, shared with wrk, Redis and whoever
else runs tests) then weighs on the gateway and its yardstick alike instead of on whichever
ran while it happened. `--baseline DIR` also runs the gateway as checked out in DIR (another
worktree: the code before a change) in the same rounds.
"""

import argparse
import asyncio
import base64
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

from app.clock import SYSTEM_CLOCK
from app.store.crypto import Sealer
from app.store.keys import Keys
from app.store.sessions import (
    CaseOutcome,
    SessionInfo,
    SessionRecord,
    SessionStore,
    Tokens,
    handle_of,
    new_session_id,
)
from bench.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PREFIX = "bffbench:"
QUOTE = "6911d24a134c60468e941880"
CUSTOMER = "8f89a1b6-5d1c-4c6e-9a55-0c3d2b1a0f11"


@dataclass
class Result:
    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float | None = None
    redis_commands: float | None = None


def _uvicorn(
    target: str, port: int, env: dict[str, str], factory: bool = True, root: Path = ROOT
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port)]
    command += [
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if factory:
        command.append("--factory")
    return subprocess.Popen(command, cwd=root, env={**os.environ, **env})  # noqa: S603


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wrk(
    url: str, seconds: int, connections: int, headers: dict[str, str]
) -> tuple[float, float, float, int]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"load run had errors:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rate, pct("50"), pct("99"), total


def _jwt_like(length: int) -> str:
    return "eyJ" + secrets.token_urlsafe(length)[: length - 3]


async def _seed_session(keys: list[bytes]) -> tuple[str, int]:
    redis = aioredis.from_url(REDIS_URL)
    store = SessionStore(
        redis,
        keys=Keys(prefix=PREFIX),
        sealer=Sealer(keys),
        idle_seconds=1800,
        absolute_seconds=43200,
        clock=SYSTEM_CLOCK,
    )
    session_id = new_session_id()
    now = time.time()
    record = SessionRecord(
        handle=handle_of(session_id),
        info=SessionInfo(
            transport="bearer",
            stage="authenticated",
            created_at=now,
            absolute_expires_at=now + 43200,
            customer_kind="individual",
            customer_id=CUSTOMER,
            customer_name="Ada Y.",
        ),
        # InsurUp's access token is a JWT (its size is not documented; customer JWTs with a
        # few claims are 600-800 characters); the refresh token an opaque string.
        tokens=Tokens(
            access=_jwt_like(700), refresh=secrets.token_urlsafe(48), access_expires_at=now + 3600
        ),
        case=CaseOutcome(case_id="65f1c0ffee0ddba11ca5e001", created=True),
    )
    await store.create(record)
    size = int(await redis.memory_usage(Keys(prefix=PREFIX).session(record.handle)) or 0)
    await redis.aclose()
    return session_id, size


async def _redis_commands() -> int:
    redis = aioredis.from_url(REDIS_URL)
    info = await redis.info("stats")
    await redis.aclose()
    return int(info["total_commands_processed"])


async def _paced(url: str, headers: dict[str, str], rate: int, seconds: int) -> float:
    """p99 latency in ms at a fixed request rate (not a throughput test)."""
    latencies: list[float] = []
    async with aiohttp.ClientSession(headers=headers) as session:

        async def one() -> None:
            started = time.perf_counter()
            async with session.get(url) as response:
                await response.read()
                assert response.status == 200
            latencies.append(time.perf_counter() - started)

        tasks = []
        begin = time.perf_counter()
        for i in range(rate * seconds):
            await asyncio.sleep(max(0.0, begin + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return statistics.quantiles(latencies, n=100)[98] * 1000


async def _wait_up(url: str, headers: dict[str, str] | None = None) -> None:
    async with aiohttp.ClientSession(headers=headers) as session:
        for _ in range(200):
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


async def _cleanup() -> None:
    redis = aioredis.from_url(REDIS_URL)
    keys = [key async for key in redis.scan_iter(match=f"{PREFIX}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def _baseline_view(directory: Path) -> Path:
    """A directory whose top level is `directory`'s (its `app` above all) except `bench`:
    the baseline gateway runs its own code, started and measured by this bench."""
    view = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    for entry in directory.iterdir():
        if entry.name not in ("bench", ".git", ".venv"):
            (view / entry.name).symlink_to(entry.resolve())
    (view / "bench").symlink_to(ROOT / "bench")
    return view


def _gateway_env(stub_url: str, session_key: str) -> dict[str, str]:
    return {
        "BFF_INSURUP_BASE_URL": stub_url,
        "BFF_INSURUP_AGENT_ID": "3f2b9c1e-5a7d-4e21-9c0b-000000000001",
        "BFF_REDIS_URL": REDIS_URL,
        "BFF_REDIS_KEY_PREFIX": PREFIX,
        "BFF_SESSION_KEYS": session_key,
        "BFF_LOG_LEVEL": os.environ.get("BFF_LOG_LEVEL", "INFO"),
        "BFF_DEMO_ENABLED": "false",
    }


def _median(results: list[Result]) -> Result:
    def mid(values: list[float | None]) -> float:
        return statistics.median(v or 0.0 for v in values)

    return Result(
        results[0].name,
        mid([r.rate for r in results]),
        mid([r.p50_ms for r in results]),
        mid([r.p99_ms for r in results]),
        mid([r.cpu_ms for r in results]),
        mid([r.redis_commands for r in results]),
    )


Target = tuple[str, dict[str, str], int]


def _run(name: str, target: Target, seconds: int, connections: int) -> Result:
    url, headers, pid = target
    cpu_before, redis_before = _cpu_seconds(pid), asyncio.run(_redis_commands())
    rate, p50, p99, total = _wrk(url, seconds, connections, headers)
    cpu = (_cpu_seconds(pid) - cpu_before) / total * 1000
    commands = (asyncio.run(_redis_commands()) - redis_before) / total
    return Result(name, rate, p50, p99, cpu, commands)


STUB, PASSTHROUGH, GATEWAY, BASELINE = (
    "upstream stub (direct)",
    "bare pass-through proxy",
    "gateway",
    "gateway (baseline)",
)


def main(seconds: int, connections: int, rounds: int, baseline: Path | None) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk (make bench installs it)")
    session_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    names = ["stub", "passthrough", "gateway"] + (["baseline"] if baseline else [])
    ports = {name: free_port() for name in names}
    stub_url = f"http://127.0.0.1:{ports['stub']}"
    stub = subprocess.Popen([sys.executable, "-m", "bench.upstream", str(ports["stub"])], cwd=ROOT)  # noqa: S603
    passthrough = _uvicorn(
        "bench.passthrough:create_app", ports["passthrough"], {"BENCH_UPSTREAM": stub_url}
    )
    env = _gateway_env(stub_url, session_key)
    processes = [stub, passthrough, _uvicorn("app.main:create_app", ports["gateway"], env)]
    if baseline is not None:
        view = _baseline_view(baseline)
        processes.append(_uvicorn("app.main:create_app", ports["baseline"], env, root=view))
    try:
        session_id, session_bytes = asyncio.run(
            _seed_session([base64.urlsafe_b64decode(session_key)])
        )
        auth = {"Authorization": f"Bearer {session_id}"}

        def quotes(port: str) -> str:
            return f"http://127.0.0.1:{ports[port]}/api/v1/quotes/{QUOTE}"

        targets: dict[str, Target] = {
            STUB: (f"{stub_url}/api/proposals/{QUOTE}", {}, stub.pid),
            PASSTHROUGH: (quotes("passthrough"), {}, passthrough.pid),
            GATEWAY: (quotes("gateway"), auth, processes[2].pid),
        }
        if baseline is not None:
            targets[BASELINE] = (quotes("baseline"), auth, processes[3].pid)
        for url, headers, _ in targets.values():
            asyncio.run(_wait_up(url, headers))
            _wrk(url, 2, connections, headers)  # warm up
        runs: dict[str, list[Result]] = {name: [] for name in targets}
        order = list(targets)
        for round_ in range(rounds):
            turn = order[round_ % len(order) :] + order[: round_ % len(order)]
            for name in turn:
                runs[name].append(_run(name, targets[name], seconds, connections))
        paced_stub = asyncio.run(_paced(targets[STUB][0], {}, 200, 10))
        paced_gateway = asyncio.run(_paced(targets[GATEWAY][0], auth, 200, 10))
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=10)
        asyncio.run(_cleanup())

    results = {name: _median(found) for name, found in runs.items()}

    def ratios(name: str, over: str) -> list[float]:
        return [a.rate / b.rate for a, b in zip(runs[name], runs[over], strict=True)]

    print(
        f"\n{rounds} rounds of {seconds}s per target, taking turns (medians), "
        f"wrk -t1 -c{connections}; one uvicorn process each"
    )
    columns = ("req/s", "p50 ms", "p99 ms", "CPU ms/req", "Redis cmd/req")
    print(f"{'':26} " + " ".join(f"{c:>13}" for c in columns))
    for r in results.values():
        cells = [f"{r.rate:.0f}", f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}"]
        cells += [f"{r.cpu_ms or 0:.3f}", f"{r.redis_commands or 0:.2f}"]
        print(f"{r.name:26} " + " ".join(f"{c:>13}" for c in cells))
    print(f"Redis bytes per stored session (700-character access token): {session_bytes}")
    added = paced_gateway - paced_stub
    print(
        f"p99 at 200 req/s: gateway {paced_gateway:.2f} ms, stub {paced_stub:.2f} ms, "
        f"added {added:.2f} ms"
    )
    for name in [GATEWAY, *([BASELINE] if baseline else [])]:
        each = ", ".join(f"{r:.2f}" for r in ratios(name, PASSTHROUGH))
        print(f"{name}/passthrough by round: {each}")
    if baseline is not None:
        print(f"ratio baseline/passthrough: {statistics.median(ratios(BASELINE, PASSTHROUGH)):.2f}")
    print(f"ratio gateway/upstream-direct: {statistics.median(ratios(GATEWAY, STUB)):.2f}")
    print(f"ratio gateway/passthrough: {statistics.median(ratios(GATEWAY, PASSTHROUGH)):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=3, help="per target and round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--baseline", type=Path, help="a checkout to measure in the same rounds (its app/)"
    )
    args = parser.parse_args()
    main(args.seconds, args.connections, args.rounds, args.baseline)
