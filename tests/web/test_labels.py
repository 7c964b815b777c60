"""Every audit action code the services record has a Dutch label (issue 14 item 8).

The codes are collected from the source, the way they are written there: a literal in
`AuditEntry("...")`, a module constant (`ACTION = "..."`, `READ = "..."`), or a local
`action = "..." if ... else "..."`. A new action written any of these ways fails this test
until verwijsindex/web/labels.py names it.
"""

from __future__ import annotations

import re
from pathlib import Path

from verwijsindex.domain import Role
from verwijsindex.web.labels import ACTIONS_NL, ROLES_NL, action_nl, roles_nl

SOURCE = Path(__file__).resolve().parents[2] / "verwijsindex"
CODE = r"([a-z][a-z_-]*:[a-z_-]+)"
IN_ENTRY = re.compile(rf'AuditEntry\(\s*"{CODE}"')
ASSIGNED = re.compile(
    rf'^\s*(?:[A-Z_]+|action)\s*=\s*"{CODE}"(?:\s+if\s.*\selse\s+"{CODE}")?', re.MULTILINE
)
BY_NAME = re.compile(r"AuditEntry\(\s*([A-Za-z_][\w.]*)\s*,")


def emitted_actions() -> set[str]:
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found.update(IN_ENTRY.findall(text))
        for first, second in ASSIGNED.findall(text):
            found.update(code for code in (first, second) if code)
    return found


def test_the_collector_finds_the_known_ways_of_writing_an_action() -> None:
    found = emitted_actions()
    # a literal, a constant, and both branches of a conditional
    assert {"session:login", "signal:history", "signal:erase", "signal:close"} <= found
    assert len(found) > 40


def test_actions_passed_by_name_use_a_name_the_collector_reads() -> None:
    """An `AuditEntry(name, ...)` must use ACTION/READ/action (collected above) or reuse an
    entry (`entry.action`); any other name would hide its code from the label test."""
    odd = set()
    for path in SOURCE.rglob("*.py"):
        for name in BY_NAME.findall(path.read_text(encoding="utf-8")):
            if name not in {"ACTION", "READ", "action", "entry.action"}:
                odd.add(f"{path.name}: {name}")
    assert not odd, sorted(odd)


def test_every_emitted_action_has_a_dutch_label() -> None:
    missing = emitted_actions() - set(ACTIONS_NL)
    assert not missing, f"add these to verwijsindex/web/labels.py ACTIONS_NL: {sorted(missing)}"


def test_every_role_has_a_dutch_label() -> None:
    assert set(ROLES_NL) == set(Role)


def test_stored_codes_read_as_dutch() -> None:
    assert action_nl("api:signal:create") == "Signaal afgegeven (via de API)"
    assert action_nl("web:session:login") == "Ingelogd (via de website)"
    assert action_nl("worker:signal:expire") == "Signaal verlopen (automatisch)"
    assert action_nl("api:something:new") == "api:something:new"
    assert roles_nl("beheerder professional") == "Beheerder, Professional"
