"""Opening Redis (one node, Sentinel or Cluster), or the embedded in-process stand-in behind
`memory://`, and checking at start-up that it keeps what the gateway writes.

Every form waits, boundedly, for a free connection instead of failing a burst: a request finds
the pool busy, queues for at most `BFF_REDIS_POOL_WAIT_SECONDS`, and only a real failure (or
that wait running out) becomes `503 store_unavailable`.

URL forms (those of the `limits` library):
  redis://[user:password@]host:port/db     rediss:// for TLS, unix:///path?db=0
  redis+cluster://[user:password@]host:port[,host:port...]             rediss+cluster:// (TLS)
  redis+sentinel://[user:password@]host:port[,host:port...]/service    rediss+sentinel:// (TLS)
"""

import asyncio
import functools
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, ParamSpec, TypeVar, cast
from urllib.parse import unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.asyncio.connection import AbstractConnection, BlockingConnectionPool
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff
from redis.exceptions import (
    ConnectionError as RedisConnectionError,
)
from redis.exceptions import (
    CrossSlotTransactionError,
    RedisClusterException,
    RedisError,
    ResponseError,
)
from redis.typing import EncodableT

from app.config import MEMORY_STORE
from app.errors import StoreUnavailable

log = logging.getLogger("app.store")

P = ParamSpec("P")

# Delete a key only if it still holds the caller's value (lock owners, product claims).
DEL_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
T = TypeVar("T")


StoreKind = Literal["memory", "single", "cluster", "sentinel"]


@dataclass(frozen=True, slots=True)
class StoreUrl:
    """What `BFF_REDIS_URL` names (redis-py parses the one-node forms itself, from `url`)."""

    kind: StoreKind
    url: str
    nodes: tuple[tuple[str, int], ...] = ()
    service: str | None = None
    username: str | None = None
    password: str | None = None
    tls: bool = False


_DEFAULT_PORTS = {"cluster": 6379, "sentinel": 26379}


def parse_store_url(url: str) -> StoreUrl:
    """Recognise the URL forms above; a malformed one is refused at start-up, not at the first
    request (the password never appears in the message)."""
    if url == MEMORY_STORE:
        return StoreUrl(kind="memory", url=url)
    scheme, _, rest = url.partition("://")
    base, _, mode = scheme.lower().partition("+")
    if (
        not rest
        or base not in ("redis", "rediss", "unix")
        or mode not in ("", "cluster", "sentinel")
    ):
        raise ValueError(
            "BFF_REDIS_URL must be memory://, redis://, rediss://, unix://, "
            "redis+cluster://, rediss+cluster://, redis+sentinel:// or rediss+sentinel://"
        )
    if not mode:
        return StoreUrl(kind="single", url=url)
    if base == "unix":
        raise ValueError(f"BFF_REDIS_URL: {scheme}:// takes host:port addresses, not a socket")
    kind: StoreKind = "cluster" if mode == "cluster" else "sentinel"
    parts = urlsplit(f"redis://{rest}")
    if parts.query or parts.fragment:
        raise ValueError(f"BFF_REDIS_URL: {scheme}:// takes no query parameters")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    nodes = tuple(_address(part, _DEFAULT_PORTS[kind]) for part in hosts.split(",") if part)
    if not nodes:
        raise ValueError(f"BFF_REDIS_URL: {scheme}:// needs at least one host:port")
    path = parts.path.strip("/")
    if kind == "sentinel" and (not path or "/" in path):
        raise ValueError("BFF_REDIS_URL: redis+sentinel://host:port[,host:port...]/service_name")
    if kind == "cluster" and path not in ("", "0"):
        raise ValueError("BFF_REDIS_URL: a Redis Cluster has only database 0")
    return StoreUrl(
        kind=kind,
        url=url,
        nodes=nodes,
        service=unquote(path) if kind == "sentinel" else None,
        username=unquote(username) or None,
        password=unquote(password) or None,
        tls=base == "rediss",
    )


def _address(text: str, default_port: int) -> tuple[str, int]:
    text = text.strip()
    if text.startswith("["):  # [IPv6]:port
        host, _, port = text[1:].partition("]")
        port = port.removeprefix(":") or str(default_port)
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:  # a name without a port, or a bare IPv6 address
        host, port = text, str(default_port)
    if not host or not port.isdigit():
        raise ValueError("BFF_REDIS_URL: addresses are host:port")
    return host, int(port)


class ClusterUnavailable(RedisConnectionError):
    """The cluster cannot serve the command now (no reachable node, slots not covered while a
    failover runs). redis-py raises these as `RedisClusterException`, which is not a
    `RedisError`; as one, every caller maps it to `503 store_unavailable`."""


class ConnectionClosedUnderCommand(RedisConnectionError):
    """redis-py closed a pooled connection while a command was using it: its cluster client
    closes connections when it resets its view of the cluster (a failover), and a pool drops
    its idle connections when Sentinel names a new master, either of which can reach one that
    another request has just taken. The command then fails inside redis-py with an
    `AttributeError` (its socket writer is gone); it is a broken connection, so a `503`."""


@contextmanager
def _redis_call() -> Iterator[None]:
    """Around every command and pipeline: redis-py's failures as `RedisError`s, and no
    cancellation lost (see `_resume_cancel`)."""
    before = _cancels()
    try:
        yield
    except RedisClusterException as exc:
        if _is_topology_trouble(exc):
            raise ClusterUnavailable(str(exc)) from exc
        raise
    except AttributeError as exc:  # only redis-py's own code runs inside
        log.warning("redis connection closed under a command", extra={"error": str(exc)[:120]})
        raise ConnectionClosedUnderCommand(str(exc)) from exc
    _resume_cancel(before)


def _cancels() -> int:
    task = asyncio.current_task()
    return 0 if task is None else task.cancelling()


def _resume_cancel(before: int) -> None:
    """Raise a cancellation redis-py let slip. It bounds socket writes with `asyncio.wait_for`,
    which in Python 3.11 can finish the write and drop a cancellation that arrived meanwhile
    (fixed in 3.12): the task then runs on as if never asked to stop, and whoever waits for it
    to end (a background loop's `aclose`) waits forever. Measured here: about one cancellation
    in twenty that lands during a command. The task still counts the request: honour it."""
    if _cancels() > before:
        raise asyncio.CancelledError


def _is_topology_trouble(exc: RedisClusterException) -> bool:
    # Keys in different slots is a bug in the gateway, not an outage: let it be a 500.
    return not isinstance(exc, CrossSlotTransactionError) and "same" not in str(exc)


class _Turns:
    """At most `size` commands or pipelines in flight at once; the rest wait, boundedly.
    redis-py's cluster client has no blocking pool: a node whose connections are all busy
    raises `MaxConnectionsError` at once. With as many turns as connections per node, no node
    ever runs out, and a burst queues here instead."""

    def __init__(self, size: int, wait: float) -> None:
        self._free = asyncio.Semaphore(size)
        self._wait = wait

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._wait):
                await self._free.acquire()
        except TimeoutError as exc:
            raise RedisConnectionError("No connection available.") from exc
        try:
            yield
        finally:
            self._free.release()


class WaitingCluster(RedisCluster):
    """`RedisCluster` whose callers queue for a connection, and whose topology troubles are
    `RedisError`s (`ClusterUnavailable`).

    Two guards against redis-py's cluster client under concurrency (8.1, measured here with
    tests/cluster): a command that starts while the client has no slot map yet (at start-up,
    or after it dropped the map) is routed as if it had no key, to one node, and draws MOVED
    answers; and every few MOVED answers the client closes every connection, including those
    other requests are using, which then fail. So the map is loaded before any command is
    routed, and MOVED answers only patch the map (`reinitialize_steps=0`); a connection error
    still reloads the map, without closing connections in use."""

    def __init__(self, *, wait: float, max_connections: int, **kwargs: Any) -> None:
        super().__init__(max_connections=max_connections, reinitialize_steps=0, **kwargs)
        self.turns = _Turns(max_connections, wait)

    async def initialize(self, *args: Any, **kwargs: Any) -> "RedisCluster":
        with _redis_call():
            return await super().initialize(*args, **kwargs)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.turns.turn():
            with _redis_call():
                await self.initialize()  # no-op unless the slot map must be (re)loaded
                return await super().execute_command(*args, **kwargs)

    def pipeline(
        self, transaction: Any | None = None, shard_hint: Any | None = None
    ) -> ClusterPipeline:
        if shard_hint:
            raise RedisClusterException("shard_hint is deprecated in cluster mode")
        return _WaitingPipeline(self, transaction)  # type: ignore[abstract]


class _WaitingPipeline(ClusterPipeline):
    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> Any:
        client = self.cluster_client
        assert isinstance(client, WaitingCluster)
        async with client.turns.turn():
            with _redis_call():
                return await super().execute(raise_on_error, allow_redirections)


class NotReplicated(RedisError):
    """Redis applied a write, but fewer replicas than `BFF_REDIS_WAIT_REPLICAS` confirmed it
    within `BFF_REDIS_WAIT_MILLISECONDS`: a failover now could lose it, so it is not
    acknowledged (`503 store_unavailable`) and nothing is done on the strength of it."""


# Commands whose effect must outlive a failover once the gateway acts on it or answers.
# Expiry touches (GETEX on every read, EXPIRE) are left out: losing one costs a session a
# little idle time, and waiting for them would put a round trip on the hot path.
_LASTING = frozenset(
    (b"SET", b"DEL", b"UNLINK", b"INCR", b"INCRBY", b"ZADD", b"ZREM", b"SADD", b"SREM",
     b"HSET", b"HDEL", b"EVAL", b"EVALSHA")
)  # fmt: skip


def _lasting(command: object) -> bool:
    if isinstance(command, str):
        command = command.encode()
    if not isinstance(command, bytes | bytearray | memoryview):
        return False
    return bytes(command).split(b" ", 1)[0].upper() in _LASTING


class _ReplicatedWrites(AbstractConnection):
    """A connection that follows every lasting write with `WAIT replicas milliseconds`, sent
    with it on the same connection (WAIT counts the replicas that have this connection's
    writes, so it cannot go on another one), and fails the write when too few confirmed.

    Redis replicates asynchronously: without this, a write acknowledged by a master that
    fails over a moment later can vanish. Measured with `SENTINEL FAILOVER` under load: the
    old master took writes for about a second after its replica was promoted, and 42-49
    acknowledged sign-ins were gone afterwards. With WAIT, such a write is confirmed by no
    replica, so the gateway answers 503 instead of acknowledging it.

    Works at the connection so one mechanism covers a single node, Sentinel and Cluster, and
    plain commands, scripts and pipelines alike: a pipeline gets one WAIT after its last
    command, and the check applies once all its replies are read."""

    replicas: ClassVar[int] = 0
    wait_ms: ClassVar[int] = 0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._packed: tuple[list[bytes], int] | None = None  # (what was packed, replies)
        self._in_batch = False
        self._replies_before_wait: deque[int] = deque()

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        packed: list[bytes] = super().pack_command(*args)
        if self._in_batch or not args or not _lasting(args[0]):
            return packed
        packed = packed + self._wait_command()
        self._packed = (packed, 1)
        return packed

    def pack_commands(self, commands: Iterable[Iterable[EncodableT]]) -> list[bytes]:
        listed = [tuple(command) for command in commands]
        self._in_batch = True
        try:
            packed: list[bytes] = super().pack_commands(listed)
        finally:
            self._in_batch = False
        if any(command and _lasting(command[0]) for command in listed):
            packed = packed + self._wait_command()
            self._packed = (packed, len(listed))
        return packed

    def _wait_command(self) -> list[bytes]:
        wait: list[bytes] = super().pack_command(b"WAIT", self.replicas, self.wait_ms)
        return wait

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        # Only what this connection packed with a WAIT is counted; the commands it sends on
        # its own while connecting (HELLO, AUTH, a health check's PING) are not.
        due = None
        if self._packed is not None and self._packed[0] is command:
            due, self._packed = self._packed[1], None
        await super().send_packed_command(command, check_health)
        if due is not None:
            self._replies_before_wait.append(due)

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        if not self._replies_before_wait:
            return await super().read_response(*args, **kwargs)
        applied = False
        try:
            reply = await super().read_response(*args, **kwargs)
            applied = True
            return reply
        finally:
            await self._after_reply(applied=applied)

    async def _after_reply(self, *, applied: bool) -> None:
        # A failed read disconnected the connection, which forgot what was due (see below).
        if not self._replies_before_wait:
            return
        self._replies_before_wait[0] -= 1
        if self._replies_before_wait[0]:
            return
        self._replies_before_wait.popleft()
        try:
            confirmed = await super().read_response()
        except ResponseError as exc:  # a replica refuses WAIT (a write it refused, MOVED)
            if applied:
                raise NotReplicated(f"WAIT refused: {str(exc)[:80]}") from exc
            return
        # An error reply (MOVED, a script's error) stays the caller's error.
        if applied and int(confirmed) < self.replicas:
            raise NotReplicated(
                f"write confirmed by {int(confirmed)} of {self.replicas} replica(s) "
                f"within {self.wait_ms} ms"
            )

    async def disconnect(self, *args: Any, **kwargs: Any) -> None:
        self._replies_before_wait.clear()
        self._packed = None
        await super().disconnect(*args, **kwargs)


def replicated(
    base: type[AbstractConnection], *, replicas: int, wait_ms: int
) -> type[AbstractConnection]:
    """`base` (plain, TLS, Unix socket or Sentinel-managed) with `_ReplicatedWrites`."""
    attributes = {"replicas": replicas, "wait_ms": wait_ms}
    made = type(f"Replicated{base.__name__}", (_ReplicatedWrites, base), attributes)
    return cast("type[AbstractConnection]", made)


class QuickPool(BlockingConnectionPool):
    """redis-py's waiting pool with its common case made cheap: taking an idle connection, or
    giving one back, while no request waits for one. redis-py does both under an
    `asyncio.Condition` with a timer, behind a deprecation wrapper, and calls its metric hooks
    (four per command; this gateway exports its own metrics, not redis-py's): about 120,000
    instructions per command, a twentieth of a hot-path request. Here that case is plain list
    work, with no await between looking and taking. The connection is checked as redis-py
    checks it (connected; unread data judged by its `ensure_connection`). While a request
    waits, both take redis-py's way: nothing is taken past it, and a connection given back
    wakes it."""

    _waiting = 0

    async def get_connection(
        self, command_name: object = None, *keys: object, **options: object
    ) -> AbstractConnection:
        idle = self._available_connections
        if self._waiting or not idle or self._in_maintenance:
            self._waiting += 1
            try:
                return await super().get_connection()  # type: ignore[no-untyped-call,no-any-return]
            finally:
                self._waiting -= 1
        connection = idle.pop()
        self._in_use_connections.add(connection)
        try:
            try:
                ready = connection.is_connected and not await connection.can_read()
            except (RedisConnectionError, TimeoutError, OSError):
                ready = False
            if not ready:
                await self.ensure_connection(connection)
        except BaseException:
            await self.release(connection)
            raise
        return connection

    async def release(self, connection: AbstractConnection) -> None:
        if self._waiting or self._in_maintenance:
            await super().release(connection)
            return
        self._in_use_connections.remove(connection)
        if connection.should_reconnect():  # type: ignore[no-untyped-call]
            await connection.disconnect()
        self._available_connections.append(connection)
        # What redis-py's release event does (re-authentication by streaming credentials).
        await connection.re_auth()  # type: ignore[no-untyped-call]


class _WaitingSentinelPool(SentinelConnectionPool, QuickPool):
    """Sentinel's pool (finds the current master, drops connections to a demoted one) that
    waits for a free connection like `BlockingConnectionPool`."""


class GuardedRedis(aioredis.Redis):
    """A one-node (or Sentinel master's) client guarded like the cluster's (`_redis_call`)."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        with _redis_call():
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        return _GuardedPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )


class _GuardedPipeline(Pipeline):
    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        with _redis_call():
            return await super().execute(raise_on_error)


class SentinelMaster(GuardedRedis):
    """The master's client; closing it also closes its connections to the sentinels."""

    sentinels: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        try:
            await super().aclose(close_connection_pool)
        finally:
            if self.sentinels is not None:
                await self.sentinels.aclose()


def open_redis(
    url: str,
    *,
    timeout: float,
    max_connections: int = 100,
    wait: float | None = None,
    replicas: int = 0,
    replica_wait_ms: int = 500,
) -> "aioredis.Redis":
    """One client for the process. `timeout` bounds each command; `max_connections` is per
    Redis node, and a request that finds them all busy waits up to `wait` (default: `timeout`)
    for one. With `replicas`, every lasting write must be confirmed by that many replicas
    within `replica_wait_ms` (see `_ReplicatedWrites`). Connecting is lazy: nothing is dialled
    here."""
    target = parse_store_url(url)
    wait = timeout if wait is None else wait
    if replicas and target.kind == "memory":
        log.warning("BFF_REDIS_WAIT_REPLICAS is ignored: the embedded store has no replicas")
        replicas = 0

    def confirmed(base: type[AbstractConnection]) -> type[AbstractConnection]:
        return replicated(base, replicas=replicas, wait_ms=replica_wait_ms) if replicas else base

    common: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "health_check_interval": 30,
    }
    if target.kind == "memory":
        import fakeredis  # only development uses it; keep it off the production import path

        log.warning("using the embedded in-process store: one process only, nothing is kept")
        # Same waiting pool as a real Redis: redis-py's default pool refuses the 101st
        # concurrent command, which a burst of requests reaches even in process.
        fake = fakeredis.FakeAsyncRedis(
            server=fakeredis.FakeServer(),
            connection_pool_class=BlockingConnectionPool,
            max_connections=max_connections,
        )
        assert isinstance(fake.connection_pool, BlockingConnectionPool)
        fake.connection_pool.timeout = wait
        return fake
    # A pooled connection the server closed while it sat idle (Redis restarted, or a master
    # demoted by a failover) fails its next command before Redis ran it: that command is sent
    # once more, on a fresh connection (to the current master). Timeouts are not retried.
    once_more = Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))
    if target.kind == "single":
        pool = QuickPool.from_url(
            url, max_connections=max_connections, timeout=wait, retry=once_more, **common
        )
        pool.connection_class = confirmed(pool.connection_class)
        return GuardedRedis.from_pool(pool)
    auth = {"username": target.username, "password": target.password}
    if target.kind == "cluster":
        cluster = WaitingCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in target.nodes],
            wait=wait,
            max_connections=max_connections,
            ssl=target.tls,
            **auth,
            **common,
        )
        # Every node's connections, those of nodes found later included, come from here.
        nodes = cluster.nodes_manager
        nodes.connection_kwargs["connection_class"] = confirmed(
            nodes.connection_kwargs["connection_class"]
        )
        for node in nodes.startup_nodes.values():
            node.connection_class = nodes.connection_kwargs["connection_class"]
        # The stores use the commands a cluster client shares with a plain one.
        return cast("aioredis.Redis", cluster)
    assert target.service is not None
    tls = {"ssl": True} if target.tls else {}
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        list(target.nodes),
        sentinel_kwargs={**auth, **tls, **common},
    )
    master = sentinel.master_for(
        target.service,
        redis_class=SentinelMaster,
        connection_pool_class=_WaitingSentinelPool,
        max_connections=max_connections,
        timeout=wait,  # the pool's wait for a free connection
        retry=once_more,
        **auth,
        **tls,
        **common,
    )
    assert isinstance(master, SentinelMaster)
    master.connection_pool.connection_class = confirmed(master.connection_pool.connection_class)
    master.sentinels = sentinel
    return master


async def check_redis_settings(
    redis: "aioredis.Redis", *, seconds: float, replicas: int = 0
) -> None:
    """Say loudly, at start-up, what this Redis does that can lose the gateway's records
    (evicting keys, no persistence, writes a failover can take back) or refuse them (fewer
    replicas than `replicas`). Never refuses to start: a managed service may hide its
    configuration, and a Redis that is down now may be up in a moment."""
    if type(redis).__module__.startswith("fakeredis"):
        return  # memory://: nothing is kept anyway, as its own warning says
    try:
        async with asyncio.timeout(seconds):
            _check_replicas(await _replicas_of(redis), required=replicas)
    except (RedisError, OSError, TimeoutError) as exc:
        log.warning("could not count the Redis replicas", extra={"error": type(exc).__name__})
    try:
        async with asyncio.timeout(seconds):
            found = await _settings_of(redis)
    except ResponseError as exc:  # CONFIG renamed or not allowed (most managed services)
        log.warning(
            "could not check the Redis settings (CONFIG is not available): make sure "
            "maxmemory-policy is noeviction and persistence is on",
            extra={"error": str(exc)[:120]},
        )
        return
    except (RedisError, OSError, TimeoutError) as exc:
        log.warning(
            "could not check the Redis settings: Redis did not answer at start-up",
            extra={"error": type(exc).__name__},
        )
        return
    for node, settings in found.items():
        policy = settings.get("maxmemory-policy")
        if policy != "noeviction":
            log.warning(
                "REDIS EVICTS KEYS: maxmemory-policy is %s, not noeviction; when memory runs "
                "out Redis deletes sessions, payment records and idempotency records instead "
                "of refusing writes. Set maxmemory-policy noeviction.",
                policy,
                extra={"redis_node": node, "setting": "maxmemory-policy", "value": policy},
            )
        if settings.get("appendonly") != "yes":
            log.warning(
                "Redis keeps no append-only file (appendonly no): a restart loses what was "
                "written since the last snapshot. Set appendonly yes.",
                extra={"redis_node": node, "setting": "appendonly"},
            )
    log.info("redis settings checked", extra={"redis_nodes": len(found)})


_DIALS_AT_ONCE = 10


async def open_connections(redis: "aioredis.Redis", count: int, *, seconds: float) -> None:
    """Dial up to `count` connections before the first request: dialling under a burst (TCP,
    then the client's handshake, a few round trips) waits behind every request the burst
    brought, and its timeout counts that wait, so a fresh replica's first burst failed
    connecting to a healthy Redis. A few at a time (no burst of its own), each held until all
    are open (one released would be handed out again instead of a new one made). A cluster
    client's pools are per node and dial as requests come."""
    pool = getattr(redis, "connection_pool", None)
    if not isinstance(pool, BlockingConnectionPool):
        return
    held: list[AbstractConnection] = []
    try:
        async with asyncio.timeout(seconds):
            while len(held) < count and pool.can_get_connection():
                wave = min(_DIALS_AT_ONCE, count - len(held))
                dialled = await asyncio.gather(
                    *(pool.get_connection() for _ in range(wave)),  # type: ignore[no-untyped-call]
                    return_exceptions=True,
                )
                held += [c for c in dialled if isinstance(c, AbstractConnection)]
                for failed in dialled:
                    if isinstance(failed, BaseException):
                        raise failed
    except (RedisError, OSError, TimeoutError) as exc:
        # Redis down at start-up: requests dial as they come, as they would anyway.
        log.warning(
            "could not open the Redis connections ahead", extra={"error": type(exc).__name__}
        )
    finally:
        for connection in held:
            await pool.release(connection)


def _check_replicas(found: dict[str, int], *, required: int) -> None:
    for node, count in found.items():
        if count < required:
            log.error(
                "REDIS WRITES WILL FAIL: this master has %d connected replica(s) and "
                "BFF_REDIS_WAIT_REPLICAS is %d; every write waits for confirmations that "
                "cannot come and answers 503 until enough replicas are connected.",
                count,
                required,
                extra={"redis_node": node, "setting": "BFF_REDIS_WAIT_REPLICAS"},
            )
        elif count > required:
            # The promoted replica may be one that had not confirmed (or, on Sentinel, the
            # old master's other replicas confirm its writes after the switch).
            log.warning(
                "a failover can lose acknowledged writes: this master has %d replica(s) and "
                "BFF_REDIS_WAIT_REPLICAS is %d, so a write is acknowledged before every "
                "replica has it. Set BFF_REDIS_WAIT_REPLICAS=%d.",
                count,
                required,
                count,
                extra={"redis_node": node, "setting": "BFF_REDIS_WAIT_REPLICAS"},
            )


async def _on_each_master(redis: "aioredis.Redis", *command: str) -> dict[str, object]:
    """`command`'s answer from every master: a cluster's, by node name, or the one master."""
    client: object = redis  # a cluster client passes for a plain one (see open_redis)
    if isinstance(client, RedisCluster):
        await client.initialize()
        return {
            node.name: await client.execute_command(*command, target_nodes=node)
            for node in client.get_primaries()
        }
    return {"master": await redis.execute_command(*command)}  # type: ignore[no-untyped-call]


async def _replicas_of(redis: "aioredis.Redis") -> dict[str, int]:
    """Connected replicas per master (INFO, which managed services allow)."""
    answers = await _on_each_master(redis, "INFO", "replication")
    return {
        node: int(info.get("connected_slaves", 0)) if isinstance(info, dict) else 0
        for node, info in answers.items()
    }


async def _settings_of(redis: "aioredis.Redis") -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for name in ("maxmemory-policy", "appendonly"):
        for node, answer in (await _on_each_master(redis, "CONFIG GET", name)).items():
            found.setdefault(node, {}).update(_texts(answer))
    return found


def _texts(answer: object) -> dict[str, str]:
    if not isinstance(answer, dict):
        return {}
    return {_text(k): _text(v) for k, v in answer.items()}


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def guarded(func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Turn any Redis failure into `503 store_unavailable`, once, at the store boundary. No
    free connection within the wait is one too: redis-py's pool (and a cluster's turns) raise
    `ConnectionError("No connection available.")`, a `RedisError`; so are a cluster's
    topology troubles (`ClusterUnavailable`)."""

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await func(*args, **kwargs)
        except (RedisError, OSError) as exc:
            log.error("store failure", extra={"error": type(exc).__name__})
            raise StoreUnavailable() from exc

    return wrapper
