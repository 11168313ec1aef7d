"""The quotes feature's service as an `Annotated` dependency."""

from typing import Annotated

from fastapi import Depends, Request

from app.quotes.service import QuoteService


async def get_quotes(request: Request) -> QuoteService:
    service: QuoteService = request.app.state.services.quotes
    return service


QuotesDep = Annotated[QuoteService, Depends(get_quotes)]
