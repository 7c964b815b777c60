"""The work inside one bulk transaction: `services.bulk` opens the transactions, this module
fills them. See `services.bulk` for what a feed may do to which signals, and why.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from verwijsindex.services.unit_of_work import Transaction

if TYPE_CHECKING:
    from verwijsindex.services.bulk import BulkReport, DesiredSignal, Feed


def active_professionals(
    tx: Transaction, organisation_id: uuid.UUID
) -> dict[uuid.UUID, str | None]:
    """The organisation's active professionals with role `professional`, each with the
    keyed lookup of their e-mail address."""
    raise NotImplementedError


def apply_items(
    tx: Transaction,
    feed: Feed,
    items: Sequence[DesiredSignal],
    report: BulkReport,
    *,
    migration: bool,
) -> None:
    raise NotImplementedError


@contextmanager
def undone(tx: Transaction) -> Iterator[None]:
    raise NotImplementedError
    yield


def absent_signals(
    tx: Transaction,
    feed: Feed,
    present: Collection[str | tuple[uuid.UUID, str]],
    *,
    after: uuid.UUID | None,
    limit: int,
) -> tuple[list[uuid.UUID], uuid.UUID | None]:
    raise NotImplementedError


def close_signals(tx: Transaction, feed: Feed, signal_ids: Sequence[uuid.UUID]) -> None:
    raise NotImplementedError
