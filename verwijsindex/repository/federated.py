"""What is this region's own, as opposed to mirrored from another region by federation
(docs/federation.md, point 5): one place for the conditions the queries add.

A mirrored signal (`signals.feed = 'fed'`) belongs to a proxy professional of a proxy
organisation (`organisations.region` set). Its home region runs its lifecycle (archiving,
deletion, the 23rd birthday, reminders) and counts it; here it only shows in matches, the
history and subject access. Its proxy professional gets no mail, no login and no role here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_

from verwijsindex.models import OrganisationRow, SignalRow

# `signals.feed` of a mirrored signal (models/federation.py).
FEDERATED_FEED = "fed"


def local_signal(signal: Any = SignalRow) -> ColumnElement[bool]:
    """The signal was registered in this region (by hand, import or sync), not mirrored.
    `feed` is NULL for signals registered by hand, hence not a plain `!=`."""
    return or_(signal.feed.is_(None), signal.feed != FEDERATED_FEED)


def local_organisation(organisation: Any = OrganisationRow) -> ColumnElement[bool]:
    """The organisation is this region's own, not another region's mirrored here."""
    result: ColumnElement[bool] = organisation.region.is_(None)
    return result
