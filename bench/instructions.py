"""Instructions per hot-path request, counted by valgrind's callgrind: a figure that other work
on the machine does not move (time does, by 10% and more between runs on this shared 2-core
machine), for telling a change of a few percent from noise.

The whole `GET /api/v1/quotes/{id}` runs in process through the ASGI driver of
`bench.layers` (real Redis, InsurUp answered by `bench.upstream` in its own process, the access
log and metrics on), under callgrind twice: `--small` and `--large` requests after the same
start-up, so the difference divided by the extra requests is the cost of one request alone.
`--baseline DIR` counts a checkout of the code before a change the same way. Needs valgrind
(`apt-get install valgrind`); each count takes a minute or two.
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import uvloop

from bench.gateway import QUOTE, _baseline_view, _cleanup, _seed_session
from bench.servers import ROOT, free_port

_COLLECTED = re.compile(r"Collected : (\d+)")


def _requests(count: int, stub_url: str) -> None:
    """What runs under valgrind: start the app, then `count` requests after a warm-up."""
    from app.main import create_app
    from bench.layers import _stdout_to_devnull, bench_settings, driver

    async def run() -> None:
        settings = bench_settings(
            stub_url,
            # valgrind runs this process some 50 times slower: no timeout may fire meanwhile
            insurup_timeout_seconds=120,
            redis_timeout_seconds=30,
        )
        app = create_app(settings)
        session_id, _ = await _seed_session(settings.encryption_keys)
        one = driver(app, f"/api/v1/quotes/{QUOTE}", {"Authorization": f"Bearer {session_id}"})
        async with app.router.lifespan_context(app):
            with _stdout_to_devnull():
                for _ in range(20 + count):
                    await one()

    uvloop.run(run())


def _count(root: Path, requests: int, stub_url: str) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/cg.out"]
        command += [sys.executable, "-m", "bench.instructions", "--run", str(requests)]
        command += ["--stub", stub_url]
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)  # noqa: S603
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run failed in {root}:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_request(root: Path, small: int, large: int, stub_url: str) -> float:
    return (_count(root, large, stub_url) - _count(root, small, stub_url)) / (large - small)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=110)
    parser.add_argument("--baseline", type=Path, help="a checkout to count the same way")
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stub", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run is not None:
        _requests(args.run, args.stub)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    port = free_port()
    stub_url = f"http://127.0.0.1:{port}"
    stub = subprocess.Popen([sys.executable, "-m", "bench.upstream", str(port)], cwd=ROOT)  # noqa: S603
    try:
        from bench.layers import _wait_up

        uvloop.run(_wait_up(f"{stub_url}/api/proposals/{QUOTE}"))
        trees = {"this tree": ROOT}
        if args.baseline is not None:
            trees = {f"baseline {args.baseline}": _baseline_view(args.baseline), **trees}
        counts = {name: per_request(root, args.small, args.large, stub_url)
                  for name, root in trees.items()}  # fmt: skip
    finally:
        stub.terminate()
        stub.wait(timeout=10)
        uvloop.run(_cleanup())
    for name, count in counts.items():
        print(f"instructions per request ({name}): {count:,.0f}")
    if args.baseline is not None:
        before, after = counts.values()
        print(f"change: {after - before:+,.0f} ({(after - before) / before:+.1%})")


if __name__ == "__main__":
    main()
