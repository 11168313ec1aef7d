"""InsurUp's webhooks: server to server, so no session and no CSRF; the signature is the
credential and is checked before the body is read as JSON."""

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel

from app.errors import NotFound, PayloadTooLarge
from app.http.responses import Problem, problems
from app.webhooks.deps import WebhooksDep

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

# InsurUp's payloads are a few hundred bytes; anything near this is not InsurUp.
MAX_BODY_BYTES = 64 * 1024


class WebhookAnswer(BaseModel):
    status: Literal["processed", "duplicate", "ignored"]


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge()
    return bytes(body)


@router.post(
    "/insurup",
    response_model=WebhookAnswer,
    responses={
        **problems(404, 422, 503),
        401: {
            "model": Problem,
            "description": "`webhook_signature_invalid`: nothing was read or changed",
        },
        413: {"model": Problem, "description": "`payload_too_large`: over 64 KiB"},
    },
)
async def insurup_webhook(
    request: Request,
    webhooks: WebhooksDep,
    x_webhook_signature: Annotated[str | None, Header()] = None,
    x_webhook_delivery: Annotated[str | None, Header(max_length=200)] = None,
    x_webhook_event: Annotated[str | None, Header(max_length=200)] = None,
) -> WebhookAnswer:
    """InsurUp's signed events (purchases, failures, policies); 404 unless a secret is set."""
    if not webhooks.enabled:
        raise NotFound()  # no secret, no webhooks: nothing unsigned is ever trusted
    body = await _body(request)
    handled = await webhooks.receive(
        body=body,
        signature=x_webhook_signature,
        delivery=x_webhook_delivery,
        event=x_webhook_event,
    )
    return WebhookAnswer(status=handled)
