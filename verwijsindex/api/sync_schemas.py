"""JSON shapes of `PUT /sync/signals` and `GET /sync/runs/{id}` (contract section 9).

The body's items are read one at a time by `sync_items.read_items`, so that one bad item
fails only itself; `SyncItemSchema` is their shape as the OpenAPI document shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from verwijsindex import domain
from verwijsindex.api.schemas import InformatieplichtInSchema, InvalidParamSchema, StrictSchema
from verwijsindex.services.bulk import MAX_EXTERNAL_REF_LENGTH

_BSN_DOC = {
    "description": "Burgerservicenummer (9 digits, elfproef). Pseudonymised on arrival.",
    "pattern": "^[0-9]{9}$",
    "example": "111222333",
}


class SyncItemSchema(StrictSchema):
    external_ref = fields.String(
        required=True,
        data_key="externalRef",
        validate=validate.Length(min=1, max=MAX_EXTERNAL_REF_LENGTH),
        metadata={
            "description": "The source system's own reference for this involvement, unique "
            "within the body; it names the same signal in every later sync. Stored only as "
            "a keyed hash.",
            "example": "leerling-4711/zorg-2",
        },
    )
    professional_id = fields.UUID(
        required=True,
        data_key="professionalId",
        metadata={"description": "An active professional of the client's own organisation."},
    )
    bsn = fields.String(required=True, metadata=_BSN_DOC)
    birth_date = fields.Date(required=True, data_key="birthDate")
    parent_bsns = fields.List(
        fields.String(metadata=_BSN_DOC),
        load_default=list,
        data_key="parentBsns",
        validate=validate.Length(max=domain.MAX_PARENTS),
    )
    informatieplicht = fields.Nested(InformatieplichtInSchema, required=True)


class _EachItem(fields.Nested):
    """Documents an item as `SyncItem`, but passes each one through unread: items are
    read one at a time by `read_items`, so one bad item fails only itself."""

    def _deserialize(
        self,
        value: Any,
        attr: str | None,
        data: Mapping[str, Any] | None,
        partial: bool | Sequence[str] | AbstractSet[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        if not isinstance(value, Mapping):
            raise ValidationError("Each signal must be a JSON object.")
        return value


class _Items(fields.List[Any]):
    """A list of objects passed through in one go; anything else goes to `fields.List`,
    for its errors. Its own way, item by item, cost 10,000 calls a body for nothing."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if type(value) is list and all(isinstance(item, Mapping) for item in value):
            return value
        return super()._deserialize(value, attr, data, **kwargs)


class SyncBodySchema(StrictSchema):
    signals = _Items(
        _EachItem(SyncItemSchema),
        required=True,
        metadata={
            "description": "The complete set of signals this client holds now, at most "
            "10,000 (more is a 413). Signals it sent earlier and that are absent now are "
            "closed; an empty list closes them all.",
            "maxItems": 10_000,
        },
    )


class SyncQuerySchema(StrictSchema):
    dry_run = fields.Boolean(
        truthy={"true"},
        falsy={"false"},
        load_default=False,
        data_key="dryRun",
        metadata={"description": "`true`: report what would happen and change nothing."},
    )


# --- responses ------------------------------------------------------------------------------


class SyncErrorSchema(Schema):
    index = fields.Integer(
        attribute="position", metadata={"description": "The item's 0-based index in the body."}
    )
    external_ref = fields.String(data_key="externalRef", allow_none=True)
    invalid_params = fields.List(
        fields.Nested(InvalidParamSchema), attribute="problems", data_key="invalidParams"
    )


class SyncReportSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer(metadata={"description": "Informatieplicht changed."})
    closed = fields.Integer(
        metadata={"description": "Earlier signals of this client absent from the body."}
    )
    unchanged = fields.Integer()
    errors = fields.List(
        fields.Nested(SyncErrorSchema),
        metadata={"description": "Items skipped, with why; every other item is applied."},
    )


class SyncRunSchema(Schema):
    id = fields.UUID()
    status = fields.String(
        validate=validate.OneOf(["queued", "running", "done", "failed"]),
        metadata={"description": "A client's runs are applied one at a time, in order."},
    )
    dry_run = fields.Boolean(data_key="dryRun")
    total = fields.Integer(metadata={"description": "Items in the body."})
    processed = fields.Integer(
        metadata={"description": "Items settled so far: applied, or in `report.errors`."}
    )
    report = fields.Nested(SyncReportSchema)
    accepted_at = fields.DateTime(data_key="acceptedAt")
    finished_at = fields.DateTime(data_key="finishedAt", allow_none=True)
    failure = fields.String(
        allow_none=True,
        metadata={"description": "Why a `failed` run was given up (null otherwise)."},
    )
