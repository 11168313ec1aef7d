"""Per-request context shared by logs and outgoing calls (contextvars follow asyncio tasks)."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
