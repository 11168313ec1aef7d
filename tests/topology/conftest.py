"""The compose topology without containers: Debian's nginx running deploy/nginx.conf in front of
gateway replicas started as the Dockerfile starts them, the InsurUp sandbox as its own process,
and the real Redis (a unique key prefix per test).

Every process gets a free loopback port, every wait for readiness has a deadline, and every
process a test starts is stopped when the test ends, whatever happened.
"""

import asyncio
import base64
import contextlib
import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest
import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
DOCKERFILE = ROOT / "Dockerfile"
ENSURE_NGINX = ROOT / "scripts" / "ensure-nginx.sh"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LOOPBACK = "127.0.0.1"
READY_SECONDS = 30.0
STOP_SECONDS = 15.0


def free_ports(count: int) -> list[int]:
    """Distinct free ports (held open together, so no two come back the same)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((LOOPBACK, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


# --- Redis: the real one, a unique key prefix per test, its keys deleted afterwards ----------


@dataclass
class Store:
    client: aioredis.Redis
    prefix: str

    async def keys(self, pattern: str = "*") -> list[bytes]:
        return [key async for key in self.client.scan_iter(match=f"{self.prefix}{pattern}")]


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # one clear message instead of a replica that never gets ready
        await client.aclose()
        pytest.fail(f"tests need Redis at {REDIS_URL} (make redis starts one): {exc}")
    store = Store(client, f"bfftopo-{uuid.uuid4().hex[:10]}:")
    try:
        yield store
    finally:
        keys = await store.keys()
        if keys:
            await client.delete(*keys)
        await client.aclose()


def new_session_key() -> str:
    """A BFF_SESSION_KEYS value: 32 random bytes, URL-safe base64."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


# --- processes ---------------------------------------------------------------------------


@dataclass
class Started:
    name: str
    process: "subprocess.Popen[bytes]"
    log_path: Path
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self, lines: int = 40) -> str:
        self.log.flush()
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Processes:
    """Starts processes in their own process groups and stops every one of them."""

    workdir: Path
    started: list[Started] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        user: int | None = None,
        group: int | None = None,
    ) -> Started:
        log_path = self.workdir / f"{name}.log"
        log = log_path.open("wb")
        try:
            process = subprocess.Popen(  # noqa: S603 - fixed argv built by this module
                list(argv),
                cwd=ROOT,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: a stop reaches nginx's workers too
                user=user,
                group=group,
                extra_groups=[] if group is not None else None,
            )
        except BaseException:
            log.close()
            raise
        started = Started(name, process, log_path, log)
        self.started.append(started)
        return started

    def signal(self, started: Started, signum: int = signal.SIGTERM) -> None:
        if started.process.poll() is None:
            os.killpg(started.pid, signum)

    def stop(self, started: Started, *, seconds: float = STOP_SECONDS) -> int:
        """SIGTERM, wait up to `seconds`, then SIGKILL; the exit status."""
        self.signal(started, signal.SIGTERM)
        try:
            return started.process.wait(seconds)
        except subprocess.TimeoutExpired:
            self._kill_group(started)
            return started.process.wait(seconds)

    def stop_all(self) -> None:
        for started in self.started:
            with contextlib.suppress(ProcessLookupError):
                self.signal(started, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for started in self.started:
            try:
                started.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._kill_group(started)  # the leader still runs, so the group is ours
                started.process.wait(STOP_SECONDS)
            finally:
                started.log.close()

    @staticmethod
    def _kill_group(started: Started) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(started.pid, signal.SIGKILL)


@pytest.fixture
def processes() -> Iterator[Processes]:
    workdir = Path(tempfile.mkdtemp(prefix="kasko-topology-"))
    # nginx runs as `nobody` when the tests run as root: it must reach its files in here.
    workdir.chmod(0o755)
    running = Processes(workdir)
    try:
        yield running
    finally:
        running.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)


async def wait_ready(started: Started, url: str, *, seconds: float = READY_SECONDS) -> None:
    """Poll `url` until it answers 200; fail early if the process died, and at the deadline."""
    deadline = time.monotonic() + seconds
    last = "no answer yet"
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            code = started.process.poll()
            if code is not None:
                raise AssertionError(
                    f"{started.name} exited ({code}) before {url} was ready:\n{started.tail()}"
                )
            try:
                answer = await client.get(url)
                if answer.status_code == 200:
                    return
                last = f"{answer.status_code} {answer.text[:200]}"
            except httpx.TransportError as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{started.name}: {url} not ready after {seconds} s ({last}):\n{started.tail()}"
                )
            await asyncio.sleep(0.05)


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The test's environment without any gateway or sandbox setting, plus `extra`."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BFF_", "SANDBOX_")) and key != "FORWARDED_ALLOW_IPS"
    }
    return {**base, **extra}


# --- the gateway and the sandbox, started as the images start them -------------------------


def uvicorn_binary() -> str:
    """The virtual environment's uvicorn (.venv/bin/uvicorn under `make`)."""
    found = Path(sys.executable).with_name("uvicorn")
    if found.exists():
        return str(found)
    fallback = shutil.which("uvicorn")
    assert fallback, "uvicorn is not installed next to this Python (make install)"
    return fallback


def gateway_command(port: int, *, balancer: str = LOOPBACK) -> list[str]:
    """The Dockerfile's CMD with this machine's host, port and balancer address filled in."""
    match = re.search(r"^CMD\s+(\[.*\])\s*$", DOCKERFILE.read_text(), re.MULTILINE)
    assert match, "Dockerfile: expected an exec-form CMD"
    cmd = json.loads(match.group(1))
    assert cmd[:2] == ["sh", "-c"] and len(cmd) == 3, f"Dockerfile CMD changed shape: {cmd}"
    argv = shlex.split(re.sub(r"\$\{FORWARDED_ALLOW_IPS[^}]*\}", balancer, cmd[2]))
    assert argv[0] == "uvicorn", f"Dockerfile CMD does not start uvicorn: {argv}"
    replace = {"--host": LOOPBACK, "--port": str(port), "--forwarded-allow-ips": balancer}
    for option, value in replace.items():
        assert option in argv, f"Dockerfile CMD lacks {option}: {argv}"
        argv[argv.index(option) + 1] = value
    assert "--proxy-headers" in argv, "Dockerfile CMD lacks --proxy-headers"
    return [uvicorn_binary(), *argv[1:]]


def gateway_env(
    *, public: str, store: Store, session_keys: str, insurup: str = "sandbox", **extra: str
) -> dict[str, str]:
    """What compose gives a replica, pointed at this machine's Redis, sandbox and balancer."""
    return {
        "BFF_ENV": "development",
        "BFF_REDIS_URL": REDIS_URL,
        "BFF_REDIS_KEY_PREFIX": store.prefix,
        "BFF_INSURUP_BASE_URL": insurup,
        "BFF_SESSION_KEYS": session_keys,
        "BFF_PUBLIC_BASE_URL": public,
        "BFF_COOKIE_SECURE": "false",
        **extra,
    }


async def start_gateway(
    processes: Processes, name: str, port: int, env: Mapping[str, str]
) -> Started:
    started = await asyncio.to_thread(processes.start, name, gateway_command(port), child_env(env))
    await wait_ready(started, f"http://{LOOPBACK}:{port}/readyz")
    return started


async def start_sandbox(processes: Processes, port: int) -> Started:
    argv = [uvicorn_binary(), "--factory", "app.sandbox:create_sandbox_app"]
    argv += ["--host", LOOPBACK, "--port", str(port)]
    env = child_env({"SANDBOX_PUBLIC_BASE_URL": f"http://{LOOPBACK}:{port}"})
    started = await asyncio.to_thread(processes.start, "sandbox", argv, env)
    await wait_ready(started, f"http://{LOOPBACK}:{port}/openapi.json")
    return started


# --- the balancer: Debian's nginx with deploy/nginx.conf -----------------------------------


def _find_nginx() -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return shutil.which("nginx", path=path)


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    """Debian's nginx; scripts/ensure-nginx.sh installs it when it is missing (`make nginx`)."""
    found = _find_nginx()
    if found is None:
        done = subprocess.run(  # noqa: S603 - our own script
            [str(ENSURE_NGINX)], capture_output=True, text=True, timeout=900, check=False
        )
        found = _find_nginx()
        if found is None:
            pytest.fail(
                f"nginx is missing and {ENSURE_NGINX.name} could not install it "
                f"(run `make nginx` as root): {done.stderr[-2000:]}"
            )
    return found


def balancer_site(upstreams: Sequence[str], listen: str, source: str | None = None) -> str:
    """deploy/nginx.conf with only its upstream servers and listen address replaced."""
    text = NGINX_CONF.read_text() if source is None else source
    servers = "".join(f"  server {upstream};\n" for upstream in upstreams)
    text, found = re.subn(
        r"upstream gateway \{[^}]*\}", lambda _: f"upstream gateway {{\n{servers}}}", text
    )
    assert found == 1, "deploy/nginx.conf: expected exactly one `upstream gateway { ... }`"
    text, found = re.subn(
        r"^(\s*)listen\s+[^;]+;", lambda m: f"{m.group(1)}listen {listen};", text, flags=re.M
    )
    assert found == 1, "deploy/nginx.conf: expected exactly one `listen` directive"
    return text


_MAIN_CONF = """\
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
events {{ worker_connections 512; }}
http {{
  # Test-only: which replica answered each request (the first hop failed when there are two).
  log_format topology '$request_method $uri $status upstream=$upstream_addr';
  access_log {dir}/access.log topology;
  client_body_temp_path {dir}/temp/client_body;
  proxy_temp_path {dir}/temp/proxy;
  fastcgi_temp_path {dir}/temp/fastcgi;
  uwsgi_temp_path {dir}/temp/uwsgi;
  scgi_temp_path {dir}/temp/scgi;
  include {dir}/balancer.conf;
}}
"""


@dataclass
class Balancer:
    url: str
    started: Started
    access_log: Path

    def hops(self) -> list[tuple[str, str, int, list[str]]]:
        """(method, path, status, upstreams tried) per request so far, oldest first."""
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        hops = []
        for line in lines:
            method, path, status, upstream = line.split(" ", 3)
            tried = [part.strip() for part in upstream.removeprefix("upstream=").split(",")]
            hops.append((method, path, int(status), tried))
        return hops


async def start_balancer(
    processes: Processes, nginx: str, port: int, upstreams: Sequence[str]
) -> Balancer:
    """nginx in the foreground, as an unprivileged user, on 127.0.0.1:`port`."""
    directory = processes.workdir / "nginx"
    (directory / "temp").mkdir(parents=True)
    (directory / "balancer.conf").write_text(balancer_site(upstreams, f"{LOOPBACK}:{port}"))
    (directory / "nginx.conf").write_text(_MAIN_CONF.format(dir=directory))
    user = group = None
    if os.geteuid() == 0:  # never run the balancer as root: drop to nobody
        nobody = pwd.getpwnam("nobody")
        user, group = nobody.pw_uid, nobody.pw_gid
        for path in [directory, *directory.rglob("*")]:
            os.chown(path, user, group)
    argv = [nginx, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-e", "stderr"]
    started = await asyncio.to_thread(
        processes.start, "nginx", argv, child_env({}), user=user, group=group
    )
    url = f"http://{LOOPBACK}:{port}"
    await wait_ready(started, f"{url}/healthz")
    return Balancer(url, started, directory / "access.log")
