"""Use cases of the privacy officer on the audit log: search it, verify it (anchored runs
and their queue: `audit_chain.py`).

Reading the audit log is itself audited (`audit:search`), so that who looked at whose
trail is on record too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from verwijsindex.audit import AuditEntry
from verwijsindex.audit_verify import Verification
from verwijsindex.domain import Professional, Role
from verwijsindex.models import AuditEventRow
from verwijsindex.services.core import Actor, Core


@dataclass(frozen=True, slots=True)
class AuditQuery:
    since: datetime | None = None
    until: datetime | None = None
    actor: uuid.UUID | None = None
    object_id: uuid.UUID | None = None
    before_seq: int | None = None  # the cursor: newest first
    page_size: int = 50


@dataclass(frozen=True, slots=True)
class AuditPage:
    items: list[AuditEventRow]
    last_seq: int | None  # set when there may be a next page
    # "Name (organisation)" of the professionals the page names (as actor or object), so the
    # page reads as people, not only as ids.
    names: dict[uuid.UUID, str] = field(default_factory=dict)


def search_audit_events(core: Core, actor: Actor, query: AuditQuery) -> AuditPage:
    actor.require(Role.PRIVACY_OFFICER)
    with core.transaction(write=True, actor=actor) as tx:
        rows = tx.records.audit_events(
            since=query.since,
            until=query.until,
            actor=query.actor,
            object_id=query.object_id,
            before_seq=query.before_seq,
            limit=query.page_size + 1,
        )
        more = len(rows) > query.page_size
        rows = rows[: query.page_size]
        tx.uow.session.expunge_all()  # plain values from here on, after the commit too
        named = {r.actor_id for r in rows if r.actor_id} | {
            r.object_id for r in rows if r.object_type == "professional" and r.object_id
        }
        names = {
            id_: f"{p.name} ({p.organisation.name})"
            for id_, p in tx.people.professionals(named).items()
        }
        tx.record(AuditEntry("audit:search", "audit_log"))
        tx.commit()
    return AuditPage(rows, rows[-1].seq if more and rows else None, names)


def find_professionals(core: Core, actor: Actor, text: str) -> list[Professional]:
    """The professionals a privacy officer means by a name or an e-mail address, to search
    the audit log by. An address is found through the keyed `email_lookup` (addresses are
    stored encrypted); a name, stored encrypted too, by opening the names and matching a
    part of them, case-insensitively. The search is on record (`professional:search`, with
    the ids found), the text searched for is not."""
    actor.require(Role.PRIVACY_OFFICER)
    wanted = " ".join(text.split()).casefold()
    with core.transaction(write=True, actor=actor) as tx:
        if "@" in wanted:
            record = tx.web.login_record_by_email(wanted)
            found = [] if record is None else [tx.people.professional(record.professional_id)]
            people = [p for p in found if p is not None]
        else:
            people = [p for p in tx.people.professionals_in(None) if wanted in p.name.casefold()]
        tx.record(
            AuditEntry("professional:search", "professional", related_ids=[p.id for p in people])
        )
        tx.commit()
    return people


def verify_audit_log(core: Core, actor: Actor | None = None) -> Verification:
    """Walk the whole chain, without anchors and without recording a run: the plain check
    of edits, insertions and deletions (runs that are anchored, recorded and shown on the
    chain page are `services.audit_chain.run_verification`). With an actor, the check is on
    record too (after the walk, so the walk covers the chain as it was)."""
    if actor is not None:
        actor.require(Role.PRIVACY_OFFICER)
    with core.transaction(write=False) as tx:
        result = tx.audit_log.verify(tx.uow.session)
    if actor is not None:
        with core.transaction(write=True, actor=actor) as tx:
            tx.record(AuditEntry("audit:verify", related_ids=[]))
            tx.commit()
    return result
