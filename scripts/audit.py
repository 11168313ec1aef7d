"""`make audit`: pip-audit over requirements.lock, with an honest answer when it cannot look.

pip-audit asks a vulnerability service about every pinned version: PyPI's JSON API by default
(`https://pypi.org/pypi/<name>/<version>/json`), or OSV (`AUDIT_SERVICE=osv`, optionally
`AUDIT_OSV_URL` for a mirror of your own). Where that service cannot be reached, pip-audit
skips the package and, unless told to be strict, says "No known vulnerabilities found": an
audit that looked at nothing would pass. This script reads pip-audit's JSON instead and says
which of three things happened:

- exit 1: known vulnerabilities (each named, with the versions that fix it);
- exit 0: every package was checked and none has a known vulnerability;
- exit 0 with a loud NOT AUDITED message when the service could not be reached for some or
  all packages (a machine without that network, such as this project's CI); exit 2 instead
  when `AUDIT_REQUIRED=1` (set it where the network is there, so an outage fails the run).
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

LOCK = Path(__file__).resolve().parent.parent / "requirements.lock"


def run_pip_audit(lock: Path, report: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(lock),
        "--disable-pip",  # the lock pins and hashes everything: nothing to resolve
        "--progress-spinner",
        "off",
        "--format",
        "json",
        "--output",
        str(report),
        "--vulnerability-service",
        os.environ.get("AUDIT_SERVICE", "pypi"),
    ]
    if os.environ.get("AUDIT_OSV_URL"):
        command += ["--osv-url", os.environ["AUDIT_OSV_URL"]]
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603


def judge(report: dict[str, Any] | None, *, required: bool, detail: str = "") -> tuple[int, str]:
    """The exit code and the message for pip-audit's JSON report (None: it wrote none)."""
    if report is None:
        reason = detail.strip().splitlines()[-1] if detail.strip() else "pip-audit failed"
        return _not_audited(None, None, reason, required=required)
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    if vulnerable:
        lines = [f"{len(vulnerable)} locked package(s) with known vulnerabilities:"]
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
                lines.append(f"  {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
        lines.append("Raise the pins (make lock after editing pyproject.toml), then make audit.")
        if skipped:
            lines.append(f"({len(skipped)} package(s) could not be checked at all.)")
        return 1, "\n".join(lines)
    if skipped:
        reason = str(skipped[0]["skip_reason"])
        return _not_audited(len(skipped), len(dependencies), reason, required=required)
    return 0, f"audit: {len(dependencies)} locked packages, no known vulnerabilities."


def _not_audited(
    skipped: int | None, total: int | None, reason: str, *, required: bool
) -> tuple[int, str]:
    scope = "the lock" if skipped is None else f"{skipped} of {total} locked packages"
    message = (
        f"NOT AUDITED: the vulnerability service could not be asked about {scope}.\n"
        f"  pip-audit said: {reason}\n"
        "  This machine cannot reach it (only package downloads are allowed here). Run\n"
        "  `make audit` where https://pypi.org/pypi/<name>/<version>/json answers (or with\n"
        "  AUDIT_SERVICE=osv where https://api.osv.dev does), with AUDIT_REQUIRED=1 so that\n"
        "  an unreachable service fails the run. See README, Security."
    )
    return (2 if required else 0), message


def main() -> int:
    required = os.environ.get("AUDIT_REQUIRED", "") not in ("", "0", "false")
    with tempfile.TemporaryDirectory() as work:
        report_path = Path(work) / "audit.json"
        done = run_pip_audit(LOCK, report_path)
        report = None
        if report_path.exists() and report_path.stat().st_size:
            report = json.loads(report_path.read_text(encoding="utf-8"))
    code, message = judge(report, required=required, detail=done.stderr)
    stream = sys.stdout if code == 0 and not message.startswith("NOT") else sys.stderr
    stream.write(message + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
