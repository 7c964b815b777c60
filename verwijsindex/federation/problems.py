"""The refusals of the hub and the key holder, as the servers turn them into problem+json.

Raised by `keyholder` and `hub` (which know nothing of HTTP beyond a status), answered by
`server_app`. A detail never quotes a pseudonym or an element: it may reach a log.
"""

from __future__ import annotations

from collections.abc import Mapping


class FederationProblem(Exception):
    """A refused call: `status` (400, 404, 409, 429 …), a safe `detail`, extra members of
    the problem document (e.g. `currentKeyVersion`) and headers (e.g. `Retry-After`)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        extra: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


def invalid(detail: str) -> FederationProblem:
    return FederationProblem(400, detail)
