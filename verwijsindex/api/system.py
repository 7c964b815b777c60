"""`/health` and `/oauth/token`: the endpoints that need no acting professional."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from flask import Response, request
from flask.views import MethodView

from verwijsindex.api.blueprint import Blueprint
from verwijsindex.api.context import core
from verwijsindex.api.problems import RETRY_AFTER_SECONDS, problem
from verwijsindex.api.schemas import HealthSchema, TokenRequestSchema, TokenResponseSchema
from verwijsindex.services.auth import InvalidClient, token_for_client
from verwijsindex.services.health import database_reachable

blp = Blueprint("system", __name__, url_prefix="/api/v1", description="Health and tokens")


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    def get(self) -> Any:
        """Liveness and database reachability, for load balancers and monitoring.

        503 (problem+json, with `database: unreachable` and `Retry-After`) when the database
        does not answer. A pooled connection that died with a database restart is replaced
        and tried again first, so a database that is back is reported as back.
        """
        if not database_reachable(core()):
            return problem(
                503,
                "The database is unreachable.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                extra={"database": "unreachable"},
            )
        return {"status": "ok", "database": "ok"}


def _basic_credentials() -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    # RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding.
    return (unquote(client_id), unquote(secret)) if sep else None


def _invalid_client() -> Response:
    return problem(
        401,
        "Client authentication failed.",
        headers={"WWW-Authenticate": 'Basic realm="verwijsindex"'},
        extra={"error": "invalid_client"},
    )


@blp.route("/oauth/token")
class Token(MethodView):
    @blp.arguments(
        TokenRequestSchema, location="form", content_type="application/x-www-form-urlencoded"
    )
    @blp.response(200, TokenResponseSchema)
    def post(self, form: dict[str, Any]) -> Any:
        """OAuth 2 client credentials: a bearer token (RS256 JWT) for a school or care system.

        Client authentication by HTTP Basic or by `client_id`/`client_secret` in the form.
        """
        credentials = _basic_credentials()
        if credentials is None:
            if "client_id" not in form or "client_secret" not in form:
                return _invalid_client()
            credentials = (form["client_id"], form["client_secret"])
        try:
            issued = token_for_client(core(), *credentials)
        except InvalidClient:
            return _invalid_client()
        return {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
        }
