"""Marshmallow schemas: the JSON shapes of contract section 5, in camelCase.

Request schemas refuse unknown fields (contract 2.2: nothing can be smuggled in) and report
every problem at once: field errors, and the cross-field rules of the domain run on what
could be parsed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from verwijsindex import domain, gemeenten
from verwijsindex.api.context import core
from verwijsindex.domain import Bsn, Informatieplicht, NewSignal, Postponement, PostponementReason
from verwijsindex.pseudonym import parse_bsn

BSN_REASON = "Not a valid BSN: nine digits that pass the elfproef."


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class BsnField(fields.String):
    """Deserialises to an opaque `Bsn`; the error message never repeats the input."""

    default_error_messages = {"invalid": BSN_REASON}  # noqa: RUF012

    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> Bsn:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        parsed = parse_bsn(value)
        if parsed is None:
            raise self.make_error("invalid")
        return parsed


def strict_boolean(**kwargs: Any) -> fields.Boolean:
    """JSON `true`/`false` only; marshmallow would also take "yes", "on" and 1."""
    return fields.Boolean(truthy={True}, falsy={False}, **kwargs)


def _bsn_field(**kwargs: Any) -> BsnField:
    return BsnField(
        metadata={
            "description": "Burgerservicenummer (9 digits, elfproef). Pseudonymised on arrival.",
            "pattern": "^[0-9]{9}$",
            "example": "111222333",
        },
        **kwargs,
    )


class PostponementSchema(StrictSchema):
    reason = fields.Enum(PostponementReason, by_value=True, required=True)
    justification = fields.String(
        required=True,
        validate=validate.Length(min=1, max=domain.JUSTIFICATION_MAX_LENGTH),
        metadata={"description": "Why informing is postponed; stored encrypted."},
    )
    review_on = fields.Date(required=True, data_key="reviewOn")

    @validates("review_on")
    def review_date_ahead(self, value: date, **_: Any) -> None:
        # Checked here as well as in the domain, so it is reported with the other fields.
        if value <= core().local_date(core().now()):
            raise ValidationError("The review date must lie ahead.")

    @validates("justification")
    def justification_not_blank(self, value: str, **_: Any) -> None:
        if not value.strip():
            raise ValidationError("A justification is required.")
        if domain.mentions_bsn(value):
            # The reason never repeats the number (contract §2.6).
            raise ValidationError(domain.BSN_IN_JUSTIFICATION)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Postponement:
        return Postponement(**data)


def _own_reference_field(
    description: str = "Your own short reference to tell your cases apart (max "
    f"{domain.OWN_REFERENCE_MAX_LENGTH} characters). Not case content: no names, no "
    "diagnoses. Stored encrypted, shown only to you.",
) -> fields.String:
    return fields.String(
        allow_none=True,
        data_key="ownReference",
        validate=validate.Length(max=domain.OWN_REFERENCE_MAX_LENGTH),
        metadata={"description": description, "example": "dossier 2026-17"},
    )


class InformatieplichtInSchema(StrictSchema):
    child_informed = strict_boolean(load_default=False, data_key="childInformed")
    parents_informed = strict_boolean(load_default=False, data_key="parentsInformed")
    postponement = fields.Nested(PostponementSchema, load_default=None, allow_none=True)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Informatieplicht:
        return Informatieplicht(**data)


class SignalInSchema(StrictSchema):
    bsn = _bsn_field(required=True)
    birth_date = fields.Date(required=True, data_key="birthDate")
    parent_bsns = fields.List(
        _bsn_field(),
        load_default=list,
        data_key="parentBsns",
        validate=validate.Length(max=domain.MAX_PARENTS),
    )
    informatieplicht = fields.Nested(InformatieplichtInSchema, required=True)
    gemeente = fields.String(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "CBS code of the child's municipality; absent: the organisation's "
            "default (if any).",
            "pattern": "^GM[0-9]{4}$",
            "example": "GM0363",
        },
    )
    own_reference = _own_reference_field()

    @validates_schema(skip_on_field_errors=False)
    def domain_rules(self, data: dict[str, Any], **_: Any) -> None:
        # Fields that failed to parse are absent or still raw here; check only the rest.
        parents = data.get("parent_bsns")
        duty = data.get("informatieplicht")
        gemeente = data.get("gemeente")
        problems = domain.new_signal_problems(
            child=data.get("bsn"),
            birth_date=data.get("birth_date"),
            parents=parents
            if isinstance(parents, list) and all(isinstance(p, Bsn) for p in parents)
            else None,
            informatieplicht=duty if isinstance(duty, Informatieplicht) else None,
            today=core().local_date(core().now()),
            gemeente=gemeente if isinstance(gemeente, str) else None,
            known_gemeenten=gemeenten.current(),
        )
        reference = data.get("own_reference")
        if isinstance(reference, str):
            problems += domain.own_reference_problems(domain.own_reference(reference))
        if problems:
            errors: dict[str, list[str]] = {}
            for p in problems:
                errors.setdefault(p.name, []).append(p.reason)
            raise ValidationError(errors)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> NewSignal:
        return NewSignal(
            child=data["bsn"],
            birth_date=data["birth_date"],
            parents=tuple(data["parent_bsns"]),
            informatieplicht=data["informatieplicht"],
            gemeente=data["gemeente"],
            own_reference=domain.own_reference(data.get("own_reference")),
        )


class InformatieplichtPatchSchema(StrictSchema):
    child_informed = strict_boolean(data_key="childInformed")
    parents_informed = strict_boolean(data_key="parentsInformed")
    postponement = fields.Nested(
        PostponementSchema,
        allow_none=True,
        metadata={"description": "A new postponement, or null to remove the recorded one."},
    )


class SignalPatchSchema(StrictSchema):
    informatieplicht = fields.Nested(
        InformatieplichtPatchSchema,
        metadata={"description": "Required unless `ownReference` is given."},
    )
    own_reference = _own_reference_field(
        "Your own short reference; null or an empty string removes it. Omitted: unchanged."
    )

    @validates_schema
    def something_to_change(self, data: dict[str, Any], **_: Any) -> None:
        if "informatieplicht" not in data and "own_reference" not in data:
            raise ValidationError({"informatieplicht": ["Missing data for required field."]})
        reference = data.get("own_reference")
        problems = domain.own_reference_problems(domain.own_reference(reference))
        if problems:
            raise ValidationError({"ownReference": [p.reason for p in problems]})


class SignalListQuerySchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(["active", "archived"]))
    page_size = fields.Integer(
        load_default=20, data_key="pageSize", validate=validate.Range(min=1, max=100)
    )
    cursor = fields.String(validate=validate.Length(max=200))


class PageQuerySchema(StrictSchema):
    page_size = fields.Integer(
        load_default=20, data_key="pageSize", validate=validate.Range(min=1, max=100)
    )
    cursor = fields.String(validate=validate.Length(max=200))


class CloseQuerySchema(StrictSchema):
    reason = fields.String(
        validate=validate.OneOf(["risk_gone", "unjustified"]),
        metadata={"description": "`unjustified` erases the signal for good (Jeugdwet 7.1.4.5)."},
    )


# --- responses ------------------------------------------------------------------------------


class ProfessionalBriefSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    organisation = fields.Function(lambda p: p.organisation.name)
    sector = fields.Function(lambda p: p.organisation.sector.value)


class InformatieplichtOutSchema(Schema):
    child_informed = fields.Boolean(data_key="childInformed")
    parents_informed = fields.Boolean(data_key="parentsInformed")
    postponed = fields.Boolean()
    review_on = fields.Date(data_key="reviewOn", allow_none=True)
    reason = fields.Enum(PostponementReason, by_value=True, allow_none=True)
    justification = fields.String(
        allow_none=True, metadata={"description": "Shown only to the author."}
    )


class MatchRefSchema(Schema):
    id = fields.UUID()
    type = fields.Enum(domain.MatchType, by_value=True)


class SignalOutSchema(Schema):
    id = fields.UUID()
    status = fields.Enum(domain.SignalStatus, by_value=True)
    created_at = fields.DateTime(data_key="createdAt")
    active_until = fields.DateTime(data_key="activeUntil")
    archived_until = fields.DateTime(data_key="archivedUntil")
    professional = fields.Nested(ProfessionalBriefSchema)
    informatieplicht = fields.Nested(InformatieplichtOutSchema)
    history_available = fields.Boolean(data_key="historyAvailable")
    matches = fields.List(fields.Nested(MatchRefSchema))
    gemeente = fields.String(
        allow_none=True, metadata={"description": "CBS code of the child's municipality."}
    )
    child_birth_date = fields.Date(
        data_key="birthDate",
        allow_none=True,
        metadata={"description": "The child's birth date, to tell cases apart; author only."},
    )
    own_reference = fields.String(
        data_key="ownReference",
        allow_none=True,
        metadata={"description": "The author's own short reference; shown only to the author."},
    )


class SignalPageSchema(Schema):
    items = fields.List(fields.Nested(SignalOutSchema))
    next = fields.String(allow_none=True)


def _contact_of(participant: domain.Participant) -> dict[str, str] | None:
    contact = participant.contact
    if contact is None:
        return None
    return {
        "professionalId": str(contact.id),
        "name": contact.name,
        "phone": contact.phone,
        "email": contact.email,
        "role": "coordinator",
    }


def participant_region() -> fields.Function:
    """A participant's region: the other region's name for a mirrored participant (federation,
    contract section 11), null for this region's own; shared by every participant schema."""
    return fields.Function(
        lambda p: p.professional.organisation.region,
        allow_none=True,
        metadata={
            "type": "string",
            "nullable": True,
            "description": "The other region this participant works in (federation, contract "
            "section 11); null for this region's own.",
        },
    )


class ParticipantSchema(Schema):
    professional_id = fields.Function(lambda p: str(p.professional.id), data_key="professionalId")
    name = fields.Function(lambda p: p.professional.name)
    organisation = fields.Function(lambda p: p.professional.organisation.name)
    sector = fields.Function(lambda p: p.professional.organisation.sector.value)
    phone = fields.Function(lambda p: p.professional.phone)
    email = fields.Function(lambda p: p.professional.email)
    region = participant_region()
    since = fields.Date()
    is_regisseur = fields.Boolean(data_key="isRegisseur")
    followed_up_at = fields.DateTime(
        data_key="followedUpAt",
        allow_none=True,
        metadata={"description": "When this participant marked the match as followed up."},
    )
    active = fields.Function(
        lambda p: p.professional.active,
        metadata={
            "type": "boolean",
            "description": "False: this professional was deactivated; until their signal is "
            "moved to a colleague, reach `contact` instead.",
        },
    )
    contact = fields.Function(
        _contact_of,
        allow_none=True,
        metadata={
            "type": "object",
            "nullable": True,
            "description": "While this participant is deactivated: the coordinator of their "
            "organisation (`professionalId`, `name`, `phone`, `email`, `role`), who answers "
            "for the signal until it is moved. Null otherwise.",
        },
    )


class MatchOutSchema(Schema):
    id = fields.UUID()
    type = fields.Enum(domain.MatchType, by_value=True)
    created_at = fields.DateTime(data_key="createdAt")
    my_signal_ids = fields.List(fields.UUID(), data_key="mySignalIds")
    participants = fields.List(fields.Nested(ParticipantSchema))
    regisseur = fields.Nested(ParticipantSchema, allow_none=True)


class MatchPageSchema(Schema):
    items = fields.List(fields.Nested(MatchOutSchema))
    next = fields.String(allow_none=True)


class RegisseurInSchema(StrictSchema):
    professional_id = fields.UUID(required=True, data_key="professionalId")


class TokenRequestSchema(StrictSchema):
    grant_type = fields.String(required=True, validate=validate.Equal("client_credentials"))
    client_id = fields.String(validate=validate.Length(max=100))
    client_secret = fields.String(validate=validate.Length(max=200))
    scope = fields.String(validate=validate.Length(max=200))


class TokenResponseSchema(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class HealthSchema(Schema):
    status = fields.String()
    database = fields.String()


class InvalidParamSchema(Schema):
    name = fields.String()
    reason = fields.String()


class ProblemSchema(Schema):
    """RFC 9457 problem details, as used for every error."""

    type = fields.String()
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    invalid_params = fields.List(fields.Nested(InvalidParamSchema), data_key="invalidParams")
    existing_signal_id = fields.UUID(
        data_key="existingSignalId",
        metadata={
            "description": "Only in the 409 of `POST /signals`: the caller's own active "
            "signal on this child (also in `Location`)."
        },
    )


# --- audit log ------------------------------------------------------------------------------


class AuditQuerySchema(StrictSchema):
    since = fields.AwareDateTime(metadata={"description": "From this moment (inclusive)"})
    until = fields.AwareDateTime(metadata={"description": "Before this moment"})
    actor = fields.UUID(metadata={"description": "The acting professional"})
    object_id = fields.UUID(data_key="objectId")
    page_size = fields.Integer(
        load_default=50, data_key="pageSize", validate=validate.Range(min=1, max=100)
    )
    cursor = fields.String(validate=validate.Length(max=30))


class AuditEventSchema(Schema):
    seq = fields.Integer(metadata={"description": "Position in the hash chain"})
    occurred_at = fields.DateTime(data_key="occurredAt")
    action = fields.String(
        metadata={"description": "source:subject:action, e.g. api:signal:create"}
    )
    outcome = fields.String(metadata={"description": "success or denied"})
    actor_id = fields.UUID(data_key="actorId", allow_none=True)
    on_behalf_of = fields.UUID(data_key="onBehalfOf", allow_none=True)
    roles = fields.String(allow_none=True)
    object_type = fields.String(data_key="objectType", allow_none=True)
    object_id = fields.UUID(data_key="objectId", allow_none=True)
    related_ids = fields.Function(
        lambda row: row.related_ids.split() if row.related_ids else [], data_key="relatedIds"
    )
    subject_pseudonym = fields.String(
        data_key="subjectPseudonym",
        allow_none=True,
        metadata={"description": "The data subject's keyed pseudonym; blank once erased"},
    )
    request_id = fields.String(data_key="requestId", allow_none=True)
    client_address = fields.String(data_key="clientAddress", allow_none=True)
    credential = fields.String(
        allow_none=True,
        metadata={
            "description": "Which credential acted: system (client-credentials token), "
            "personal (personal token), web (password and second factor); null for the "
            "service itself and for records from before this field existed"
        },
    )


class AuditEventPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEventSchema))
    next = fields.String(allow_none=True)
