"""Aggregate counts behind `GET /statistics`: how many signals and matches, per month and
sector.

Kept as counts written in the transaction of the event itself, not computed from the
signals and matches: those must be deleted on time (Jeugdwet art. 7.1.4.5/7.1.4.6), and the
statistics must outlive them. A count names no person, signal, match or organisation, only
a sector, so it is not personal data and may be kept.

Insert-only: each counting transaction adds rows ("n more of this kind, in this sector and
month") and never updates one, so two transactions counting the same cell never wait on
each other (an upserted counter row was locked from the count to the commit). Reads add the
rows up; `compact` in `repository.statistics` folds them into one row per cell.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Date, Index, Integer, String, Table

from verwijsindex.models.base import Base

SIGNALS = "signals"
CLIENT_MATCHES = "client_matches"
FAMILY_MATCHES = "family_matches"
KINDS = (SIGNALS, CLIENT_MATCHES, FAMILY_MATCHES)

# No primary key on purpose: a row is a fact, not an entity, and nothing looks one up.
statistics_counts = Table(
    "statistics_counts",
    Base.metadata,
    # The first day of the month, in Dutch local time (Europe/Amsterdam).
    Column("month", Date, nullable=False),
    Column("sector", String(40), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("count", Integer, nullable=False),
    # The signal's gemeente (CBS code), when it named one; NULL otherwise (and for every row
    # counted before gemeenten existed). Matches are counted under their newest signal's.
    Column("gemeente", String(6), nullable=True),
    CheckConstraint("kind IN ('signals', 'client_matches', 'family_matches')", name="kind_known"),
    Index("ix_statistics_counts_month_sector_kind", "month", "sector", "kind"),
)
