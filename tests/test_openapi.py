"""The committed OpenAPI document is exactly what the code generates, and documents errors."""

import json

from app.openapi_export import TARGET, document, render


def test_committed_openapi_matches_the_code() -> None:
    assert TARGET.read_text(encoding="utf-8") == render(), "run `make openapi` and commit it"


def test_every_operation_has_a_summary_line_responses_and_problem_errors() -> None:
    spec = document()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("description"), f"{where} has no docstring"
            line = operation["description"].strip()
            assert "\n" not in line and line.endswith("."), f"{where}: one-line docstring"
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert success, f"{where} documents no success response"
            if path.startswith("/api/"):
                errors = [code for code in operation["responses"] if code[0] in "45"]
                assert errors, f"{where} documents no error response"
                for code in errors:
                    content = operation["responses"][code]["content"]
                    assert "application/problem+json" in content, f"{where} {code}"


def test_document_is_valid_json_with_the_problem_schema() -> None:
    spec = json.loads(render())
    assert "Problem" in spec["components"]["schemas"]
