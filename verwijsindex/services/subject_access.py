"""Subject access (AVG art. 15): everything the index holds on one person, as child or parent.

A privacy officer asks with the person's BSN; the BSN is pseudonymised at once and used for
nothing else, so neither the report nor its audit record can contain it.

What the report holds, and why not more:

- every signal on the person as the child, or naming them as a parent, active or archived:
  the author's organisation and sector, the lifecycle dates, the status, the role, whether
  informing was postponed and (as the child only) the birth date the signal carries;
- every match those signals are in: its type and date, the participating organisations and
  sectors with the day each joined, and the regisseur's organisation.

Professionals' names and contact details are left out: they are the professionals' own
personal data (AVG art. 15(4)), and the organisation is whom the person can address.
Justifications of a postponement are left out too: they are the author's reasoning, for
the author and privacy officers only (contract section 5), and the report is meant to be
handed to the person. The postponement *flag* is in, so the officer sees where handing it
over needs thought first (UAVG art. 41: a right may yield to the child's protection).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from verwijsindex import domain
from verwijsindex.audit import AuditEntry
from verwijsindex.domain import Bsn, Forbidden, MatchType, Organisation, Role, SignalStatus
from verwijsindex.repository import StoredMatch
from verwijsindex.services.core import Actor, Core
from verwijsindex.services.refusals import Refusal, records_refusals
from verwijsindex.services.unit_of_work import Transaction

ACTION = "subject-access:report"


class SubjectRole(enum.StrEnum):
    CHILD = "child"
    PARENT = "parent"


@dataclass(frozen=True, slots=True)
class ReportedSignal:
    id: uuid.UUID
    role: SubjectRole
    status: SignalStatus
    organisation: Organisation
    created_at: datetime
    active_until: datetime
    archived_at: datetime | None
    archived_until: datetime
    informing_postponed: bool
    birth_date: date | None  # only where the person is the child: it is their own data


@dataclass(frozen=True, slots=True)
class ReportedParticipant:
    organisation: Organisation
    since: date
    is_regisseur: bool


@dataclass(frozen=True, slots=True)
class ReportedMatch:
    id: uuid.UUID
    type: MatchType
    created_at: datetime
    subject_signal_ids: tuple[uuid.UUID, ...]
    participants: tuple[ReportedParticipant, ...]
    regisseur: Organisation | None


@dataclass(frozen=True, slots=True)
class SubjectAccessReport:
    id: uuid.UUID  # the audit record's object id, printed on the report as its reference
    generated_at: datetime
    signals: tuple[ReportedSignal, ...]
    matches: tuple[ReportedMatch, ...]


@records_refusals
def subject_access_report(core: Core, actor: Actor, bsn: Bsn) -> SubjectAccessReport:
    """The report on the person with this BSN; privacy officers only (403 for anyone else).

    One audit record (`subject-access:report`) names the person by pseudonym and lists the
    signals reported. A refused request is recorded too, with the person it was about, so the
    privacy officer can see who tried to look whom up.
    """
    person = core.pseudonymiser.pseudonymise(bsn)
    report_id = uuid.uuid4()
    try:
        actor.require(Role.PRIVACY_OFFICER)
    except Forbidden as refused:
        entry = AuditEntry(ACTION, "subject_access_request", report_id, person)
        raise Refusal(refused, entry) from None
    with core.transaction(write=True, actor=actor) as tx:
        about = tx.lifecycle.signals_about_person(person)
        signals = tuple(
            ReportedSignal(
                id=row.id,
                role=SubjectRole.CHILD if row.child_pseudonym == person else SubjectRole.PARENT,
                status=SignalStatus(row.status),
                organisation=organisation,
                created_at=row.created_at,
                active_until=row.active_until,
                archived_at=row.archived_at,
                archived_until=row.archived_until,
                informing_postponed=row.postponement_reason is not None,
                birth_date=row.child_birth_date if row.child_pseudonym == person else None,
            )
            for row, organisation in about
        )
        signal_ids = [s.id for s in signals]
        # The person as child, or the children the person is a named parent of.
        own_children = {row.child_pseudonym for row, _ in about}
        matches = _matches_of(core, tx, signal_ids, own_children)
        tx.record(AuditEntry(ACTION, "subject_access_request", report_id, person, signal_ids))
        tx.commit()
    return SubjectAccessReport(report_id, tx.now, signals, matches)


def _matches_of(
    core: Core, tx: Transaction, signal_ids: list[uuid.UUID], own_children: set[str]
) -> tuple[ReportedMatch, ...]:
    """The matches of these signals, each showing only the participants involved with the
    person or the person's own children.

    A family match can reach a half-sibling through another parent: that the half-sibling
    has a youth-care team is the half-sibling's data, not this person's, and a report is
    handed to the person.
    """
    refs = tx.signals.match_refs(signal_ids)
    found = tx.match_views.stored_matches({ref.id for found in refs.values() for ref in found})
    child_of = tx.lifecycle.children_of_signals(s for m in found for s, _, _ in m.members)
    stored = [
        replace(m, members=tuple(x for x in m.members if child_of.get(x[0]) in own_children))
        for m in found
    ]
    people: set[uuid.UUID] = set()
    for match in stored:
        people.update(pid for _, pid, _ in match.members)
        if match.regisseur_id is not None:
            people.add(match.regisseur_id)
    organisations = tx.lifecycle.organisations_of(people)
    ours = set(signal_ids)
    reported = [_reported_match(core, match, organisations, ours) for match in stored]
    return tuple(sorted(reported, key=lambda m: (m.created_at, m.id), reverse=True))


def _reported_match(
    core: Core,
    match: StoredMatch,
    organisations: dict[uuid.UUID, Organisation],
    ours: set[uuid.UUID],
) -> ReportedMatch:
    participants = tuple(
        ReportedParticipant(
            organisation=organisations[pid],
            since=domain.local_date(moment),
            is_regisseur=pid == match.regisseur_id,
        )
        for pid, moment in match.participants_since()
    )
    return ReportedMatch(
        id=match.id,
        type=match.type,
        created_at=match.created_at,
        subject_signal_ids=tuple(s for s, _, _ in match.members if s in ours),
        participants=participants,
        regisseur=(
            organisations[match.regisseur_id]
            if match.regisseur_id is not None
            and any(pid == match.regisseur_id for _, pid, _ in match.members)
            else None
        ),
    )
