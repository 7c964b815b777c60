"""People at the web UI (`tx.web`): finding them at login, lock-out counters, sessions,
invitations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, delete, or_, select, update

from verwijsindex.models import InvitationRow, OrganisationRow, ProfessionalRow, WebSessionRow
from verwijsindex.repository.base import RepositoryBase
from verwijsindex.repository.federated import local_organisation


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


class WebRepository(RepositoryBase):
    def login_record_by_email(self, email: str) -> LoginRecord | None:
        return self._local_login_record(ProfessionalRow.email_lookup == self.email_lookup(email))

    def login_record(self, professional_id: uuid.UUID) -> LoginRecord | None:
        return self._local_login_record(ProfessionalRow.id == professional_id)

    def _local_login_record(self, which: ColumnElement[bool]) -> LoginRecord | None:
        """This region's own people only: another region's professionals, mirrored by
        federation, log in (and are invited) in their own region, never here."""
        row = self.session.scalar(
            select(ProfessionalRow)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            .where(which, local_organisation())
        )
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

    # --- lock-out: one statement per step, so parallel attempts cannot overtake the count ----

    def claim_login_attempt(
        self, professional_id: uuid.UUID, now: datetime, lock_after: int, lock_for: timedelta
    ) -> bool:
        """Count an attempt *before* it is evaluated; False when the account is locked.

        Reading the counter and writing it back later let parallel guesses all see "not
        locked" (18 of 10 parallel passwords were evaluated). Here the increment, the
        expiry of an old lock and the new lock are one UPDATE … RETURNING: the attempt that
        takes the last free place sets the lock, and no later attempt is claimed, so at most
        `lock_after` guesses are evaluated per lock period, whatever the concurrency.
        An attempt that turns out right gives its place back (`release_login_attempt`).
        """
        row = ProfessionalRow
        # Inside the WHERE below a lock is either absent or run out: a run-out lock starts
        # the count afresh.
        count = case((row.locked_until.is_not(None), 1), else_=row.failed_logins + 1)
        claimed = self.session.execute(
            update(row)
            .where(
                row.id == professional_id, or_(row.locked_until.is_(None), row.locked_until <= now)
            )
            .values(
                failed_logins=count,
                locked_until=case((count >= lock_after, now + lock_for), else_=None),
            )
            .returning(row.failed_logins)
        ).scalar_one_or_none()
        return claimed is not None

    def release_login_attempt(self, professional_id: uuid.UUID, lock_after: int) -> None:
        """A claimed attempt was right after all (a correct password): it is no failure, and
        the lock it may have set in advance is lifted when the count falls below the limit."""
        row = ProfessionalRow
        count = case((row.failed_logins > 0, row.failed_logins - 1), else_=0)
        self.session.execute(
            update(row)
            .where(row.id == professional_id)
            .values(
                failed_logins=count,
                locked_until=case((count < lock_after, None), else_=row.locked_until),
            )
        )

    def complete_second_factor(
        self, professional_id: uuid.UUID, step: int, now: datetime, *, confirm: bool
    ) -> bool:
        """Record a correct TOTP code: the failure count resets and `step` becomes the last
        one used. False when the step is no longer newer than the last used one (the same
        code used by a parallel request a moment ago): that use is refused, so a code works
        once even when sent twice at the same instant."""
        row = ProfessionalRow
        values: dict[str, object] = {
            "failed_logins": 0,
            "locked_until": None,
            "totp_last_step": step,
        }
        if confirm:
            values["totp_confirmed_at"] = now
        used = self.session.execute(
            update(row)
            .where(
                row.id == professional_id,
                or_(row.totp_last_step.is_(None), row.totp_last_step < step),
            )
            .values(**values)
            .returning(row.id)
        ).scalar_one_or_none()
        return used is not None

    def start_new_enrolment(self, professional_id: uuid.UUID, totp_secret: str) -> None:
        """A new password and a new second factor (accepting an invitation): the old TOTP
        secret is replaced, so the next login shows the set-up page with a fresh QR code,
        and lock-out state is cleared."""
        self.update_login_state(
            professional_id,
            totp_secret_enc=self._seal("professionals", professional_id, "totp", totp_secret),
            totp_confirmed_at=None,
            totp_last_step=None,
            failed_logins=0,
            locked_until=None,
        )

    def set_password_hash(self, professional_id: uuid.UUID, password_hash: str) -> None:
        self.update_login_state(professional_id, password_hash=password_hash)

    def backfill_email_lookups(self) -> int:
        """Give people created before e-mail lookups existed theirs; returns how many."""
        rows = self.session.scalars(
            select(ProfessionalRow)
            .join(OrganisationRow, OrganisationRow.id == ProfessionalRow.organisation_id)
            # Another region's professionals, mirrored by federation, never log in here.
            .where(ProfessionalRow.email_lookup.is_(None), local_organisation())
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

    def invitation_usable(self, token_hash: str, now: datetime) -> bool:
        """Whether `use_invitation` would accept it now (read only: nothing is marked)."""
        row = self.session.get(InvitationRow, token_hash)
        return row is not None and row.used_at is None and row.expires_at > now

    def use_invitation(self, token_hash: str, now: datetime) -> uuid.UUID | None:
        """The invited professional, marking the invitation used; None if unknown, used or
        expired."""
        row = self.session.get(InvitationRow, token_hash, with_for_update=True)
        if row is None or row.used_at is not None or row.expires_at <= now:
            return None
        row.used_at = now
        self.session.flush()
        return row.professional_id
