"""Load that runs while Redis fails over, and what it saw: the failover tests of a Redis
Cluster (a master killed) and of Sentinel (`SENTINEL FAILOVER`) share it."""

import asyncio
import itertools
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from app.config import Settings
from tests.helpers import LOGIN_BODY, bearer

GENEROUS = "100000/minute"


def generous_limits(settings: Settings, **changes: object) -> Settings:
    """The same settings, with every rate limit out of the way (the load signs in often)."""
    limits = {name: GENEROUS for name in Settings.model_fields if "rate_limit" in name}
    return settings.model_copy(update={**limits, **changes})


async def sign_in(api: httpx.AsyncClient) -> tuple[str | None, list[httpx.Response]]:
    """A bearer sign-in that may fail: the session token once both steps answered 2xx."""
    started = await api.post(
        "/api/v1/session", json=LOGIN_BODY, headers={"X-Session-Transport": "bearer"}
    )
    if started.status_code != 202:
        return None, [started]
    token = str(started.json()["sessionToken"])
    verified = await api.post("/api/v1/session/mfa", json={"code": "123456"}, headers=bearer(token))
    if verified.status_code != 200:
        return None, [started, verified]
    return str(verified.json()["sessionToken"]), [started, verified]  # the SMS step's new token


@dataclass
class Seen:
    """Every answer the load got: when (seconds since the load started), what, which code."""

    started: float = field(default_factory=time.monotonic)
    answers: list[tuple[float, int, str]] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)  # sessions signed in under load

    def note(self, answer: httpx.Response) -> None:
        code = ""
        if answer.status_code >= 400:
            try:
                code = str(answer.json().get("code", ""))
            except ValueError:
                code = "not-json"
        self.answers.append((time.monotonic() - self.started, answer.status_code, code))

    def failures(self, after: float = 0.0) -> list[tuple[float, int, str]]:
        return [a for a in self.answers if a[1] >= 400 and a[0] >= after]

    def kinds(self) -> Counter[tuple[int, str]]:
        return Counter((status, code) for _, status, code in self.answers)


async def run_load(
    api: httpx.AsyncClient,
    tokens: list[str],
    seen: Seen,
    *,
    workers: int,
    stop: asyncio.Event,
) -> None:
    """Workers read sessions signed in before (GETEX on every master) and, one call in five,
    sign someone new in (writes on several slots), until `stop` is set."""
    rng = random.Random(7)

    async def worker(n: int) -> None:
        for i in itertools.count():
            if stop.is_set():
                return
            if (n + i) % 5 == 0:
                token, answers = await sign_in(api)
                for answer in answers:
                    seen.note(answer)
                if token is not None:
                    seen.acknowledged.append(token)
            else:
                seen.note(await api.get("/api/v1/session", headers=bearer(rng.choice(tokens))))
            await asyncio.sleep(0.01)

    await asyncio.gather(*(worker(n) for n in range(workers)))


async def lost_sessions(api: httpx.AsyncClient, tokens: list[str]) -> list[str]:
    """Sessions the gateway no longer knows (401), read back after the failover."""
    answers = await asyncio.gather(
        *(api.get("/api/v1/session", headers=bearer(token)) for token in tokens)
    )
    unexpected = [a for a in answers if a.status_code not in (200, 401)]
    assert not unexpected, [(a.status_code, a.text[:200]) for a in unexpected]
    return [token for token, a in zip(tokens, answers, strict=True) if a.status_code == 401]


async def until(condition: Callable[[], Awaitable[bool]], *, within: float, what: str) -> float:
    """Poll `condition` until it holds; the seconds it took. Fails after `within` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            if await condition():
                return time.monotonic() - started
        except (OSError, ConnectionError):
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {within} s")


def report(name: str, seen: Seen, *, fault_at: float, pre: int, pre_lost: int) -> str:
    failures = seen.failures(after=fault_at)
    last = max((t for t, _, _ in failures), default=fault_at) - fault_at
    after = [a for a in seen.answers if a[0] >= fault_at]
    return (
        f"{name}: {len(seen.answers)} answers, {len(after)} after the fault; "
        f"failed {len(failures)} ({dict(Counter((s, c) for _, s, c in failures))}); "
        f"last failure {last:.2f} s after the fault; "
        f"sessions signed in before lost: {pre_lost}/{pre}"
    )
