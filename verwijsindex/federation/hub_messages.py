"""The hub's request bodies, parsed and checked (docs/federation.md, "Hub").

Everything a region may get wrong is a 400 here, before the hub reads or locks anything;
details name the field, never its value (a value is a pseudonym).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from verwijsindex.federation.problems import invalid
from verwijsindex.federation.wire import bounded_list, check_element

MAX_HOLDINGS = 1000
MAX_PARENTS = 20
STATUSES = ("active", "archived", "gone")


@dataclass(frozen=True, slots=True)
class Holding:
    """A region's statement on one of its children: `gone` withdraws it."""

    child: str
    parents: tuple[str, ...]
    status: str
    expires_at: datetime | None


def _object(body: object) -> dict[str, object]:
    if not isinstance(body, dict):
        raise invalid("The body must be a JSON object.")
    return body


def key_version_of(body: dict[str, object]) -> int:
    version = body.get("keyVersion")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise invalid("keyVersion must be a positive integer")
    return version


def _timestamp(value: object, name: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise invalid(f"{name} must be an RFC 3339 date-time with a time zone")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(f"{name} must be an RFC 3339 date-time with a time zone") from None
    if parsed.tzinfo is None:
        raise invalid(f"{name} must name its time zone (e.g. 2028-11-30T00:00:00Z)")
    return parsed.astimezone(UTC)


def _holding(item: object, index: int) -> Holding:
    name = f"holdings[{index}]"
    if not isinstance(item, dict):
        raise invalid(f"{name} must be an object")
    child = check_element(item.get("child"), f"{name}.child")
    status = item.get("status")
    if status not in STATUSES:
        raise invalid(f"{name}.status must be one of {', '.join(STATUSES)}")
    assert isinstance(status, str)
    raw_parents = item.get("parents", [])
    parents = bounded_list(raw_parents, f"{name}.parents", 0, MAX_PARENTS)
    checked = tuple(
        sorted({check_element(p, f"{name}.parents[{i}]") for i, p in enumerate(parents)})
    )
    if child in checked:
        raise invalid(f"{name}: a child cannot be its own parent")
    expires = item.get("expiresAt")
    if status == "gone":
        return Holding(child, (), status, None)
    return Holding(child, checked, status, _timestamp(expires, f"{name}.expiresAt"))


def parse_publish(body: object) -> tuple[int, list[Holding]]:
    """`{"keyVersion": 1, "holdings": [...]}`; each child at most once."""
    fields = _object(body)
    version = key_version_of(fields)
    items = bounded_list(fields.get("holdings"), "holdings", 0, MAX_HOLDINGS)
    holdings = [_holding(item, i) for i, item in enumerate(items)]
    if len({h.child for h in holdings}) != len(holdings):
        raise invalid("holdings name a child more than once")
    return version, holdings


def parse_lookup(body: object) -> tuple[int, list[str]]:
    """`{"keyVersion": 1, "children": [...]}`."""
    fields = _object(body)
    version = key_version_of(fields)
    items = bounded_list(fields.get("children"), "children", 0, MAX_HOLDINGS)
    children = [check_element(c, f"children[{i}]") for i, c in enumerate(items)]
    return version, list(dict.fromkeys(children))


def parse_after(value: str | None) -> int:
    """The `after` query parameter of GET /notices: a sequence number, 0 when absent."""
    if value is None or value == "":
        return 0
    if not value.isdigit() or len(value) > 18:
        raise invalid("after must be a non-negative integer")
    return int(value)
