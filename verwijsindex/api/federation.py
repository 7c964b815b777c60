"""`POST /federation/v1/participants`: another region asks, with a hub ticket, who in this
region is involved with children it holds too (docs/federation.md, "Region to region").

A plain Flask blueprint outside `/api/v1`: it is a protocol between regions, not part of
the public API, so it is left out of the served OpenAPI document (and its ADR lint) on
purpose; docs/federation.md is its description. Errors are problem+json like every other.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from verwijsindex.domain import InvalidInput, Problem
from verwijsindex.services.core import Core
from verwijsindex.services.federation_answer import answer_participants

blp = Blueprint("federation", __name__, url_prefix="/federation/v1")


def _core() -> Core:
    found: Core = current_app.extensions["verwijsindex"]
    return found


@blp.post("/participants")
def participants() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidInput([Problem("body", "A JSON object is required.")])
    answer = answer_participants(
        _core(),
        request.headers.get("Authorization"),
        request.headers.get("Federation-Ticket"),
        body,
    )
    return jsonify(answer)
