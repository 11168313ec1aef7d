"""Liveness, readiness and Prometheus metrics for the operators' probes."""

from typing import Literal

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from app.errors import NotFound
from app.http.responses import problems
from app.ops.deps import OperatorDep, ReadinessDep

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    redis: Literal["ok", "unavailable"] | None = Field(
        default=None, description="Only with the metrics token"
    )
    insurup: Literal["ok", "unreachable"] | None = Field(
        default=None, description="Only with the metrics token"
    )


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process answers."""
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    response_model_exclude_none=True,
    responses={503: {"model": Readiness, "description": "Redis is unavailable"}},
)
async def readyz(readiness: ReadinessDep, operator: OperatorDep, response: Response) -> Readiness:
    """Readiness: Redis must answer; details (and InsurUp's reachability) with the metrics token."""
    # InsurUp never makes a replica unready: every replica shares it, so draining them all
    # would only turn an upstream slowdown into a full outage.
    probe = await readiness.probe(insurup=operator)
    if not probe.redis:
        response.status_code = 503
    status: Literal["ready", "not_ready"] = "ready" if probe.redis else "not_ready"
    if not operator:
        return Readiness(status=status)
    return Readiness(
        status=status,
        redis="ok" if probe.redis else "unavailable",
        insurup="ok" if probe.insurup else "unreachable",
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
        **problems(404),
    },
)
async def metrics(operator: OperatorDep) -> Response:
    """Prometheus metrics (`Authorization: Bearer <BFF_METRICS_TOKEN>`; 404 without it)."""
    if not operator:
        raise NotFound()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
