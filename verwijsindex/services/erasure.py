"""Erasure on request (Jeugdwet art. 7.1.4.6 lid 1 and 7.1.5; AVG art. 16, 17 and 21; contract
section 10): every signal on a child removed at once, at the child's or parents' request.

The college answers such a request on the professionals' advice; the privacy officer carries
it out here, in person only (web session with its second factor, or a personal token). A
signal removed on request is not archived: it is erased for good, row and pseudonyms, exactly
as a report of death erases (`lifecycle.erase_child`, the same locks and the same match
refresh), so matches shrink or dissolve and their participants hear of it by mail and webhook
as for any removal: the participants left in a match hear that it changed or dissolved
(webhook, change feed; a shrinking match mails nobody). As with every erasure, the removed
signals' own authors are not told: their signals, and the links by which they would be
found, are gone.

The request is about the child: signals on which the person is named as a *parent* are not
touched. A parent's own objection concerns their child's signals, which is this request
about the child; a signal on a sibling is the sibling's, and needs a request about them.

The BSN is pseudonymised at once and used for nothing else. The audit record
`erasure-request:create` names no subject (the child's pseudonym is blanked everywhere in the
log, as nothing about the child is left) and carries the reason in its object type
(`erasure-request:<reason>`) and the removed signals as its related ids; each removed signal
has its own `signal:erase` record, as an unjustified signal's erasure has.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from verwijsindex.audit import AuditEntry
from verwijsindex.db import with_retries
from verwijsindex.domain import Bsn, Forbidden, Organisation, Role, SignalStatus
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.lifecycle import erase_child
from verwijsindex.services.refusals import Refusal, records_refusals

ACTION = "erasure-request:create"


class ErasureReason(enum.StrEnum):
    """Why the person asks: objection (AVG art. 21), rectification (art. 16: the signal
    should not be there as it is), unlawful processing (art. 17(1)(d))."""

    OBJECTION = "objection"
    RECTIFICATION = "rectification"
    UNLAWFUL = "unlawful"


@dataclass(frozen=True, slots=True)
class RemovedSignal:
    id: uuid.UUID
    organisation: Organisation
    status: SignalStatus
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ErasureReport:
    id: uuid.UUID  # the audit record's object id: the reference the officer can quote
    removed: tuple[RemovedSignal, ...]  # oldest first
    matches_changed: int  # matches the removed signals were in: each shrunk or dissolved


@records_refusals
def erase_on_request(core: Core, actor: Actor, bsn: Bsn, reason: ErasureReason) -> ErasureReport:
    """Remove every signal on the child with this BSN; privacy officers in person only.

    No signal on the child is an answer too (an empty report), not an error: the officer
    must be able to tell the person that nothing is held. A refused request is recorded
    without a subject.
    """
    request_id = uuid.uuid4()
    entry = AuditEntry(ACTION, f"erasure-request:{reason.value}", request_id)
    try:
        actor.require(Role.PRIVACY_OFFICER)
    except Forbidden as refused:
        raise Refusal(refused, entry) from None
    child = core.pseudonymiser.pseudonymise(bsn)

    def attempt() -> ErasureReport:
        with core.transaction(write=True, actor=actor) as tx:
            rows, left = erase_child(tx, child)
            organisations = tx.lifecycle.organisations_of(r.professional_id for r in rows)
            tx.audit_log.forget_subject(tx.uow.session, child)
            for row in rows:
                matches = [m.id for m in left[row.id]]
                tx.record(AuditEntry("signal:erase", "signal", row.id, None, matches))
            tx.record(AuditEntry(ACTION, entry.object_type, request_id, None, [r.id for r in rows]))
            tx.commit()
        return ErasureReport(
            id=request_id,
            removed=tuple(
                RemovedSignal(
                    id=row.id,
                    organisation=organisations[row.professional_id],
                    status=SignalStatus(row.status),
                    created_at=row.created_at,
                )
                for row in rows
            ),
            matches_changed=len({m.id for refs in left.values() for m in refs}),
        )

    return with_retries(attempt)
