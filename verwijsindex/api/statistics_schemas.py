"""JSON shapes of `/statistics`: months as `YYYY-MM`, counts per kind, small cells null."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from verwijsindex import gemeenten
from verwijsindex.api.schemas import StrictSchema
from verwijsindex.domain import gemeente_problems
from verwijsindex.services.statistics import MAX_MONTHS, SMALL_CELL_THRESHOLD

_MONTH = re.compile(r"[2-9][0-9]{3}-(0[1-9]|1[0-2])")
_HIDDEN = f"null when 1 to {SMALL_CELL_THRESHOLD - 1} (small cell, hidden); 0 is shown."


class MonthField(fields.String):
    """A calendar month as `YYYY-MM`, loaded as the date of its first day."""

    default_error_messages = {"invalid": "A month as YYYY-MM, e.g. 2026-11."}  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$", "example": "2026-11"}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> date:
        if not isinstance(value, str) or not _MONTH.fullmatch(value):
            raise self.make_error("invalid")
        return date(int(value[:4]), int(value[5:]), 1)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else f"{value.year:04d}-{value.month:02d}"


class StatisticsQuerySchema(StrictSchema):
    from_month = MonthField(
        data_key="from",
        metadata={
            "description": "The first month (Dutch local time); by default 11 months before "
            f"`until`. At most {MAX_MONTHS} months from `from` to `until`."
        },
    )
    until_month = MonthField(
        data_key="until",
        metadata={"description": "The last month, included; by default the current month."},
    )
    page_size = fields.Integer(
        load_default=100, data_key="pageSize", validate=validate.Range(min=1, max=100)
    )
    cursor = fields.String(validate=validate.Length(max=60))
    gemeente = fields.String(
        metadata={
            "description": "Only what was counted under this gemeente (CBS code, e.g. GM0363): "
            "signals naming it and matches their registration created. Without it, every "
            "count, also those without a gemeente.",
            "pattern": "^GM[0-9]{4}$",
            "example": "GM0363",
        },
    )

    @validates("gemeente")
    def known_gemeente(self, value: str, **_: Any) -> None:
        problems = gemeente_problems(value, gemeenten.current())
        if problems:
            raise ValidationError(problems[0].reason)


class StatisticsRowSchema(Schema):
    month = MonthField(metadata={"description": "The month (Dutch local time)."})
    sector = fields.String(
        metadata={"description": "The sector of the organisation of the professionals counted."}
    )
    signals = fields.Integer(
        allow_none=True,
        metadata={"description": f"Signals registered in this month and sector; {_HIDDEN}"},
    )
    client_matches = fields.Integer(
        data_key="clientMatches",
        allow_none=True,
        metadata={
            "description": "Cliëntmatches created in this month with a participant of this "
            f"sector; {_HIDDEN}"
        },
    )
    family_matches = fields.Integer(
        data_key="familyMatches",
        allow_none=True,
        metadata={
            "description": "Gezinsmatches created in this month with a participant of this "
            f"sector; {_HIDDEN}"
        },
    )


class StatisticsPageSchema(Schema):
    items = fields.List(fields.Nested(StatisticsRowSchema))
    next = fields.String(allow_none=True)
    small_cell_threshold = fields.Integer(
        data_key="smallCellThreshold",
        metadata={"description": "Counts below this (and above 0) are shown as null."},
    )


class FollowUpRateRowSchema(Schema):
    month = MonthField(metadata={"description": "The month the participants joined the match."})
    sector = fields.String(metadata={"description": "The sector of the participant."})
    due = fields.Integer(
        allow_none=True,
        metadata={
            "description": "Match participations whose 10 working days are over, or that were "
            f"followed up before; {_HIDDEN}"
        },
    )
    in_time = fields.Integer(
        data_key="inTime",
        allow_none=True,
        metadata={"description": f"Of those, followed up within 10 working days; {_HIDDEN}"},
    )
    rate = fields.Float(
        allow_none=True,
        metadata={
            "description": "`inTime` / `due`, rounded to 3 decimals; null when either is hidden."
        },
    )


class FollowUpRatePageSchema(Schema):
    items = fields.List(fields.Nested(FollowUpRateRowSchema))
    next = fields.String(allow_none=True)
    small_cell_threshold = fields.Integer(
        data_key="smallCellThreshold",
        metadata={"description": "Counts below this (and above 0) are shown as null."},
    )
