"""One renderer for every error: RFC 9457 problem+json with a stable `code`.

FastAPI's default 422 echoes the offending `input` (card numbers, identity numbers); ours
names the field and says what is wrong, never what was sent.
"""

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic.alias_generators import to_camel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.context import request_id_var
from app.errors import FieldError, GatewayError

log = logging.getLogger("app.http")

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "https://kasko-gateway.dev/problems/"

_HTTP_CODES = {
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
}


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extras: dict[str, object] | None = None,
) -> Response:
    body: dict[str, Any] = {
        **(extras or {}),
        "type": _TYPE_BASE + code.replace("_", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "requestId": request_id_var.get(),
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return Response(
        orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def render(exc: GatewayError) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return problem_response(
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=headers,
        extras=exc.extras,
    )


def _field_of(loc: tuple[int | str, ...]) -> str:
    """The field as the request spells it. Pydantic names a field by its alias, except in
    errors of validators that run on a missing field's default: those carry the Python
    name (`birth_date`), so every part is given the API's camelCase spelling here."""
    parts = [
        to_camel(p) if isinstance(p, str) and "_" in p else str(p)
        for p in loc
        if p not in ("body", "query", "path", "header", "cookie")
    ]
    return ".".join(parts) or "body"


def _message_of(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "is not valid"))
    # Our validators raise ValueError("..."); pydantic prefixes it. The rest are pydantic's own
    # messages, which describe the expectation and never contain the input.
    return message.removeprefix("Value error, ")


def field_errors(raw: list[Any]) -> list[FieldError]:
    return [
        FieldError(field=_field_of(tuple(e.get("loc", ()))), message=_message_of(e)) for e in raw
    ]


async def _on_gateway_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    if exc.status >= 500:
        log.warning("request failed", extra={"code": exc.code, "status": exc.status})
    return render(exc)


async def _on_validation(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = field_errors(list(exc.errors()))
    names = ", ".join(sorted({e.field for e in errors}))
    return problem_response(
        status=422,
        code="validation_failed",
        title="The request is not valid",
        detail=f"Check these fields: {names}",
        errors=errors,
    )


async def _on_http(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's only 400 is a body it cannot parse (bad JSON, bad encoding): a field-level
        # problem like any other invalid input.
        return problem_response(
            status=422,
            code="validation_failed",
            title="The request is not valid",
            detail="The body is not valid JSON",
            errors=[FieldError(field="body", message="is not valid JSON")],
        )
    code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "Request failed"))
    return problem_response(
        status=exc.status_code,
        code=code,
        title=title,
        detail=title,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _on_unexpected(_: Request, exc: Exception) -> Response:
    # The type and the traceback go to the log (they hold no request data); the client sees
    # only a request id to quote.
    log.error("unhandled error", exc_info=exc)
    return problem_response(
        status=500,
        code="internal_error",
        title="Internal error",
        detail="Something went wrong on our side; quote the request id if it persists",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _on_gateway_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
