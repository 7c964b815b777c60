"""Our service with the audit append stubbed out: for measuring what auditing costs.

Bench-only on purpose: the service itself has no switch to turn auditing off. Everything
else (validation, pseudonyms, matching, commit) is the real code.
"""

from __future__ import annotations

from typing import Any

from verwijsindex.audit import AuditLog


def _no_audit(self: AuditLog, *args: Any, **kwargs: Any) -> None:
    return None


AuditLog.append = _no_audit  # type: ignore[method-assign]

from verwijsindex.wsgi import app  # noqa: E402 - after the stub, so workers use it

__all__ = ["app"]
