"""`create_app(settings)` builds the gateway; uvicorn serves it with
`--factory app.main:create_app`, and tests build their own with a mocked InsurUp."""

import dataclasses
import os
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from app.clock import SYSTEM_CLOCK, Clock
from app.config import Settings
from app.http import docs, problems
from app.http.guard import BrowserGuard
from app.http.middleware import GatewayMiddleware, WithHeaders
from app.http.responses import use_problem_media_type
from app.insurup.transport import DeadlineTransport
from app.lifespan import InsurUpTarget, lifespan_for
from app.ops import router as ops
from app.payments import router as payments
from app.policies import router as policies
from app.quotes import router as quotes
from app.session import router as session
from app.telemetry.logging import configure as configure_logging
from app.vehicles import router as vehicles
from app.webhooks import router as webhooks

SANDBOX_MOUNT = "/insurup-sandbox"
DEMO_FILES = Path(__file__).resolve().parent / "demo" / "static"
# The reference frontend is plain files and ES modules: no inline script or style anywhere,
# so the policy can be strict. Insurer logos come from InsurUp's hosts (https); a 3-D Secure
# page is the bank's, on its own (https) origin, and is reached by posting a form to it.
_DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:{http}; "
    "connect-src 'self'; form-action 'self' https:{http}; base-uri 'none'; "
    "frame-ancestors 'none'"
)

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
    # The embedded sandbox sends its webhooks to this very app, in process.
    this_app: list[FastAPI] = []

    async def to_this_app(scope: Scope, receive: Receive, send: Send) -> None:
        await this_app[0](scope, receive, send)

    sandbox, target = _insurup_target(settings, insurup_transport, webhooks_to=to_this_app)
    app = FastAPI(
        title="Kasko sales gateway",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan_for(settings, insurup=target, clock=clock),
        # The API reference: off in production unless BFF_DOCS_ENABLED=true. Its pages come
        # from app/http/docs.py (assets served locally), not FastAPI's CDN-backed ones.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.serves_docs else None,
        # Metrics come from prometheus-client; FastAPI's own OpenTelemetry hooks stay off
        # (they cost time on every request and would record exception messages).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    if sandbox is not None:
        # Browsers must reach the simulator's payment pages and documents too.
        app.mount(SANDBOX_MOUNT, sandbox)
    if settings.serves_demo:
        demo_headers = {
            # Outside production the sandbox's logos and bank page may be on plain http.
            "Content-Security-Policy": _DEMO_CSP.format(
                http="" if settings.env == "production" else " http:"
            ),
            "X-Frame-Options": "DENY",
        }
        app.mount(
            "/demo",
            WithHeaders(StaticFiles(directory=DEMO_FILES, html=True), demo_headers),
            name="demo",
        )
    problems.install(app)
    _document_problems(app)
    docs.document_security(app)
    # The quotes router first, the API reference's pages last: FastAPI tries routes in order,
    # and the quotes router holds the hot read path (no other path matches its URLs; the
    # OpenAPI document does not change).
    app.include_router(quotes.router)
    app.include_router(session.router)
    app.include_router(vehicles.router)
    app.include_router(payments.router)
    app.include_router(payments.callbacks)
    app.include_router(policies.router)
    app.include_router(ops.router)
    app.include_router(webhooks.router)
    if settings.serves_docs:
        docs.install(app)
    # One ASGI middleware: request id, CORS, then the browser guard and the body limit before
    # any body is read (refusals carry CORS headers, so the page can read them), security
    # headers, metrics and the access line. The payment provider's callback comes from its
    # own pages, InsurUp's webhooks from InsurUp's servers (signed): exempt from the guard.
    app.add_middleware(
        GatewayMiddleware,
        guard=BrowserGuard(
            origins=settings.origins,
            max_body_bytes=settings.max_body_bytes,
            exempt_prefixes=[
                getattr(route, "path", "").split("{", 1)[0]
                for route in (*payments.callbacks.routes, *webhooks.router.routes)
            ],
        ),
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
        hsts=settings.env == "production",
    )
    this_app.append(app)
    return app


def _insurup_target(
    settings: Settings, transport: httpx.AsyncBaseTransport | None, *, webhooks_to: ASGIApp
) -> tuple[FastAPI | None, InsurUpTarget | None]:
    """The one wiring point of the built-in sandbox: served in process under SANDBOX_MOUNT,
    called through an ASGI transport, reachable by browsers at the same path; its service
    account is the gateway's and its signed webhooks come to the gateway in process."""
    if transport is not None:
        base = "http://insurup.sandbox" if settings.uses_sandbox else settings.insurup_base_url
        return None, InsurUpTarget(transport=transport, base_url=base)
    if not settings.uses_sandbox:
        return None, None
    # Development only: keep the sandbox off the production import path.
    from app.sandbox import create_sandbox_app
    from app.sandbox.config import config_from_env

    config = config_from_env(os.environ)
    secret = settings.webhook_secret
    if config.webhook_url is None and secret is not None:
        config = dataclasses.replace(
            config,
            webhook_url=settings.public_base_url + "/api/v1/webhooks/insurup",
            webhook_secret=secret.get_secret_value(),
            webhook_transport=httpx.ASGITransport(app=webhooks_to),
        )
    sandbox = create_sandbox_app(config)
    return sandbox, InsurUpTarget(
        # In process, no socket enforces the InsurUp timeout: this does, as production's would.
        transport=DeadlineTransport(httpx.ASGITransport(app=sandbox, root_path=SANDBOX_MOUNT)),
        base_url=settings.public_base_url + SANDBOX_MOUNT,
    )


def _document_problems(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = use_problem_media_type(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
