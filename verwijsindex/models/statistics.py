"""Aggregate counters behind `GET /statistics`: how many signals and matches, per month and
sector.

Kept as counters incremented in the transaction of the event itself, not computed from the
signals and matches: those must be deleted on time (Jeugdwet art. 7.1.4.5/7.1.4.6), and the
statistics must outlive them. A counter names no person, signal, match or organisation,
only a sector, so it is not personal data and may be kept.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from verwijsindex.models.base import Base

SIGNALS = "signals"
CLIENT_MATCHES = "client_matches"
FAMILY_MATCHES = "family_matches"
KINDS = (SIGNALS, CLIENT_MATCHES, FAMILY_MATCHES)


class StatisticsCountRow(Base):
    __tablename__ = "statistics_counts"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('signals', 'client_matches', 'family_matches')", name="kind_known"
        ),
    )

    # The first day of the month, in Dutch local time (Europe/Amsterdam).
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    sector: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
