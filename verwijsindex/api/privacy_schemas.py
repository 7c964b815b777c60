"""JSON shapes of the privacy endpoints: a signal's history and the subject access report.

Neither carries a professional's name or contact details, a justification, or a BSN.
"""

from __future__ import annotations

from marshmallow import Schema, fields

from verwijsindex import domain
from verwijsindex.api.schemas import BsnField, StrictSchema
from verwijsindex.services.subject_access import SubjectRole


class SubjectAccessRequestSchema(StrictSchema):
    bsn = BsnField(
        required=True,
        metadata={
            "description": "BSN of the person (9 digits, elfproef), reported on as child "
            "and as parent. Pseudonymised on arrival; never returned or stored.",
            "pattern": "^[0-9]{9}$",
            "example": "111222333",
        },
    )


class EarlierSignalSchema(Schema):
    organisation = fields.String(metadata={"description": "The signalling organisation"})
    sector = fields.Enum(domain.Sector, by_value=True)
    created_at = fields.DateTime(data_key="createdAt")
    archived_at = fields.DateTime(data_key="archivedAt")
    region = fields.String(
        allow_none=True,
        metadata={
            "description": "The other region that holds this signal (federation); null for "
            "this region's own"
        },
    )


class SignalHistorySchema(Schema):
    items = fields.List(
        fields.Nested(EarlierSignalSchema),
        metadata={"description": "Archived signals on the same child, newest first"},
    )
    next = fields.String(
        allow_none=True,
        metadata={"description": "Always null: a history is short and returned whole"},
    )


class OrganisationSchema(Schema):
    name = fields.String()
    sector = fields.Enum(domain.Sector, by_value=True)


class ReportedSignalSchema(Schema):
    id = fields.UUID()
    role = fields.Enum(
        SubjectRole,
        by_value=True,
        metadata={"description": "Whether the person is the signal's child or a parent"},
    )
    status = fields.Enum(domain.SignalStatus, by_value=True)
    organisation = fields.String(attribute="organisation.name")
    sector = fields.Enum(domain.Sector, by_value=True, attribute="organisation.sector")
    region = fields.String(
        attribute="organisation.region",
        allow_none=True,
        metadata={
            "description": "The other region that holds this signal (mirrored here by "
            "federation); null for this region's own"
        },
    )
    created_at = fields.DateTime(data_key="createdAt")
    active_until = fields.DateTime(data_key="activeUntil")
    archived_at = fields.DateTime(data_key="archivedAt", allow_none=True)
    archived_until = fields.DateTime(data_key="archivedUntil")
    informing_postponed = fields.Boolean(
        data_key="informingPostponed",
        metadata={"description": "Informing the child or parents was postponed (informatieplicht)"},
    )
    birth_date = fields.Date(
        data_key="birthDate",
        allow_none=True,
        metadata={"description": "The birth date the signal holds; null where role is parent"},
    )


class ReportedParticipantSchema(Schema):
    organisation = fields.String(attribute="organisation.name")
    sector = fields.Enum(domain.Sector, by_value=True, attribute="organisation.sector")
    region = fields.String(
        attribute="organisation.region",
        allow_none=True,
        metadata={
            "description": "The other region this participant works in (federation); null "
            "for this region's own"
        },
    )
    since = fields.Date()
    is_regisseur = fields.Boolean(data_key="isRegisseur")


class ReportedMatchSchema(Schema):
    id = fields.UUID()
    type = fields.Enum(domain.MatchType, by_value=True)
    created_at = fields.DateTime(data_key="createdAt")
    subject_signal_ids = fields.List(
        fields.UUID(),
        data_key="subjectSignalIds",
        metadata={"description": "The reported signals that are in this match"},
    )
    participants = fields.List(fields.Nested(ReportedParticipantSchema))
    regisseur = fields.Nested(
        OrganisationSchema,
        allow_none=True,
        metadata={"description": "The organisation of the procesregisseur, if designated"},
    )


class SubjectAccessReportSchema(Schema):
    id = fields.UUID(
        metadata={"description": "Reference of this report; the audit record's object id"}
    )
    generated_at = fields.DateTime(data_key="generatedAt")
    signals = fields.List(
        fields.Nested(ReportedSignalSchema),
        metadata={"description": "Signals on the person as child or parent, newest first"},
    )
    matches = fields.List(
        fields.Nested(ReportedMatchSchema),
        metadata={"description": "Matches those signals are in, newest first"},
    )
