"""`.ci/audit-locks` (run by `make lint`) never reports an audit that did not happen.

pip-audit's vulnerability sources (PyPI's per-version JSON API, OSV) cannot be reached from
this workplace, so pip-audit is stood in for by a script that writes the JSON report pip-audit
writes (`--format json`): what is tested is how the wrapper reads it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit-locks"


def fake_pip_audit(tmp_path: Path, report: dict[str, Any] | None) -> Path:
    """An executable taking pip-audit's arguments that writes `report` to `--output`, or
    fails like pip-audit does when its database is unreachable (report None)."""
    path = tmp_path / "pip-audit"
    body = (
        f"args = sys.argv; out = args[args.index('--output') + 1]\n"
        f"open(out, 'w').write({json.dumps(json.dumps(report))})\n"
        if report is not None
        else "sys.stderr.write('requests.exceptions.ConnectionError: api.osv.dev\\n')\n"
        "sys.exit(1)\n"
    )
    path.write_text(f"#!{sys.executable}\nimport sys\n{body}")
    path.chmod(0o755)
    return path


def audit(tmp_path: Path, report: dict[str, Any] | None, **env: str) -> tuple[int, str]:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(fake_pip_audit(tmp_path, report)), "dev.txt"],
        capture_output=True,
        text=True,
        check=False,
        env={**{k: v for k, v in os.environ.items() if k != "PIP_AUDIT_REQUIRED"}, **env},
    )
    return run.returncode, run.stdout


SKIPPED = {
    "dependencies": [
        {"name": "flask", "skip_reason": "Dependency not found on PyPI: flask (3.1.3)"},
        {"name": "click", "skip_reason": "Dependency not found on PyPI: click (8.5.1)"},
    ],
    "fixes": [],
}


def test_packages_that_could_not_be_looked_up_are_reported_as_not_audited(
    tmp_path: Path,
) -> None:
    code, out = audit(tmp_path, SKIPPED)
    assert code == 0
    assert "NOT AUDITED: 2 of 2 packages could not be looked up" in out
    assert "No known vulnerabilities" not in out


def test_an_incomplete_audit_fails_when_an_audit_is_required(tmp_path: Path) -> None:
    code, out = audit(tmp_path, SKIPPED, PIP_AUDIT_REQUIRED="1")
    assert code == 1
    assert "NOT AUDITED" in out


def test_an_unreachable_vulnerability_database_is_said_plainly(tmp_path: Path) -> None:
    code, out = audit(tmp_path, None)
    assert code == 0
    assert "NOT AUDITED: the audit did not run: requests.exceptions.ConnectionError" in out
    assert audit(tmp_path, None, PIP_AUDIT_REQUIRED="1")[0] == 1


def test_a_known_vulnerability_fails_lint_and_is_named(tmp_path: Path) -> None:
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {
                "name": "jinja2",
                "version": "3.1.6",
                "vulns": [{"id": "GHSA-xxxx-yyyy-zzzz", "fix_versions": ["3.1.7"]}],
            },
        ],
        "fixes": [],
    }
    code, out = audit(tmp_path, report)
    assert code == 1
    assert "VULNERABLE: jinja2 3.1.6: GHSA-xxxx-yyyy-zzzz (fixed in: 3.1.7)" in out
    assert "2 of 2 packages looked up, 1 with known vulnerabilities" in out


def test_a_complete_clean_audit_passes(tmp_path: Path) -> None:
    report = {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []}], "fixes": []}
    code, out = audit(tmp_path, report, PIP_AUDIT_REQUIRED="1")
    assert code == 0
    assert "1 of 1 packages looked up, 0 with known vulnerabilities" in out
    assert "NOT AUDITED" not in out
