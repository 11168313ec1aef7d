"""requirements.lock pins, with hashes, a version of everything pyproject.toml asks for (the dev
extra included) that pyproject.toml accepts; `make audit` tells an audit that found nothing
from one that could not look."""

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)")


def _pins() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pins: dict[str, str] = {}
    for block in re.split(r"\n(?=\S)", text):
        match = _PIN.match(block)
        if match:
            assert "--hash=sha256:" in block, f"{match[1]} is pinned without a hash"
            pins[canonicalize_name(match[1])] = match[2]
    return pins


def test_the_lock_pins_every_dependency_within_pyproject_ranges() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pins = _pins()
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{requirement.name}=={pins[name]} is outside {requirement.specifier}: run make lock"
        )
    assert {"pip-audit", "pip-tools"} <= set(pins)


def _audit_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_script", ROOT / "scripts" / "audit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_audit_fails_on_a_known_vulnerability() -> None:
    report = {
        "dependencies": [
            {
                "name": "jinja2",
                "version": "2.4.1",
                "vulns": [{"id": "PYSEC-1", "fix_versions": ["2.11.3"]}],
            },
            {"name": "fastapi", "version": "0.165.0", "vulns": []},
        ]
    }
    code, message = _audit_script().judge(report, required=False)
    assert code == 1
    assert "jinja2 2.4.1: PYSEC-1 (fixed in 2.11.3)" in message


@pytest.mark.parametrize(("required", "expected"), [(False, 0), (True, 2)])
def test_an_audit_that_could_not_look_says_so(required: bool, expected: int) -> None:
    """pip-audit itself says "No known vulnerabilities found" when it skipped everything."""
    report = {
        "dependencies": [
            {
                "name": "fastapi",
                "skip_reason": "Dependency not found on PyPI and could not be audited",
            }
        ]
    }
    code, message = _audit_script().judge(report, required=required)
    assert code == expected
    assert message.startswith("NOT AUDITED")


def test_a_clean_audit_passes() -> None:
    report = {"dependencies": [{"name": "fastapi", "version": "0.165.0", "vulns": []}]}
    code, message = _audit_script().judge(report, required=True)
    assert code == 0
    assert "no known vulnerabilities" in message
