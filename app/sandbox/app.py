"""The ASGI app: `create_sandbox_app(config)`.

Run it alone with `uvicorn --factory app.sandbox:create_sandbox_app --port 8099`.
"""

import os
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request, Response

from .auth import build_auth_router
from .cases import CASES_ROOT, build_cases_router
from .config import SandboxConfig, config_from_env
from .customers import build_customers_router
from .documents import build_documents_router
from .graphql import RootField, build_graphql_router
from .parameters import build_parameters_router
from .payment_page import build_payment_page_router
from .policies import build_policies_router
from .problems import install_problem_handlers
from .products import build_products_router
from .proposals import build_proposals_router
from .purchase import build_purchase_router
from .seed import seed_world
from .service_accounts import build_service_accounts_router
from .state import SandboxState
from .vehicles import build_vehicles_router

API_PREFIX = "/api"
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_PATH_SAFE = "/:@!$&'()*+,;=~"


def create_sandbox_app(config: SandboxConfig | None = None) -> FastAPI:
    # Without an explicit config (uvicorn --factory, the gateway's embedded copy), the fault
    # knobs come from SANDBOX_* environment variables.
    config = config or config_from_env(os.environ)
    state = SandboxState(config)
    if config.seed_world:
        seed_world(state)

    app = FastAPI(
        title="InsurUp sandbox",
        description="In-memory simulator of the InsurUp customer API (not InsurUp).",
        version="0.1.0",
    )
    app.state.sandbox = state
    install_problem_handlers(app)

    graphql_roots: dict[str, RootField] = {"cases": CASES_ROOT}
    # GraphQL at /api/graphql (SDK) and /graphql (docs), whatever `api_prefix` says.
    graphql = build_graphql_router(state, graphql_roots)
    app.include_router(graphql, prefix=API_PREFIX)
    app.include_router(graphql, include_in_schema=False)
    routers: list[APIRouter] = [
        build_auth_router(state),
        build_customers_router(state),
        build_cases_router(state),
        build_vehicles_router(state),
        build_parameters_router(state),
        build_proposals_router(state),
        build_products_router(state),
        build_purchase_router(state),
        build_policies_router(state),
    ]
    serve_prefixed = config.api_prefix == "serve"
    for router in routers:
        # REST under /api (documented) and bare (DOC-GQL spells it so). With `serve` the
        # bare copies stay out of the schema; otherwise /api/... only redirects.
        if serve_prefixed:
            app.include_router(router, prefix=API_PREFIX)
        app.include_router(router, include_in_schema=not serve_prefixed)
    if not serve_prefixed:
        app.add_api_route(
            API_PREFIX + "/{path:path}",
            _api_redirect(state),
            methods=_ALL_METHODS,
            include_in_schema=False,
        )
    # The sandbox's own pages and files (payment page, documents, logos) and the service
    # accounts' token endpoint: root only.
    app.include_router(build_service_accounts_router(state))
    app.include_router(build_payment_page_router(state))
    app.include_router(build_documents_router(state))
    return app


def _api_redirect(state: SandboxState) -> Callable[[str, Request], Awaitable[Response]]:
    """`api_prefix=redirect-30x`: `/api/<path>` answers 30x to `<path>` (query kept)."""
    config = state.config
    status = 308 if config.api_prefix == "redirect-308" else 307

    async def redirect(path: str, request: Request) -> Response:
        url = request.url
        origin = (config.api_redirect_host or f"{url.scheme}://{url.netloc}").rstrip("/")
        root = request.scope.get("root_path", "").rstrip("/")
        location = f"{origin}{root}/{quote(path, safe=_PATH_SAFE)}"
        if url.query:
            location += f"?{url.query}"
        state.redirects[f"{API_PREFIX}/{path}"] += 1
        return Response(status_code=status, headers={"Location": location})

    return redirect


def get_sandbox_state(app: FastAPI) -> SandboxState:
    """The world behind an app made by `create_sandbox_app` (for tests and fault knobs)."""
    state = getattr(app.state, "sandbox", None)
    if not isinstance(state, SandboxState):
        raise TypeError("not an app made by create_sandbox_app")
    return state
