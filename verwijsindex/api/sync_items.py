"""Reading the items of `PUT /sync/signals`, one at a time, by hand.

The shape is `sync_schemas.SyncItemSchema` (which the OpenAPI document shows, and a test
holds these field names to); the reading is written out here because a body has up to
10,000 items and marshmallow takes a few hundred microseconds for each, which made
reading the body cost more than applying it.

A problem with an item's content (a date that is no date, a BSN that is not a string)
belongs to that item: it goes into the run's report and the item is skipped. What refuses
the whole body is what would smuggle something in or make items impossible to tell apart:
an unknown field anywhere (contract 2.2), or an `externalRef` missing or not 1 to 100
characters. Reasons never repeat a value.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from verwijsindex import domain
from verwijsindex.api.problems import safe_field_name
from verwijsindex.domain import (
    Informatieplicht,
    InvalidInput,
    Postponement,
    PostponementReason,
    Problem,
)
from verwijsindex.services.bulk import MAX_EXTERNAL_REF_LENGTH
from verwijsindex.services.sync import SyncItem

FIELDS = ("externalRef", "professionalId", "bsn", "birthDate", "parentBsns", "informatieplicht")
DUTY_FIELDS = ("childInformed", "parentsInformed", "postponement")
POSTPONEMENT_FIELDS = ("reason", "justification", "reviewOn")

REQUIRED = "Missing data for required field."
UNKNOWN = "Unknown field."
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_REASONS = {r.value: r for r in PostponementReason}
_FIELD_SET = frozenset(FIELDS)
_DUTY_FIELD_SET = frozenset(DUTY_FIELDS)
# The four informatieplichten without a postponement, by their two booleans: one object each,
# shared by every item that states it.
_TOLD = {
    (child, parents): Informatieplicht(child, parents)
    for child in (False, True)
    for parents in (False, True)
}


class _Item:
    """The problems found in one item, sorted into its own and the body's."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.own: list[Problem] = []
        self.refused: list[Problem] = []

    def problem(self, name: str, reason: str) -> None:
        self.own.append(Problem(name, reason))

    def unknown(self, body: Mapping[str, Any], known: Sequence[str], prefix: str = "") -> None:
        for key in body.keys() - set(known):
            name = f"{prefix}{safe_field_name(key)}"
            self.refused.append(Problem(f"signals[{self.index}].{name}", UNKNOWN))


def read_items(raw: Sequence[Mapping[str, Any]]) -> list[SyncItem]:
    """Each item's fields in their JSON types, with the problems of its own content.

    Raises `InvalidInput` naming every unknown field and every unusable `externalRef` of
    the body (as `signals[i].field`); the rest is for the run's report.
    """
    items: list[SyncItem] = []
    refused: list[Problem] = []
    for index, body in enumerate(raw):
        plain = _plain(body)
        if plain is not None:
            items.append(plain)
            continue
        found = _Item(index)
        items.append(_read(found, body))
        refused += found.refused
    if refused:
        raise InvalidInput(refused, "The body cannot be accepted; see invalidParams.")
    return items


def _plain(body: Any) -> SyncItem | None:
    """The common item, read in one go: every field there and of its type, no unknown
    field, no postponement. None for anything else, which `_read` then reads field by
    field, with its problems. A nightly body is mostly such items, and this reads them in
    half the time (a unit test holds the two readings to the same result)."""
    if type(body) is not dict or not _FIELD_SET.issuperset(body):
        return None
    ref, born = body.get("externalRef"), body.get("birthDate")
    professional, bsn = body.get("professionalId"), body.get("bsn")
    parents, duty = body.get("parentBsns", []), body.get("informatieplicht")
    if not (
        type(ref) is str
        and 1 <= len(ref) <= MAX_EXTERNAL_REF_LENGTH
        and type(professional) is str
        and type(bsn) is str
        and type(born) is str
        and type(parents) is list
        and len(parents) <= domain.MAX_PARENTS
        and type(duty) is dict
        and _DUTY_FIELD_SET.issuperset(duty)
        and duty.get("postponement") is None
        and _ISO_DATE.fullmatch(born)
        and all(type(parent) is str for parent in parents)
    ):
        return None
    child_told, parents_told = duty.get("childInformed", False), duty.get("parentsInformed", False)
    if type(child_told) is not bool or type(parents_told) is not bool:
        return None
    told = _TOLD[child_told, parents_told]
    try:
        return SyncItem(ref, uuid.UUID(professional), bsn, date.fromisoformat(born), parents, told)
    except ValueError:
        return None


def _read(item: _Item, body: Mapping[str, Any]) -> SyncItem:
    item.unknown(body, FIELDS)
    ref = body.get("externalRef")
    if not isinstance(ref, str) or not 1 <= len(ref) <= MAX_EXTERNAL_REF_LENGTH:
        reason = (
            REQUIRED
            if ref is None
            else f"Between 1 and {MAX_EXTERNAL_REF_LENGTH} characters."
            if isinstance(ref, str)
            else "Not a valid string."
        )
        item.refused.append(Problem(f"signals[{item.index}].externalRef", reason))
        ref = ""
    return SyncItem(
        external_ref=ref,
        professional_id=_uuid(item, body, "professionalId"),
        bsn=_string(item, body, "bsn"),
        birth_date=_date(item, body.get("birthDate", ...), "birthDate", required=True),
        parent_bsns=_parents(item, body.get("parentBsns", [])),
        informatieplicht=_duty(item, body.get("informatieplicht", ...)),
        problems=item.own,
    )


def _uuid(item: _Item, body: Mapping[str, Any], name: str) -> uuid.UUID | None:
    value = body.get(name, ...)
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    item.problem(name, REQUIRED if value is ... else "Not a valid UUID.")
    return None


def _string(item: _Item, body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name, ...)
    if isinstance(value, str):
        return value
    item.problem(name, REQUIRED if value is ... else "Not a valid string.")
    return None


def _date(item: _Item, value: Any, name: str, *, required: bool) -> date | None:
    if value is ...:
        if required:
            item.problem(name, REQUIRED)
        return None
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    item.problem(name, "Not a valid date.")
    return None


def _parents(item: _Item, value: Any) -> list[str] | None:
    if not isinstance(value, list):
        item.problem("parentBsns", "Not a valid list.")
        return None
    wrong = [i for i, parent in enumerate(value) if not isinstance(parent, str)]
    for i in wrong:
        item.problem(f"parentBsns[{i}]", "Not a valid string.")
    if len(value) > domain.MAX_PARENTS:
        item.problem("parentBsns", f"Longer than maximum length {domain.MAX_PARENTS}.")
    return None if wrong or len(value) > domain.MAX_PARENTS else value


def _boolean(item: _Item, body: Mapping[str, Any], name: str) -> bool | None:
    value = body.get(name, False)
    if isinstance(value, bool):
        return value
    item.problem(f"informatieplicht.{name}", "Not a valid boolean.")
    return None


def _duty(item: _Item, value: Any) -> Informatieplicht | None:
    if value is ...:
        item.problem("informatieplicht", REQUIRED)
        return None
    if not isinstance(value, Mapping):
        item.problem("informatieplicht", "Invalid input type.")
        return None
    item.unknown(value, DUTY_FIELDS, "informatieplicht.")
    child = _boolean(item, value, "childInformed")
    parents = _boolean(item, value, "parentsInformed")
    raw = value.get("postponement")
    postponement = _postponement(item, raw) if raw is not None else None
    if child is None or parents is None or (raw is not None and postponement is None):
        return None
    return Informatieplicht(child, parents, postponement)


def _postponement(item: _Item, value: Any) -> Postponement | None:
    prefix = "informatieplicht.postponement"
    if not isinstance(value, Mapping):
        item.problem(prefix, "Invalid input type.")
        return None
    item.unknown(value, POSTPONEMENT_FIELDS, f"{prefix}.")
    raw_reason = value.get("reason")
    reason = _REASONS.get(raw_reason) if isinstance(raw_reason, str) else None
    if reason is None:
        missing = "reason" not in value
        item.problem(
            f"{prefix}.reason", REQUIRED if missing else f"Must be one of: {', '.join(_REASONS)}."
        )
    justification = value.get("justification", ...)
    limit = domain.JUSTIFICATION_MAX_LENGTH
    if not isinstance(justification, str) or not 1 <= len(justification) <= limit:
        problem = (
            REQUIRED
            if justification is ...
            else f"Length must be between 1 and {limit}."
            if isinstance(justification, str)
            else "Not a valid string."
        )
        item.problem(f"{prefix}.justification", problem)
        justification = None
    review_on = _date(item, value.get("reviewOn", ...), f"{prefix}.reviewOn", required=True)
    if reason is None or justification is None or review_on is None:
        return None
    return Postponement(reason, justification, review_on)
