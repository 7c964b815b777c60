"""A region's calls to the key holder, the hub and other regions (docs/federation.md,
"Messages"), over HTTP(S) with the standard library.

Every call carries a fresh client assertion for its callee (`Authorization: Bearer`).
Errors come back as exceptions: `Unreachable` (connection refused, timeout, 5xx: try again
later), `Refused` (a problem+json answer the caller cannot fix by waiting; its `status`,
`title` and `detail`), and `StaleKey` (the hub's 409 with `currentKeyVersion`: re-key and
publish again). Nothing here touches the database; no BSN or local pseudonym is ever an
argument.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from verwijsindex.federation.identity import Identity

TIMEOUT_SECONDS = 10.0
EVALUATE_BATCH = 1000
MAX_ANSWER_BYTES = 20 * 1024 * 1024


class FederationError(Exception):
    """A federation call failed; the message is safe to log (no token, no body)."""


class Unreachable(FederationError):
    """Down, timed out, or a server error: nothing is lost, the worker tries again later."""


class Refused(FederationError):
    def __init__(self, status: int, title: str, detail: str = "") -> None:
        super().__init__(f"HTTP {status}: {title}" + (f" ({detail})" if detail else ""))
        self.status = status
        self.title = title
        self.detail = detail


class StaleKey(Refused):
    """The hub works with another key version (409): re-key, then publish again."""

    def __init__(self, current: int) -> None:
        super().__init__(409, "Key version changed", f"current key version {current}")
        self.current = current


@dataclass(frozen=True, slots=True)
class Evaluated:
    key_version: int
    elements: list[str]


@dataclass(frozen=True, slots=True)
class Peer:
    """Another region, as the hub names it in a counterpart."""

    name: str
    url: str


class FederationClient:
    """The calls of one region, signed with its identity."""

    def __init__(
        self,
        identity: Identity,
        *,
        hub_url: str,
        hub_name: str,
        keyholder_url: str,
        keyholder_name: str,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.identity = identity
        self.hub_url = hub_url.rstrip("/")
        self.hub_name = hub_name
        self.keyholder_url = keyholder_url.rstrip("/")
        self.keyholder_name = keyholder_name
        self.timeout = timeout

    # --- key holder ---------------------------------------------------------------------------

    def evaluate(self, blinded: Sequence[str]) -> Evaluated:
        """`POST /federation/v1/evaluate`, at most 1000 elements."""
        if not 1 <= len(blinded) <= EVALUATE_BATCH:
            raise ValueError("evaluate takes 1 to 1000 blinded elements")
        answer = self._call(
            self.keyholder_url,
            self.keyholder_name,
            "POST",
            "/federation/v1/evaluate",
            {"blindedElements": list(blinded)},
        )
        elements = answer.get("evaluatedElements")
        version = answer.get("keyVersion")
        if (
            not isinstance(elements, list)
            or len(elements) != len(blinded)
            or not all(isinstance(e, str) for e in elements)
            or not isinstance(version, int)
        ):
            raise Unreachable("the key holder's answer is malformed")
        return Evaluated(version, elements)

    def rekey_factor(self, old: int, new: int) -> str:
        """`GET /federation/v1/rekey?from=&to=`: the scalar `k_new · k_old⁻¹` (b64url)."""
        query = urllib.parse.urlencode({"from": old, "to": new})
        answer = self._call(
            self.keyholder_url, self.keyholder_name, "GET", f"/federation/v1/rekey?{query}"
        )
        factor = answer.get("factor")
        if not isinstance(factor, str):
            raise Unreachable("the key holder's re-key answer is malformed")
        return factor

    # --- hub ------------------------------------------------------------------------------------

    def publish(
        self, key_version: int, holdings: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """`POST /federation/v1/holdings`: the results, one per holding, in order."""
        answer = self._call(
            self.hub_url,
            self.hub_name,
            "POST",
            "/federation/v1/holdings",
            {"keyVersion": key_version, "holdings": list(holdings)},
        )
        return _results(answer)

    def lookup(self, key_version: int, children: Sequence[str]) -> list[dict[str, Any]]:
        """`POST /federation/v1/lookup`: the results for children this region holds."""
        answer = self._call(
            self.hub_url,
            self.hub_name,
            "POST",
            "/federation/v1/lookup",
            {"keyVersion": key_version, "children": list(children)},
        )
        return _results(answer)

    def notices(self, after: int) -> tuple[list[dict[str, Any]], int]:
        """`GET /federation/v1/notices?after=`: this region's notices and the last seq."""
        answer = self._call(
            self.hub_url, self.hub_name, "GET", f"/federation/v1/notices?after={int(after)}"
        )
        notices = answer.get("notices")
        last = answer.get("last", after)
        if not isinstance(notices, list) or not isinstance(last, int):
            raise Unreachable("the hub's notices are malformed")
        return [n for n in notices if isinstance(n, dict)], last

    # --- other regions ------------------------------------------------------------------------

    def participants(
        self, peer: Peer, ticket: str, children: Sequence[str]
    ) -> list[dict[str, Any]]:
        """`POST {peer}/federation/v1/participants` with the hub's ticket."""
        answer = self._call(
            peer.url.rstrip("/"),
            peer.name,
            "POST",
            "/federation/v1/participants",
            {"children": list(children)},
            {"Federation-Ticket": ticket},
        )
        participants = answer.get("participants")
        if not isinstance(participants, list):
            raise Unreachable(f"{peer.name}'s participants answer is malformed")
        return [p for p in participants if isinstance(p, dict)]

    # --- the wire -------------------------------------------------------------------------------

    def _call(
        self,
        base: str,
        audience: str,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - http(s) URLs from the settings and hub
            base + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.identity.assertion(audience)}",
                "Accept": "application/json",
                **({"Content-Type": "application/json"} if data is not None else {}),
                **(headers or {}),
            },
        )
        if not request.full_url.startswith(("http://", "https://")):
            raise Refused(0, "Not an http(s) URL")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read(MAX_ANSWER_BYTES)
        except urllib.error.HTTPError as error:
            raise _problem(audience, error) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise Unreachable(f"{audience} unreachable: {type(error).__name__}") from None
        try:
            parsed = json.loads(raw or b"{}")
        except ValueError:
            raise Unreachable(f"{audience} answered no JSON") from None
        if not isinstance(parsed, dict):
            raise Unreachable(f"{audience} answered no JSON object")
        return parsed


def _results(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    results = answer.get("results")
    if not isinstance(results, list):
        raise Unreachable("the hub's results are malformed")
    return [r for r in results if isinstance(r, dict)]


def _problem(audience: str, error: urllib.error.HTTPError) -> FederationError:
    try:
        body = json.loads(error.read(65536) or b"{}")
    except (ValueError, OSError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    status = error.code
    title = str(body.get("title") or error.reason or "")[:200]
    detail = str(body.get("detail") or "")[:200]
    current = body.get("currentKeyVersion")
    if status == 409 and isinstance(current, int):
        return StaleKey(current)
    if status >= 500 or status == 429:
        return Unreachable(f"{audience} answered HTTP {status}")
    return Refused(status, f"{audience}: {title}", detail)
