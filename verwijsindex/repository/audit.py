"""The audit chains' heads, their stored checkpoints, and the queue of verification runs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import insert, or_, select, tuple_, update

from verwijsindex.audit_verify import ChainPoint, Verification
from verwijsindex.models import AuditCheckpointRow, AuditHeadRow, AuditVerificationRow
from verwijsindex.repository.base import RepositoryBase

QUEUED = "queued"
RUNNING = "running"
DONE = "done"


class AuditQueries(RepositoryBase):
    # --- the head and checkpoints ------------------------------------------------------------

    def audit_heads(self) -> tuple[ChainPoint, ...]:
        """Every chain's newest (place, MAC) as its head row says, by chain: one statement,
        so one consistent moment (the heads of a checkpoint must be)."""
        rows = self.session.execute(
            select(AuditHeadRow.chain, AuditHeadRow.seq, AuditHeadRow.mac).order_by(
                AuditHeadRow.chain
            )
        ).all()
        return tuple(ChainPoint(r.seq, r.mac, "the head", r.chain) for r in rows)

    def audit_log_size(self) -> int:
        """How many records the log holds, by the heads: never a count of the records."""
        return sum(point.seq for point in self.audit_heads())

    def store_checkpoint(
        self, checkpoint_id: uuid.UUID, issued_at: datetime, payload: str, signature: str
    ) -> None:
        self.session.execute(
            insert(AuditCheckpointRow).values(
                id=checkpoint_id, issued_at=issued_at, payload=payload, signature=signature
            )
        )

    def checkpoints(
        self, before: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[AuditCheckpointRow]:
        """Newest first, keyed by (issued_at, id) for the cursor."""
        statement = select(AuditCheckpointRow)
        if before is not None:
            statement = statement.where(
                tuple_(AuditCheckpointRow.issued_at, AuditCheckpointRow.id) < before
            )
        order = (AuditCheckpointRow.issued_at.desc(), AuditCheckpointRow.id.desc())
        return list(self.session.scalars(statement.order_by(*order).limit(limit)))

    # --- verification runs -------------------------------------------------------------------

    def queue_verification(
        self, now: datetime, *, source: str, full: bool, requested_by: uuid.UUID | None
    ) -> uuid.UUID:
        """A new queued run, or the one already waiting: asking twice queues it once."""
        waiting = self.session.scalar(
            select(AuditVerificationRow.id)
            .where(AuditVerificationRow.status == QUEUED, AuditVerificationRow.full == full)
            .limit(1)
        )
        if waiting is not None:
            return waiting
        run_id = uuid.uuid4()
        self.session.execute(
            insert(AuditVerificationRow).values(
                id=run_id,
                requested_at=now,
                requested_by=requested_by,
                source=source,
                full=full,
                status=QUEUED,
                checked=0,
            )
        )
        return run_id

    def claim_verification(
        self, now: datetime, lease_until: datetime, run_id: uuid.UUID | None = None
    ) -> tuple[uuid.UUID, uuid.UUID, bool] | None:
        """Take the oldest queued run (or one whose worker's lease ran out, or `run_id`):
        (id, claim token, full), or None. The conditional update is what makes two workers
        never run one verification twice: only one of them sees its row change."""
        claimable = or_(
            AuditVerificationRow.status == QUEUED,
            (AuditVerificationRow.status == RUNNING) & (AuditVerificationRow.lease_until < now),
        )
        statement = select(AuditVerificationRow.id, AuditVerificationRow.full).where(claimable)
        if run_id is not None:
            statement = statement.where(AuditVerificationRow.id == run_id)
        candidate = self.session.execute(
            statement.order_by(AuditVerificationRow.requested_at).limit(1)
        ).first()
        if candidate is None:
            return None
        token = uuid.uuid4()
        claimed = self.session.execute(
            update(AuditVerificationRow)
            .where(AuditVerificationRow.id == candidate.id, claimable)
            .values(
                status=RUNNING,
                claim_token=token,
                started_at=now,
                lease_until=lease_until,
                checked=0,
            )
        )
        if not getattr(claimed, "rowcount", 0):
            return None
        return candidate.id, token, candidate.full

    def verification_progress(
        self, run_id: uuid.UUID, token: uuid.UUID, checked: int, lease_until: datetime
    ) -> bool:
        """Show progress and extend the lease; False when another worker took the run over."""
        result = self.session.execute(
            update(AuditVerificationRow)
            .where(AuditVerificationRow.id == run_id, AuditVerificationRow.claim_token == token)
            .values(checked=checked, lease_until=lease_until)
        )
        return bool(getattr(result, "rowcount", 0))

    def finish_verification(
        self, run_id: uuid.UUID, token: uuid.UUID, now: datetime, result: Verification
    ) -> bool:
        outcome = self.session.execute(
            update(AuditVerificationRow)
            .where(AuditVerificationRow.id == run_id, AuditVerificationRow.claim_token == token)
            .values(
                status=DONE,
                finished_at=now,
                lease_until=None,
                from_seq=result.from_seq,
                to_seq=result.to_seq if result.ok else None,
                checked=result.checked,
                anchored_seq=result.anchored_seq,
                ok=result.ok,
                first_bad_seq=result.first_bad_seq,
                first_bad_chain=result.first_bad_chain,
                reason=result.reason,
            )
        )
        return bool(getattr(outcome, "rowcount", 0))

    def last_verification(self) -> AuditVerificationRow | None:
        """The most recently finished run."""
        return self.session.scalar(
            select(AuditVerificationRow)
            .where(AuditVerificationRow.status == DONE)
            .order_by(AuditVerificationRow.finished_at.desc())
            .limit(1)
        )

    def pending_verification(self) -> AuditVerificationRow | None:
        """A run waiting or under way, the oldest first."""
        return self.session.scalar(
            select(AuditVerificationRow)
            .where(AuditVerificationRow.status.in_((QUEUED, RUNNING)))
            .order_by(AuditVerificationRow.requested_at)
            .limit(1)
        )
