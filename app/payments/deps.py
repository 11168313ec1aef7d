"""The payments feature's service as an `Annotated` dependency."""

from typing import Annotated

from fastapi import Depends, Request

from app.payments.service import PaymentService


async def get_payments(request: Request) -> PaymentService:
    service: PaymentService = request.app.state.services.payments
    return service


PaymentsDep = Annotated[PaymentService, Depends(get_payments)]
