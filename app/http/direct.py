"""Routes that FastAPI documents as usual but that are served without its general request
handler, for the hot read path.

FastAPI's handler resolves a route generally on every request: a dependency cache,
overrides, sub-dependencies, a thread pool for `def` dependencies, body parsing,
response-model validation. On `GET /api/v1/quotes/{id}` that generality cost more than the
work it resolved (`make layers`). `DirectRoute` is the APIRoute class documented for custom
handlers (`route_class`, overriding `get_route_handler`): an endpoint simple enough (its path
parameters, the `Request`, and dependencies that are `async def dependency(request)`; a
`Response` returned) is served by a handler that does just that, in FastAPI's order and with
FastAPI's errors: the dependencies first, in declaration order, then the path parameters,
validated by FastAPI's own function. Any other endpoint is served by FastAPI's handler, and
so is every request while dependency overrides are set. The OpenAPI document comes from the
same signature, as for any route; a test compares both handlers' answers.

Dependencies given to `include_router` are not seen here (FastAPI hands them to its handler
through a private context): include a router of direct routes without any.
"""

import inspect
import typing
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
RequestDependency = Callable[[Request], Awaitable[Any]]


class DirectRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        general = super().get_route_handler()
        plan = _plan(self.dependant)
        if plan is None:
            return general
        dependencies, request_name = plan
        path_params = self.dependant.path_params
        endpoint: Callable[..., Awaitable[Response]] = self.endpoint

        async def direct(request: Request) -> Response:
            # The app's overrides (an included route's own provider is set per inclusion).
            if getattr(request.app, "dependency_overrides", None):
                return await general(request)
            values: dict[str, Any] = {}
            for name, dependency in dependencies:
                value = await dependency(request)
                if name is not None:
                    values[name] = value
            found, errors = request_params_to_args(path_params, request.path_params)
            if errors:
                raise RequestValidationError(errors)
            values.update(found)
            if request_name is not None:
                values[request_name] = request
            return await endpoint(**values)

        return direct


def is_direct(route: APIRoute) -> bool:
    """Whether `route` is served by the direct handler (tests and `make layers` ask)."""
    return isinstance(route, DirectRoute) and _plan(route.dependant) is not None


def _plan(
    dependant: Dependant,
) -> tuple[list[tuple[str | None, RequestDependency]], str | None] | None:
    """The dependencies to await and where the `Request` goes, or None when the endpoint
    needs more than the direct handler does."""
    if not _takes_only_path_and_request(dependant) or not _returns_response(dependant.call):
        return None
    dependencies: list[tuple[str | None, RequestDependency]] = []
    for sub in dependant.dependencies:
        call = sub.call
        if (
            call is None
            or not inspect.iscoroutinefunction(call)
            or sub.dependencies
            or sub.path_params
            or sub.request_param_name is None
            or not _takes_only_path_and_request(sub)
            or any(call is seen for _, seen in dependencies)  # FastAPI would cache it
        ):
            return None
        dependencies.append((sub.name, call))
    return dependencies, dependant.request_param_name


def _takes_only_path_and_request(dependant: Dependant) -> bool:
    return not (
        dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    )


def _returns_response(call: Callable[..., Any] | None) -> bool:
    if call is None or not inspect.iscoroutinefunction(call):
        return False
    returned = typing.get_type_hints(call).get("return")
    return isinstance(returned, type) and issubclass(returned, Response)
