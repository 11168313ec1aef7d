"""The suite's fixtures live in `tests/fixtures/` (see tests/README.md); importing them here
makes them available to every test."""

from tests.fixtures.apps import (
    AGENT_ID,
    PUBLIC,
    AppFactory,
    app_of,
    client,
    insurup,
    insurup_router,
    make_app,
    session_key,
    settings,
)
from tests.fixtures.clock import ManualClock, clock
from tests.fixtures.logs import LogLines, log_lines
from tests.fixtures.redis import REDIS_URL, prefix, redis_client

__all__ = [
    "AGENT_ID",
    "PUBLIC",
    "REDIS_URL",
    "AppFactory",
    "LogLines",
    "ManualClock",
    "app_of",
    "client",
    "clock",
    "insurup",
    "insurup_router",
    "log_lines",
    "make_app",
    "prefix",
    "redis_client",
    "session_key",
    "settings",
]
