"""Quote and coverage routes: HTTP only. Quote calls pass the sale-opportunity gate first."""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from app.errors import FieldError, GatewayError, ValidationFailed
from app.http.auth import CaseReady, SettingsDep, SignedIn, browser_guard
from app.http.direct import DirectRoute
from app.http.params import ProductId, QuoteId, idempotency_key
from app.http.responses import UPSTREAM, pdf_stream, problems
from app.insurup.vehicles import check_utilization
from app.quotes.deps import QuotesDep
from app.quotes.events import Subscription
from app.quotes.schemas import (
    CoverageChoices,
    CoverageGroupRead,
    InstallmentRead,
    ProductCoverage,
    QuoteCreate,
    QuoteCreated,
    QuoteRead,
)

# Direct routes (`app/http/direct.py`): the hot read path is served without FastAPI's general
# handler; the other routes here need it and get it.
router = APIRouter(
    prefix="/api/v1",
    tags=["quotes"],
    dependencies=[Depends(browser_guard)],
    route_class=DirectRoute,
)

IdempotencyKey = Annotated[
    str | None, idempotency_key("8-64 characters; the same key and body create one quote")
]
_COMMON = (401, 403, 404, *UPSTREAM)


# The hot read path, declared first: FastAPI tries routes in order (no other path here
# matches its URLs). It is a direct route (see the router), and its answer is encoded once,
# as built from validated models (`QuoteNormalizer.quote_json`: the bytes FastAPI would send
# for the response model, which stays for the OpenAPI document).
@router.get("/quotes/{quoteId}", response_model=QuoteRead, responses=problems(*_COMMON))
async def read_quote(quote_id: QuoteId, record: CaseReady, quotes: QuotesDep) -> Response:
    """The quote with its products, sorted for comparison (cheapest priced first)."""
    quote = await quotes.read_json(record, quote_id)
    return Response(quote, media_type="application/json")


@router.get("/coverage-groups", response_model=list[CoverageGroupRead], responses=problems(403))
async def coverage_groups(quotes: QuotesDep) -> list[CoverageGroupRead]:
    """The agency's kasko packages a quote can ask for."""
    return quotes.coverage_groups()


@router.get(
    "/coverage-choices", response_model=list[CoverageChoices], responses=problems(422, *_COMMON)
)
async def coverage_choices(
    record: SignedIn,
    quotes: QuotesDep,
    insurance_company_id: Annotated[int | None, Query(alias="insuranceCompanyId", ge=1)] = None,
    vehicle_utilization_style: Annotated[
        str | None, Query(alias="vehicleUtilizationStyle", examples=["PRIVATE_CAR"])
    ] = None,
) -> list[CoverageChoices]:
    """Coverage options per insurer product, as InsurUp lists them (cached)."""
    style = (
        None if vehicle_utilization_style is None else check_query_style(vehicle_utilization_style)
    )
    return await quotes.coverage_choices(
        record, insurer_id=insurance_company_id, utilization_style=style
    )


def check_query_style(value: str) -> str:
    try:
        return check_utilization(value)
    except ValueError as exc:
        raise ValidationFailed(errors=[FieldError("vehicleUtilizationStyle", str(exc))]) from exc


@router.post(
    "/quotes",
    status_code=status.HTTP_201_CREATED,
    response_model=QuoteCreated,
    responses=problems(409, 422, 429, *_COMMON),
)
async def create_quote(
    body: QuoteCreate,
    record: CaseReady,
    quotes: QuotesDep,
    idempotency_key: IdempotencyKey = None,
) -> QuoteCreated:
    """Ask every insurer for a kasko price; prices arrive over the next seconds."""
    return await quotes.create(record, body, idempotency_key=idempotency_key)


async def _subscription(
    quote_id: QuoteId, record: CaseReady, quotes: QuotesDep
) -> AsyncIterator[tuple[QuoteRead, Subscription]]:
    # A dependency, so a quote the customer may not see fails as problem+json before the
    # event stream starts; it stays subscribed until the stream ends.
    async with quotes.follow(record, quote_id) as subscribed:
        yield subscribed


@router.get(
    "/quotes/{quoteId}/events",
    response_class=EventSourceResponse,
    responses={
        200: {"description": "`product`, then `complete` (or `timeout`, `error`) events"},
        **problems(*_COMMON),
    },
)
async def quote_events(
    subscribed: Annotated[tuple[QuoteRead, Subscription], Depends(_subscription)],
    settings: SettingsDep,
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: a `product` event whenever a product appears or changes state."""
    snapshot, subscription = subscribed
    seen: dict[str, str] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.quote_stream_seconds
    while True:
        for product in snapshot.products:
            if seen.get(product.product_id) != product.state:
                seen[product.product_id] = product.state
                yield ServerSentEvent(
                    event="product", data=product.model_dump(mode="json", by_alias=True)
                )
        if snapshot.complete:
            yield ServerSentEvent(
                event="complete", data=snapshot.model_dump(mode="json", by_alias=True)
            )
            return
        try:
            update = await asyncio.wait_for(subscription.next(), deadline - loop.time())
        except TimeoutError:
            yield ServerSentEvent(event="timeout", data={"quoteId": snapshot.quote_id})
            return
        if isinstance(update, GatewayError):
            yield ServerSentEvent(
                event="error", data={"code": update.code, "detail": update.detail}
            )
            if update.status in (401, 403, 404):
                return
            continue
        snapshot = update


@router.get(
    "/quotes/{quoteId}/products/{productId}/coverage",
    response_model=ProductCoverage,
    responses=problems(*_COMMON),
)
async def product_coverage(
    quote_id: QuoteId, product_id: ProductId, record: CaseReady, quotes: QuotesDep
) -> ProductCoverage:
    """Coverages and deductibles of one product."""
    return await quotes.coverage(record, quote_id, product_id)


@router.get(
    "/quotes/{quoteId}/products/{productId}/installments/{installmentNumber}",
    response_model=InstallmentRead,
    responses=problems(*_COMMON),
)
async def installment(
    quote_id: QuoteId,
    product_id: ProductId,
    installment_number: Annotated[int, Path(alias="installmentNumber", ge=1, le=24)],
    record: CaseReady,
    quotes: QuotesDep,
) -> InstallmentRead:
    """Premium detail of one installment plan of a product."""
    return await quotes.installment(record, quote_id, product_id, installment_number)


@router.get(
    "/quotes/{quoteId}/products/{productId}/information-form",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/pdf": {}},
            "description": "The pre-contract information form (ön bilgilendirme formu)",
        },
        **problems(*_COMMON),
    },
)
async def information_form(
    quote_id: QuoteId, product_id: ProductId, record: CaseReady, quotes: QuotesDep
) -> StreamingResponse:
    """The product's pre-contract information form; show it before the pay button works."""
    filename, download = await quotes.information_form(record, quote_id, product_id)
    return pdf_stream(download.chunks(), filename, disposition="inline")


@router.post(
    "/quotes/{quoteId}/products/{productId}/callback-request",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    responses={
        202: {"description": "The agency will call the customer about this product"},
        **problems(*_COMMON),
    },
)
async def request_call_back(
    quote_id: QuoteId, product_id: ProductId, record: CaseReady, quotes: QuotesDep
) -> Response:
    """Ask the agency to call about a product that cannot be bought online (robot quotes)."""
    await quotes.request_call_back(record, quote_id, product_id)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/quotes/{quoteId}/products/{productId}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    responses={202: {"description": "The insurer is asked again"}, **problems(409, 422, *_COMMON)},
)
async def retry_product(
    quote_id: QuoteId, product_id: ProductId, record: CaseReady, quotes: QuotesDep
) -> Response:
    """Ask that insurer again for a failed product; follow the quote for its new price."""
    await quotes.retry(record, quote_id, product_id)
    return Response(status_code=status.HTTP_202_ACCEPTED)
