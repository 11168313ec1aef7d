"""The webhook feature's service as an `Annotated` dependency."""

from typing import Annotated

from fastapi import Depends, Request

from app.webhooks.service import WebhookService


async def get_webhooks(request: Request) -> WebhookService:
    service: WebhookService = request.app.state.services.webhooks
    return service


WebhooksDep = Annotated[WebhookService, Depends(get_webhooks)]
