"""Purchase, payment status and the payment provider's callback: HTTP only."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.responses import RedirectResponse

from app.errors import IdempotencyKeyRequired
from app.http.auth import CaseReady, SettingsDep, SignedIn, browser_guard, own_origin
from app.http.params import ProductId, QuoteId, idempotency_key
from app.http.responses import UPSTREAM, problems
from app.payments.deps import PaymentsDep
from app.payments.schemas import CallbackResult, PaymentRead, PaymentStarted, PurchaseCreate
from app.store.payments import Payment

router = APIRouter(prefix="/api/v1", tags=["payments"], dependencies=[Depends(browser_guard)])
# The provider sends the customer's browser back from its own page: no session, no CSRF
# header, a foreign origin. The unguessable token in the path is the only credential.
callbacks = APIRouter(prefix="/api/v1/payments", tags=["payments"])

IdempotencyKey = Annotated[
    str | None, idempotency_key("Required, 8-64 characters; kept 24 hours per customer")
]
CallbackToken = Annotated[str, Path(alias="callbackToken", pattern=r"^[A-Za-z0-9_-]{20,100}$")]


@router.post(
    "/quotes/{quoteId}/products/{productId}/purchase",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentStarted,
    responses=problems(400, 401, 403, 404, 409, 422, *UPSTREAM),
)
async def purchase(
    quote_id: QuoteId,
    product_id: ProductId,
    body: PurchaseCreate,
    request: Request,
    record: CaseReady,
    payments: PaymentsDep,
    idempotency_key: IdempotencyKey = None,
) -> PaymentStarted:
    """Start paying for a product; send the customer as `redirect` says."""
    if idempotency_key is None:
        raise IdempotencyKeyRequired()
    return await payments.purchase(
        record,
        quote_id=quote_id,
        product_id=product_id,
        form=body,
        idempotency_key=idempotency_key,
        callback_base=own_origin(request),
    )


@router.get(
    "/payments/{paymentId}",
    response_model=PaymentRead,
    responses=problems(401, 403, 404, 503),
)
async def read_payment(
    payment_id: Annotated[str, Path(alias="paymentId", pattern=r"^[a-f0-9]{32}$")],
    record: SignedIn,
    payments: PaymentsDep,
) -> PaymentRead:
    """The payment's status; while pending it is checked with InsurUp (at most every 2 s)."""
    return PaymentRead.of(await payments.status(record, payment_id))


def _result_url(base: str, payment: Payment) -> str:
    query = urlencode({"paymentId": payment.payment_id, "status": payment.status})
    # Hash-routed SPAs read parameters after the fragment; others from the query string.
    if "#" in base:
        return f"{base}{'&' if '?' in base.split('#', 1)[1] else '?'}{query}"
    return f"{base}{'&' if '?' in base else '?'}{query}"


async def _answer(
    callback_token: str, request: Request, payments: PaymentsDep, settings: SettingsDep
) -> Response:
    payment = await payments.callback(callback_token)
    if "application/json" in request.headers.get("accept", ""):
        return Response(
            CallbackResult(payment_id=payment.payment_id, status=payment.status).model_dump_json(
                by_alias=True
            ),
            media_type="application/json",
        )
    result = settings.result_url_on(own_origin(request))
    return RedirectResponse(_result_url(result, payment), status_code=303)


_CALLBACK_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": CallbackResult, "description": "With `Accept: application/json`"},
    303: {"description": "To the frontend's payment result page, with `paymentId` and `status`"},
    **problems(404, 503),
}


@callbacks.get("/callback/{callbackToken}", response_class=Response, responses=_CALLBACK_RESPONSES)
async def callback_get(
    callback_token: CallbackToken, request: Request, payments: PaymentsDep, settings: SettingsDep
) -> Response:
    """Where the payment provider sends the customer back; the outcome comes from InsurUp."""
    return await _answer(callback_token, request, payments, settings)


@callbacks.post("/callback/{callbackToken}", response_class=Response, responses=_CALLBACK_RESPONSES)
async def callback_post(
    callback_token: CallbackToken, request: Request, payments: PaymentsDep, settings: SettingsDep
) -> Response:
    """The same as the GET, for providers that post the customer back with a form."""
    return await _answer(callback_token, request, payments, settings)
