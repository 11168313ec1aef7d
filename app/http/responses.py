"""The problem+json schema and the error responses each route documents in OpenAPI."""

from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field


class ProblemField(BaseModel):
    field: str = Field(examples=["identityNumber"])
    message: str


class ProblemChoice(BaseModel):
    reference: str
    name: str


class Problem(BaseModel):
    """RFC 9457 problem details; frontends switch on `code`."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(examples=["validation_failed"])
    request_id: str = Field(alias="requestId")
    errors: list[ProblemField] | None = None
    payment_id: str | None = Field(
        default=None, alias="paymentId", description="With `payment_in_progress`: the payment"
    )
    choices: dict[str, list[ProblemChoice]] | None = Field(
        default=None,
        description="With `vehicle_details_required`: values to pick from, per missing field",
    )


_DESCRIPTIONS = {
    400: "`mfa_invalid`, or `idempotency_key_required`",
    401: "`not_authenticated`, or `session_expired` when InsurUp ended the sign-in",
    403: "`csrf_required`, `origin_not_allowed`, or `upstream_rejected`",
    404: "`not_found` (or `vehicle_not_found`)",
    409: "Conflict: `mfa_not_pending`, `request_in_progress`, `payment_in_progress`, "
    "`product_not_purchasable`, `upstream_rejected`",
    422: "`validation_failed` naming the fields, `vehicle_details_required`, "
    "`payment_method_not_supported`, `idempotency_key_reused`, or `upstream_rejected`",
    413: "`payload_too_large`: the body is over `BFF_MAX_BODY_BYTES`",
    429: "`rate_limited`, with `Retry-After`",
    502: "`upstream_error` or `upstream_unavailable`",
    503: "`store_unavailable`, or `upstream_error` while InsurUp is busy",
    504: "`upstream_timeout`",
}

UPSTREAM = (502, 503, 504)


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given error statuses, all problem+json."""
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
        }
        for status in sorted(set(statuses))
    }


_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def use_problem_media_type(spec: dict[str, Any]) -> dict[str, Any]:
    """FastAPI files every response model under the route's media type, and adds its own 422
    schema to routes with parameters; errors are really sent as `application/problem+json`
    with the `Problem` schema, so the document says that. Every operation that takes a body
    may answer 413 (the body limit applies to all of them), so each documents it."""
    schemas = spec.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "requestBody" in operation and "413" not in responses:
                responses["413"] = {
                    "description": _DESCRIPTIONS[413],
                    "content": {"application/problem+json": {"schema": _PROBLEM_REF}},
                }
            if "422" in responses and "HTTPValidationError" in str(responses["422"]):
                responses["422"] = {
                    "description": "`validation_failed` naming the fields",
                    "content": {"application/problem+json": {"schema": _PROBLEM_REF}},
                }
            for status, response in responses.items():
                content = response.get("content", {})
                media = next((m for m in content if m != "application/problem+json"), None)
                # Errors of every route (event streams included) are problem+json.
                if status[0] in "45" and media is not None:
                    content["application/problem+json"] = content.pop(media)
    return spec


def pdf_stream(
    chunks: AsyncIterator[bytes], filename: str, *, disposition: Literal["inline", "attachment"]
) -> StreamingResponse:
    """A PDF passed through as it arrives (never buffered whole)."""
    return StreamingResponse(
        chunks,
        media_type="application/pdf",
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )
