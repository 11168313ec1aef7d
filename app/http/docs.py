"""The API reference, usable offline, and how its "Try it out" authenticates.

- `/docs` (Swagger UI) and `/redoc` (ReDoc) load their scripts and styles from this gateway
  (the files the `fastapi-offline` package ships), never from a CDN: the reference works on a
  laptop without internet and on an internal network. The app is built with
  `docs_url=None, redoc_url=None`; `install()` adds both pages where `settings.serves_docs`.
- The OpenAPI document names the two ways a request authenticates, so Swagger UI's Authorize
  button can drive the API: `csrfHeader` (`X-CSRF: 1`, what a browser's cookie session sends
  on every POST/PUT/PATCH/DELETE; the cookie itself travels by itself once signed in) and
  `bearerSession` (`Authorization: Bearer <sessionToken>`, mobile apps). Which operation takes
  which comes from its dependencies: the browser guard, and whether it needs a session.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from app.http.auth import browser_guard, get_case_ready, get_session, get_signed_in

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/docs/assets"

CSRF_SCHEME = "csrfHeader"
BEARER_SCHEME = "bearerSession"
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    CSRF_SCHEME: {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF",
        "description": (
            "Browsers (cookie session): the value `1` on every POST, PUT, PATCH and DELETE. "
            "The session cookie is set by `POST /api/v1/session` and `POST "
            "/api/v1/session/mfa` and sent by the browser itself, so in this page: Authorize "
            "with `1`, then sign in with Try it out."
        ),
    },
    BEARER_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "description": (
            "Mobile apps: sign in with the header `X-Session-Transport: bearer`, then send "
            "the `sessionToken` of the `POST /api/v1/session/mfa` answer (no cookie, no "
            "`X-CSRF`)."
        ),
    },
}

_UNSAFE = frozenset({"post", "put", "patch", "delete"})
_SESSION_DEPENDENCIES = frozenset({get_session, get_signed_in, get_case_ready})
# Swagger UI's defaults, without the online validator badge (it would call swagger.io).
_SWAGGER_PARAMETERS = {
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
    "validatorUrl": None,
    "persistAuthorization": True,
}


def install(app: FastAPI) -> None:
    """`/docs`, `/redoc` and their files under `/docs/assets`, all served by the gateway."""
    openapi_url = app.openapi_url
    if openapi_url is None:
        raise ValueError("the API reference needs the OpenAPI document (openapi_url)")
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    favicon = f"{ASSETS_URL}/favicon.png"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=favicon,
            swagger_ui_parameters=_SWAGGER_PARAMETERS,
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        )


def document_security(app: FastAPI) -> None:
    """Add the security schemes, and each operation's requirement, to `app.openapi()`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        components = schema.setdefault("components", {})
        if "securitySchemes" not in components:  # the first call (build() caches the dict)
            components["securitySchemes"] = SECURITY_SCHEMES
            # Included routers' routes as FastAPI's own document sees them (prefix applied).
            for route in routing.iter_route_contexts(app.routes):
                if isinstance(route.original_route, routing.APIRoute) and route.include_in_schema:
                    _document_route(schema, route)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_route(schema: dict[str, Any], route: routing.RouteContext) -> None:
    calls = set(_calls(route.dependant))
    if browser_guard not in calls:
        return  # the payment provider's callback and InsurUp's webhooks: no customer session
    needs_session = bool(calls & _SESSION_DEPENDENCIES)
    operations = schema.get("paths", {}).get(route.path_format, {})
    for method in route.methods or ():
        operation = operations.get(method.lower())
        if operation is None:
            continue
        if method.lower() in _UNSAFE:
            # A cookie session (the browser sends the cookie) with the CSRF header, or a bearer
            # token. Sign-in itself needs no token: `X-Session-Transport: bearer` asks for one.
            operation["security"] = [{CSRF_SCHEME: []}, {BEARER_SCHEME: []}]
        elif needs_session:
            # The cookie alone (`{}`: nothing to send by hand), or a bearer token.
            operation["security"] = [{}, {BEARER_SCHEME: []}]


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)
