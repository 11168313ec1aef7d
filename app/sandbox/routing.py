"""Small helpers shared by the routers: ownership checks, query parsing, absolute URLs."""

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import Request

from .problems import ProblemError, ValidationIssue
from .state import Customer, ServiceAccount

T = TypeVar("T")


def base_url(request: Request) -> str:
    """The sandbox's own origin plus the path it is mounted at, as the caller reached it."""
    # `request.base_url` is the outermost app's root: mounted inside another app it drops the
    # mount path, and the payment page's forms would post to a 404.
    url = request.url
    return f"{url.scheme}://{url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


def require_own(
    resource: T | None,
    owner_of: Callable[[T], str],
    customer: Customer | ServiceAccount,
    what: str,
) -> T:
    """404 if the resource does not exist, 403 if it belongs to another customer (a service
    account has agency scope: it reaches every customer's resources)."""
    if resource is None:
        raise ProblemError.not_found(f"{what} was not found.", codes=[_code(what)])
    if isinstance(customer, Customer) and owner_of(resource) != customer.id:
        raise ProblemError.access_denied(f"{what} belongs to another customer.")
    return resource


def require_self(customer_id: str, customer: Customer) -> None:
    """A path or body `customerId` must be the token's customer (403 otherwise)."""
    if customer_id.lower() != customer.id:
        raise ProblemError.access_denied("A customer may only act on their own data.")


def _code(what: str) -> str:
    return "_".join(what.upper().split()) + "_NOT_FOUND"


def query_int(request: Request, name: str, *, required: bool = False) -> int | None:
    """An integer query parameter; 400 input-validation when it is not one."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if required:
            raise ProblemError.input_validation(
                [ValidationIssue(name, f"'{name}' is required.", None)], status=400
            )
        return None
    text = raw.strip()
    if not (text.lstrip("-").isdigit() and text.isascii()):
        raise ProblemError.input_validation(
            [ValidationIssue(name, f"The value '{raw}' is not valid for {name}.", raw)],
            status=400,
        )
    return int(text)


def body_must_repeat_path(body_values: Mapping[str, Any], path_values: Mapping[str, str]) -> None:
    """Ids repeated in a body must equal the path's (422 input-validation otherwise)."""
    issues = [
        ValidationIssue(name, f"'{name}' must equal the {name} in the path.", body_values[name])
        for name, expected in path_values.items()
        if str(body_values[name]).lower() != expected.lower()
    ]
    if issues:
        raise ProblemError.input_validation(issues)
