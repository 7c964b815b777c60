"""The flask-smorest Blueprint all API modules use: invalid input is a 400, not a 422."""

from __future__ import annotations

import json
from typing import Any

import flask
import flask_smorest
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser


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
        # JSON nested thousands deep makes the parser recurse out of stack; that is bad
        # input like any other, so it must be a 400, not a 500.
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", "", 0) from None


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = InvalidInputParser()
