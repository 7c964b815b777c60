"""The flask-smorest Blueprint all API modules use.

Three things hold for every API endpoint because they are decided here, once:

- the caller is authenticated *before* the body or query is parsed (contract section 4):
  flask-smorest's `@arguments` parses in a wrapper around the view, so a check inside the
  view came too late and a request without credentials learnt the elfproef verdict on the
  BSN it sent. Which endpoints are public and which are for a system acting for itself is
  read from the same lists the OpenAPI document is built from, so the two cannot disagree;
- invalid input is a 400 listing every problem (ADR), not webargs' 422;
- a body in the wrong content type is a 415, decided after authentication;
- JSON bodies are read by `strict_json`: a body that is not acceptable JSON is a 400.
"""

from __future__ import annotations

from typing import Any

import flask
import flask_smorest
from marshmallow import RAISE
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request

from verwijsindex.api import strict_json
from verwijsindex.api.context import actor, system_caller
from verwijsindex.api.openapi import PREFIX, PUBLIC_PATHS, SYSTEM_PATH_PREFIX
from verwijsindex.api.problems import problem
from verwijsindex.domain import InvalidInput, Problem


class InvalidInputParser(FlaskParser):
    """ADR /core/error-handling/invalid-input: a 400 problem listing every invalid param."""

    DEFAULT_VALIDATION_STATUS = 400
    # Unknown query keys are refused too: a mistyped `pagesize` should not pass unnoticed.
    DEFAULT_UNKNOWN_BY_LOCATION = {  # noqa: RUF012 - overrides webargs, which mypy sees as an instance attribute
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
        "querystring": RAISE,
    }

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return webargs_core.missing
        try:
            return strict_json.loads(req.get_data(cache=True))
        except strict_json.UnacceptableJson as refused:
            raise InvalidInput([Problem("body", str(refused))]) from None


def authenticate_first() -> None:
    """Resolve the caller before anything reads the request's body or query: a request
    without valid credentials is a 401, whatever it sends. The views ask again for free
    (`actor()` and `system_caller()` keep their answer for the request)."""
    if flask.request.method == "OPTIONS":
        return  # Flask's automatic answer lists the allowed methods and reads nothing
    path = flask.request.path.removeprefix(PREFIX)
    if path in PUBLIC_PATHS:
        return
    if path.startswith(SYSTEM_PATH_PREFIX):
        system_caller()
    else:
        actor()


_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _expected_content_type() -> str | None:
    if flask.request.method not in _BODY_METHODS or flask.request.url_rule is None:
        return None
    if not flask.request.path.startswith(f"{PREFIX}/"):
        return None  # the web UI's forms are form-encoded
    if not flask.request.content_length and "Transfer-Encoding" not in flask.request.headers:
        return None  # no body (e.g. PUT /matches/{id}/follow-up): nothing to describe
    if flask.request.path == f"{PREFIX}/oauth/token":
        return "application/x-www-form-urlencoded"
    return "application/json"


def check_content_type() -> flask.Response | None:
    expected = _expected_content_type()
    if expected is not None and flask.request.mimetype != expected:
        return problem(415, f"Send the request body as {expected}.")
    return None


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = InvalidInputParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # In this order: a request without valid credentials is a 401 whatever its body,
        # even one sent with the wrong content type (contract section 4).
        self.before_request(authenticate_first)
        self.before_request(check_content_type)
