"""JSON log lines with the request id, and a last line of defence against leaking secrets.

Code never logs tokens, session ids, identity numbers, phone numbers or card data; the
redactor below still scrubs anything shaped like them, in messages and in extra fields.

The access line (one per request, `access()`) is the same JSON a `log.info("request",
extra=...)` on `app.access` prints through `JsonFormatter`; once `configure()` has set up the
process's log, it is built and written directly (one `orjson.dumps`, one write), without the
logging machinery's record, caller lookup and per-field work, which cost about 25 us a
request (`make layers`). Any other set-up (tests' handlers, an added handler) gets it
through `logging` as before.
"""

import logging
import re
import sys
import time
from typing import Any, TextIO

import orjson

from app.context import request_id_var

_PATTERNS = (
    (re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [redacted]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[jwt]"),
    # Card numbers, identity numbers, phone numbers: runs of 10-19 digits (spaces allowed),
    # standing alone; digits inside a word (a hex id) are part of that word.
    (re.compile(r"(?<![A-Za-z0-9])(?:\d[ -]?){9,18}\d(?![A-Za-z0-9])"), "[digits]"),
    # Opaque session ids and other long random tokens.
    (re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40,}(?![A-Za-z0-9_-])"), "[token]"),
)

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "requestId": request_id_var.get(),
            "msg": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = _clean(value)
        if record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(line).decode()


_ACCESS = logging.getLogger("app.access")
_ROOT = logging.getLogger()
# The handler `configure()` installed: while it is the only one, access lines go to it directly.
_direct: list[logging.StreamHandler[TextIO]] = []
# Redacted method names and route templates (a few dozen at most; bounded all the same).
_CLEANED: dict[str, str] = {}
_CLEANED_MAX = 512
_second = -1
_second_text = ""


def _cleaned(value: str) -> str:
    cleaned = _CLEANED.get(value)
    if cleaned is None:
        cleaned = redact(value)
        if len(_CLEANED) < _CLEANED_MAX:
            _CLEANED[value] = cleaned
    return cleaned


def _timestamp(now: float) -> str:
    """`JsonFormatter`'s `ts` for a record created at `now` (the second's text is reused)."""
    global _second, _second_text
    second = int(now)
    if second != _second:
        _second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        _second = second
    return f"{_second_text}.{int((now - second) * 1000):03d}Z"


def _direct_handler() -> "logging.StreamHandler[TextIO] | None":
    """The handler `configure()` installed, while the line would reach it and only it."""
    handler = _direct[0] if _direct else None
    if (
        handler is None
        or len(_ROOT.handlers) != 1
        or _ROOT.handlers[0] is not handler
        or _ACCESS.handlers
        or _ACCESS.filters
        or _ROOT.filters
        or handler.filters
        or handler.level > logging.INFO
        or not _ACCESS.propagate
    ):
        return None
    return handler


def _write(handler: "logging.StreamHandler[TextIO]", line: bytes) -> bool:
    """Write one line as the handler would; False if that failed (logging then takes the
    line and reports the failure, as it does for any line: a write never fails a request)."""
    if handler.lock is None:
        return False
    try:
        with handler.lock:
            handler.stream.write(line.decode() + handler.terminator)
            handler.stream.flush()
    except Exception:
        return False
    return True


def access(method: str, route: str, status: int, ms: float) -> None:
    """The request's access line: method, route template, status and milliseconds, with the
    request id (from the context, as every line)."""
    if not _ACCESS.isEnabledFor(logging.INFO):
        return
    handler = _direct_handler()
    if handler is not None:
        line = {
            "ts": _timestamp(time.time()),
            "level": "INFO",
            "logger": "app.access",
            "requestId": request_id_var.get(),
            "msg": "request",
            "method": _cleaned(method),
            "route": _cleaned(route),
            "status": status,
            "ms": ms,
        }
        if _write(handler, orjson.dumps(line)):
            return
    _ACCESS.info("request", extra={"method": method, "route": route, "status": status, "ms": ms})


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    _direct[:] = [handler]
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Uvicorn's access log prints raw paths (payment callback tokens live in paths): ours
    # logs the route template instead.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request with its full URL; ours logs the operation instead.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
