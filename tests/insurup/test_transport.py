"""AiohttpTransport against real servers on 127.0.0.1 (never any other address)."""

import asyncio
import contextlib
import gzip
import hashlib
import json
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import aiohttp
import httpx
import pytest
from aiohttp import web
from aiohttp.client_reqrep import ConnectionKey
from aiohttp.typedefs import Handler

from app.insurup.transport import (
    AiohttpTransport,
    RequestNotSentError,
    map_aiohttp_error,
    request_never_sent,
)

BIG_BODY = bytes(range(256)) * (5 * 1024 * 1024 // 256)  # 5 MiB, position-dependent bytes
CHUNK = 64 * 1024
KEEPALIVE_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
REQUEST = httpx.Request("POST", "http://upstream.test/quotes?tckn=12345678901")


@dataclass
class Upstream:
    base_url: str
    peers: list[object]  # client address of each request; distinct values = distinct connections
    hang_started: asyncio.Event
    hang_release: asyncio.Event


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    peers: list[object] = []
    hang_started, hang_release = asyncio.Event(), asyncio.Event()

    @web.middleware
    async def record_peer(request: web.Request, handler: Handler) -> web.StreamResponse:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername"))
        return await handler(request)

    async def get_json(request: web.Request) -> web.Response:
        info = {
            "request_id": request.headers.get("X-Request-ID"),
            "user_agent": request.headers.get("User-Agent"),
            "accept_encoding": request.headers.getall("Accept-Encoding"),
        }
        response = web.json_response(info)
        response.headers.add("X-Multi", "a")
        response.headers.add("X-Multi", "b")
        return response

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"got": await request.json()}, status=201)

    async def upload(request: web.Request) -> web.Response:
        body = await request.read()
        framing = request.headers.get("Transfer-Encoding")
        return web.json_response({"sha256": hashlib.sha256(body).hexdigest(), "te": framing})

    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = len(BIG_BODY)
        await response.prepare(request)
        for start in range(0, len(BIG_BODY), CHUNK):
            await response.write(BIG_BODY[start : start + CHUNK])
        await response.write_eof()
        return response

    async def gzipped(request: web.Request) -> web.Response:
        body = gzip.compress(json.dumps({"premium": "1234.50"}).encode())
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
        return web.Response(body=body, headers=headers)

    async def hang(request: web.Request) -> web.Response:
        hang_started.set()
        await hang_release.wait()
        return web.Response(text="late")

    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/json"})

    app = web.Application(middlewares=[record_peer])
    app.router.add_get("/json", get_json)
    app.router.add_post("/echo", echo)
    app.router.add_post("/upload", upload)
    app.router.add_get("/big", big)
    app.router.add_get("/gzip", gzipped)
    app.router.add_get("/hang", hang)
    app.router.add_get("/redirect", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    port = sock.getsockname()[1]
    yield Upstream(f"http://127.0.0.1:{port}", peers, hang_started, hang_release)
    hang_release.set()  # let a parked handler finish so cleanup does not wait on it
    await runner.cleanup()


def make_client(
    base_url: str, *, max_connections: int = 100, keepalive_expiry: float = 5.0
) -> httpx.AsyncClient:
    transport = AiohttpTransport(max_connections=max_connections, keepalive_expiry=keepalive_expiry)
    return httpx.AsyncClient(transport=transport, base_url=base_url)


@contextlib.contextmanager
def listening_socket(backlog: int = 8) -> Iterator[socket.socket]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(backlog)
    srv.setblocking(False)
    with srv:
        yield srv


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def serve_once_then_half_close(srv: socket.socket, later: list[bytes]) -> None:
    """Answer one keep-alive request, then send FIN and record what the client still sends.

    The response and the FIN land in the client's receive buffer within this single step, so
    the client parses the response first and only sees the FIN on a later loop iteration:
    meanwhile the connection looks alive in its pool (the stale keep-alive race).
    """
    loop = asyncio.get_running_loop()
    conn, _ = await loop.sock_accept(srv)
    with conn:
        head = b""
        while b"\r\n\r\n" not in head:
            head += await loop.sock_recv(conn, 65536)
        conn.sendall(KEEPALIVE_OK)
        conn.shutdown(socket.SHUT_WR)
        while chunk := await loop.sock_recv(conn, 65536):  # until the client closes
            later.append(chunk)


async def test_get_and_post_json_round_trip_keeping_request_id_and_repeated_headers(
    upstream: Upstream,
) -> None:
    async with make_client(upstream.base_url) as client:
        got = await client.get("/json", headers={"X-Request-ID": "req-123"})
        posted = await client.post("/echo", json={"plate": "34ABC123", "kasko": True})
        del client.headers["User-Agent"]  # removed in httpx: aiohttp must not add its own
        bare = await client.get("/json")
    assert got.status_code == 200
    assert got.json()["request_id"] == "req-123"
    assert got.headers.get_list("X-Multi") == ["a", "b"]
    # httpx's own headers pass through; aiohttp added no second Accept-Encoding or User-Agent.
    assert len(got.json()["accept_encoding"]) == 1
    assert got.json()["user_agent"].startswith("python-httpx/")
    assert bare.json()["user_agent"] is None
    assert posted.status_code == 201
    assert posted.json() == {"got": {"plate": "34ABC123", "kasko": True}}


async def test_streamed_request_body_arrives_whole_and_chunked(upstream: Upstream) -> None:
    async def parts() -> AsyncIterator[bytes]:
        for start in range(0, 300_000, 100_000):
            yield BIG_BODY[start : start + 100_000]

    async with make_client(upstream.base_url) as client:
        response = await client.post("/upload", content=parts())
    assert response.json() == {
        "sha256": hashlib.sha256(BIG_BODY[:300_000]).hexdigest(),
        "te": "chunked",
    }


async def test_streaming_5mb_body_arrives_in_bounded_chunks_and_connection_is_reused(
    upstream: Upstream,
) -> None:
    digest, sizes = hashlib.sha256(), []
    async with make_client(upstream.base_url) as client:
        async with client.stream("GET", "/big") as response:
            async for chunk in response.aiter_raw():
                sizes.append(len(chunk))
                digest.update(chunk)
        assert (await client.get("/json")).status_code == 200
    assert digest.hexdigest() == hashlib.sha256(BIG_BODY).hexdigest()
    assert len(sizes) > 1
    assert max(sizes) <= CHUNK
    assert len(upstream.peers) == 2
    assert upstream.peers[0] == upstream.peers[1]


async def test_gzip_encoded_json_response_decodes(upstream: Upstream) -> None:
    async with make_client(upstream.base_url) as client:
        response = await client.get("/gzip")
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.json() == {"premium": "1234.50"}


async def test_redirect_is_returned_not_followed(upstream: Upstream) -> None:
    async with make_client(upstream.base_url) as client:
        response = await client.get("/redirect")
    assert response.status_code == 302
    assert response.headers["Location"] == "/json"
    assert len(upstream.peers) == 1


async def test_idle_connection_past_keepalive_expiry_is_replaced(upstream: Upstream) -> None:
    async with make_client(upstream.base_url, keepalive_expiry=0.2) as client:
        await client.get("/json")
        await client.get("/json")
        await asyncio.sleep(0.5)  # idle past keepalive_expiry: the subject of this test
        await client.get("/json")
    first, second, third = upstream.peers
    assert first == second  # back-to-back requests share the pooled connection
    assert third != first


async def test_server_that_never_answers_raises_read_timeout(upstream: Upstream) -> None:
    async with make_client(upstream.base_url) as client:
        with pytest.raises(httpx.ReadTimeout) as info:
            await client.get("/hang", timeout=httpx.Timeout(5.0, read=0.1))
    assert upstream.hang_started.is_set()
    assert not request_never_sent(info.value)


async def test_all_connections_busy_raises_pool_timeout_and_request_never_sent(
    upstream: Upstream,
) -> None:
    async with make_client(upstream.base_url, max_connections=1) as client:
        parked = asyncio.create_task(client.get("/hang"))
        await upstream.hang_started.wait()
        with pytest.raises(httpx.PoolTimeout) as info:
            await client.get("/json", timeout=httpx.Timeout(5.0, pool=0.05))
        upstream.hang_release.set()
        assert (await parked).text == "late"
    assert request_never_sent(info.value)
    assert len(upstream.peers) == 1  # the timed-out request never reached the server


async def test_the_one_connection_is_free_again_after_every_kind_of_ending(
    upstream: Upstream,
) -> None:
    """The transport's slots (one here) come back however a request ends: read whole,
    streamed and closed early or read to the end, refused, timed out, cancelled."""
    quick = httpx.Timeout(5.0, pool=0.5)

    async def free() -> bool:
        return (await client.get("/json", timeout=quick)).status_code == 200

    async with make_client(upstream.base_url, max_connections=1) as client:
        assert await free()
        async with client.stream("GET", "/big") as streamed:
            async for _ in streamed.aiter_bytes():
                break  # closed early
        assert await free()
        assert len((await client.get("/big")).content) == len(BIG_BODY)
        assert await free()
        with socket.socket() as bound_not_listening:
            bound_not_listening.bind(("127.0.0.1", 0))
            with pytest.raises(httpx.ConnectError):
                await client.get(url_of(bound_not_listening))
        assert await free()
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/hang", timeout=httpx.Timeout(5.0, read=0.1))
        assert await free()
        waiting = asyncio.create_task(client.get("/hang"))
        await asyncio.sleep(0.1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert await free()
        upstream.hang_release.set()


async def test_port_nobody_listens_on_raises_connect_error_and_request_never_sent() -> None:
    with socket.socket() as bound_not_listening:  # holds the port so nobody else takes it
        bound_not_listening.bind(("127.0.0.1", 0))
        async with make_client(url_of(bound_not_listening)) as client:
            with pytest.raises(httpx.ConnectError) as info:
                await client.get("/")
    assert type(info.value) is httpx.ConnectError
    assert request_never_sent(info.value)


@pytest.mark.skipif(sys.platform != "linux", reason="Linux drops SYNs on a full accept queue")
async def test_listener_with_full_backlog_raises_connect_timeout_and_request_never_sent() -> None:
    with listening_socket(backlog=0) as srv, contextlib.ExitStack() as stack:
        for _ in range(3):  # fill the accept queue; later SYNs are dropped, never answered
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(srv.getsockname())
        async with make_client(url_of(srv)) as client:
            with pytest.raises(httpx.ConnectTimeout) as info:
                await client.get("/", timeout=httpx.Timeout(5.0, connect=0.1))
    assert request_never_sent(info.value)


async def test_disconnect_after_request_is_remote_protocol_error_sent_once_not_retryable() -> None:
    heads: list[bytes] = []

    async def read_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(read_then_close, "127.0.0.1", 0)
    async with server, make_client(url_of(server.sockets[0])) as client:
        with pytest.raises(httpx.RemoteProtocolError) as info:
            await client.get("/quote")
    assert not request_never_sent(info.value)
    assert len(heads) == 1  # aiohttp's hidden retry of idempotent requests is off


@pytest.mark.parametrize("declared", [100, 2 * 1024 * 1024], ids=["read-whole", "streamed"])
async def test_connection_dropped_mid_body_raises_read_error(declared: int) -> None:
    """A small answer is read whole by the transport, a large one streamed: either way a
    body cut short is a ReadError (the small one's while sending, the large one's reading)."""

    async def truncate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\n\r\n".encode())
        writer.write(b"x" * 10)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(truncate, "127.0.0.1", 0)
    async with server, make_client(url_of(server.sockets[0])) as client:

        async def read() -> None:
            async with client.stream("GET", "/") as response:
                assert response.status_code == 200
                assert declared > 1024 * 1024  # only a streamed answer gets this far
                await response.aread()

        with pytest.raises(httpx.ReadError) as info:
            await read()
    assert type(info.value) is httpx.ReadError


async def test_stale_keepalive_post_is_request_not_sent_and_no_byte_reaches_server() -> None:
    later: list[bytes] = []
    with listening_socket() as srv:
        serving = asyncio.create_task(serve_once_then_half_close(srv, later))
        async with make_client(url_of(srv)) as client:
            assert (await client.get("/first")).text == "ok"
            with pytest.raises(httpx.TransportError) as info:
                await client.post("/quotes", json={"plate": "34ABC123"})
        await asyncio.wait_for(serving, 5)
    # The invariant that matters: "never sent" is claimed exactly when no byte arrived.
    assert request_never_sent(info.value) == (later == [])
    if sys.version_info < (3, 12):  # 3.12+ starts the body writer eagerly, so it does send
        assert type(info.value) is RequestNotSentError
        assert later == []


async def test_stale_keepalive_get_reaches_server_so_is_not_request_not_sent() -> None:
    later: list[bytes] = []
    with listening_socket() as srv:
        serving = asyncio.create_task(serve_once_then_half_close(srv, later))
        async with make_client(url_of(srv)) as client:
            assert (await client.get("/first")).text == "ok"
            # aiohttp writes a bodiless request synchronously, before the FIN is processed.
            with pytest.raises(httpx.RemoteProtocolError) as info:
                await client.get("/second")
        await asyncio.wait_for(serving, 5)
    assert b"".join(later).startswith(b"GET /second ")
    assert not request_never_sent(info.value)


def stale_chain(cause_message: str) -> aiohttp.ClientOSError:
    """The chain aiohttp's ClientRequest.write_bytes builds when the writer fails."""
    exc = aiohttp.ClientOSError(None, f"Can not write request body for {REQUEST.url}")
    exc.__cause__ = aiohttp.ClientConnectionResetError(cause_message)
    return exc


def test_write_refused_by_closing_transport_maps_to_request_not_sent() -> None:
    mapped = map_aiohttp_error(stale_chain("Cannot write to closing transport"), REQUEST)
    assert type(mapped) is RequestNotSentError
    assert request_never_sent(mapped)
    assert "tckn" not in str(mapped)  # query strings (personal data) stay out of messages


def test_bodiless_request_refused_by_closing_transport_maps_to_request_not_sent() -> None:
    refused = aiohttp.ClientConnectionResetError("Cannot write to closing transport")
    assert type(map_aiohttp_error(refused, REQUEST)) is RequestNotSentError


def test_connection_lost_while_draining_is_not_request_not_sent() -> None:
    mapped = map_aiohttp_error(stale_chain("Connection lost"), REQUEST)
    assert type(mapped) is httpx.RemoteProtocolError
    assert not request_never_sent(mapped)


def test_closing_transport_with_streamed_body_is_not_request_not_sent() -> None:
    # Earlier chunks of a streamed body may already be on the wire.
    exc = stale_chain("Cannot write to closing transport")
    mapped = map_aiohttp_error(exc, REQUEST, single_write=False)
    assert type(mapped) is httpx.RemoteProtocolError
    assert not request_never_sent(mapped)


KEY = ConnectionKey("upstream.test", 443, True, True, None, None, None)


@pytest.mark.parametrize(
    ("exc", "options", "expected"),
    [
        (aiohttp.ConnectionTimeoutError("t"), {}, httpx.ConnectTimeout),
        (aiohttp.ClientConnectorDNSError(KEY, OSError(-2, "Name unknown")), {}, httpx.ConnectError),
        (
            aiohttp.ClientConnectorError(KEY, ConnectionRefusedError(111, "no")),
            {},
            httpx.ConnectError,
        ),
        (aiohttp.SocketTimeoutError("t"), {}, httpx.ReadTimeout),
        (aiohttp.SocketTimeoutError("t"), {"reading_body": True}, httpx.ReadTimeout),
        (TimeoutError(), {}, httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), {}, httpx.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "reset"), {}, httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("short"), {"reading_body": True}, httpx.ReadError),
        (aiohttp.ServerDisconnectedError(), {"reading_body": True}, httpx.ReadError),
        (aiohttp.ClientConnectionError("other"), {}, httpx.NetworkError),
    ],
)
def test_aiohttp_error_maps_to_exact_httpx_class(
    exc: BaseException, options: dict[str, bool], expected: type[httpx.TransportError]
) -> None:
    mapped = map_aiohttp_error(exc, REQUEST, **options)
    assert type(mapped) is expected
    assert request_never_sent(mapped) == (
        expected in (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
    )
