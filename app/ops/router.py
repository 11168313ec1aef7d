"""Liveness, readiness and Prometheus metrics for the operators' probes."""

from typing import Literal

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from app.ops.deps import ReadinessDep

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
async def readyz(readiness: ReadinessDep, response: Response) -> Readiness:
    """Readiness: Redis must answer; InsurUp's reachability is reported alongside."""
    # InsurUp never makes a replica unready: every replica shares it, so draining them all
    # would only turn an upstream slowdown into a full outage.
    probe = await readiness.probe()
    if not probe.redis:
        response.status_code = 503
    return Readiness(
        status="ready" if probe.redis else "not_ready",
        redis="ok" if probe.redis else "unavailable",
        insurup="ok" if probe.insurup else "unreachable",
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics() -> Response:
    """Prometheus metrics: requests, InsurUp calls by operation and outcome, refreshes, cases."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
