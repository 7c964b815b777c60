"""The HTTP API under `/api/v1` (NL API Design Rules), mounted by `create_app`."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Flask, Response, g, jsonify, request
from flask_smorest import Api

from verwijsindex.api import (
    audit,
    audit_checkpoints,
    coordination,
    docs,
    erasure,
    events,
    federation,
    matches,
    monitoring,
    privacy,
    problems,
    signals,
    statistics,
    sync,
    system,
    webhooks,
)
from verwijsindex.api.openapi import PREFIX, build_document
from verwijsindex.api.schemas import ProblemSchema
from verwijsindex.audit import RequestContext, request_context
from verwijsindex.version import API_VERSION

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# The caller's id is written to the audit log and the access log, so it must not be able to
# carry a BSN (nine digits) or an unkeyed hash of one (hex or base64 of 32 bytes).
_BSN_OR_HASH_LIKE = re.compile(r"[0-9]{9}|[A-Za-z0-9_-]{40}")


def _set_request_context() -> None:
    """Request id (the caller's `X-Request-Id` when it is a sane token, else a new one) and
    client address, for the audit records this request writes."""
    offered = request.headers.get("X-Request-Id", "")
    sane = _REQUEST_ID.fullmatch(offered) and not _BSN_OR_HASH_LIKE.search(offered)
    request_id = offered if sane else str(uuid.uuid4())
    g.request_id = request_id
    g.audit_context_token = request_context.set(
        RequestContext("api", request_id, request.remote_addr)
    )


def _reset_request_context(error: BaseException | None) -> None:
    """Whatever this request set (API or web), the thread's next work starts clean."""
    token = g.pop("audit_context_token", None)
    if token is not None:
        request_context.reset(token)


def _add_standard_headers(response: Response) -> Response:
    response.headers["API-Version"] = API_VERSION
    if "request_id" in g:
        response.headers["X-Request-Id"] = g.request_id
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.config.update(
        # A signal is a few hundred bytes; anything near this is not a signal (413).
        MAX_CONTENT_LENGTH=64 * 1024,
        API_TITLE="verwijsindex",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=None,  # served below, after applying the conventions
    )
    api = Api(app)
    api.spec.components.schema("Problem", schema=ProblemSchema)
    for module in (
        system,
        signals,
        matches,
        privacy,
        erasure,
        audit,
        audit_checkpoints,
        webhooks,
        events,
        sync,
        statistics,
        coordination,
        monitoring,
    ):
        api.register_blueprint(module.blp)
    # Region to region (docs/federation.md): outside /api/v1 and its OpenAPI document.
    app.register_blueprint(federation.blp)
    problems.init_app(app)  # after Api(), so our handlers replace flask-smorest's
    app.before_request(_set_request_context)
    app.after_request(_add_standard_headers)
    app.teardown_request(_reset_request_context)

    @app.get(f"{PREFIX}/openapi.json")
    def openapi_document() -> Any:
        response = jsonify(build_document(api))
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    docs.init_app(app)  # Swagger UI at /api/v1/docs: pages, not operations of the document
    app.extensions["verwijsindex.api"] = api
