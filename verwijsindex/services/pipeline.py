"""What runs before every commit, in one place: the after-effects of a use case.

`Transaction.commit` runs `BEFORE_COMMIT` in this order, inside the use case's transaction,
then commits; `Core` hands the list to every transaction it opens. Adding an after-effect
means adding a step here, where it can be seen, not a call inside `commit`.

The order matters:
1. `forget_follow_ups_of_leavers`: a professional who left a match no longer owes it a
   follow-up (and gets no reminder for it);
2. `count_statistics`: counters for new signals and new matches;
3. `stage_outbox`: mails and webhook calls for the events, as outbox rows (delivered by the
   worker after commit, never on the request's path); it leaves the events as each
   organisation hears of them in `tx.announcements`;
4. `record_announcements`: those same announcements as rows of each organisation's change
   feed (`GET /events`, for systems that poll instead of receiving webhooks), one INSERT;
5. `stage_federation` (a federating region only; otherwise it sends nothing): the blinded
   pseudonyms staged by the use case, and a publish queue row for every person it locked
   (whoever changes a child's signals locks the child first), see docs/federation.md;
6. `append_audit`: the audit records last, so the chain covers everything above.
"""

from __future__ import annotations

from verwijsindex.services.change_feed import record_announcements
from verwijsindex.services.notifications import stage_notifications
from verwijsindex.services.statistics import count_statistics
from verwijsindex.services.unit_of_work import PreCommitStep, Transaction


def forget_follow_ups_of_leavers(tx: Transaction) -> None:
    """Drop the follow-up marks of professionals who left a match that still exists."""
    shrunk = [c.match_id for c in tx.matches.changes() if c.after and c.before - c.after]
    if shrunk:
        tx.follow_ups.forget_follow_ups_of_leavers(shrunk)


def stage_outbox(tx: Transaction) -> None:
    """Events become outbox rows and announcements; they are cleared once staged, as audit
    entries are once appended."""
    tx.announcements.extend(stage_notifications(tx))
    tx.events.clear()


def stage_federation(tx: Transaction) -> None:
    """Federation on: store the staged blinded pseudonyms (INSERT … ON CONFLICT DO NOTHING)
    and queue the locked persons for publishing; the worker skips those that are no child
    of this region or whose state is unchanged. Off: nothing at all."""
    if not tx.federation:
        return
    store = tx.federation_store
    if tx.staged_pseudonyms:
        tx.uow.session.flush()
        store.stage(tx.staged_pseudonyms, tx.now)
        tx.staged_pseudonyms.clear()
    if "matches" in tx.__dict__ and tx.matches.locked:
        store.queue(tx.matches.locked, tx.now)
        tx.matches.locked.clear()


def append_audit(tx: Transaction) -> None:
    """Append the recorded entries to the audit chain, once (see `stage_outbox`)."""
    tx.audit_log.append(tx.uow.session, tx.entries, tx.who, tx.now)
    tx.entries.clear()


BEFORE_COMMIT: tuple[PreCommitStep, ...] = (
    forget_follow_ups_of_leavers,
    count_statistics,
    stage_outbox,
    record_announcements,
    stage_federation,
    append_audit,
)
