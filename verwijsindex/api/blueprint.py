"""The flask-smorest Blueprint all API modules use: invalid input is a 400, not a 422."""

from __future__ import annotations

import flask_smorest
from webargs.flaskparser import FlaskParser


class InvalidInputParser(FlaskParser):
    """ADR /core/error-handling/invalid-input: a 400 problem listing every invalid param."""

    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = InvalidInputParser()
