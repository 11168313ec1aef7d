"""Shared resources and the session, as `Annotated` dependencies for the routers.

Every dependency is `async def` and flat (it reads the app state itself rather than
depending on other dependencies): FastAPI runs plain `def` dependencies in a thread pool and
resolves each nested one separately, and on the hot path both cost more than the gateway's
own work (measured with `make bench`).
"""

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


def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


async def get_gateway(request: Request) -> Gateway:
    return gateway_of(request)


async def get_settings(request: Request) -> Settings:
    return gateway_of(request).settings


async def get_sessions(request: Request) -> SessionService:
    return gateway_of(request).sessions


async def get_vehicles(request: Request) -> VehicleService:
    return gateway_of(request).vehicles


async def get_quotes(request: Request) -> QuoteService:
    return gateway_of(request).quotes


async def get_payments(request: Request) -> PaymentService:
    return gateway_of(request).payments


async def get_policies(request: Request) -> PolicyService:
    return gateway_of(request).policies


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
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


def credentials_of(request: Request) -> Credentials:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return Credentials(transport="bearer", session_id=token.strip())
    if request.headers.get("x-session-transport", "").lower() == "bearer":
        return Credentials(transport="bearer", session_id=None)
    cookie = gateway_of(request).settings.effective_cookie_name
    return Credentials(transport="cookie", session_id=request.cookies.get(cookie))


async def get_credentials(request: Request) -> Credentials:
    return credentials_of(request)


CredentialsDep = Annotated[Credentials, Depends(get_credentials)]


async def browser_guard(request: Request) -> None:
    """Origin allowlist and CSRF header for cookie-carried requests. Bearer requests carry
    their credential explicitly, so a foreign page cannot ride on them."""
    if credentials_of(request).transport == "bearer":
        return
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") not in gateway_of(request).settings.origins:
        raise OriginNotAllowed()
    if request.method in _UNSAFE and request.headers.get("x-csrf") != "1":
        raise CsrfRequired()


async def get_session(request: Request) -> SessionRecord:
    credentials = credentials_of(request)
    record = await gateway_of(request).sessions.resolve(credentials.session_id)
    # A session lives on the transport it was opened with: a cookie id is no bearer token.
    if record is None or record.meta.transport != credentials.transport:
        raise NotAuthenticated()
    return record


async def get_signed_in(request: Request) -> SessionRecord:
    record = await get_session(request)
    if record.meta.stage != "authenticated":
        raise NotAuthenticated("Finish signing in with the SMS code first")
    gateway_of(request).sessions.follow_up(record)
    return record


async def get_case_ready(request: Request) -> SessionRecord:
    """For vehicle and quote calls: the sale opportunity must exist first."""
    record = await get_signed_in(request)
    await gateway_of(request).cases.ensure(record)
    return record


AnySession = Annotated[SessionRecord, Depends(get_session)]
SignedIn = Annotated[SessionRecord, Depends(get_signed_in)]
CaseReady = Annotated[SessionRecord, Depends(get_case_ready)]


def client_ip(request: Request) -> str:
    # Behind a load balancer, run uvicorn with --proxy-headers so this is the customer's IP.
    return request.client.host if request.client else "unknown"
