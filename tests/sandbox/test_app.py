"""App wiring: independence from the gateway, routing, problem details for unknown routes."""

import ast
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from stdnum.tr import tckimlik, vkn

from app.sandbox.identity import fake_full_name, is_valid_tckn, is_valid_vkn

from .conftest import LOGIN, Sandbox, assert_problem

SANDBOX_DIR = Path(__file__).resolve().parents[2] / "app" / "sandbox"


def test_the_sandbox_imports_nothing_from_the_rest_of_app() -> None:
    offenders = []
    for path in sorted(SANDBOX_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.ImportFrom):
                names = [] if node.level == 1 else [f"(relative level {node.level})"]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            offenders += [
                f"{path.name}: {name}"
                for name in names
                if name.startswith("(relative")
                or (name.split(".")[0] == "app" and not name.startswith("app.sandbox"))
            ]
    assert offenders == []


def test_importing_the_sandbox_loads_no_other_app_module() -> None:
    code = (
        "import sys, app.sandbox; "
        "print(sorted(m for m in sys.modules if m.startswith('app.') "
        "and not m.startswith('app.sandbox')))"
    )
    result = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=SANDBOX_DIR.parents[1],
    )
    assert result.stdout.strip() == "[]"


async def test_unknown_route_and_wrong_method_are_problems(sandbox: Sandbox) -> None:
    unknown = await sandbox.client.get("/api/proposals/123/sync-magic")
    wrong_method = await sandbox.client.get(LOGIN)

    assert_problem(unknown, 404, "endpoint-not-found")
    assert_problem(wrong_method, 405, "method-not-allowed")


async def test_openapi_documents_the_prefixed_routes_once(sandbox: Sandbox) -> None:
    response = await sandbox.client.get("/openapi.json")

    assert response.status_code == 200
    paths = set(response.json()["paths"])
    assert all(path.startswith("/api/") for path in paths), paths
    assert {
        "/api/auth/customer/login-or-register",
        "/api/auth/customer/verify-mfa",
        "/api/auth/customer/refresh",
        "/api/customers/me",
        "/api/cases:new-sale-opportunity",
        "/api/graphql",
        "/api/customers/me/vehicles",
        "/api/customers/{customer_id}/vehicles/external-lookup",
        "/api/vehicle-parameters/brands",
        "/api/coverage-choices:kasko",
        "/api/insurance-companies",
        "/api/proposals",
        "/api/proposals/{proposal_id}",
        "/api/proposals/{proposal_id}/products/{product_id}/purchase/async",
        "/api/policies/{policy_id}/document",
    } <= paths


@given(st.from_regex(r"[1-9][0-9]{10}", fullmatch=True))
def test_tckn_check_agrees_with_python_stdnum(number: str) -> None:
    assert is_valid_tckn(number) == tckimlik.is_valid(number)


@given(st.from_regex(r"[0-9]{10}", fullmatch=True))
def test_vkn_check_agrees_with_python_stdnum(number: str) -> None:
    assert is_valid_vkn(number) == vkn.is_valid(number)


def test_fake_names_are_deterministic() -> None:
    assert fake_full_name("10000000382") == fake_full_name("10000000382")
    assert len({fake_full_name(str(10000000000 + i)) for i in range(200)}) > 50
