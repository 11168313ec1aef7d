"""The operations routes' probe as an `Annotated` dependency."""

from typing import Annotated

from fastapi import Depends, Request

from app.ops.readiness import ReadinessProbe


async def get_readiness(request: Request) -> ReadinessProbe:
    probe: ReadinessProbe = request.app.state.services.readiness
    return probe


ReadinessDep = Annotated[ReadinessProbe, Depends(get_readiness)]
