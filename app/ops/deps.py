"""The operations routes' probe, and whether the caller is the operators' monitoring, as
`Annotated` dependencies."""

import hmac
from typing import Annotated

from fastapi import Depends, Request

from app.http.auth import settings_of
from app.ops.readiness import ReadinessProbe


async def get_readiness(request: Request) -> ReadinessProbe:
    probe: ReadinessProbe = request.app.state.services.readiness
    return probe


ReadinessDep = Annotated[ReadinessProbe, Depends(get_readiness)]


async def is_operator(request: Request) -> bool:
    """`Authorization: Bearer <BFF_METRICS_TOKEN>`. Without a configured token, everyone
    outside production is (a laptop, CI) and nobody in production is."""
    settings = settings_of(request)
    if settings.metrics_token is None:
        return settings.env != "production"
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = settings.metrics_token.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)


OperatorDep = Annotated[bool, Depends(is_operator)]
