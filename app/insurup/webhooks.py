"""InsurUp's webhooks (agency level, server to server): the signature and the events the
gateway uses, in the gateway's words.

A delivery is a POST with a JSON body carrying `$event`, and headers `x-webhook-event`,
`x-webhook-delivery` (unique, for de-duplication) and, when a secret is set,
`x-webhook-signature`: the lowercase hex HMAC-SHA256 of the raw body. There is no timestamp:
replays are caught by the delivery id and by settling each payment once.
"""

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

import orjson

EventKind = Literal["purchased", "purchase_failed", "policy_created", "other"]

_KINDS: dict[str, EventKind] = {
    "proposal_premium.purchased": "purchased",
    "proposal_premium.purchase_failed": "purchase_failed",
    "policy.created": "policy_created",
}


def signature_of(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_valid(secret: bytes, body: bytes, signature: str | None) -> bool:
    """Constant-time comparison of the header with the body's HMAC."""
    if not signature:
        return False
    return hmac.compare_digest(signature_of(secret, body), signature.strip().lower())


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    kind: EventKind
    name: str
    proposal_id: str | None
    # InsurUp's product id (an integer): the payload has no proposal-product id.
    insurer_product_id: int | None
    policy_id: str | None


def parse_event(body: bytes, header_event: str | None) -> WebhookEvent:
    """The event in a delivery; ValueError when the body is not InsurUp's JSON object."""
    payload = orjson.loads(body)
    if not isinstance(payload, dict):
        raise ValueError("a webhook body is a JSON object")
    name = payload.get("$event") or header_event or ""
    if not isinstance(name, str):
        raise ValueError("`$event` is not a string")
    product = payload.get("productId")
    proposal = payload.get("proposalId")
    policy = payload.get("policyId")
    return WebhookEvent(
        kind=_KINDS.get(name, "other"),
        name=name,
        proposal_id=proposal if isinstance(proposal, str) and proposal else None,
        insurer_product_id=(
            product if isinstance(product, int) and not isinstance(product, bool) else None
        ),
        policy_id=policy if isinstance(policy, str) and policy else None,
    )
