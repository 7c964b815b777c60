"""Tables for the regievoerder (Jeugdwet 7.1.3.2): their gemeenten, and matches checked.

A regievoerder is appointed by a municipality to check that matched professionals made
contact; the gemeenten assigned to them bound what they see (none: the whole index).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from verwijsindex.models.base import Base, UtcDateTime


class ProfessionalGemeenteRow(Base):
    """A gemeente (CBS code) assigned to a regievoerder."""

    __tablename__ = "professional_gemeenten"

    professional_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("professionals.id", ondelete="CASCADE"), primary_key=True
    )
    # Indexed by the primary key's second half too: notices look regievoerders up by gemeente.
    gemeente: Mapped[str] = mapped_column(String(6), primary_key=True, index=True)


class MatchCheckRow(Base):
    """That a regievoerder checked the participants of a match made contact: who, when.

    The first check stands (a repeated PUT changes nothing); it goes with the match.
    """

    __tablename__ = "match_checks"

    match_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), primary_key=True
    )
    checked_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("professionals.id"))
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime)
