"""The quotes feature's service as an `Annotated` dependency."""

from typing import Annotated

from fastapi import Depends, Request

from app.quotes.service import QuoteService


def get_quote_service(request: Request) -> QuoteService:
    service: QuoteService = request.app.state.services.quotes
    return service


async def get_quotes(request: Request) -> QuoteService:
    return get_quote_service(request)


QuotesDep = Annotated[QuoteService, Depends(get_quotes)]
