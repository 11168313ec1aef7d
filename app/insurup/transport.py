"""httpx transport on aiohttp (faster than httpx's own) with exact exception mapping.

httpx-aiohttp turns every ClientConnectionError into ConnectTimeout, hiding whether a failed
POST could have reached InsurUp; here each failure maps to what happened to the request.
"""

import asyncio
import re
import ssl
from collections.abc import AsyncIterator

import aiohttp
import httpx
from multidict import CIMultiDict
from yarl import URL

__all__ = [
    "AiohttpTransport",
    "DeadlineTransport",
    "RequestNotSentError",
    "map_aiohttp_error",
    "request_never_sent",
]

_CHUNK_SIZE = 64 * 1024
# An answer of known length up to this size (every JSON answer, most documents) is read in one
# call and handed to httpx whole; larger or unsized answers are streamed chunk by chunk.
_WHOLE_BODY_BYTES = 1024 * 1024
# Exact message of aiohttp.http_writer.StreamWriter._write/_writelines (aiohttp 3.14).
_CLOSING_TRANSPORT = "Cannot write to closing transport"
# aiohttp messages embed the full URL; query strings may carry personal data.
_QUERY = re.compile(r"\?\S*")
# httpx already sets these; stop aiohttp from adding its own defaults so headers pass as-is.
_SKIP_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


class RequestNotSentError(httpx.ConnectError):
    """No byte of the request reached the socket, so even a POST may be retried.

    Raised when aiohttp's writer refused the request because the pooled connection's
    transport was already closing (typically: the server closed an idle keep-alive
    connection and the event loop processed the FIN between acquiring the connection
    and writing to it). Why this is provable in aiohttp 3.14:

    * ``http_writer.StreamWriter._write``/``_writelines`` raise
      ``ClientConnectionResetError("Cannot write to closing transport")`` *before*
      calling ``transport.write``, so the failing call put nothing on the socket.
    * ``ClientRequest.write_bytes`` re-raises it as ``ClientOSError(None, "Can not write
      request body for ...")`` with the original as ``__cause__``; a bodiless request raises
      it directly from ``ClientRequest.send`` (``StreamWriter.set_eof``).
    * The failing call must also be the *first* write of the request. It is when aiohttp
      sends the whole request in one write: an in-memory body (sent with Content-Length,
      then ``write_eof`` writes nothing more) and no ``Expect: 100-continue`` (which sends
      headers first). Streamed bodies may already have sent earlier chunks: never proof.

    ``ClientConnectionResetError("Connection lost")`` from ``BaseProtocol._drain_helper`` is
    raised *after* data was handed to the transport, so it is not proof of anything.
    """


def request_never_sent(exc: BaseException) -> bool:
    """True if the request provably never reached the server (safe to retry any method)."""
    # ConnectTimeout is a TimeoutException, not a ConnectError; PoolTimeout fires before any
    # connection was assigned. RequestNotSentError is a ConnectError subclass.
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _refused_before_write(exc: BaseException) -> bool:
    """Does the __cause__/__context__ chain hold the writer's closing-transport refusal?"""
    if not isinstance(exc, aiohttp.ClientConnectionResetError | aiohttp.ClientOSError):
        return False
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        closing = isinstance(current, aiohttp.ClientConnectionResetError)
        if closing and current.args == (_CLOSING_TRANSPORT,):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def map_aiohttp_error(
    exc: BaseException,
    request: httpx.Request,
    *,
    reading_body: bool = False,
    single_write: bool = True,
) -> httpx.TransportError:
    """Translate an aiohttp failure into the httpx exception describing it (a wait for a free
    connection is the transport's own: `PoolTimeout` is raised there).

    reading_body: the response head had arrived. single_write: aiohttp sends the request in
    one write (see RequestNotSentError).
    """
    msg = _QUERY.sub("", f"{type(exc).__name__}: {exc}")
    # Order matters: ServerTimeoutError subclasses TimeoutError, and
    # ClientConnectorError subclasses ClientOSError.
    if isinstance(exc, aiohttp.ConnectionTimeoutError) and not reading_body:
        cls: type[httpx.TransportError] = httpx.ConnectTimeout
    elif isinstance(exc, aiohttp.ClientConnectorError):
        cls = httpx.ConnectError
    elif isinstance(exc, TimeoutError):
        cls = httpx.ReadTimeout
    elif reading_body:
        cls = httpx.ReadError
    elif single_write and _refused_before_write(exc):
        cls = RequestNotSentError
    elif isinstance(
        exc,
        aiohttp.ServerDisconnectedError
        | aiohttp.ClientOSError
        | aiohttp.ClientConnectionResetError
        | aiohttp.ClientPayloadError
        | aiohttp.ClientResponseError,  # malformed response head (redirects/raise are off)
    ):
        cls = httpx.RemoteProtocolError
    else:
        cls = httpx.NetworkError
    return cls(msg, request=request)


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request
        self._slot: asyncio.Semaphore | None = None

    def hold(self, slot: asyncio.Semaphore) -> None:
        """From now on the stream gives the transport's slot back, once, when closed."""
        self._slot = slot

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(_CHUNK_SIZE):
                yield chunk
        except (aiohttp.ClientError, OSError) as exc:
            self._response.close()  # never pool a connection whose body broke
            raise map_aiohttp_error(exc, self._request, reading_body=True) from exc

    async def aclose(self) -> None:
        # release() pools the connection if the body was fully read, else closes it.
        self._response.release()
        self._give_back()

    def _give_back(self) -> None:
        slot, self._slot = self._slot, None
        if slot is not None:
            slot.release()

    def __del__(self) -> None:
        # Dropped unclosed (a bug of the caller's): aiohttp frees its connection then, so
        # the slot goes back too instead of shrinking the pool for good.
        self._give_back()


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        *,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
        verify: bool | ssl.SSLContext = True,
    ) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._verify = verify
        self._session: aiohttp.ClientSession | None = None
        # One slot per connection, taken before aiohttp is asked: a request that finds none
        # free waits here, up to httpx's pool timeout, and that wait is known to be before
        # anything was sent (`PoolTimeout`). aiohttp's own limit, the same number, then
        # never queues. (aiohttp's tracing could tell its queue from a connect, at a cost
        # of some 65,000 instructions per request.)
        self._slots = asyncio.Semaphore(max_connections)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:  # aiohttp binds to the running loop: build lazily
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                keepalive_timeout=self._keepalive_expiry,
                ssl=httpx.create_ssl_context(verify=self._verify),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # httpx.AsyncClient owns cookies
                auto_decompress=False,  # httpx decodes per Content-Encoding; headers stay true
            )
            # aiohttp silently resends idempotent requests once after ClientOSError or
            # ServerDisconnectedError; retrying is the caller's call, so turn that off.
            # Private attribute, set the same way by aiohttp's own test_utils.
            self._session._retry_connection = False
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        t = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=t.get("connect"),  # name lookup, TCP and TLS (the pool wait is ours)
            sock_connect=t.get("connect"),
            sock_read=t.get("read"),
        )  # aiohttp has no write timeout; httpx's "write" is not enforced.
        headers = CIMultiDict(request.headers.multi_items())
        # aiohttp frames the body itself (Content-Length, or chunked for unsized streams)
        # and refuses a chunked stream when the header is already present.
        headers.popall("Transfer-Encoding", None)
        data: bytes | httpx.AsyncByteStream | None
        try:
            data = request.content or None
            single_write = headers.get("Expect", "").lower() != "100-continue"
        except httpx.RequestNotRead:  # streamed body: aiohttp takes any async iterable
            if not isinstance(request.stream, httpx.AsyncByteStream):
                raise TypeError("AiohttpTransport needs an async request body") from None
            data, single_write = request.stream, False
        slot = self._slots
        if slot.locked():  # every connection busy (or others already waiting): queue
            try:
                async with asyncio.timeout(t.get("pool")):
                    await slot.acquire()
            except TimeoutError:
                raise httpx.PoolTimeout("no connection free in time", request=request) from None
        else:
            await slot.acquire()  # free: taken at once
        try:
            return await self._send(request, headers, data, timeout, single_write, slot)
        except BaseException:
            slot.release()
            raise

    async def _send(
        self,
        request: httpx.Request,
        headers: CIMultiDict[str],
        data: bytes | httpx.AsyncByteStream | None,
        timeouts: aiohttp.ClientTimeout,
        single_write: bool,
        slot: asyncio.Semaphore,
    ) -> httpx.Response:
        """The exchange itself, holding a slot: the caller gives it back if this raises; else
        it is given back here once the answer is read whole, or by a streamed answer's
        stream when closed."""
        try:
            response = await self._get_session().request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=headers,
                data=data,
                skip_auto_headers=_SKIP_AUTO_HEADERS,
                allow_redirects=False,
                timeout=timeouts,
            )
        except (aiohttp.ClientError, OSError) as exc:
            raise map_aiohttp_error(exc, request, single_write=single_write) from exc
        version = response.version or aiohttp.HttpVersion11
        extensions = {
            "http_version": f"HTTP/{version.major}.{version.minor}".encode(),
            "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
        }
        headers_in = list(response.raw_headers)  # raw pairs: repeated headers survive
        length = response.content_length
        if length is None or length > _WHOLE_BODY_BYTES:
            stream = _ResponseStream(response, request)
            streamed = httpx.Response(
                status_code=response.status,
                headers=headers_in,
                stream=stream,
                extensions=extensions,
            )
            stream.hold(slot)  # given back when the stream is closed
            return streamed
        # Read whole, in one call: httpx's streaming layers (an async generator per chunk,
        # its decoders' chunking) cost more per request than the read itself. httpx then
        # decodes the body per its Content-Encoding as it would a streamed one.
        try:
            body = await response.read()  # the connection goes back to the pool
        except (aiohttp.ClientError, OSError) as exc:
            response.close()  # never pool a connection whose body broke
            raise map_aiohttp_error(exc, request, reading_body=True) from exc
        whole = httpx.Response(
            status_code=response.status,
            headers=headers_in,
            content=body,
            extensions=extensions,
        )
        slot.release()  # the connection is back in aiohttp's pool
        return whole

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


class DeadlineTransport(httpx.AsyncBaseTransport):
    """A transport that gives up after the read timeout, for transports that enforce none
    (httpx's ASGI transport, which calls the embedded sandbox in process): a hanging answer
    becomes the `ReadTimeout` a network transport would raise."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        seconds = request.extensions.get("timeout", {}).get("read")
        try:
            return await asyncio.wait_for(self._inner.handle_async_request(request), seconds)
        except TimeoutError as exc:
            raise httpx.ReadTimeout("no answer in time", request=request) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()
