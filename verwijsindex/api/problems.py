"""RFC 9457 problem responses for every error the API can give, and nothing else.

Domain errors, HTTP errors (404, 405 with `Allow`, 415), request-parsing errors from
webargs (400 with `invalidParams` listing every problem), an unusable database (503 with
`Retry-After`: down, restarting, out of connections) and unexpected exceptions (a 500
without details; the traceback goes to the log) all leave through `problem()`. Field names
taken from the request are sanitised, so a BSN sent as a JSON *key* is not echoed either.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Iterator, Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, g, json, request
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from verwijsindex.db import DatabaseError, describe, is_unavailable
from verwijsindex.domain import (
    Conflict,
    DomainError,
    DuplicateSignal,
    Forbidden,
    InvalidInput,
    NotFound,
    Problem,
    Unauthenticated,
)

PROBLEM_JSON = "application/problem+json"
# A PostgreSQL restart or fail-over takes seconds; clients should not hammer it meanwhile.
RETRY_AFTER_SECONDS = 5
log = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_STATUS_OF: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
}


# RFC 9110's names where Python's table still has the older RFC 2616 ones.
_REASON_PHRASES = {413: "Content Too Large", 414: "URI Too Long", 422: "Unprocessable Content"}


def problem_title(status: int) -> str:
    """The one title a status gets, whoever raises it: the HTTP reason phrase ("Not Found"),
    so that clients can rely on it and `detail` says what happened."""
    return _REASON_PHRASES.get(status) or HTTPStatus(status).phrase


def problem_type(status: int) -> str:
    return "about:blank" if status >= 500 else f"urn:verwijsindex:problem:{status}"


def problem(
    status: int,
    detail: str,
    *,
    invalid_params: list[Problem] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": problem_type(status),
        "title": problem_title(status),
        "status": status,
        "detail": detail,
    }
    if invalid_params is not None:
        body["invalidParams"] = [{"name": p.name, "reason": p.reason} for p in invalid_params]
    if extra:
        body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def safe_field_name(name: object) -> str:
    """A field name fit to echo: identifiers only, and never a run of digits like a BSN."""
    text = str(name)
    if _SAFE_NAME.fullmatch(text) and not re.search(r"[0-9]{5,}", text):
        return text
    return "(unrecognised field)"


def flatten_messages(messages: object, prefix: str = "") -> Iterator[Problem]:
    """Marshmallow's nested error dict as flat `name`/`reason` pairs (`a.b`, `list[2]`)."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if isinstance(key, int):
                name = f"{prefix}[{key}]"
            elif key == "_schema":
                name = prefix or "body"
            elif "." in str(key):  # already a dotted path, from a schema-level rule
                name = ".".join(safe_field_name(part) for part in str(key).split("."))
                name = f"{prefix}.{name}" if prefix else name
            else:
                name = f"{prefix}.{safe_field_name(key)}" if prefix else safe_field_name(key)
            yield from flatten_messages(value, name)
    elif isinstance(messages, list | tuple):
        for item in messages:
            if isinstance(item, Mapping | list | tuple):
                yield from flatten_messages(item, prefix)
            else:
                yield Problem(prefix or "body", str(item))
    else:
        yield Problem(prefix or "body", str(messages))


def _webargs_problems(data: Mapping[str, Any]) -> list[Problem]:
    messages = data.get("messages", {})
    problems: list[Problem] = []
    for location, errors in messages.items():
        if location == "json" and isinstance(errors, list):
            problems.append(Problem("body", "The body is not valid JSON."))
            continue
        problems.extend(flatten_messages(errors))
    return problems


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None)
    if status in (400, 422) and isinstance(data, Mapping) and "messages" in data:
        return problem(
            400,
            "The request has invalid parameters; see invalidParams.",
            invalid_params=_webargs_problems(data),
        )
    headers: dict[str, str] = {}
    if status == 405:
        allow = dict(error.get_headers()).get("Allow")
        if allow:
            headers["Allow"] = allow
    detail = {
        404: "There is nothing at this address.",
        405: "This method is not supported here; see the Allow header.",
    }.get(status, error.description or "")
    return problem(status, detail, headers=headers)


def handle_domain_error(error: DomainError) -> Response:
    status = next((_STATUS_OF[k] for k in type(error).__mro__ if k in _STATUS_OF), 400)
    headers = {"WWW-Authenticate": 'Bearer realm="verwijsindex"'} if status == 401 else None
    if isinstance(error, InvalidInput):
        return problem(status, error.detail, invalid_params=error.problems)
    if isinstance(error, DuplicateSignal) and error.existing_signal_id is not None:
        # The caller's own signal: where to go on with it, as a 201 would have said.
        existing = str(error.existing_signal_id)
        return problem(
            status,
            error.detail,
            headers={"Location": f"/api/v1/signals/{existing}"},
            extra={"existingSignalId": existing},
        )
    return problem(status, error.detail, headers=headers)


def handle_unexpected(error: Exception) -> Response:
    # The traceback holds no BSN: BSNs live only in `Bsn` objects whose repr is redacted.
    log.exception("unexpected error", exc_info=error)
    return problem(500, "Something went wrong on our side.")


def database_unavailable() -> Response:
    return problem(
        503,
        "The database is temporarily unavailable. Try again later.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def handle_database_error(error: DatabaseError) -> Response:
    """A database that cannot be reached is 503; any other database error is a bug (500).

    Logged as one line plus the stack, without the exception's message body: the
    parameters are hidden by the engine, but PostgreSQL's DETAIL may quote a key.
    """
    if is_unavailable(error):
        log.warning("database unavailable: %s", describe(error))
        return database_unavailable()
    stack = "".join(traceback.format_tb(error.__traceback__))
    log.error("unexpected database error: %s\n%s", describe(error), stack)
    return problem(500, "Something went wrong on our side.")


WebErrorPage = Callable[[Exception], Response]


def _for_web_or_api(handler: Callable[[Any], Response]) -> Callable[[Any], Response]:
    """Errors outside /api/ render the web UI's Dutch error page, when there is a web UI."""

    def handle(error: Any) -> Response:
        web_page: WebErrorPage | None = current_app.extensions.get("verwijsindex.web_error_page")
        if web_page is not None and not request.path.startswith(("/api/", "/federation/")):
            if isinstance(error, DatabaseError):
                api_answer = handle_database_error(error)  # logs it
                if api_answer.status_code == 503:
                    # The page's header asks who is logged in; with the database gone it
                    # must not ask the database again: render it as for a visitor.
                    g.setdefault("web_session", None)
                    page = web_page(ServiceUnavailable())
                    page.headers["Retry-After"] = api_answer.headers["Retry-After"]
                    return page
                return web_page(error)
            if not isinstance(error, HTTPException | DomainError):
                log.exception("unexpected error", exc_info=error)
            return web_page(error)
        return handler(error)

    return handle


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _for_web_or_api(handle_http_exception))
    app.register_error_handler(DomainError, _for_web_or_api(handle_domain_error))
    app.register_error_handler(DatabaseError, _for_web_or_api(handle_database_error))
    app.register_error_handler(Exception, _for_web_or_api(handle_unexpected))
