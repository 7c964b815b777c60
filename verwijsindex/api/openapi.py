"""The served OpenAPI document: generated from the blueprints, then given the conventions
that hold for every operation (NL API Design Rules), in one place rather than on each view:

- paths relative to a server URL that carries the major version (`.../api/v1`);
- the `API-Version` header on every 2xx/3xx response;
- `application/problem+json` for every 4xx/5xx, with the status codes each operation can
  really give (400 wherever input is taken, 401 where a token is needed, ...);
- the bearer-token security scheme and the `X-Professional-Id` header for system tokens.
"""

from __future__ import annotations

import copy
from typing import Any

from flask_smorest import Api

from verwijsindex.version import API_VERSION

PREFIX = "/api/v1"
PUBLIC_PATHS = {"/health", "/oauth/token"}
# Paths where a system client acts for itself: a system token, no X-Professional-Id.
SYSTEM_PATH_PREFIX = ("/webhook-subscriptions", "/events", "/sync/")
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_DESCRIPTIONS = {
    400: "Invalid input: every problem is listed in `invalidParams`",
    401: "Missing, expired or invalid token, or no acting professional",
    403: "Allowed to see, not to do",
    404: "Not found, or not yours (the two are indistinguishable on purpose)",
    409: "Conflicts with the current state (a duplicate signal: `existingSignalId` and "
    "`Location` name your active signal on this child; a procesregisseur of another region)",
    410: "Gone: no longer kept (a change-feed cursor older than 30 days), or shown once "
    "already (a signal's history)",
    413: "Too large: more than 10,000 signals, or a body over 16 MiB",
    415: "The request body has the wrong content type",
    429: "Too many attempts from this address: wait `Retry-After` seconds",
    503: "The database is unavailable (e.g. restarting): retry after `Retry-After` seconds",
}


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS[status],
        "headers": {"API-Version": {"$ref": "#/components/headers/API-Version"}},
        "content": {"application/problem+json": {"schema": _PROBLEM_REF}},
    }


def _error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    statuses = {400}
    if path not in PUBLIC_PATHS or path == "/oauth/token":
        statuses.add(401)
    if "{" in path:
        statuses.add(404)
    if "requestBody" in operation:
        statuses.add(415)
    if (path, method) in {
        ("/signals", "post"),
        ("/professionals/{professional_id}", "patch"),  # an e-mail address in use
        ("/signals/{signal_id}/transfer", "post"),  # archived, or the colleague has one
        ("/matches/{match_id}/regisseur", "put"),  # a participant of another region
    }:
        statuses.add(409)
    if (path, method) == ("/events", "get"):
        statuses.add(410)  # `after` names an event no longer kept
    if (path, method) == ("/signals/{signal_id}/history", "get"):
        statuses.add(410)  # the history was shown once already (art. 7.1.4.6 lid 2)
    if (path, method) == ("/sync/signals", "put"):
        statuses.add(413)  # more items, or more bytes, than one sync may send
    if (path, method) == ("/matches/{match_id}/regisseur", "delete"):
        statuses.add(403)
    if path not in PUBLIC_PATHS:
        statuses.add(403)  # the acting professional lacks the role for this endpoint
    if path == "/oauth/token":
        statuses.add(429)  # throttled per client address (ratelimit.py)
    # Every operation reads or writes the database, and answers 503 while it is unreachable.
    statuses.add(503)
    if path == "/health":
        statuses = {503}
    return sorted(statuses)


def build_document(api: Api) -> dict[str, Any]:
    spec: dict[str, Any] = copy.deepcopy(api.spec.to_dict())
    # Relative, so the document is right on whatever host serves it.
    spec["servers"] = [{"url": PREFIX, "description": "This service"}]
    spec["info"].update(
        {
            "description": (
                "Verwijsindex: a privacy-preserving referral index for Dutch youth care. "
                "It records that a professional is involved with a young person, never why; "
                "BSNs are pseudonymised on arrival and never returned."
            ),
            "contact": {
                "name": "verwijsindex maintainers",
                "email": "beheer@verwijsindex.example",
                "url": "https://github.com/verwijsindex/verwijsindex",
            },
            "license": {"name": "EUPL-1.2", "url": "https://eupl.eu/1.2/en/"},
        }
    )
    components = spec.setdefault("components", {})
    components.setdefault("schemas", {}).pop("Error", None)
    components.pop("responses", None)
    components["headers"] = {
        "API-Version": {
            "description": "The full version of this API (semver)",
            "schema": {"type": "string", "example": API_VERSION},
        }
    }
    components["securitySchemes"] = {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A system token (with X-Professional-Id) or a personal token",
        },
        "clientCredentials": {
            "type": "oauth2",
            "flows": {"clientCredentials": {"tokenUrl": f"{PREFIX}/oauth/token", "scopes": {}}},
        },
    }
    components["parameters"] = {
        "ProfessionalId": {
            "name": "X-Professional-Id",
            "in": "header",
            "required": False,
            "description": "With a system token: the professional of the system's own "
            "organisation on whose behalf the call acts. Implied by a personal token.",
            "schema": {"type": "string", "format": "uuid"},
        }
    }
    paths: dict[str, Any] = {}
    for full_path, item in spec.get("paths", {}).items():
        path = full_path.removeprefix(PREFIX) or "/"
        for method, operation in item.items():
            if method == "parameters":
                continue
            _conform_operation(path, method, operation)
        paths[path] = item
    spec["paths"] = paths
    return spec


def _conform_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = {
        code: response
        for code, response in operation.get("responses", {}).items()
        if code != "default" and not str(code).startswith(("4", "5"))
    }
    for response in responses.values():
        response.setdefault("headers", {})["API-Version"] = {
            "$ref": "#/components/headers/API-Version"
        }
    for status in _error_statuses(path, method, operation):
        responses[str(status)] = _problem_response(status)
    operation["responses"] = responses
    if path.startswith(SYSTEM_PATH_PREFIX):
        operation["security"] = [{"bearerAuth": []}]
    elif path not in PUBLIC_PATHS:
        operation["security"] = [{"bearerAuth": []}]
        operation.setdefault("parameters", []).append(
            {"$ref": "#/components/parameters/ProfessionalId"}
        )
    elif path == "/oauth/token":
        operation["security"] = [{}]
    else:
        operation["security"] = []
