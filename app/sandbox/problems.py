"""InsurUp-style problem details (reference section 10.1) and their FastAPI handlers."""

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://api.insurup.com/problems/"


class ProblemType(StrEnum):
    ACCESS_DENIED = "access-denied"
    BUSINESS_VALIDATION = "business-validation"
    INPUT_VALIDATION = "input-validation"
    RESOURCE_DUPLICATE = "resource-duplicate"
    RESOURCE_NOT_FOUND = "resource-not-found"
    UNAUTHORIZED = "unauthorized"
    UPSTREAM_SERVICE = "upstream-service"
    RESOURCE_INVALID_STATE = "resource-invalid-state"
    FEATURE_NOT_SUPPORTED = "feature-not-supported"
    ENDPOINT_NOT_FOUND = "endpoint-not-found"
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"
    METHOD_NOT_ALLOWED = "method-not-allowed"

    @property
    def url(self) -> str:
        return PROBLEM_TYPE_BASE + self.value


@dataclass(frozen=True)
class ValidationIssue:
    """One `validationErrors` entry."""

    property_name: str
    error_message: str
    attempted_value: object = None

    def to_json(self) -> dict[str, object]:
        return {
            "propertyName": self.property_name,
            "errorMessage": self.error_message,
            "attemptedValue": self.attempted_value,
        }


def new_trace_id() -> str:
    """A W3C traceparent-shaped id, like ASP.NET puts in `traceId`."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"


class ProblemError(Exception):
    """Raise anywhere in a route; the handler renders it as problem+json."""

    def __init__(
        self,
        *,
        status: int,
        type_: ProblemType,
        title: str,
        detail: str | None = None,
        codes: Iterable[str] = (),
        validation_errors: Iterable[ValidationIssue] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {type_.value}: {detail or title}")
        self.status = status
        self.type = type_
        self.title = title
        self.detail = detail
        self.codes = tuple(codes)
        self.validation_errors = tuple(validation_errors)
        self.headers = dict(headers or {})

    # --- factories ---------------------------------------------------------

    @classmethod
    def unauthorized(cls, detail: str, *, error: str = "invalid_token") -> "ProblemError":
        challenge = f'Bearer error="{error}", error_description="{detail}"'
        return cls(
            status=401,
            type_=ProblemType.UNAUTHORIZED,
            title="Unauthorized",
            detail=detail,
            headers={"WWW-Authenticate": challenge},
        )

    @classmethod
    def access_denied(cls, detail: str) -> "ProblemError":
        return cls(status=403, type_=ProblemType.ACCESS_DENIED, title="Forbidden", detail=detail)

    @classmethod
    def input_validation(
        cls, issues: Iterable[ValidationIssue], *, status: int = 422, detail: str | None = None
    ) -> "ProblemError":
        return cls(
            status=status,
            type_=ProblemType.INPUT_VALIDATION,
            title="One or more validation errors occurred.",
            detail=detail or "The request is invalid; see validationErrors.",
            validation_errors=issues,
        )

    @classmethod
    def business_validation(cls, codes: Iterable[str], detail: str) -> "ProblemError":
        return cls(
            status=422,
            type_=ProblemType.BUSINESS_VALIDATION,
            title="Business validation failed",
            detail=detail,
            codes=codes,
        )

    @classmethod
    def not_found(cls, detail: str, codes: Iterable[str] = ()) -> "ProblemError":
        return cls(
            status=404,
            type_=ProblemType.RESOURCE_NOT_FOUND,
            title="Not Found",
            detail=detail,
            codes=codes,
        )

    @classmethod
    def duplicate(cls, detail: str, codes: Iterable[str] = ()) -> "ProblemError":
        return cls(
            status=409,
            type_=ProblemType.RESOURCE_DUPLICATE,
            title="Conflict",
            detail=detail,
            codes=codes,
        )

    @classmethod
    def invalid_state(cls, detail: str, codes: Iterable[str] = ()) -> "ProblemError":
        """409 `resource-invalid-state` (the real status is unknown, reference 12.12)."""
        return cls(
            status=409,
            type_=ProblemType.RESOURCE_INVALID_STATE,
            title="Conflict",
            detail=detail,
            codes=codes,
        )

    @classmethod
    def upstream(
        cls, detail: str, *, status: int = 503, codes: Iterable[str] = ()
    ) -> "ProblemError":
        return cls(
            status=status,
            type_=ProblemType.UPSTREAM_SERVICE,
            title="Upstream service error",
            detail=detail,
            codes=codes,
        )

    @classmethod
    def unsupported_media_type(cls, detail: str) -> "ProblemError":
        return cls(
            status=415,
            type_=ProblemType.UNSUPPORTED_MEDIA_TYPE,
            title="Unsupported Media Type",
            detail=detail,
        )

    # --- rendering -----------------------------------------------------------

    def to_json(
        self, *, instance: str | None = None, trace_id: str | None = None
    ) -> dict[str, object]:
        body: dict[str, object] = {
            "type": self.type.url,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            "traceId": trace_id or new_trace_id(),
        }
        if self.codes:
            body["codes"] = list(self.codes)
        if self.validation_errors:
            body["validationErrors"] = [issue.to_json() for issue in self.validation_errors]
        return body


def problem_response(problem: ProblemError, request: Request) -> JSONResponse:
    return JSONResponse(
        problem.to_json(instance=request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


async def _handle_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(exc, request)


async def _handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        problem = ProblemError(
            status=404,
            type_=ProblemType.ENDPOINT_NOT_FOUND,
            title="Not Found",
            detail=f"No endpoint {request.method} {request.url.path} in the InsurUp sandbox.",
        )
    elif exc.status_code == 405:
        problem = ProblemError(
            status=405,
            type_=ProblemType.METHOD_NOT_ALLOWED,
            title="Method Not Allowed",
            detail=f"{request.method} is not allowed on {request.url.path}.",
            headers=exc.headers,
        )
    else:
        problem = ProblemError(
            status=exc.status_code,
            type_=ProblemType.INPUT_VALIDATION,
            title=str(exc.detail),
            detail=str(exc.detail),
            headers=exc.headers,
        )
    return problem_response(problem, request)


async def _handle_request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    issues = [
        ValidationIssue(
            property_name=".".join(str(part) for part in error.get("loc", ())[1:]),
            error_message=str(error.get("msg", "invalid")),
            attempted_value=None,
        )
        for error in exc.errors()
    ]
    return problem_response(ProblemError.input_validation(issues), request)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _handle_problem)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(RequestValidationError, _handle_request_validation)
