"""Live quotes for Server-Sent Events: one InsurUp poll per quote per replica, shared.

Every subscriber of one customer's quote in this process reads from one `QuoteWatch`,
whose single task polls InsurUp each interval and hands the newest snapshot to all of them.
The watch stops polling when its last subscriber leaves (a closed browser tab costs nothing
after that) or when the quote is complete. Process memory is only a speed-up here: a
replica that dies takes its watches with it and the browser reconnects elsewhere.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from app.errors import GatewayError
from app.quotes.schemas import QuoteRead

log = logging.getLogger("app.quotes.events")

Fetch = Callable[[], Awaitable[QuoteRead]]
Snapshot = QuoteRead | GatewayError


class Subscription:
    """What one subscriber sees: the newest snapshot, never a backlog."""

    def __init__(self) -> None:
        self._latest: Snapshot | None = None
        self._changed = asyncio.Event()

    def offer(self, snapshot: Snapshot) -> None:
        self._latest = snapshot
        self._changed.set()

    async def next(self) -> Snapshot:
        await self._changed.wait()
        self._changed.clear()
        assert self._latest is not None
        return self._latest


class QuoteWatch:
    def __init__(self, fetch: Fetch, interval: float) -> None:
        self._fetch = fetch
        self._interval = interval
        # The first read, shared: subscribers arriving together cost one InsurUp call.
        self.first: asyncio.Future[QuoteRead] = asyncio.get_running_loop().create_future()
        self.subscribers: set[Subscription] = set()
        self.task: asyncio.Task[None] | None = None
        self._latest: QuoteRead | None = None

    @property
    def latest(self) -> QuoteRead:
        return self.first.result() if self._latest is None else self._latest

    def start(self) -> None:
        if self.task is None and not self.latest.complete:
            self.task = asyncio.create_task(self._poll())

    async def _poll(self) -> None:
        while self.subscribers:
            await asyncio.sleep(self._interval)
            try:
                snapshot: Snapshot = await self._fetch()
            except GatewayError as exc:
                log.warning("quote poll failed", extra={"code": exc.code})
                snapshot = exc
            if isinstance(snapshot, QuoteRead):
                self._latest = snapshot
            for subscriber in list(self.subscribers):
                subscriber.offer(snapshot)
            if isinstance(snapshot, QuoteRead) and snapshot.complete:
                return


class QuoteWatcher:
    """The registry of this process's watches, keyed by (customer, quote)."""

    def __init__(self, *, interval: float) -> None:
        self._interval = interval
        self._watches: dict[tuple[str, str], QuoteWatch] = {}

    @asynccontextmanager
    async def subscribe(
        self, *, customer_id: str, quote_id: str, fetch: Fetch
    ) -> AsyncIterator[tuple[QuoteRead, Subscription]]:
        """The current quote and a subscription to its changes, shared with other subscribers.

        `fetch` is used for the first read only when no watch exists yet (it also proves
        the caller may see the quote), and then by the watch's poll."""
        key = (customer_id, quote_id)
        watch = await self._joined(key, fetch)
        subscription = Subscription()
        watch.subscribers.add(subscription)
        watch.start()
        try:
            yield watch.latest, subscription
        finally:
            watch.subscribers.discard(subscription)
            if not watch.subscribers:
                self._watches.pop(key, None)
                if watch.task is not None:
                    watch.task.cancel()
                    with suppress(asyncio.CancelledError):
                        await watch.task

    async def _joined(self, key: tuple[str, str], fetch: Fetch) -> QuoteWatch:
        while True:
            watch = self._watches.get(key)
            if watch is None:
                watch = self._watches[key] = QuoteWatch(fetch, self._interval)
                try:
                    watch.first.set_result(await fetch())
                except BaseException as exc:
                    self._watches.pop(key, None)
                    if isinstance(exc, asyncio.CancelledError):
                        watch.first.cancel()
                    else:
                        watch.first.set_exception(exc)
                        watch.first.exception()  # observed here; joiners re-raise it
                    raise
                return watch
            try:
                await asyncio.shield(watch.first)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if watch.first.cancelled() and task is not None and not task.cancelling():
                    continue  # the first subscriber left mid-read; start over
                raise
            if self._watches.get(key) is watch:
                return watch
            # Everyone left while we waited and the watch was retired: start a new one.

    @property
    def active(self) -> int:
        return len(self._watches)

    async def aclose(self) -> None:
        for watch in list(self._watches.values()):
            if watch.task is not None:
                watch.task.cancel()
        self._watches.clear()
