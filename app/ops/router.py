"""Liveness, readiness and Prometheus metrics for the operators' probes."""

from typing import Literal

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from app.errors import StoreUnavailable
from app.http.deps import GatewayDep

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    redis: Literal["ok", "unavailable"]
    insurup: Literal["ok", "unreachable"]


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process answers."""
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Redis is unavailable"}},
)
async def readyz(gateway: GatewayDep, response: Response) -> Readiness:
    """Readiness: Redis must answer; InsurUp's reachability is reported alongside."""
    # InsurUp never makes a replica unready: every replica shares it, so draining them all
    # would only turn an upstream slowdown into a full outage.
    try:
        redis_ok = await gateway.store.ping()
    except StoreUnavailable:
        redis_ok = False
    insurup_ok = await gateway.insurup.reachable()
    if not redis_ok:
        response.status_code = 503
    return Readiness(
        status="ready" if redis_ok else "not_ready",
        redis="ok" if redis_ok else "unavailable",
        insurup="ok" if insurup_ok else "unreachable",
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics() -> Response:
    """Prometheus metrics: requests, InsurUp calls by operation and outcome, refreshes, cases."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
