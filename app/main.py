"""`create_app(settings)` builds the gateway; uvicorn serves it with
`--factory app.main:create_app`, and tests build their own with a mocked InsurUp."""

from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from app.clock import SYSTEM_CLOCK, Clock
from app.config import Settings
from app.http import problems
from app.http.middleware import RequestContextMiddleware
from app.http.responses import use_problem_media_type
from app.lifespan import InsurUpTarget, lifespan_for
from app.ops import router as ops
from app.payments import router as payments
from app.policies import router as policies
from app.quotes import router as quotes
from app.session import router as session
from app.telemetry.logging import configure as configure_logging
from app.vehicles import router as vehicles

SANDBOX_MOUNT = "/insurup-sandbox"
DEMO_FILES = Path(__file__).resolve().parent / "demo" / "static"

DESCRIPTION = """\
The kasko sales gateway: a backend-for-frontend between an insurance agency's web and mobile
apps and InsurUp. Browsers use the session cookie (send `X-CSRF: 1` on unsafe methods);
mobile apps sign in with `X-Session-Transport: bearer` and send `Authorization: Bearer`.
Errors are `application/problem+json` with a stable `code`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    insurup_transport: httpx.AsyncBaseTransport | None = None,
    configure_logs: bool = True,
    clock: Clock = SYSTEM_CLOCK,
) -> FastAPI:
    settings = settings or Settings()
    if configure_logs:
        configure_logging(settings.log_level)
    sandbox, target = _insurup_target(settings, insurup_transport)
    app = FastAPI(
        title="Kasko sales gateway",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan_for(settings, insurup=target, clock=clock),
        # Metrics come from prometheus-client; FastAPI's own OpenTelemetry hooks stay off
        # (they cost time on every request and would record exception messages).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    if sandbox is not None:
        # Browsers must reach the simulator's payment pages and documents too.
        app.mount(SANDBOX_MOUNT, sandbox)
    if settings.serves_demo:
        app.mount("/demo", StaticFiles(directory=DEMO_FILES, html=True), name="demo")
    problems.install(app)
    _document_problems(app)
    app.include_router(session.router)
    app.include_router(vehicles.router)
    app.include_router(quotes.router)
    app.include_router(payments.router)
    app.include_router(payments.callbacks)
    app.include_router(policies.router)
    app.include_router(ops.router)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=[
            "Content-Type",
            "X-CSRF",
            "X-Request-ID",
            "Idempotency-Key",
            "Authorization",
            "X-Session-Transport",
        ],
        expose_headers=["X-Request-ID", "Retry-After"],
        max_age=600,
    )
    app.add_middleware(RequestContextMiddleware)
    return app


def _insurup_target(
    settings: Settings, transport: httpx.AsyncBaseTransport | None
) -> tuple[FastAPI | None, InsurUpTarget | None]:
    """The one wiring point of the built-in sandbox: served in process under SANDBOX_MOUNT,
    called through an ASGI transport, reachable by browsers at the same path."""
    if transport is not None:
        base = "http://insurup.sandbox" if settings.uses_sandbox else settings.insurup_base_url
        return None, InsurUpTarget(transport=transport, base_url=base)
    if not settings.uses_sandbox:
        return None, None
    from app.sandbox import create_sandbox_app  # development only: keep it off production

    sandbox = create_sandbox_app()
    return sandbox, InsurUpTarget(
        transport=httpx.ASGITransport(app=sandbox, root_path=SANDBOX_MOUNT),
        base_url=settings.public_base_url + SANDBOX_MOUNT,
    )


def _document_problems(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = use_problem_media_type(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
