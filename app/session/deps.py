"""The session feature's service as an `Annotated` dependency."""

from typing import Annotated

from fastapi import Depends, Request

from app.session.service import SessionService


async def get_session_service(request: Request) -> SessionService:
    service: SessionService = request.app.state.services.session
    return service


SessionServiceDep = Annotated[SessionService, Depends(get_session_service)]
