"""JSON shapes of the coordinator's endpoints (contract section 10, Jeugdwet 7.1.3.3).

What a coordinator is sent about a signal is listed field by field here: ids, dates, status,
author, gemeente, match count. Never the child's pseudonym or birth date, nor the
informatieplicht (its justification is for the author alone).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from verwijsindex import domain
from verwijsindex.api.schemas import StrictSchema


def _contact_field(description: str, **kwargs: Any) -> fields.String:
    return fields.String(metadata={"description": description}, **kwargs)


class ContactPatchSchema(StrictSchema):
    """A JSON merge patch of a professional's contact details: omitted fields stay."""

    name = _contact_field("Full name, 1-200 characters.", validate=validate.Length(max=200))
    email = _contact_field(
        "E-mail address; also the login name, so used by one person only.",
        validate=validate.Length(max=254),
    )
    phone = _contact_field("Phone number, e.g. +31 6 1234 5678.", validate=validate.Length(max=20))

    @validates_schema
    def something_to_change(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Give name, email or phone.", "body")


class ProfessionalOutSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    email = fields.String()
    phone = fields.String()
    organisation = fields.Function(lambda p: p.organisation.name)
    organisation_id = fields.Function(lambda p: str(p.organisation.id), data_key="organisationId")
    active = fields.Boolean()


class OrganisationSignalQuerySchema(StrictSchema):
    professional_id = fields.UUID(data_key="professionalId")
    status = fields.String(validate=validate.OneOf(["active", "archived"]))
    page_size = fields.Integer(
        load_default=20, data_key="pageSize", validate=validate.Range(min=1, max=100)
    )
    cursor = fields.String(validate=validate.Length(max=200))


class AuthorSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    active = fields.Boolean(
        metadata={"description": "False: deactivated; their active signals await a transfer."}
    )


class OrganisationSignalSchema(Schema):
    id = fields.UUID()
    status = fields.Enum(domain.SignalStatus, by_value=True)
    created_at = fields.DateTime(data_key="createdAt")
    active_until = fields.DateTime(data_key="activeUntil")
    archived_at = fields.DateTime(data_key="archivedAt", allow_none=True)
    gemeente = fields.String(
        allow_none=True, metadata={"description": "CBS code of the child's municipality."}
    )
    match_count = fields.Integer(
        data_key="matchCount", metadata={"description": "How many matches it is in now."}
    )
    professional = fields.Nested(AuthorSchema, metadata={"description": "Who holds it."})


class OrganisationSignalPageSchema(Schema):
    items = fields.List(fields.Nested(OrganisationSignalSchema))
    next = fields.String(allow_none=True)


class TransferInSchema(StrictSchema):
    professional_id = fields.UUID(
        required=True,
        data_key="professionalId",
        metadata={"description": "An active colleague with the role professional."},
    )


__all__ = [
    "ContactPatchSchema",
    "OrganisationSignalPageSchema",
    "OrganisationSignalQuerySchema",
    "OrganisationSignalSchema",
    "ProfessionalOutSchema",
    "TransferInSchema",
]
