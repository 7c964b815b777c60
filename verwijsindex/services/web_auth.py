"""People logging into the web UI: password, then a TOTP second factor; sessions; invitations.

- Passwords are argon2 hashes; an unknown address costs the same work as a known one and
  gets the same answer, so the login page does not reveal who has an account.
- Failed passwords and codes count towards a lock-out (LOCK_AFTER failures lock the
  account for LOCK_FOR); a full login resets the count.
- A TOTP code is accepted one step either side of now, and never twice (the last step
  used is stored), so an overheard code cannot be replayed.
- Sessions live server-side; the browser holds a random token, the database its SHA-256.
  Each step up (password → second factor → logged in) issues a new token, so a token
  planted before login is worth nothing after it. Sessions end after IDLE without use,
  after MAX_AGE regardless, at logout, and when the person is deactivated.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2.exceptions import VerificationError

from verwijsindex.audit import AuditEntry, Who
from verwijsindex.domain import InvalidInput, NotFound, Problem, Role
from verwijsindex.repository import LoginRecord, WebSession
from verwijsindex.services.admin import MIN_PASSWORD_LENGTH, TOTP_ISSUER, password_hasher
from verwijsindex.services.core import Actor, Core, Transaction
from verwijsindex.services.refusals import Refusal, records_refusals

LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
IDLE = timedelta(minutes=30)
MAX_AGE = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)
INVITATION_VALID = timedelta(days=7)

PASSWORD = "password"  # noqa: S105 - a stage name: the second factor is still to come
TOTP_SETUP = "totp_setup"  # first login: scan the QR code, confirm a code
ACTIVE = "active"

# Verified when the address is unknown, so both paths cost one argon2 verification.
_DUMMY_HASH = password_hasher.hash(secrets.token_urlsafe(16))


class LoginRefused(Exception):
    """`reason` is `credentials` (wrong address, password or code: deliberately one answer)
    or `locked` (too many failures; try again later)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Person:
    """The audit identity of someone not yet logged in."""

    professional_id: uuid.UUID | None

    @property
    def who(self) -> Who:
        return Who(self.professional_id, None, ())


@dataclass(frozen=True, slots=True)
class CurrentSession:
    token_hash: str
    stage: str
    csrf_token: str
    actor: Actor


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _new_session(tx: Transaction, professional_id: uuid.UUID, stage: str) -> str:
    token = secrets.token_urlsafe(32)
    tx.repo.add_web_session(
        WebSession(_hash(token), professional_id, stage, secrets.token_urlsafe(32), tx.now, tx.now)
    )
    return token


def _locked(record: LoginRecord, now: datetime) -> bool:
    return record.locked_until is not None and record.locked_until > now


def _count_failure(tx: Transaction, record: LoginRecord) -> None:
    failures = record.failed_logins + 1
    if failures >= LOCK_AFTER:
        tx.repo.update_login_state(
            record.professional_id, failed_logins=0, locked_until=tx.now + LOCK_FOR
        )
    else:
        tx.repo.update_login_state(record.professional_id, failed_logins=failures)


def log_in(core: Core, email: str, password: str) -> tuple[str, str]:
    """Check the password; returns (session token, stage): `password` when the second factor
    is to come, `totp_setup` at first login (show the QR code)."""
    with core.transaction(write=True) as tx:
        record = tx.repo.login_record_by_email(email)
        tx.who = _Person(record.professional_id if record else None).who
        refusal = _password_refusal(tx, record, password)
        if refusal is not None or record is None:
            tx.record(
                AuditEntry(
                    "session:login-password", "professional", tx.who.professional_id
                ).denied()
            )
            tx.commit()
            raise LoginRefused(refusal or "credentials")
        assert record.password_hash is not None
        if password_hasher.check_needs_rehash(record.password_hash):
            tx.repo.set_password_hash(record.professional_id, password_hasher.hash(password))
        stage = PASSWORD if record.totp_confirmed else TOTP_SETUP
        token = _new_session(tx, record.professional_id, stage)
        tx.record(AuditEntry("session:login-password", "professional", record.professional_id))
        tx.commit()
    return token, stage


def _password_refusal(tx: Transaction, record: LoginRecord | None, password: str) -> str | None:
    if record is None or record.password_hash is None:
        _verifies(_DUMMY_HASH, password)
        return "credentials"
    if _locked(record, tx.now):
        return "locked"
    if not record.active or not _verifies(record.password_hash, password):
        _count_failure(tx, record)
        return "credentials"
    return None


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return password_hasher.verify(password_hash, password)
    except VerificationError:
        return False
    except Exception:  # an invalid stored hash counts as a wrong password, never a 500
        return False


def _check_code(record: LoginRecord, code: str, now: datetime) -> int | None:
    """The time step the code belongs to (now ± one step), if unused; else None."""
    if record.totp_secret is None or not code.strip().isdigit():
        return None
    totp = pyotp.TOTP(record.totp_secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if record.totp_last_step is not None and step <= record.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code.strip()):
            return step
    return None


def complete_login(core: Core, token: str, code: str) -> str:
    """Second factor (or, at first login, its set-up confirmed): returns a new token for
    the logged-in session; the old one ends."""
    with core.transaction(write=True) as tx:
        session = tx.repo.web_session(_hash(token))
        if (
            session is None
            or session.stage not in (PASSWORD, TOTP_SETUP)
            or _expired(session, tx.now)
        ):
            raise LoginRefused("credentials")
        record = tx.repo.login_record(session.professional_id)
        assert record is not None
        tx.who = _Person(record.professional_id).who
        if _locked(record, tx.now) or not record.active:
            tx.repo.end_web_session(session.token_hash)
            tx.record(
                AuditEntry("session:login-code", "professional", record.professional_id).denied()
            )
            tx.commit()
            raise LoginRefused("locked" if record.active else "credentials")
        step = _check_code(record, code, tx.now)
        if step is None:
            _count_failure(tx, record)
            tx.record(
                AuditEntry("session:login-code", "professional", record.professional_id).denied()
            )
            tx.commit()
            raise LoginRefused("credentials")
        values: dict[str, object] = {
            "failed_logins": 0,
            "locked_until": None,
            "totp_last_step": step,
        }
        if session.stage == TOTP_SETUP:
            values["totp_confirmed_at"] = tx.now
        tx.repo.update_login_state(record.professional_id, **values)
        tx.repo.end_web_session(session.token_hash)
        new_token = _new_session(tx, record.professional_id, ACTIVE)
        tx.record(AuditEntry("session:login", "professional", record.professional_id))
        tx.commit()
    return new_token


def totp_provisioning_uri(core: Core, token: str) -> str | None:
    """For the QR code at first login: only while the set-up is pending."""
    with core.transaction(write=False) as tx:
        session = tx.repo.web_session(_hash(token))
        if session is None or session.stage != TOTP_SETUP or _expired(session, tx.now):
            return None
        record = tx.repo.login_record(session.professional_id)
        professional = tx.repo.professional(session.professional_id)
    if record is None or record.totp_secret is None or professional is None:
        return None
    return pyotp.TOTP(record.totp_secret).provisioning_uri(
        name=professional.email, issuer_name=TOTP_ISSUER
    )


def _expired(session: WebSession, now: datetime) -> bool:
    return now - session.last_seen_at > IDLE or now - session.created_at > MAX_AGE


def current_session(core: Core, token: str) -> CurrentSession | None:
    """The session behind a cookie, or None when it is unknown, expired, or its person was
    deactivated. Use is noted at most once a minute (idle expiry needs no finer grain)."""
    token_hash = _hash(token)
    with core.transaction(write=False) as tx:
        session = tx.repo.web_session(token_hash)
        if session is None:
            return None
        professional = tx.repo.professional(session.professional_id)
        now = tx.now
    if professional is None or not professional.active or _expired(session, now):
        with core.transaction(write=True) as tx:
            tx.repo.end_web_session(token_hash)
            tx.commit()
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        with core.transaction(write=True) as tx:
            tx.repo.touch_web_session(token_hash, last_seen_at=tx.now)
            tx.commit()
    return CurrentSession(token_hash, session.stage, session.csrf_token, Actor(professional))


def log_out(core: Core, token: str) -> None:
    with core.transaction(write=True) as tx:
        session = tx.repo.web_session(_hash(token))
        if session is None:
            return
        tx.who = _Person(session.professional_id).who
        tx.repo.end_web_session(session.token_hash)
        tx.record(AuditEntry("session:logout", "professional", session.professional_id))
        tx.commit()


# --- invitations ----------------------------------------------------------------------------


@records_refusals
def invite(core: Core, actor: Actor, professional_id: uuid.UUID) -> str:
    """A one-time invitation token for an active professional (beheerder). Earlier
    invitations of the same person stop working: only the newest link counts."""
    actor.require(Role.BEHEERDER)
    token = secrets.token_urlsafe(32)
    with core.transaction(write=True, actor=actor) as tx:
        record = tx.repo.login_record(professional_id)
        if record is None or not record.active:
            raise Refusal(
                NotFound("No such active professional."),
                AuditEntry("professional:invite", "professional", professional_id),
            )
        tx.repo.cancel_invitations_of(professional_id)
        tx.repo.add_invitation(_hash(token), professional_id, tx.now, tx.now + INVITATION_VALID)
        tx.record(AuditEntry("professional:invite", "professional", professional_id))
        tx.commit()
    return token


def accept_invitation(core: Core, invitation: str, password: str, repeated: str) -> str:
    """Set the password; returns a session token at the TOTP set-up stage."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(Problem("password", f"At least {MIN_PASSWORD_LENGTH} characters."))
    if password != repeated:
        problems.append(Problem("repeated", "The two passwords differ."))
    if problems:
        raise InvalidInput(problems)
    with core.transaction(write=True) as tx:
        professional_id = tx.repo.use_invitation(_hash(invitation), tx.now)
        if professional_id is None:
            raise LoginRefused("credentials")
        tx.who = _Person(professional_id).who
        tx.repo.set_password_hash(professional_id, password_hasher.hash(password))
        tx.repo.update_login_state(professional_id, totp_confirmed_at=None, totp_last_step=None)
        token = _new_session(tx, professional_id, TOTP_SETUP)
        tx.record(AuditEntry("invitation:accept", "professional", professional_id))
        tx.commit()
    return token


def backfill_email_lookups(core: Core) -> int:
    """Give people created before login by e-mail existed (migration 0004) their lookup
    hash, which needs the keys and so cannot run inside the migration."""
    with core.transaction(write=True) as tx:
        filled = tx.repo.backfill_email_lookups()
        tx.commit()
    return filled
