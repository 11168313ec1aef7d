"""The policies feature's service as an `Annotated` dependency."""

from typing import Annotated

from fastapi import Depends, Request

from app.policies.service import PolicyService


async def get_policies(request: Request) -> PolicyService:
    service: PolicyService = request.app.state.services.policies
    return service


PoliciesDep = Annotated[PolicyService, Depends(get_policies)]
