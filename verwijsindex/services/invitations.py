"""Invitations: how a person gets (back) into the web UI without anyone choosing a password
for them.

A beheerder invites; the invitation is a random one-time token, of which the database
keeps only a hash. Accepting it sets a new password *and* starts a new second-factor
enrolment: the old TOTP secret is replaced, so a re-invitation (a lost phone, a departed
colleague's account handed on) never leaves the old authenticator working. Other web
sessions of the person end at that moment.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from datetime import timedelta

import pyotp

from verwijsindex.audit import AuditEntry
from verwijsindex.domain import InvalidInput, NotFound, Problem, Role
from verwijsindex.notify.mails import MailKind
from verwijsindex.repository import Outgoing
from verwijsindex.services.admin import MIN_PASSWORD_LENGTH, password_hasher
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.notifications import EMAIL
from verwijsindex.services.refusals import Refusal, records_refusals
from verwijsindex.services.web_auth import (
    TOTP_SETUP,
    LoginRefused,
    Person,
    new_session,
    token_hash,
)

INVITATION_VALID = timedelta(days=7)


def invitation_context(delivery_professional_id: uuid.UUID) -> str:
    """What an invitation mail's sealed code is bound to: a copied payload opens nowhere else."""
    return f"outbox:invitation:{delivery_professional_id}"


@records_refusals
def invite(core: Core, actor: Actor, professional_id: uuid.UUID, *, mail: bool = False) -> str:
    """A one-time invitation token for an active professional (beheerder). Earlier
    invitations of the same person stop working: only the newest link counts.

    With `mail`, the invitation is also mailed to the person's address, through the outbox
    like every mail. The outbox row keeps the code sealed (AES-GCM with the field key, bound
    to the recipient), never in clear; the worker opens it when it writes the mail."""
    actor.require(Role.BEHEERDER)
    token = secrets.token_urlsafe(32)
    with core.transaction(write=True, actor=actor) as tx:
        record = tx.web.login_record(professional_id)
        if record is None or not record.active:
            raise Refusal(
                NotFound("No such active professional."),
                AuditEntry("professional:invite", "professional", professional_id),
            )
        tx.web.cancel_invitations_of(professional_id)
        tx.web.add_invitation(token_hash(token), professional_id, tx.now, tx.now + INVITATION_VALID)
        tx.record(AuditEntry("professional:invite", "professional", professional_id))
        if mail:
            sealed = core.keys.cipher.encrypt(token, invitation_context(professional_id))
            payload = json.dumps({"invitation": base64.b64encode(sealed).decode("ascii")})
            tx.outbox.queue(
                [Outgoing(EMAIL, MailKind.INVITATION.value, payload, professional_id)], tx.now
            )
            tx.record(AuditEntry("professional:invite-mail", "professional", professional_id))
        tx.commit()
    return token


def open_mailed_invitation(core: Core, payload: str, professional_id: uuid.UUID) -> str:
    """The code an invitation mail's outbox payload carries (for the worker)."""
    sealed = base64.b64decode(json.loads(payload)["invitation"])
    return core.keys.cipher.decrypt(sealed, invitation_context(professional_id))


def invitation_usable(core: Core, invitation: str) -> bool:
    """Whether the invitation can still be accepted: asked before the person chooses a
    password, so a used, expired or unknown link says so first. Nothing is changed; the
    code is a 256-bit random token, so asking cannot be used to guess one."""
    with core.transaction(write=False) as tx:
        return tx.web.invitation_usable(token_hash(invitation.strip()), tx.now)


def accept_invitation(core: Core, invitation: str, password: str, repeated: str) -> str:
    """Set the password and a fresh TOTP secret; returns a session token at the TOTP set-up
    stage (the set-up page shows the new QR code)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(Problem("password", f"At least {MIN_PASSWORD_LENGTH} characters."))
    if password != repeated:
        problems.append(Problem("repeated", "The two passwords differ."))
    if problems:
        raise InvalidInput(problems)
    password_hash = password_hasher.hash(password)  # before the transaction: it is slow
    with core.transaction(write=True) as tx:
        professional_id = tx.web.use_invitation(token_hash(invitation.strip()), tx.now)
        if professional_id is None:
            raise LoginRefused("credentials")
        tx.who = Person(professional_id).who
        tx.web.set_password_hash(professional_id, password_hash)
        tx.web.start_new_enrolment(professional_id, pyotp.random_base32())
        tx.web.end_web_sessions_of(professional_id)
        token = new_session(tx, professional_id, TOTP_SETUP)
        tx.record(AuditEntry("invitation:accept", "professional", professional_id))
        tx.commit()
    return token
