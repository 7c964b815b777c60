"""`/audit-checkpoints`: the audit chain's signed checkpoints, for external witnesses.

Who may read them: a system client calling for itself (client-credentials token, no
`X-Professional-Id`), so that a witness can fetch them unattended, and a privacy officer
with a personal token. A checkpoint holds no personal data (sequence numbers, keyed MACs
that reveal nothing without `keys/audit.key`, times, a signature); what it does reveal is
how busy the index is, which is why it is not public. Reads are not audited for the same
reason: there is no person's data in them, and every read would move the chain.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Protocol

import flask
import flask_smorest
from flask.views import MethodView
from marshmallow import Schema, fields

from verwijsindex.api.blueprint import InvalidInputParser
from verwijsindex.api.context import actor, core, cursor_key, next_url
from verwijsindex.api.schemas import PageQuerySchema
from verwijsindex.domain import Forbidden, Role, Unauthenticated
from verwijsindex.services.audit_chain import list_checkpoints
from verwijsindex.services.auth import authenticate_system

PATH = "/api/v1/audit-checkpoints"


def witness_first() -> None:
    """Authenticate before the query is read (contract section 4): a system acting for
    itself, or else a person who must be a privacy officer."""
    if flask.request.method == "OPTIONS":
        return
    scheme, _, token = flask.request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("A bearer token is required (Authorization: Bearer ...).")
    try:
        authenticate_system(core(), token.strip())
    except Forbidden:  # a personal token
        actor().require(Role.PRIVACY_OFFICER)


class WitnessBlueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = InvalidInputParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(witness_first)


blp = WitnessBlueprint(
    "audit-checkpoints", __name__, url_prefix=PATH, description="Audit checkpoints"
)


class ChainHeadSchema(Schema):
    chain = fields.Integer(metadata={"description": "The chain's number (today only 0)"})
    seq = fields.Integer(metadata={"description": "The sequence number the chain reached"})
    mac = fields.String(metadata={"description": "The MAC of that record (hex)"})


class CheckpointSchema(Schema):
    id = fields.UUID()
    issued_at = fields.DateTime(data_key="issuedAt")
    verified = fields.Boolean(
        allow_none=True,
        metadata={"description": "The issuer had verified every record up to these heads"},
    )
    chains = fields.List(fields.Nested(ChainHeadSchema))
    payload = fields.String(metadata={"description": "The signed JSON, exactly as signed (UTF-8)"})
    signature = fields.String(
        metadata={
            "description": "Ed25519 signature of `payload` (base64); check it with the "
            "operator's keys/audit-checkpoint.pub.pem"
        }
    )


class CheckpointPageSchema(Schema):
    items = fields.List(fields.Nested(CheckpointSchema))
    next = fields.String(allow_none=True)


@blp.route("")
class Checkpoints(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, CheckpointPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Signed checkpoints of the audit chain, newest first.

        Keep every page: a witness that holds a checkpoint can prove the log once reached
        it, whatever later happens to the database. Verify each signature yourself.
        """
        rows, last_key = list_checkpoints(core(), cursor_key(query), query["page_size"])
        return {
            "items": [_fields(row) for row in rows],
            "next": next_url(PATH, last_key, pageSize=query["page_size"]),
        }


class _StoredCheckpoint(Protocol):
    """What the API reads of a stored checkpoint (`list_checkpoints`), named here so that
    the API needs no storage type."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def issued_at(self) -> datetime: ...
    @property
    def payload(self) -> str: ...
    @property
    def signature(self) -> str: ...


def _fields(row: _StoredCheckpoint) -> dict[str, Any]:
    """The stored row; its payload is read, not trusted (the signature is the witness's
    to check), and one that does not parse is served as it is."""
    try:
        body = json.loads(row.payload)
        chains = [{k: c[k] for k in ("chain", "seq", "mac")} for c in body["chains"]]
        verified = bool(body["verified"])
    except (ValueError, KeyError, TypeError):
        chains, verified = [], None
    return {
        "id": row.id,
        "issued_at": row.issued_at,
        "verified": verified,
        "chains": chains,
        "payload": row.payload,
        "signature": row.signature,
    }
