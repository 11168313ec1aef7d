"""Who is calling: the session credential (cookie or bearer), the browser guard, and the
session as `Annotated` dependencies for every feature's routes.

Every dependency is `async def` and flat (it reads the app state itself rather than
depending on other dependencies): FastAPI runs plain `def` dependencies in a thread pool and
resolves each nested one separately, and on the hot path both cost more than the gateway's
own work (measured with `make bench`).
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.core.cases import CaseKeeper
from app.errors import CsrfRequired, NotAuthenticated, OriginNotAllowed
from app.store.sessions import SessionRecord, SessionStore, Transport

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _sessions(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.services.sessions
    return store


def _cases(request: Request) -> CaseKeeper:
    cases: CaseKeeper = request.app.state.services.cases
    return cases


def own_origin(request: Request) -> str | None:
    """The origin this request came to, when it is one the gateway serves browsers on (in
    development both `localhost` and `127.0.0.1`): addresses built for the browser then keep
    it on the origin that holds its cookie."""
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return origin if origin in settings_of(request).origins else None


async def get_settings(request: Request) -> Settings:
    return settings_of(request)


SettingsDep = Annotated[Settings, Depends(get_settings)]


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
    cookie = settings_of(request).effective_cookie_name
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
    if origin is not None and origin.rstrip("/") not in settings_of(request).origins:
        raise OriginNotAllowed()
    if request.method in _UNSAFE and request.headers.get("x-csrf") != "1":
        raise CsrfRequired()


async def get_session(request: Request) -> SessionRecord:
    credentials = credentials_of(request)
    record = await _sessions(request).find(credentials.session_id)
    # A session lives on the transport it was opened with: a cookie id is no bearer token.
    if record is None or record.info.transport != credentials.transport:
        raise NotAuthenticated()
    return record


async def get_signed_in(request: Request) -> SessionRecord:
    record = await get_session(request)
    if record.info.stage != "authenticated":
        raise NotAuthenticated("Finish signing in with the SMS code first")
    _cases(request).retry_if_missing(record)
    return record


async def get_case_ready(request: Request) -> SessionRecord:
    """For vehicle, quote and purchase calls: the sale opportunity must exist first."""
    record = await get_signed_in(request)
    await _cases(request).ensure(record)
    return record


AnySession = Annotated[SessionRecord, Depends(get_session)]
SignedIn = Annotated[SessionRecord, Depends(get_signed_in)]
CaseReady = Annotated[SessionRecord, Depends(get_case_ready)]


def client_ip(request: Request) -> str:
    # Behind a load balancer, run uvicorn with --proxy-headers so this is the customer's IP.
    return request.client.host if request.client else "unknown"
