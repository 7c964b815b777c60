"""JSON shapes of `/monitoring`: matches as the regievoerder sees them (Jeugdwet 7.1.3.2)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from verwijsindex import gemeenten
from verwijsindex.api.schemas import (
    PageQuerySchema,
    ProfessionalBriefSchema,
    participant_region,
)
from verwijsindex.domain import MatchType, gemeente_problems
from verwijsindex.services.monitoring import FOLLOW_UP_STATES

_STATES = (
    "`overdue`: a participant has not followed up within 10 working days of joining; "
    "`open`: someone has not followed up yet, nobody is overdue; `done`: everyone followed up."
)


class MonitoringQuerySchema(PageQuerySchema):
    follow_up = fields.String(
        data_key="followUp",
        validate=validate.OneOf(FOLLOW_UP_STATES),
        metadata={"description": f"Only matches in this follow-up state. {_STATES}"},
    )
    gemeente = fields.String(
        metadata={
            "description": "Only matches with a signal naming this gemeente (CBS code). One "
            "outside the caller's assigned gemeenten is a 403.",
            "pattern": "^GM[0-9]{4}$",
            "example": "GM0935",
        },
    )

    @validates("gemeente")
    def known_gemeente(self, value: str, **_: Any) -> None:
        problems = gemeente_problems(value, gemeenten.current())
        if problems:
            raise ValidationError(problems[0].reason)


class MonitoredParticipantSchema(Schema):
    professional_id = fields.Function(lambda p: str(p.professional.id), data_key="professionalId")
    name = fields.Function(lambda p: p.professional.name)
    organisation = fields.Function(lambda p: p.professional.organisation.name)
    sector = fields.Function(lambda p: p.professional.organisation.sector.value)
    phone = fields.Function(lambda p: p.professional.phone)
    email = fields.Function(lambda p: p.professional.email)
    region = participant_region()
    since = fields.DateTime(metadata={"description": "When this participant joined the match."})
    is_regisseur = fields.Boolean(data_key="isRegisseur")
    followed_up_at = fields.DateTime(
        data_key="followedUpAt",
        allow_none=True,
        metadata={"description": "When this participant marked the match as followed up."},
    )
    overdue = fields.Boolean(
        metadata={"description": "Not followed up within 10 working days of joining."}
    )


class MonitoredMatchSchema(Schema):
    id = fields.UUID()
    type = fields.Enum(MatchType, by_value=True)
    created_at = fields.DateTime(data_key="createdAt")
    participants = fields.List(fields.Nested(MonitoredParticipantSchema))
    regisseur = fields.Nested(MonitoredParticipantSchema, allow_none=True)
    follow_up = fields.String(
        data_key="followUp", metadata={"description": _STATES, "enum": list(FOLLOW_UP_STATES)}
    )
    gemeenten = fields.List(
        fields.String(), metadata={"description": "The gemeenten its signals name (CBS codes)."}
    )
    checked_at = fields.DateTime(
        data_key="checkedAt",
        allow_none=True,
        metadata={"description": "When a regievoerder recorded that contact was checked."},
    )
    checked_by = fields.Nested(ProfessionalBriefSchema, data_key="checkedBy", allow_none=True)


class MonitoredMatchPageSchema(Schema):
    items = fields.List(fields.Nested(MonitoredMatchSchema))
    next = fields.String(allow_none=True)
