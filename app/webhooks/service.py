"""InsurUp's webhooks in, payments settled: a signed delivery is InsurUp's word, processed
once per delivery id across replicas, answered within InsurUp's five seconds."""

import hashlib
import logging
from typing import Literal

from pydantic import SecretStr

from app.errors import NotFound, ValidationFailed, WebhookSignatureInvalid
from app.insurup.webhooks import WebhookEvent, parse_event, signature_valid
from app.payments.service import PaymentService
from app.store.webhook_deliveries import WebhookDeliveries
from app.telemetry.metrics import WEBHOOKS

log = logging.getLogger("app.webhooks")

Handled = Literal["processed", "duplicate", "ignored"]


class WebhookService:
    def __init__(
        self,
        *,
        secret: SecretStr | None,
        deliveries: WebhookDeliveries,
        payments: PaymentService,
    ) -> None:
        self._secret = secret.get_secret_value().encode() if secret else None
        self._deliveries = deliveries
        self._payments = payments

    @property
    def enabled(self) -> bool:
        return self._secret is not None

    async def receive(
        self, *, body: bytes, signature: str | None, delivery: str | None, event: str | None
    ) -> Handled:
        if self._secret is None:
            raise NotFound()
        if not signature_valid(self._secret, body, signature):
            WEBHOOKS.labels("unknown", "bad_signature").inc()
            log.warning("webhook refused: signature not valid")
            raise WebhookSignatureInvalid()
        try:
            parsed = parse_event(body, event)
        except ValueError as exc:
            raise ValidationFailed("The webhook body is not an InsurUp event") from exc
        if parsed.kind == "other":
            WEBHOOKS.labels("other", "ignored").inc()
            return "ignored"
        delivery_id = delivery or _fingerprint(body)
        if not await self._deliveries.claim(delivery_id):
            WEBHOOKS.labels(parsed.kind, "duplicate").inc()
            return "duplicate"
        try:
            settled = await self._handle(parsed)
        except BaseException:
            await self._deliveries.release(delivery_id)
            raise
        await self._deliveries.done(delivery_id)
        WEBHOOKS.labels(parsed.kind, "settled" if settled else "no_change").inc()
        return "processed"

    async def _handle(self, event: WebhookEvent) -> bool:
        """Settle the payment the event is about; False when none is pending (not ours, or
        another signal came first)."""
        if event.proposal_id is None or event.insurer_product_id is None:
            log.info("webhook without proposal or product", extra={"event": event.name})
            return False
        if event.kind == "purchase_failed":
            return await self._payments.purchase_failed(
                quote_id=event.proposal_id, insurer_product_id=event.insurer_product_id
            )
        if event.policy_id is None:
            log.warning("purchase webhook without a policy id", extra={"event": event.name})
            return False
        return await self._payments.purchased(
            quote_id=event.proposal_id,
            insurer_product_id=event.insurer_product_id,
            policy_id=event.policy_id,
        )


def _fingerprint(body: bytes) -> str:
    return "body-" + hashlib.sha256(body).hexdigest()
