"""The access line: once the process's log is configured it is written directly, and it is the
very line `logging` and `JsonFormatter` print (fields, order, redaction); request ids."""

import io
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from app.context import request_id_var
from app.telemetry import logging as app_logging
from tests.conftest import AppFactory, LogLines

ROUTE = "/api/v1/quotes/{quoteId}"


@contextmanager
def configured_on(out: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """`configure()` as production calls it, on `out` as stdout; the logging set-up before it
    is put back afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, app_logging._direct[:]
    names = ("uvicorn", "uvicorn.error", "uvicorn.access", "httpx")
    loggers = {name: logging.getLogger(name) for name in names}
    saved_loggers = {
        name: (lg.handlers[:], lg.level, lg.propagate, lg.disabled) for name, lg in loggers.items()
    }
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", out)
        app_logging.configure("INFO")
    try:
        yield out
    finally:
        root.handlers[:], level, app_logging._direct[:] = saved
        root.setLevel(level)
        for name, (handlers, lvl, propagate, disabled) in saved_loggers.items():
            lg = loggers[name]
            lg.handlers[:], lg.propagate, lg.disabled = handlers, propagate, disabled
            lg.setLevel(lvl)


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    with configured_on(io.StringIO(), monkeypatch) as out:
        yield out


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


@contextmanager
def alone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only the configured handler on the root, as in production (pytest adds its own while
    a test runs), and the direct path taken: not one access line through `logging`."""

    def through_logging(*args: object, **kwargs: object) -> None:
        raise AssertionError("the access line went through logging")

    root = logging.getLogger()
    others = root.handlers[:]
    root.handlers[:] = app_logging._direct[:]
    with monkeypatch.context() as patch:
        patch.setattr(app_logging._ACCESS, "info", through_logging)
        try:
            yield
        finally:
            root.handlers[:] = others


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("GET", ROUTE),
        ("POST", "unmatched"),
        # Nothing secret reaches these fields; were it so, the redactor would still scrub it.
        ("GET", "/api/v1/x/" + "A" * 48),
        ("GET", "/x/Bearer abc.def"),
    ],
)
def test_the_direct_line_is_the_line_logging_prints(
    configured: io.StringIO, monkeypatch: pytest.MonkeyPatch, method: str, route: str
) -> None:
    reset = request_id_var.set("trace-42")
    try:
        with alone(monkeypatch):
            app_logging.access(method, route, 200, 1.3)
        direct = _lines(configured)
        assert len(direct) == 1
        # Another handler on the root: the line goes through logging and JsonFormatter.
        other = LogLines()
        logging.getLogger().addHandler(other)
        try:
            app_logging.access(method, route, 200, 1.3)
        finally:
            logging.getLogger().removeHandler(other)
    finally:
        request_id_var.reset(reset)
    through_logging = [json.loads(line) for line in other.lines]
    assert len(through_logging) == 1
    printed = _lines(configured)
    assert len(printed) == 2 and printed[1] == through_logging[0]
    line, expected = direct[0], through_logging[0]
    assert list(line) == list(expected)  # the same fields in the same order
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(line["ts"]))
    assert {**line, "ts": None} == {**expected, "ts": None}
    assert line["requestId"] == "trace-42"
    assert line["msg"] == "request" and line["logger"] == "app.access"
    assert "A" * 48 not in json.dumps(line) and "abc.def" not in json.dumps(line)


def test_no_access_line_below_the_configured_level(
    configured: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    logging.getLogger().setLevel(logging.WARNING)
    with alone(monkeypatch):
        app_logging.access("GET", ROUTE, 200, 1.0)
    app_logging.access("GET", ROUTE, 200, 1.0)
    assert configured.getvalue() == ""


async def test_a_request_writes_one_access_line(
    configured: io.StringIO, monkeypatch: pytest.MonkeyPatch, make_app: AppFactory
) -> None:
    async with make_app() as api:
        configured.seek(0)
        configured.truncate()
        with alone(monkeypatch):
            answer = await api.get("/api/v1/session", headers={"X-Request-ID": "abc-123"})
    lines = [line for line in _lines(configured) if line["logger"] == "app.access"]
    assert lines == [
        {
            "ts": lines[0]["ts"],
            "level": "INFO",
            "logger": "app.access",
            "requestId": "abc-123",
            "msg": "request",
            "method": "GET",
            "route": "/api/v1/session",
            "status": answer.status_code,
            "ms": lines[0]["ms"],
        }
    ]
    assert isinstance(lines[0]["ms"], float)


async def test_new_request_ids_are_uuid4s(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/healthz")).headers["x-request-id"] for _ in range(50)}
    assert len(ids) == 50
    for request_id in ids:
        parsed = uuid.UUID(hex=request_id)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert parsed.hex == request_id


class _Broken(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError("stdout is gone")


def test_a_failed_write_never_fails_the_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with configured_on(_Broken(), monkeypatch):
        root = logging.getLogger()
        others = root.handlers[:]
        root.handlers[:] = app_logging._direct[:]
        try:
            app_logging.access("GET", ROUTE, 200, 1.0)  # no exception
        finally:
            root.handlers[:] = others
    assert "stdout is gone" in capsys.readouterr().err  # reported as logging reports any line
