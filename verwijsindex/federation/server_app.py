"""The hub's and the key holder's HTTP servers (docs/federation.md, "Messages"): a small
Flask app per mode, served by `verwijsindex hub serve` / `verwijsindex keyholder serve`.

Every route but the health check wants `Authorization: Bearer <client assertion>` from an
enrolled member, addressed to this server's member name; the assertion's `jti` is
remembered (committed in a transaction of its own, so a refused operation cannot be
replayed either). Every error is problem+json: a stack trace or a value from the request
never reaches the caller, and a pseudonym never reaches the log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask, Response, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from verwijsindex import access_log
from verwijsindex.config import Settings
from verwijsindex.crypto import KeyRing, load_keys
from verwijsindex.db import Database, DatabaseError, describe, is_unavailable, with_retries
from verwijsindex.federation import hub, hub_messages, keyholder, members
from verwijsindex.federation.identity import (
    Identity,
    NotAuthenticated,
    signing_key,
    verify,
)
from verwijsindex.federation.problems import FederationProblem
from verwijsindex.federation.settings import NAME, FederationSettings

MODES = ("keyholder", "hub")
PROBLEM_JSON = "application/problem+json"
# 1000 holdings with 20 parents each stay well below this; anything larger is no region.
MAX_BODY_BYTES = 2 * 1024 * 1024
RETRY_AFTER_SECONDS = 5
EXTENSION = "verwijsindex.federation"
log = logging.getLogger(__name__)
T = TypeVar("T")
Clock = Callable[[], datetime]


def _system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Server:
    """What a request needs: mode, own member name, database, keys, signing identity."""

    mode: str
    name: str
    database: Database
    keys: KeyRing
    identity: Identity
    federation: FederationSettings
    clock: Clock

    def transaction(self, work: Callable[[Session], T]) -> T:
        """`work` in one writing transaction, committed; run again after a deadlock."""

        def attempt() -> T:
            with self.database.unit_of_work(write=True) as uow:
                result = work(uow.session)
                uow.commit()
                return result

        return with_retries(attempt)


@dataclass(frozen=True, slots=True)
class Caller:
    name: str
    key: Ed25519PublicKey


def problem(
    status: int,
    detail: str,
    *,
    extra: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank" if status >= 500 else f"urn:verwijsindex:problem:{status}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **(extra or {}),
    }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _answer(body: Mapping[str, Any]) -> Response:
    response = Response(json.dumps(body), status=200, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _json_body() -> object:
    try:
        return json.loads(request.get_data(cache=False))
    except (ValueError, UnicodeDecodeError):
        raise FederationProblem(400, "The body is not valid JSON.") from None


def _server() -> Server:
    from flask import current_app

    found: Server = current_app.extensions[EXTENSION]
    return found


def _audit_refusal(server: Server, member: str | None, detail: dict[str, object]) -> None:
    """A refused call on the audit record, in a transaction of its own (the call's own
    transaction was rolled back)."""
    rule = request.url_rule
    entry = {"route": rule.rule if rule is not None else "-", **detail}
    try:
        server.transaction(
            lambda s: members.audit(s, member, f"{server.mode}:refused", entry, server.clock())
        )
    except DatabaseError as error:
        log.warning("could not audit a refused federation call: %s", describe(error))


def authenticate(server: Server) -> Caller:
    """The calling member, from its client assertion; NotAuthenticated otherwise."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("an Authorization: Bearer <client assertion> header is required")
    keys: dict[tuple[str, str], Ed25519PublicKey] = {}

    def check(session: Session) -> Caller:
        look_up = members.key_lookup(session)

        def key_of(member: str, kid: str) -> Ed25519PublicKey | None:
            key = look_up(member, kid)
            if key is not None:
                keys[(member, kid)] = key
            return key

        # The replay memory runs on the real clock: the assertion's exp is real time.
        verified = verify(
            token.strip(),
            audience=server.name,
            key_of=key_of,
            seen=members.jti_memory(session, datetime.now(UTC)),
        )
        member = str(verified.claims["iss"])
        return Caller(member, keys[(member, verified.kid)])

    return server.transaction(check)


def _handle(server: Server, work: Callable[[Caller], Response]) -> Response:
    """Authenticate, run `work`, and turn every refusal into problem+json (audited)."""
    try:
        caller = authenticate(server)
    except NotAuthenticated as error:
        _audit_refusal(server, None, {"status": 401, "reason": str(error)})
        return problem(401, f"Not authenticated: {error}.", headers={"WWW-Authenticate": "Bearer"})
    try:
        return work(caller)
    except FederationProblem as refused:
        _audit_refusal(server, caller.name, {"status": refused.status})
        return problem(refused.status, refused.detail, extra=refused.extra, headers=refused.headers)


# --- key holder -----------------------------------------------------------------------------


def evaluate_route() -> Response:
    server = _server()

    def work(caller: Caller) -> Response:
        blinded = keyholder.parse_blinded(_json_body())
        done = server.transaction(
            lambda s: keyholder.evaluate(
                s,
                server.keys.cipher,
                caller.name,
                blinded,
                server.federation.keyholder_rate_per_minute,
                server.clock(),
            )
        )
        return _answer({"keyVersion": done.key_version, "evaluatedElements": done.evaluated})

    return _handle(server, work)


def _version_param(name: str) -> int:
    value = request.args.get(name, "")
    if not value.isdigit() or len(value) > 9 or int(value) < 1:
        raise FederationProblem(400, f"{name} must be a key version (a positive integer)")
    return int(value)


def rekey_route() -> Response:
    server = _server()

    def work(caller: Caller) -> Response:
        old, new = _version_param("from"), _version_param("to")
        factor = server.transaction(
            lambda s: keyholder.rekey_factor(
                s, server.keys.cipher, caller.name, old, new, server.clock()
            )
        )
        return _answer({"from": old, "to": new, "factor": factor})

    return _handle(server, work)


# --- hub ------------------------------------------------------------------------------------


def holdings_route() -> Response:
    server = _server()

    def work(caller: Caller) -> Response:
        version, holdings = hub_messages.parse_publish(_json_body())
        server.transaction(lambda s: hub.sweep(s, server.clock()))
        results = server.transaction(
            lambda s: hub.publish(
                s, server.identity, caller.name, caller.key, version, holdings, server.clock()
            )
        )
        return _answer({"results": results})

    return _handle(server, work)


def lookup_route() -> Response:
    server = _server()

    def work(caller: Caller) -> Response:
        version, children = hub_messages.parse_lookup(_json_body())
        results = server.transaction(
            lambda s: hub.lookup(
                s, server.identity, caller.name, caller.key, version, children, server.clock()
            )
        )
        return _answer({"results": results})

    return _handle(server, work)


def notices_route() -> Response:
    server = _server()

    def work(caller: Caller) -> Response:
        after = hub_messages.parse_after(request.args.get("after"))
        found = server.transaction(lambda s: hub.notices(s, caller.name, after, server.clock()))
        return _answer(found)

    return _handle(server, work)


# --- both -----------------------------------------------------------------------------------


def health_route() -> Response:
    """Unauthenticated: is the process up and its database reachable."""
    server = _server()
    with server.database.unit_of_work(write=False) as uow:
        uow.session.connection()
    return _answer({"status": "ok", "mode": server.mode, "name": server.name})


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    headers: dict[str, str] = {}
    if status == 405:
        allowed = error.get_response().headers.get("Allow")
        if allowed:
            headers["Allow"] = allowed
    detail = {
        404: "There is no such resource.",
        405: "This method is not allowed here.",
        413: f"The body is larger than {MAX_BODY_BYTES} bytes.",
    }.get(status, "The request cannot be answered.")
    return problem(status if status < 500 else 500, detail, headers=headers)


def _database_error(error: DatabaseError) -> Response:
    if is_unavailable(error):
        log.warning("database unavailable: %s", describe(error))
        return problem(
            503,
            "The database is unavailable; try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    log.error("database error: %s", describe(error))
    return problem(500, "Something went wrong on our side.")


def _unexpected(error: Exception) -> Response:
    # As the API does: the traceback to the log, nothing of it to the caller.
    log.error("unexpected %s in a federation call", type(error).__name__, exc_info=error)
    return problem(500, "Something went wrong on our side.")


def create_federation_app(
    mode: str,
    settings: Settings | None = None,
    federation: FederationSettings | None = None,
    *,
    clock: Clock | None = None,
) -> Flask:
    """The key holder's or the hub's WSGI app. Keys are loaded, not made (`serve` makes
    them and migrates the database before gunicorn starts)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    settings = settings or Settings.from_env()
    federation = federation or FederationSettings.from_env()
    name = federation.member_name(mode)
    if not NAME.match(name):
        raise ValueError("invalid member name")
    server = Server(
        mode=mode,
        name=name,
        database=Database(settings.database_url),
        keys=load_keys(settings.keys_dir),
        identity=Identity(name, signing_key(settings.keys_dir)),
        federation=federation,
        clock=clock or _system_clock,
    )
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions[EXTENSION] = server
    app.add_url_rule("/federation/v1/health", "health", health_route, methods=["GET"])
    if mode == "keyholder":
        app.add_url_rule("/federation/v1/evaluate", "evaluate", evaluate_route, methods=["POST"])
        app.add_url_rule("/federation/v1/rekey", "rekey", rekey_route, methods=["GET"])
    else:
        app.add_url_rule("/federation/v1/holdings", "holdings", holdings_route, methods=["POST"])
        app.add_url_rule("/federation/v1/lookup", "lookup", lookup_route, methods=["POST"])
        app.add_url_rule("/federation/v1/notices", "notices", notices_route, methods=["GET"])
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DatabaseError, _database_error)
    app.register_error_handler(Exception, _unexpected)
    access_log.init_app(app)
    return app


def server_of(app: Flask) -> Server:
    found: Server = app.extensions[EXTENSION]
    return found
