"""The gateway's own error tree; one handler in ``app.http.problems`` renders it as problem+json.

GatewayError
 ├── ValidationFailed            422 validation_failed (field errors)
 ├── NotAuthenticated            401 not_authenticated
 ├── SessionExpired              401 session_expired
 ├── CsrfRequired                403 csrf_required
 ├── OriginNotAllowed            403 origin_not_allowed
 ├── RateLimited                 429 rate_limited (Retry-After)
 ├── PayloadTooLarge             413 payload_too_large
 ├── MfaInvalid                  400 mfa_invalid
 ├── MfaNotPending               409 mfa_not_pending
 ├── NotFound                    404 not_found
 ├── VehicleNotFound             404 vehicle_not_found
 ├── VehicleDetailsRequired      422 vehicle_details_required (field errors)
 ├── IdempotencyKeyRequired      400 idempotency_key_required
 ├── IdempotencyKeyReused        422 idempotency_key_reused
 ├── RequestInProgress           409 request_in_progress
 ├── ProductNotPurchasable       409 product_not_purchasable
 ├── PaymentMethodNotSupported   422 payment_method_not_supported
 ├── PaymentInProgress           409 payment_in_progress (paymentId)
 ├── InformationFormRequired     422 information_form_required
 ├── WebhookSignatureInvalid     401 webhook_signature_invalid
 ├── UpstreamRejected            4xx upstream_rejected (InsurUp's user-facing detail)
 ├── UpstreamError               502/503 upstream_error
 ├── UpstreamTimeout             504 upstream_timeout
 ├── UpstreamUnavailable         502 upstream_unavailable
 └── StoreUnavailable            503 store_unavailable
Services raise these and never import FastAPI.
"""

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class GatewayError(Exception):
    status: int = 500
    code: str = "internal_error"
    title: str = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        retry_after: int | None = None,
        status: int | None = None,
        extras: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []
        self.retry_after = retry_after
        # Members the problem carries beside the standard ones (`paymentId`, `choices`...).
        self.extras = dict(extras or {})
        if status is not None:
            self.status = status


class ValidationFailed(GatewayError):
    status, code, title = 422, "validation_failed", "The request is not valid"


class NotAuthenticated(GatewayError):
    status, code, title = 401, "not_authenticated", "Not signed in"


class SessionExpired(GatewayError):
    status, code, title = 401, "session_expired", "The session has expired; sign in again"


class CsrfRequired(GatewayError):
    status, code, title = 403, "csrf_required", "The X-CSRF header is required"


class OriginNotAllowed(GatewayError):
    status, code, title = 403, "origin_not_allowed", "This origin is not allowed"


class RateLimited(GatewayError):
    status, code, title = 429, "rate_limited", "Too many attempts; try again later"


class PayloadTooLarge(GatewayError):
    status, code, title = 413, "payload_too_large", "The request body is too large"


class MfaInvalid(GatewayError):
    status, code, title = 400, "mfa_invalid", "The SMS code is not correct"


class MfaNotPending(GatewayError):
    status, code, title = 409, "mfa_not_pending", "No sign-in is waiting for an SMS code"


class NotFound(GatewayError):
    status, code, title = 404, "not_found", "Not found"


class VehicleNotFound(GatewayError):
    status, code, title = 404, "vehicle_not_found", "No vehicle was found for this plate"


class VehicleDetailsRequired(GatewayError):
    status, code, title = 422, "vehicle_details_required", "Some vehicle details are needed"


class IdempotencyKeyRequired(GatewayError):
    status, code, title = 400, "idempotency_key_required", "The Idempotency-Key header is required"


class IdempotencyKeyReused(GatewayError):
    status, code, title = (
        422,
        "idempotency_key_reused",
        "This Idempotency-Key was used with another request",
    )


class RequestInProgress(GatewayError):
    status, code, title = 409, "request_in_progress", "The same request is still running"


class ProductNotPurchasable(GatewayError):
    status, code, title = 409, "product_not_purchasable", "This product cannot be bought online"


class PaymentMethodNotSupported(GatewayError):
    status, code, title = (
        422,
        "payment_method_not_supported",
        "This product does not offer that payment method",
    )


class PaymentInProgress(GatewayError):
    status, code, title = 409, "payment_in_progress", "A payment for this quote is under way"


class InformationFormRequired(GatewayError):
    status, code, title = (
        422,
        "information_form_required",
        "Open and accept the pre-contract information form first",
    )


class WebhookSignatureInvalid(GatewayError):
    status, code, title = 401, "webhook_signature_invalid", "The webhook signature is not valid"


class UpstreamRejected(GatewayError):
    status, code, title = 422, "upstream_rejected", "The insurance platform refused the request"


class UpstreamError(GatewayError):
    status, code, title = 502, "upstream_error", "The insurance platform failed"


class UpstreamTimeout(GatewayError):
    status, code, title = 504, "upstream_timeout", "The insurance platform did not answer in time"


class UpstreamUnavailable(GatewayError):
    status, code, title = 502, "upstream_unavailable", "The insurance platform cannot be reached"


class StoreUnavailable(GatewayError):
    status, code, title = 503, "store_unavailable", "The session store is unavailable"
