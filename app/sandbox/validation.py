"""Request-body parsing with InsurUp-style `input-validation` problems.

Bodies are read by hand (not by FastAPI's binding) so that every rejection is a problem
detail with `validationErrors: [{propertyName, errorMessage, attemptedValue}]`.
Unknown properties are rejected on purpose (stricter than .NET, which ignores them): it
catches a client that regresses to the seed guide's shapes (`type`, `birthday`, ...).
"""

import datetime as dt
import json
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from fastapi import Request
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from .identity import is_guid
from .problems import ProblemError, ValidationIssue

M = TypeVar("M", bound=BaseModel)


class WireModel(BaseModel):
    """Base of request bodies: camelCase aliases, unknown properties forbidden."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_guid(value: str) -> str:
    if not is_guid(value):
        raise ValueError("must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    return value.lower()


def _check_date_only(value: str) -> str:
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or len(value) != 10 or parsed.isoformat() != value:
        raise ValueError("must be a date in the form YYYY-MM-DD")
    return value


def _digits_from_string_or_number(value: object) -> object:
    """Identity numbers travel as a string of digits or as a JSON number."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return value


def _check_digits(value: str) -> str:
    if not value.isdigit() or not value.isascii():
        raise ValueError("must contain digits only")
    return value


def _int_from_digit_string(value: object) -> object:
    """Accept a JSON number or a string of digits ("90"), nothing looser ("+90", " 90")."""
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            raise ValueError("must be a number or a string of digits")
        return int(value)
    return value


Guid = Annotated[str, Field(strict=True), AfterValidator(_check_guid)]
DigitInt = Annotated[int, BeforeValidator(_int_from_digit_string), Field(strict=True)]
DateOnly = Annotated[str, Field(strict=True), AfterValidator(_check_date_only)]
DigitString = Annotated[
    str,
    BeforeValidator(_digits_from_string_or_number),
    Field(strict=True),
    AfterValidator(_check_digits),
]


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a problem (415 / 400)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ProblemError.unsupported_media_type(
            f"Content-Type must be application/json, not {media_type or 'missing'}."
        )
    raw = await request.body()
    try:
        body = json.loads(raw)
    except ValueError:
        issue = ValidationIssue("$", "The request body is not valid JSON.", None)
        raise ProblemError.input_validation([issue], status=400) from None
    if not isinstance(body, dict):
        issue = ValidationIssue("$", "The request body must be a JSON object.", body)
        raise ProblemError.input_validation([issue], status=400)
    return body


def issues_from_validation_error(
    exc: ValidationError, hints: Mapping[str, str] | None = None
) -> list[ValidationIssue]:
    hints = hints or {}
    issues: list[ValidationIssue] = []
    for error in exc.errors():
        prop = ".".join(str(part) for part in error["loc"]) or "$"
        kind = error["type"]
        message = str(error["msg"]).removeprefix("Value error, ")
        attempted = None if kind == "missing" else error.get("input")
        if prop in hints:
            message = hints[prop]
        elif kind == "extra_forbidden":
            message = f"'{prop}' is not a known property of this request."
        elif kind == "missing":
            message = f"'{prop}' is required."
        elif kind in ("model_type", "dict_type", "model_attributes_type"):
            message = f"'{prop}' must be a JSON object."
        elif message.startswith("must"):
            message = f"'{prop}' {message}"
        issues.append(ValidationIssue(prop, message, _jsonable(attempted)))
    return issues


def parse_body(
    model: type[M], body: Mapping[str, Any], hints: Mapping[str, str] | None = None
) -> M:
    """Validate `body` against `model`; 422 input-validation with every issue otherwise."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ProblemError.input_validation(issues_from_validation_error(exc, hints)) from None


def _jsonable(value: object) -> object:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def type_first_issues(body: Mapping[str, Any], prefix: str = "") -> list[ValidationIssue]:
    """The .NET deserializer needs a polymorphic object's `$type` first (reference 0.2; it
    answers 500 otherwise). The sandbox says so with a 422 instead."""
    if "$type" not in body or next(iter(body)) == "$type":
        return []
    prop = f"{prefix}$type"
    return [ValidationIssue(prop, f"'{prop}' must be the first property of the object.", None)]


def parse_polymorphic_body(
    model: type[M], body: Mapping[str, Any], hints: Mapping[str, str] | None = None
) -> M:
    """`parse_body` that also insists on `$type` being the first property."""
    issues = type_first_issues(body)
    try:
        parsed = model.model_validate(body)
    except ValidationError as exc:
        raise ProblemError.input_validation(
            issues + issues_from_validation_error(exc, hints)
        ) from None
    if issues:
        raise ProblemError.input_validation(issues)
    return parsed
