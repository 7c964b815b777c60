"""JSON shapes of `POST /erasure-requests`: the request (a BSN and a reason) and the answer
(what was removed). The answer never carries the BSN, a pseudonym or a professional's name."""

from __future__ import annotations

from marshmallow import Schema, fields

from verwijsindex import domain
from verwijsindex.api.schemas import BsnField, StrictSchema
from verwijsindex.services.erasure import ErasureReason


class ErasureRequestSchema(StrictSchema):
    bsn = BsnField(
        required=True,
        metadata={
            "description": "BSN of the child whose signals are to be removed (9 digits, "
            "elfproef). Pseudonymised on arrival; never returned or stored.",
            "pattern": "^[0-9]{9}$",
            "example": "111222333",
        },
    )
    reason = fields.Enum(
        ErasureReason,
        by_value=True,
        required=True,
        metadata={
            "description": "objection (AVG art. 21), rectification (art. 16) or unlawful "
            "processing (art. 17)"
        },
    )


class RemovedSignalSchema(Schema):
    signal_id = fields.UUID(data_key="signalId", attribute="id")
    organisation = fields.String(attribute="organisation.name")
    sector = fields.Enum(domain.Sector, by_value=True, attribute="organisation.sector")
    region = fields.String(
        attribute="organisation.region",
        allow_none=True,
        metadata={
            "description": "The other region that held it (a mirrored signal, federation); "
            "null for this region's own"
        },
    )
    status = fields.Enum(
        domain.SignalStatus,
        by_value=True,
        metadata={"description": "The status the signal had when it was removed"},
    )
    created_at = fields.DateTime(data_key="createdAt")


class ErasureReportSchema(Schema):
    id = fields.UUID(
        metadata={"description": "Reference of this request; the audit record's object id"}
    )
    removed = fields.List(
        fields.Nested(RemovedSignalSchema),
        metadata={
            "description": "Every signal on the child, active and archived, now erased for "
            "good (oldest first); empty when the index held none"
        },
    )
    matches_changed = fields.Integer(
        data_key="matchesChanged",
        metadata={"description": "Matches the removed signals were in: each shrunk or dissolved"},
    )
