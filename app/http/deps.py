"""Shared resources and the session, as `Annotated` dependencies for the routers."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.errors import CsrfRequired, NotAuthenticated, OriginNotAllowed
from app.lifespan import Gateway
from app.payments.service import PaymentService
from app.policies.service import PolicyService
from app.quotes.service import QuoteService
from app.session.service import SessionService
from app.store.sessions import SessionRecord, Transport
from app.vehicles.service import VehicleService

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def get_settings(gateway: GatewayDep) -> Settings:
    return gateway.settings


def get_sessions(gateway: GatewayDep) -> SessionService:
    return gateway.sessions


def get_vehicles(gateway: GatewayDep) -> VehicleService:
    return gateway.vehicles


def get_quotes(gateway: GatewayDep) -> QuoteService:
    return gateway.quotes


def get_payments(gateway: GatewayDep) -> PaymentService:
    return gateway.payments


def get_policies(gateway: GatewayDep) -> PolicyService:
    return gateway.policies


SettingsDep = Annotated[Settings, Depends(get_settings)]
PaymentsDep = Annotated[PaymentService, Depends(get_payments)]
PoliciesDep = Annotated[PolicyService, Depends(get_policies)]
QuotesDep = Annotated[QuoteService, Depends(get_quotes)]
SessionsDep = Annotated[SessionService, Depends(get_sessions)]
VehiclesDep = Annotated[VehicleService, Depends(get_vehicles)]


@dataclass(frozen=True, slots=True)
class Credentials:
    """How this request is authenticated: a bearer token (mobile) or the cookie (browser)."""

    transport: Transport
    session_id: str | None


def get_credentials(request: Request, settings: SettingsDep) -> Credentials:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return Credentials(transport="bearer", session_id=token.strip())
    if request.headers.get("x-session-transport", "").lower() == "bearer":
        return Credentials(transport="bearer", session_id=None)
    return Credentials(
        transport="cookie", session_id=request.cookies.get(settings.effective_cookie_name)
    )


CredentialsDep = Annotated[Credentials, Depends(get_credentials)]


def browser_guard(request: Request, settings: SettingsDep, credentials: CredentialsDep) -> None:
    """Origin allowlist and CSRF header for cookie-carried requests. Bearer requests carry
    their credential explicitly, so a foreign page cannot ride on them."""
    if credentials.transport == "bearer":
        return
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") not in settings.origins:
        raise OriginNotAllowed()
    if request.method in _UNSAFE and request.headers.get("x-csrf") != "1":
        raise CsrfRequired()


async def get_session(credentials: CredentialsDep, sessions: SessionsDep) -> SessionRecord:
    record = await sessions.resolve(credentials.session_id)
    # A session lives on the transport it was opened with: a cookie id is no bearer token.
    if record is None or record.meta.transport != credentials.transport:
        raise NotAuthenticated()
    return record


async def get_signed_in(
    record: Annotated[SessionRecord, Depends(get_session)], sessions: SessionsDep
) -> SessionRecord:
    if record.meta.stage != "authenticated":
        raise NotAuthenticated("Finish signing in with the SMS code first")
    sessions.follow_up(record)
    return record


async def get_case_ready(
    record: Annotated[SessionRecord, Depends(get_signed_in)], gateway: GatewayDep
) -> SessionRecord:
    """For vehicle and quote calls: the sale opportunity must exist first."""
    await gateway.cases.ensure(record)
    return record


AnySession = Annotated[SessionRecord, Depends(get_session)]
SignedIn = Annotated[SessionRecord, Depends(get_signed_in)]
CaseReady = Annotated[SessionRecord, Depends(get_case_ready)]


def client_ip(request: Request) -> str:
    # Behind a load balancer, run uvicorn with --proxy-headers so this is the customer's IP.
    return request.client.host if request.client else "unknown"
