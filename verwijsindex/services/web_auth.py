"""People logging into the web UI: password, then a TOTP second factor; sessions.

- Passwords are argon2 hashes; an unknown address, an inactive or a locked account cost the
  same work as a known one and get the same answer, so the login page tells no one who has
  an account or who is locked out.
- Every password and code is counted towards a lock-out *before* it is checked, in one
  atomic statement (LOCK_AFTER failures lock the account for LOCK_FOR), so parallel
  guessing gets no more tries than sequential guessing; a full login resets the count.
  Throttling per client address (verwijsindex.ratelimit) comes on top: the lock-out alone
  would let anyone lock anyone out, the throttle alone would let a botnet guess on.
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
from typing import Final

import pyotp
from argon2.exceptions import VerificationError

from verwijsindex.audit import AuditEntry, Who
from verwijsindex.repository import LoginRecord, WebSession
from verwijsindex.services.admin import TOTP_ISSUER, password_hasher
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.unit_of_work import Transaction

LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
IDLE = timedelta(minutes=30)
MAX_AGE = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)

PASSWORD = "password"  # noqa: S105 - a stage name: the second factor is still to come
TOTP_SETUP = "totp_setup"  # first login: scan the QR code, confirm a code
ACTIVE = "active"
WEB: Final = "web"  # the credential kind in audit records: password + TOTP session

# Verified when there is no account to check (unknown, inactive, locked), so every path
# costs one argon2 verification.
_DUMMY_HASH = password_hasher.hash(secrets.token_urlsafe(16))


class LoginRefused(Exception):
    """`reason` is `credentials` (wrong, unknown or locked address or password, wrong code:
    deliberately one answer) or `locked` (at the code step, when the password was right:
    too many failures, try again later)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Person:
    """The audit identity of someone not yet logged in (or logging out) at the web UI."""

    professional_id: uuid.UUID | None

    @property
    def who(self) -> Who:
        return Who(self.professional_id, None, (), credential=WEB)


@dataclass(frozen=True, slots=True)
class CurrentSession:
    token_hash: str
    stage: str
    csrf_token: str
    actor: Actor


def token_hash(token: str) -> str:
    """What the database keeps of a session or invitation token."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def new_session(tx: Transaction, professional_id: uuid.UUID, stage: str) -> str:
    """A new web session at `stage`; returns the token for the browser's cookie."""
    token = secrets.token_urlsafe(32)
    tx.web.add_web_session(
        WebSession(
            token_hash(token), professional_id, stage, secrets.token_urlsafe(32), tx.now, tx.now
        )
    )
    return token


def log_in(core: Core, email: str, password: str) -> tuple[str, str]:
    """Check the password; returns (session token, stage): `password` when the second factor
    is to come, `totp_setup` at first login (show the QR code).

    An unknown address, an inactive or locked account and a wrong password are refused
    alike (`credentials`), after the same work: one argon2 verification (against a dummy
    hash when there is no account to check) and the same two transactions. So neither the
    answer nor its timing tells whether an address has an account or is locked.
    """
    with core.transaction(write=True) as tx:
        record = tx.web.login_record_by_email(email)
        claimed = (
            record is not None
            and record.active
            and record.password_hash is not None
            and tx.web.claim_login_attempt(record.professional_id, tx.now, LOCK_AFTER, LOCK_FOR)
        )
        tx.commit()
    # Verified outside any transaction: the claim is already committed (parallel attempts
    # see it), and a slow hash must not hold a row lock or SQLite's write lock.
    checked = record.password_hash if claimed and record and record.password_hash else None
    right = _verifies(checked or _DUMMY_HASH, password) and checked is not None
    rehashed = (
        password_hasher.hash(password)
        if right and checked and password_hasher.check_needs_rehash(checked)
        else None
    )
    with core.transaction(write=True) as tx:
        tx.who = Person(record.professional_id if record else None).who
        if not right or record is None:
            tx.record(
                AuditEntry(
                    "session:login-password", "professional", tx.who.professional_id
                ).denied()
            )
            tx.commit()
            raise LoginRefused("credentials")
        tx.web.release_login_attempt(record.professional_id, LOCK_AFTER)
        if rehashed:
            tx.web.set_password_hash(record.professional_id, rehashed)
        stage = PASSWORD if record.totp_confirmed else TOTP_SETUP
        token = new_session(tx, record.professional_id, stage)
        tx.record(AuditEntry("session:login-password", "professional", record.professional_id))
        tx.commit()
    return token, stage


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
    the logged-in session; the old one ends.

    Each code is claimed against the lock-out before it is checked, in the same
    transaction (checking a code is cheap), so parallel guesses are bounded like passwords.
    """
    with core.transaction(write=True) as tx:
        session = tx.web.web_session(token_hash(token))
        if (
            session is None
            or session.stage not in (PASSWORD, TOTP_SETUP)
            or _expired(session, tx.now)
        ):
            raise LoginRefused("credentials")
        record = tx.web.login_record(session.professional_id)
        assert record is not None
        tx.who = Person(record.professional_id).who
        denied = AuditEntry("session:login-code", "professional", record.professional_id).denied()
        if not record.active or not tx.web.claim_login_attempt(
            record.professional_id, tx.now, LOCK_AFTER, LOCK_FOR
        ):
            tx.web.end_web_session(session.token_hash)
            tx.record(denied)
            tx.commit()
            raise LoginRefused("locked" if record.active else "credentials")
        step = _check_code(record, code, tx.now)
        if step is None or not tx.web.complete_second_factor(
            record.professional_id, step, tx.now, confirm=session.stage == TOTP_SETUP
        ):
            tx.record(denied)
            tx.commit()
            raise LoginRefused("credentials")
        tx.web.end_web_session(session.token_hash)
        new_token = new_session(tx, record.professional_id, ACTIVE)
        tx.record(AuditEntry("session:login", "professional", record.professional_id))
        tx.commit()
    return new_token


def totp_provisioning_uri(core: Core, token: str) -> str | None:
    """For the QR code at first login: only while the set-up is pending."""
    with core.transaction(write=False) as tx:
        session = tx.web.web_session(token_hash(token))
        if session is None or session.stage != TOTP_SETUP or _expired(session, tx.now):
            return None
        record = tx.web.login_record(session.professional_id)
        professional = tx.people.professional(session.professional_id)
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
    hashed = token_hash(token)
    with core.transaction(write=False) as tx:
        session = tx.web.web_session(hashed)
        if session is None:
            return None
        professional = tx.people.professional(session.professional_id)
        now = tx.now
    if professional is None or not professional.active or _expired(session, now):
        with core.transaction(write=True) as tx:
            tx.web.end_web_session(hashed)
            tx.commit()
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        with core.transaction(write=True) as tx:
            tx.web.touch_web_session(hashed, last_seen_at=tx.now)
            tx.commit()
    return CurrentSession(
        hashed, session.stage, session.csrf_token, Actor(professional, credential=WEB)
    )


def log_out(core: Core, token: str) -> None:
    with core.transaction(write=True) as tx:
        session = tx.web.web_session(token_hash(token))
        if session is None:
            return
        tx.who = Person(session.professional_id).who
        tx.web.end_web_session(session.token_hash)
        tx.record(AuditEntry("session:logout", "professional", session.professional_id))
        tx.commit()


def backfill_email_lookups(core: Core) -> int:
    """Give people created before login by e-mail existed (migration 0004) their lookup
    hash, which needs the keys and so cannot run inside the migration."""
    with core.transaction(write=True) as tx:
        filled = tx.web.backfill_email_lookups()
        tx.commit()
    return filled
