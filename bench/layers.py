"""A per-layer budget of the hot read path `GET /api/v1/quotes/{id}`, measured in process.

Every row is the real code called many times in a row on uvloop: the session from a real Redis
(`BENCH_REDIS_URL`, default 127.0.0.1:6379), InsurUp answered by `bench.upstream` in its own
process over loopback, the access log and metrics on as in production (stdout points at
/dev/null while measuring, so each log line is a real write). A row is the CPU time of this
process per call (the gateway is CPU-bound under load: this is what sets its throughput) and
the wall time per call (which adds the waits for Redis and the stub), the lowest of
`--rounds` rounds (other processes on the machine only ever add time).

The whole request goes through a minimal ASGI driver (a scope, `receive`, `send`: what uvicorn
hands the app, without its HTTP parsing). The framework rows run the same app with the session
store and the quote service replaced by instant stand-ins, so they show what the gateway's own
layers cost around the work: our middleware(s), each alone around an app that answers at once,
FastAPI's dependency resolution for the route, routing and FastAPI's own stack.
In-process figures are higher than `make bench`'s CPU per request (one request at a time, every
Redis and InsurUp answer is a loop wake-up of its own); the proportions are what to read.

`make layers` prints the table; `--baseline DIR` (another checkout: the code before a change)
prints both, measured in alternating rounds, each round a process of its own.
"""

import argparse
import asyncio
import base64
import dataclasses
import json
import logging
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any, cast

import aiohttp
import orjson
import uvloop
from fastapi import FastAPI, Response
from fastapi.dependencies.utils import request_params_to_args, solve_dependencies
from fastapi.routing import APIRoute, serialize_response
from pydantic import TypeAdapter
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.insurup.calls import parse
from app.insurup.proposals import ProposalWire
from app.main import create_app
from app.quotes.schemas import QuoteRead
from app.store.sessions import SessionRecord, handle_of
from app.telemetry import logging as app_logging
from app.telemetry import metrics
from app.telemetry.logging import JsonFormatter
from bench.gateway import PREFIX, QUOTE, REDIS_URL, _baseline_view, _cleanup, _seed_session
from bench.servers import ROOT, free_port
from bench.upstream import PROPOSAL

ROUTE = "/api/v1/quotes/{quoteId}"


@dataclasses.dataclass
class Row:
    layer: str
    cpu_us: float
    wall_us: float
    note: str = ""
    # A difference row: `minus[0]` less the others (labels), recomputed from the best rows.
    minus: tuple[str, ...] = ()


class Table:
    def __init__(self, n: int, rounds: int) -> None:
        self.n = n
        self.rounds = rounds
        self.rows: list[Row] = []

    async def measure(
        self, layer: str, call: Callable[[], Awaitable[object]], note: str = ""
    ) -> Row:
        for _ in range(max(20, self.n // 10)):  # warm up: pools, caches, first runs
            await call()
        best: tuple[float, float] | None = None
        for _ in range(self.rounds):
            wall, cpu = time.perf_counter_ns(), time.process_time_ns()
            for _ in range(self.n):
                await call()
            took = (time.process_time_ns() - cpu, time.perf_counter_ns() - wall)
            best = took if best is None or took[0] < best[0] else best
        assert best is not None
        return self.add(Row(layer, best[0] / self.n / 1000, best[1] / self.n / 1000, note))

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def difference(self, layer: str, whole: Row, *parts: Row, note: str = "") -> Row:
        cpu = whole.cpu_us - sum(p.cpu_us for p in parts)
        wall = whole.wall_us - sum(p.wall_us for p in parts)
        labels = (whole.layer, *(p.layer for p in parts))
        return self.add(Row(layer, cpu, wall, note, labels))


def _sync_row(table: Table, layer: str, call: Callable[[], object], note: str = "") -> Row:
    """A synchronous call, timed the same way (no event loop in between)."""
    for _ in range(max(20, table.n // 10)):
        call()
    best: tuple[int, int] | None = None
    for _ in range(table.rounds):
        wall, cpu = time.perf_counter_ns(), time.process_time_ns()
        for _ in range(table.n):
            call()
        took = (time.process_time_ns() - cpu, time.perf_counter_ns() - wall)
        best = took if best is None or took[0] < best[0] else best
    assert best is not None
    return table.add(Row(layer, best[0] / table.n / 1000, best[1] / table.n / 1000, note))


# -- a minimal ASGI driver -------------------------------------------------------------------


def _scope(path: str, headers: dict[str, str]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def driver(app: ASGIApp, path: str, headers: dict[str, str]) -> Callable[[], Awaitable[None]]:
    """One request to `app` per call; stops the run on anything but a 200 with a body."""
    template = _scope(path, headers)

    async def one() -> None:
        status = 0
        size = 0

        async def send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))

        await app(dict(template), _receive, send)
        if status != 200 or not size:
            raise SystemExit(f"{path}: status {status}, {size} bytes")

    return one


async def _answer_at_once(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _matched_route(app: ASGIApp, path: str, headers: dict[str, str]) -> APIRoute:
    """The route the app matches for `path` (FastAPI builds its effective routes lazily)."""
    scope = _scope(path, headers)

    async def send(message: Message) -> None:
        pass

    await app(scope, _receive, send)
    route = scope.get("route")
    if not isinstance(route, APIRoute) or route.path != ROUTE:
        raise SystemExit(f"{path} did not match {ROUTE}")
    return route


def _fastapi_floor() -> FastAPI:
    """What FastAPI costs at the least: one route, nothing to resolve, a ready answer."""
    floor = FastAPI()
    body = orjson.dumps({"quoteId": QUOTE})

    @floor.get(ROUTE)
    async def read(quoteId: str) -> Response:  # noqa: N803
        return Response(body, media_type="application/json")

    return floor


def _read_route_first(app: FastAPI) -> bool:
    """Move the router holding the read route to the front of the app's routes (a what-if:
    how much of the routing is the route's position). False where FastAPI's routes are
    shaped otherwise."""
    routes = app.router.routes
    for index, candidate in enumerate(routes):
        original = getattr(candidate, "original_router", None)
        paths = [getattr(r, "path", None) for r in getattr(original, "routes", ())]
        if ROUTE in paths:
            routes.insert(0, routes.pop(index))
            changed = getattr(app.router, "_mark_routes_changed", None)
            if callable(changed):
                changed()
            return True
    return False


# -- stand-ins for the framework rows ----------------------------------------------------------


class _InstantSessions:
    def __init__(self, record: SessionRecord) -> None:
        self._record = record

    async def find(self, session_id: str | None) -> SessionRecord | None:
        return self._record


class _InstantQuotes:
    def __init__(self, quote: QuoteRead) -> None:
        self._quote = quote
        self._json = TypeAdapter(QuoteRead).dump_json(quote, by_alias=True)

    async def read(self, record: SessionRecord, quote_id: str) -> QuoteRead:
        return self._quote

    async def read_json(self, record: SessionRecord, quote_id: str) -> bytes:
        return self._json


@contextmanager
def _stdout_to_devnull() -> Iterator[None]:
    """Log lines go to /dev/null (a real write each), the table to the terminal."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def bench_settings(stub_url: str, **overrides: Any) -> Settings:
    """The gateway as the benchmarks run it: the stub as InsurUp, real Redis, a fresh key."""
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return Settings(
        _env_file=None,
        insurup_base_url=stub_url,
        insurup_agent_id="3f2b9c1e-5a7d-4e21-9c0b-000000000001",
        redis_url=REDIS_URL,
        redis_key_prefix=PREFIX,
        session_keys=[key],
        log_level="INFO",
        demo_enabled=False,
        **overrides,
    )


async def measure(stub_url: str, n: int, rounds: int) -> Table:
    settings = bench_settings(stub_url)
    table = Table(n, rounds)
    app = create_app(settings)  # sets up the JSON log on stdout, as production does
    bare = create_app(settings, configure_logs=False)
    bare.user_middleware.clear()  # FastAPI's own stack and the router: none of ours
    session_id, _ = await _seed_session(settings.encryption_keys)
    try:
        async with app.router.lifespan_context(app):
            with _stdout_to_devnull():
                await _layers(table, app, bare, session_id, stub_url)
    finally:
        await _cleanup()
    return table


async def _layers(
    table: Table, app: FastAPI, bare: FastAPI, session_id: str, stub_url: str
) -> None:
    services = app.state.services
    sessions = services.sessions
    headers = {"Authorization": f"Bearer {session_id}"}
    path = f"/api/v1/quotes/{QUOTE}"
    record = await sessions.find(session_id)
    assert record is not None
    quote = await services.quotes.read(record, QUOTE)

    # The whole request, then the work it is made of.
    whole = await table.measure("whole request, in process (ASGI)", driver(app, path, headers))
    session = await table.measure(
        "  session: find (GETEX, open, inflate, parse)", lambda: sessions.find(session_id)
    )
    redis = sessions._redis
    key = sessions._keys.session(handle_of(session_id))
    await table.measure("    Redis GETEX alone (redis-py)", lambda: redis.getex(key, ex=1800))
    raw = await redis.get(key)
    handle = handle_of(session_id)
    _sync_row(table, "    AES-GCM open, zlib, orjson", lambda: sessions._decode(handle, raw))

    async def case_gate() -> None:
        services.cases.retry_if_missing(record)
        await services.cases.ensure(record)

    gate = await table.measure("  case gate (case already open)", case_gate)
    call = await table.measure(
        "  InsurUp call: token, httpx, aiohttp, orjson, pydantic",
        lambda: services.quotes.proposal(record, QUOTE),
    )
    client = services.quotes._insurup.of(record)._calls._http

    async def via_httpx() -> None:
        response = await client.get(f"/api/proposals/{QUOTE}")
        assert response.status_code == 200 and response.content

    await table.measure("    httpx GET on the aiohttp transport", via_httpx)
    transport = client._transport
    url = f"/api/proposals/{QUOTE}"
    _sync_row(table, "      httpx: build the request", lambda: client.build_request("GET", url))
    prepared = client.build_request("GET", url)

    async def via_transport() -> None:
        answer = await transport.handle_async_request(prepared)
        await answer.aread()
        await answer.aclose()

    await table.measure("      our AiohttpTransport alone (request built)", via_transport)
    answered = await client.get(url)
    _sync_row(
        table,
        "      httpx: cookies from the answer (none)",
        lambda: client.cookies.extract_cookies(answered),
    )

    async def via_aiohttp() -> None:
        async with transport._get_session().get(f"{stub_url}/api/proposals/{QUOTE}") as answer:
            assert answer.status == 200 and await answer.read()

    await table.measure("      aiohttp GET alone (the transport's floor)", via_aiohttp)
    body = orjson.loads(PROPOSAL)
    _sync_row(table, "    orjson parse", lambda: orjson.loads(PROPOSAL))
    _sync_row(table, "    pydantic ProposalWire validation", lambda: parse(ProposalWire, body))
    wire = parse(ProposalWire, body)
    normalizer = services.quotes._normalizer
    normalised = _sync_row(table, "  normalise (8 products)", lambda: normalizer.quote(wire))
    # The read route's: normalised and encoded at once (where the code has it).
    quote_json = getattr(normalizer, "quote_json", None)
    normalise = (
        normalised
        if quote_json is None
        else _sync_row(
            table, "  normalise and encode at once (the read route's)", lambda: quote_json(wire)
        )
    )
    bare.state.services = services
    route = await _matched_route(bare, path, headers)
    field = route.response_field
    adapter = TypeAdapter(QuoteRead)

    async def fastapi_encoding() -> None:
        await serialize_response(field=field, response_content=quote, dump_json=True)

    await table.measure("  encode: FastAPI response_model (validate, dump)", fastapi_encoding)
    encode = _sync_row(
        table,
        "  encode: TypeAdapter.dump_json, no validation",
        lambda: adapter.dump_json(quote, by_alias=True),
        note="the read route's",
    )
    _sync_row(
        table,
        "  encode: orjson of model_dump(mode=json)",
        lambda: orjson.dumps(quote.model_dump(mode="json", by_alias=True)),
    )

    # The framework around the work: the same app, the work done by instant stand-ins.
    instant = dataclasses.replace(
        services,
        sessions=cast(Any, _InstantSessions(record)),
        quotes=cast(Any, _InstantQuotes(quote)),
    )
    app.state.services = instant
    bare.state.services = instant
    try:
        framework = await table.measure(
            "framework, work stubbed: whole stack", driver(app, path, headers)
        )
        inner = await table.measure("  without our middleware", driver(bare, path, headers))
        table.difference("  our middleware (difference)", framework, inner)
        deps = await _dependencies(table, bare, route, headers, path)
        direct = await _direct_resolution(table, bare, route, headers, path)
        what_if = create_app(app.state.settings, configure_logs=False)
        if _read_route_first(what_if):
            what_if.state.services = instant
            first = await table.measure(
                "  the same, read route's router matched first (what-if)",
                driver(what_if, path, headers),
            )
            table.difference("  routing to the read route's position", framework, first)
    finally:
        app.state.services = services
    await table.measure(
        "  FastAPI floor: one route, no dependencies, a ready Response",
        driver(_fastapi_floor(), path, {}),
    )
    floor = await table.measure(
        "  ASGI app answering at once (driver floor)", driver(_answer_at_once, "/x", {})
    )
    table.difference(
        "  FastAPI's stack, routing, endpoint (difference)",
        inner,
        deps if direct is None else direct,
        encode,
        floor,
        note="without ours, minus dependencies, encoding, floor",
    )
    for middleware in app.user_middleware:
        wrapped = middleware.cls(_answer_at_once, *middleware.args, **middleware.kwargs)
        name = getattr(middleware.cls, "__name__", str(middleware.cls))
        await table.measure(f"  {name} alone", driver(wrapped, path, headers))

    # The access line and the metrics, as the middleware writes them.
    access = logging.getLogger("app.access")
    extra = {"method": "GET", "route": ROUTE, "status": 200, "ms": 1.3}
    _sync_row(
        table,
        "    access line: app.telemetry.logging.access",
        lambda: app_logging.access("GET", ROUTE, 200, 1.3),
    )
    _sync_row(
        table,
        "    access line: logging.info + JsonFormatter",
        lambda: access.info("request", extra=extra),
        note="before",
    )
    formatter = JsonFormatter()
    log_record = access.makeRecord(
        "app.access", logging.INFO, __file__, 0, "request", (), None, extra=extra
    )
    _sync_row(table, "      JsonFormatter.format alone", lambda: formatter.format(log_record))

    def prometheus() -> None:
        metrics.REQUESTS.labels("GET", ROUTE, "200").inc()
        metrics.REQUEST_SECONDS.labels(ROUTE).observe(0.0013)

    _sync_row(table, "    metrics: counter and histogram", prometheus)
    parts = (session, gate, call, normalise, framework)
    table.difference(
        "whole minus parts (session, gate, call, normalise, framework)",
        whole,
        *parts,
        note="the rest: loop wake-ups, cache misses",
    )


async def _dependencies(
    table: Table, bare: FastAPI, route: APIRoute, headers: dict[str, str], path: str
) -> Row:
    """FastAPI resolving the read route's dependencies (the work stubbed): the browser guard,
    the session gate, the service, the path parameter."""
    scope = _scope(path, headers)
    scope.update(app=bare, route=route, path_params={"quoteId": QUOTE})

    async def solve() -> None:
        async with AsyncExitStack() as inner, AsyncExitStack() as function:
            request = Request(
                {**scope, "fastapi_inner_astack": inner, "fastapi_function_astack": function}
            )
            solved = await solve_dependencies(
                request=request,
                dependant=route.dependant,
                async_exit_stack=inner,
                embed_body_fields=False,
            )
            assert not solved.errors

    names = ", ".join(getattr(d.call, "__name__", "?") for d in route.dependant.dependencies)
    return await table.measure("  dependency resolution by FastAPI (read route)", solve, note=names)


async def _direct_resolution(
    table: Table, bare: FastAPI, route: APIRoute, headers: dict[str, str], path: str
) -> Row | None:
    """What a direct route (`app/http/direct.py`) does instead, where the code has them: the
    route's `async def dependency(request)` calls in order and the path parameter. None
    where the read route is served by FastAPI's handler."""
    try:
        from app.http.direct import is_direct
    except ImportError:
        return None
    if not is_direct(route):
        return None
    scope = _scope(path, headers)
    scope.update(app=bare, route=route, path_params={"quoteId": QUOTE})
    calls = [d.call for d in route.dependant.dependencies if d.call is not None]
    fields = route.dependant.path_params

    async def resolve() -> None:
        request = Request(scope)
        for call in calls:
            await call(request)
        _, errors = request_params_to_args(fields, request.path_params)
        assert not errors

    names = ", ".join(getattr(call, "__name__", "?") for call in calls)
    return await table.measure("  direct resolution (read route)", resolve, note=names)


def print_table(table: Table) -> None:
    print(f"\n{'layer':62} {'CPU us':>8} {'wall us':>8}")
    for row in table.rows:
        note = f"  ({row.note})" if row.note else ""
        print(f"{row.layer:62} {row.cpu_us:8.1f} {row.wall_us:8.1f}{note}")


async def _wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


def _measure_here(iterations: int, rounds: int) -> Table:
    port = free_port()
    stub_url = f"http://127.0.0.1:{port}"
    stub = subprocess.Popen([sys.executable, "-m", "bench.upstream", str(port)], cwd=ROOT)  # noqa: S603
    try:
        uvloop.run(_wait_up(f"{stub_url}/api/proposals/{QUOTE}"))
        return uvloop.run(measure(stub_url, iterations, rounds))
    finally:
        stub.terminate()
        stub.wait(timeout=10)


def _one_round(root: Path, iterations: int) -> list[Row]:
    """One round in a process of its own, run from `root` (its `app`)."""
    command = [sys.executable, "-m", "bench.layers", "--json", "--rounds", "1"]
    command += ["--iterations", str(iterations)]
    out = subprocess.run(command, cwd=root, capture_output=True, text=True, check=True).stdout  # noqa: S603
    rows = json.loads(out.strip().splitlines()[-1])
    return [Row(row[0], row[1], row[2], row[3], tuple(row[4])) for row in rows]


def _best(rounds: list[list[Row]]) -> dict[str, Row]:
    """Each measured row's lowest over the rounds; differences recomputed from those."""
    best: dict[str, Row] = {}
    for rows in rounds:
        for row in rows:
            seen = best.get(row.layer)
            if seen is None or row.cpu_us < seen.cpu_us:
                best[row.layer] = row
    for label, row in best.items():
        if row.minus:
            whole, *parts = (best[name] for name in row.minus)
            cpu = whole.cpu_us - sum(p.cpu_us for p in parts)
            wall = whole.wall_us - sum(p.wall_us for p in parts)
            best[label] = Row(label, cpu, wall, row.note, row.minus)
    return best


def compare(baseline: Path, iterations: int, rounds: int) -> None:
    """The baseline checkout's table and ours, measured in alternating rounds."""
    view = _baseline_view(baseline)
    theirs: list[list[Row]] = []
    ours: list[list[Row]] = []
    for _ in range(rounds):
        theirs.append(_one_round(view, iterations))
        ours.append(_one_round(ROOT, iterations))
    before, after = _best(theirs), _best(ours)
    labels = [row.layer for row in ours[0]]
    for index, row in enumerate(theirs[0]):  # rows only the baseline has, where it has them
        if row.layer not in labels:
            previous = theirs[0][index - 1].layer if index else None
            labels.insert(labels.index(previous) + 1 if previous in labels else 0, row.layer)
    print(
        f"\nper call: the lowest of {rounds} alternating rounds of {iterations} calls, in "
        "process on uvloop (CPU: the measuring process)"
    )
    print(f"\n{'layer':62} {'before':>8} {'after':>8}   CPU us ({baseline} -> this tree)")
    for label in labels:
        cells = [f"{t.cpu_us:8.1f}" if (t := table.get(label)) else f"{'-':>8}"
                 for table in (before, after)]  # fmt: skip
        print(f"{label:62} {cells[0]} {cells[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--baseline", type=Path, help="a checkout to compare with, in alternating rounds"
    )
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline is not None:
        compare(args.baseline, args.iterations, args.rounds)
        return
    table = _measure_here(args.iterations, args.rounds)
    if args.json:
        print(json.dumps([dataclasses.astuple(row) for row in table.rows]))
        return
    print(
        f"\nper call: the lowest of {args.rounds} rounds of {args.iterations} calls, in process "
        "on uvloop (CPU: this process)"
    )
    print_table(table)


if __name__ == "__main__":
    main()
