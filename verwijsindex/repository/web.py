"""People at the web UI: finding them at login, lock-out counters, sessions, invitations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from verwijsindex.models import InvitationRow, ProfessionalRow, WebSessionRow
from verwijsindex.repository.base import RepositoryBase


@dataclass(frozen=True, slots=True)
class LoginRecord:
    """What logging in needs to know of a person (no contact data)."""

    professional_id: uuid.UUID
    password_hash: str | None
    totp_secret: str | None
    totp_confirmed: bool
    totp_last_step: int | None
    failed_logins: int
    locked_until: datetime | None
    active: bool


@dataclass(frozen=True, slots=True)
class WebSession:
    token_hash: str
    professional_id: uuid.UUID
    stage: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime


class WebQueries(RepositoryBase):
    def login_record_by_email(self, email: str) -> LoginRecord | None:
        row = self.session.scalar(
            select(ProfessionalRow).where(ProfessionalRow.email_lookup == self.email_lookup(email))
        )
        return self._login_record(row) if row is not None else None

    def login_record(self, professional_id: uuid.UUID) -> LoginRecord | None:
        row = self.session.get(ProfessionalRow, professional_id)
        return self._login_record(row) if row is not None else None

    def _login_record(self, row: ProfessionalRow) -> LoginRecord:
        secret = (
            self._open("professionals", row.id, "totp", row.totp_secret_enc)
            if row.totp_secret_enc
            else None
        )
        return LoginRecord(
            row.id,
            row.password_hash,
            secret,
            row.totp_confirmed_at is not None,
            row.totp_last_step,
            row.failed_logins,
            row.locked_until,
            row.active,
        )

    def update_login_state(self, professional_id: uuid.UUID, **values: object) -> None:
        """Set lock-out and second-factor columns (failed_logins, locked_until, ...)."""
        self.session.execute(
            update(ProfessionalRow).where(ProfessionalRow.id == professional_id).values(**values)
        )

    def set_password_hash(self, professional_id: uuid.UUID, password_hash: str) -> None:
        self.update_login_state(professional_id, password_hash=password_hash)

    def backfill_email_lookups(self) -> int:
        """Give people created before e-mail lookups existed theirs; returns how many."""
        rows = self.session.scalars(
            select(ProfessionalRow).where(ProfessionalRow.email_lookup.is_(None))
        ).all()
        for row in rows:
            email = self._open("professionals", row.id, "email", row.email_enc)
            row.email_lookup = self.email_lookup(email)
        self.session.flush()
        return len(rows)

    # --- sessions --------------------------------------------------------------------------

    def add_web_session(self, web_session: WebSession) -> None:
        self.session.add(
            WebSessionRow(
                token_hash=web_session.token_hash,
                professional_id=web_session.professional_id,
                stage=web_session.stage,
                csrf_token=web_session.csrf_token,
                created_at=web_session.created_at,
                last_seen_at=web_session.last_seen_at,
            )
        )
        self.session.flush()

    def web_session(self, token_hash: str) -> WebSession | None:
        row = self.session.get(WebSessionRow, token_hash)
        if row is None:
            return None
        return WebSession(
            row.token_hash,
            row.professional_id,
            row.stage,
            row.csrf_token,
            row.created_at,
            row.last_seen_at,
        )

    def touch_web_session(self, token_hash: str, **values: object) -> None:
        self.session.execute(
            update(WebSessionRow).where(WebSessionRow.token_hash == token_hash).values(**values)
        )

    def end_web_session(self, token_hash: str) -> None:
        self.session.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == token_hash))

    def end_web_sessions_of(self, professional_id: uuid.UUID) -> None:
        self.session.execute(
            delete(WebSessionRow).where(WebSessionRow.professional_id == professional_id)
        )

    def purge_web_sessions(self, last_seen_before: datetime) -> int:
        result = self.session.execute(
            delete(WebSessionRow).where(WebSessionRow.last_seen_at < last_seen_before)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # --- invitations -----------------------------------------------------------------------

    def add_invitation(
        self, token_hash: str, professional_id: uuid.UUID, now: datetime, expires_at: datetime
    ) -> None:
        self.session.add(
            InvitationRow(
                token_hash=token_hash,
                professional_id=professional_id,
                created_at=now,
                expires_at=expires_at,
                used_at=None,
            )
        )
        self.session.flush()

    def cancel_invitations_of(self, professional_id: uuid.UUID) -> None:
        """Unused invitations of this person stop working (a newer one, or deactivation)."""
        self.session.execute(
            delete(InvitationRow).where(
                InvitationRow.professional_id == professional_id, InvitationRow.used_at.is_(None)
            )
        )

    def use_invitation(self, token_hash: str, now: datetime) -> uuid.UUID | None:
        """The invited professional, marking the invitation used; None if unknown, used or
        expired."""
        row = self.session.get(InvitationRow, token_hash, with_for_update=True)
        if row is None or row.used_at is not None or row.expires_at <= now:
            return None
        row.used_at = now
        self.session.flush()
        return row.professional_id
