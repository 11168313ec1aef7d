"""Sign-in, SMS code, session and profile routes: HTTP only, the rules live in the service."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status

from app.config import Settings
from app.http.auth import (
    AnySession,
    CredentialsDep,
    SettingsDep,
    SignedIn,
    browser_guard,
    client_ip,
)
from app.http.responses import UPSTREAM, problems
from app.session.deps import SessionServiceDep
from app.session.schemas import (
    ConsentRead,
    CustomerRead,
    LoginCreate,
    LoginPending,
    MfaVerify,
    SessionPending,
    SessionRead,
)
from app.session.service import SessionService, SignInDetails
from app.store.sessions import SessionRecord
from app.validation import national_mobile_digits

router = APIRouter(prefix="/api/v1", tags=["session"], dependencies=[Depends(browser_guard)])

_GUARDED = (403,)


def _session_view(
    record: SessionRecord, sessions: SessionService, token: str | None = None
) -> SessionRead:
    return SessionRead(
        customer_id=record.customer_id,
        customer_name=record.info.customer_name,
        case_id=record.case.case_id if record.case else None,
        expires_at=sessions.expires_at(record),
        session_token=token,
    )


def _set_cookie(response: Response, settings: Settings, session_id: str) -> None:
    # A browser-session cookie: the server enforces idle and absolute expiry itself.
    response.set_cookie(
        settings.effective_cookie_name,
        session_id,
        httponly=True,
        secure=settings.cookie_secure,
        samesite=settings.cookie_samesite,
        path="/",
    )


@router.post(
    "/session",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=LoginPending | SessionRead,
    response_model_exclude_none=True,
    responses={
        200: {"model": SessionRead, "description": "Signed in at once (no SMS step)"},
        **problems(401, 422, 429, *_GUARDED, *UPSTREAM),
    },
)
async def start_login(
    body: LoginCreate,
    request: Request,
    response: Response,
    credentials: CredentialsDep,
    sessions: SessionServiceDep,
    settings: SettingsDep,
    x_session_transport: Annotated[
        str | None,
        Header(description="`bearer` for mobile apps: the session token comes in the body"),
    ] = None,
) -> LoginPending | SessionRead:
    """Start sign-in (or registration): InsurUp sends the customer an SMS code."""
    replacing = await sessions.find(credentials.session_id)
    started = await sessions.start_login(
        details=SignInDetails(
            kind=body.customer_type,
            identity_number=body.identity_number,
            phone_national=national_mobile_digits(body.phone_number),
            birth_date=body.birth_date,
            consents=tuple(body.consents),
        ),
        transport=credentials.transport,
        client_ip=client_ip(request),
        replacing=replacing,
    )
    bearer = credentials.transport == "bearer"
    if not bearer:
        _set_cookie(response, settings, started.session_id)
    token = started.session_id if bearer else None
    if started.record.info.stage == "authenticated":
        response.status_code = status.HTTP_200_OK
        return _session_view(started.record, sessions, token)
    return LoginPending(session_token=token)


@router.get("/consents", response_model=list[ConsentRead], responses=problems(*_GUARDED))
async def consents(settings: SettingsDep) -> list[ConsentRead]:
    """The consents sign-in asks for, with the notice each one needs shown beside it."""
    return [
        ConsentRead(type="KVKK", required=True, notice_url=settings.kvkk_notice_url),
        ConsentRead(type="ETK", required=False, notice_url=None),
    ]


@router.post(
    "/session/mfa",
    response_model=SessionRead,
    response_model_exclude_none=True,
    responses=problems(400, 401, 409, 422, 429, *_GUARDED, *UPSTREAM),
)
async def verify_mfa(
    body: MfaVerify,
    request: Request,
    response: Response,
    record: AnySession,
    credentials: CredentialsDep,
    sessions: SessionServiceDep,
    settings: SettingsDep,
) -> SessionRead:
    """Check the SMS code; signed in, the session gets a new id (cookie or `sessionToken`)."""
    signed_in = await sessions.verify_mfa(
        record=record, code=body.code, client_ip=client_ip(request)
    )
    bearer = credentials.transport == "bearer"
    if not bearer:
        _set_cookie(response, settings, signed_in.session_id)
    return _session_view(signed_in.record, sessions, signed_in.session_id if bearer else None)


@router.get(
    "/session",
    response_model=SessionRead | SessionPending,
    response_model_exclude_none=True,
    responses=problems(401, *_GUARDED, 503),
)
async def read_session(
    record: AnySession, sessions: SessionServiceDep
) -> SessionRead | SessionPending:
    """Who is signed in, the sale opportunity id and when the session ends."""
    if record.info.stage != "authenticated":
        return SessionPending()
    sessions.retry_case_if_missing(record)
    return _session_view(record, sessions)


@router.delete(
    "/session",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(*_GUARDED, 503),
)
async def logout(
    response: Response,
    credentials: CredentialsDep,
    sessions: SessionServiceDep,
    settings: SettingsDep,
) -> Response:
    """Sign out: the session is deleted and the cookie cleared (also when already gone)."""
    record = await sessions.find(credentials.session_id)
    if record is not None:
        await sessions.logout(record)
    done = Response(status_code=status.HTTP_204_NO_CONTENT)
    if credentials.transport == "cookie":
        done.delete_cookie(
            settings.effective_cookie_name,
            path="/",
            secure=settings.cookie_secure,
            httponly=True,
            samesite=settings.cookie_samesite,
        )
    return done


@router.get(
    "/customer",
    response_model=CustomerRead,
    responses=problems(401, 404, *_GUARDED, *UPSTREAM),
)
async def read_customer(record: SignedIn, sessions: SessionServiceDep) -> CustomerRead:
    """The signed-in customer's profile, read fresh from InsurUp."""
    return CustomerRead.of(await sessions.customer(record))
