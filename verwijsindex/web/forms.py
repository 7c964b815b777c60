"""Reading the professional's forms into the requests the services take, with every problem
at once, in Dutch, keyed by the form field it belongs to.

The signal form follows the API's `SignalInSchema`: each field is parsed on its own, then
the domain's cross-field rules (`domain.new_signal_problems`) run on what could be parsed.
Unlike the API, spaces and dots in a typed BSN are forgiven: people copy them from letters.
No message ever repeats what was typed, and a form is never filled in again with a BSN
(`SignalForm.values` holds none): after an error the person types the BSNs again.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from verwijsindex import domain, gemeenten
from verwijsindex.domain import (
    Bsn,
    CloseReason,
    Informatieplicht,
    NewSignal,
    Postponement,
    PostponementReason,
    Problem,
)
from verwijsindex.pseudonym import parse_bsn
from verwijsindex.services.signals import InformatieplichtUpdate
from verwijsindex.web.date_fields import PARTS, part_name, read_date

YES = "ja"
BSN = "bsn"
BIRTH_DATE = "birth_date"
PARENTS = "parent_bsns"  # the group of parent fields, for problems about them together
PARENT_FIELDS = tuple(f"parent_bsn_{n}" for n in range(1, domain.MAX_PARENTS + 1))
CHILD_INFORMED = "child_informed"
PARENTS_INFORMED = "parents_informed"
REASON = "postponement_reason"
JUSTIFICATION = "postponement_justification"
REVIEW_ON = "postponement_review_on"
GEMEENTE = "gemeente"
OWN_REFERENCE = "own_reference"
# Fields whose typed value may be shown again after an error; BSN fields are not among them.
ECHOED = (
    BIRTH_DATE,
    CHILD_INFORMED,
    PARENTS_INFORMED,
    REASON,
    JUSTIFICATION,
    REVIEW_ON,
    GEMEENTE,
    OWN_REFERENCE,
    *(part_name(date_field, part) for date_field in (BIRTH_DATE, REVIEW_ON) for part in PARTS),
)

BSN_INVALID = "Dit is geen geldig BSN. Een BSN heeft 9 cijfers en voldoet aan de elfproef."
DATE_INVALID = "Vul een geldige datum in, zoals 14-03-2015."
BSN_LEFT_OUT = "[BSN weggelaten]"

# The domain's reasons, in Dutch; a reason not listed here gets its field's general message.
_DOMAIN_REASONS_NL = {
    "The birth date lies in the future.": "De geboortedatum ligt in de toekomst.",
    f"The child must be under {domain.MAX_AGE} on the day of signalling.": (
        f"De jeugdige moet op de dag van het signaal jonger zijn dan {domain.MAX_AGE} jaar."
    ),
    f"At most {domain.MAX_PARENTS} parents.": f"Vul maximaal {domain.MAX_PARENTS} ouders in.",
    "Parents must be distinct.": "U heeft hetzelfde BSN bij meer dan één ouder ingevuld.",
    "A parent cannot be the child itself.": "Een ouder kan niet het BSN van de jeugdige hebben.",
    "A justification is required.": "Geef een onderbouwing voor het uitstel.",
    domain.BSN_IN_JUSTIFICATION: "Noem geen BSN in de toelichting.",
    "The review date must lie ahead.": "De datum voor herbeoordeling moet in de toekomst liggen.",
    domain.NOTHING_TO_POSTPONE: (
        "De jeugdige en de ouders zijn allebei geïnformeerd: er valt niets uit te stellen. "
        "Laat het uitstel leeg, of geef aan wie nog niet is geïnformeerd."
    ),
    domain.OWN_REFERENCE_TOO_LONG: (
        f"Uw eigen kenmerk is te lang: maximaal {domain.OWN_REFERENCE_MAX_LENGTH} tekens."
    ),
    domain.BSN_IN_OWN_REFERENCE: "Noem geen BSN in uw eigen kenmerk.",
}
_FIELD_MESSAGES_NL = {
    BSN: BSN_INVALID,
    CHILD_INFORMED: f"Een jeugdige van {domain.CHILD_INFORMED_FROM_AGE} jaar of ouder moet zijn "
    "geïnformeerd. Kan dat (nog) niet? Vul dan hieronder een uitstel in.",
    PARENTS_INFORMED: "De ouders van een jeugdige jonger dan "
    f"{domain.PARENTS_INFORMED_BELOW_AGE} jaar moeten zijn geïnformeerd. Kan dat (nog) niet? "
    "Vul dan hieronder een uitstel in.",
    REASON: "Kies een reden voor het uitstel.",
    JUSTIFICATION: "Geef een onderbouwing voor het uitstel.",
    REVIEW_ON: "De datum voor herbeoordeling moet in de toekomst liggen.",
    GEMEENTE: "Kies een gemeente uit de lijst.",
    OWN_REFERENCE: "Gebruik één regel, zonder bijzondere tekens.",
}
# Who must be informed is fully said by the problem's name; its English reason is not needed.
_NAMED_BY_FIELD = {CHILD_INFORMED, PARENTS_INFORMED}
_FIELD_OF_PROBLEM = {
    "bsn": BSN,
    "birthDate": BIRTH_DATE,
    "parentBsns": PARENTS,
    "informatieplicht.childInformed": CHILD_INFORMED,
    "informatieplicht.parentsInformed": PARENTS_INFORMED,
    "informatieplicht.postponement": REASON,
    "informatieplicht.postponement.reason": REASON,
    "informatieplicht.postponement.justification": JUSTIFICATION,
    "informatieplicht.postponement.reviewOn": REVIEW_ON,
    "gemeente": GEMEENTE,
    "ownReference": OWN_REFERENCE,
}
_LISTED = re.compile(r"parentBsns\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class SignalForm:
    """The outcome of reading the signal form: a request, or what is wrong with it."""

    signal: NewSignal | None
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  # never a BSN
    parent_fields: tuple[str, ...] = ()  # the form field of each parent in `signal.parents`


def field_of(problem_name: str, parent_fields: Sequence[str] = PARENT_FIELDS) -> str:
    """The form field a problem (named in the API's terms) belongs to.

    `parentBsns[i]` is the i-th parent given, which is the i-th *filled* parent field.
    """
    listed = _LISTED.fullmatch(problem_name)
    if listed:
        index = int(listed.group(1))
        return parent_fields[index] if index < len(parent_fields) else PARENTS
    return _FIELD_OF_PROBLEM.get(problem_name, problem_name)


def errors_of_problems(
    problems: Iterable[Problem], parent_fields: Sequence[str] = PARENT_FIELDS
) -> dict[str, str]:
    """Form field → one Dutch message (the first problem per field)."""
    errors: dict[str, str] = {}
    for problem in problems:
        name = field_of(problem.name, parent_fields)
        general = _FIELD_MESSAGES_NL.get(BSN if name in PARENT_FIELDS else name)
        if name in _NAMED_BY_FIELD and general:
            message = general
        else:
            message = _DOMAIN_REASONS_NL.get(problem.reason) or general or "Controleer dit veld."
        errors.setdefault(name, message)
    return errors


def parse_date(raw: str) -> date | None:
    """`2015-03-14` (what a date field sends) or `14-03-2015` (what people type)."""
    raw = raw.strip()
    for pattern in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
    return None


def _bsn(raw: str) -> Bsn | None:
    return parse_bsn(re.sub(r"[\s.]", "", raw))


def _postponement(
    form: Mapping[str, str], today: date, errors: dict[str, str]
) -> tuple[bool, Postponement | None]:
    """(whether a postponement was meant, the postponement if it is complete)."""
    reason_raw = form.get(REASON, "").strip()
    # Browsers send a line break as CRLF but count it as one character against `maxlength`.
    justification = form.get(JUSTIFICATION, "").replace("\r\n", "\n").strip()
    review = read_date(form, REVIEW_ON)
    if not (reason_raw or justification or not review.empty):
        return False, None
    reason = (
        PostponementReason(reason_raw)
        if reason_raw in {r.value for r in PostponementReason}
        else None
    )
    if reason is None:
        errors[REASON] = _FIELD_MESSAGES_NL[REASON]
    if not justification:
        errors[JUSTIFICATION] = _FIELD_MESSAGES_NL[JUSTIFICATION]
    elif domain.mentions_bsn(justification):
        errors[JUSTIFICATION] = _DOMAIN_REASONS_NL[domain.BSN_IN_JUSTIFICATION]
    elif len(justification) > domain.JUSTIFICATION_MAX_LENGTH:
        errors[JUSTIFICATION] = (
            f"De onderbouwing is te lang: maximaal {domain.JUSTIFICATION_MAX_LENGTH} tekens."
        )
    review_on = review.value
    if review.empty:
        errors[REVIEW_ON] = "Vul de datum in waarop u het uitstel opnieuw beoordeelt."
    elif review_on is None:
        errors[REVIEW_ON] = review.problem or DATE_INVALID
    elif review_on <= today:
        errors[REVIEW_ON] = _FIELD_MESSAGES_NL[REVIEW_ON]
    if reason is None or REVIEW_ON in errors or JUSTIFICATION in errors or review_on is None:
        return True, None
    return True, Postponement(reason, justification, review_on)


def parse_signal_form(form: Mapping[str, str], today: date) -> SignalForm:
    """The registration form as a `NewSignal`, or every problem with it at once."""
    errors: dict[str, str] = {}
    values = {name: form.get(name, "") for name in ECHOED}
    # Shown back after an error, so without a BSN typed into it by mistake.
    values[JUSTIFICATION] = domain.without_bsns(values[JUSTIFICATION], BSN_LEFT_OUT)
    values[OWN_REFERENCE] = domain.without_bsns(values[OWN_REFERENCE], BSN_LEFT_OUT)
    for date_field in (BIRTH_DATE, REVIEW_ON):
        for part, typed in read_date(form, date_field).parts.items():
            values[part_name(date_field, part)] = typed

    raw_child = form.get(BSN, "")
    child = _bsn(raw_child)
    if not raw_child.strip():
        errors[BSN] = "Vul het BSN van de jeugdige in."
    elif child is None:
        errors[BSN] = BSN_INVALID

    birth = read_date(form, BIRTH_DATE)
    birth_date = birth.value
    if birth.empty:
        errors[BIRTH_DATE] = "Vul de geboortedatum van de jeugdige in."
    elif birth_date is None:
        errors[BIRTH_DATE] = birth.problem or DATE_INVALID

    parents: list[Bsn] = []
    parent_fields: list[str] = []
    for name in PARENT_FIELDS:
        raw = form.get(name, "")
        if not raw.strip():
            continue
        parsed = _bsn(raw)
        if parsed is None:
            errors[name] = BSN_INVALID
        else:
            parents.append(parsed)
            parent_fields.append(name)

    # Empty: none chosen, so the organisation's default (if any) applies.
    gemeente = form.get(GEMEENTE, "").strip() or None
    meant, postponement = _postponement(form, today, errors)
    informatieplicht = (
        None
        if meant and postponement is None
        else Informatieplicht(
            child_informed=form.get(CHILD_INFORMED) == YES,
            parents_informed=form.get(PARENTS_INFORMED) == YES,
            postponement=postponement,
        )
    )
    problems = domain.new_signal_problems(
        child=child,
        birth_date=birth_date,
        # Unlike the API, the parents that could be read are checked even when another
        # could not: each sits in a field of its own, so their problems can be told apart.
        parents=parents,
        informatieplicht=informatieplicht,
        today=today,
        gemeente=gemeente,
        known_gemeenten=gemeenten.current(),
    )
    reference = domain.own_reference(form.get(OWN_REFERENCE))
    problems += domain.own_reference_problems(reference)
    for name, message in errors_of_problems(problems, parent_fields).items():
        errors.setdefault(name, message)
    if errors or child is None or birth_date is None or informatieplicht is None:
        return SignalForm(None, errors, values, tuple(parent_fields))
    signal = NewSignal(child, birth_date, tuple(parents), informatieplicht, gemeente, reference)
    return SignalForm(signal, {}, values, tuple(parent_fields))


def parse_own_reference(form: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(the own reference, None) or (None, a Dutch problem); an empty field removes it."""
    reference = domain.own_reference(form.get(OWN_REFERENCE))
    errors = errors_of_problems(domain.own_reference_problems(reference))
    if errors:
        return None, errors[OWN_REFERENCE]
    return reference, None


def parse_informatieplicht_update(
    form: Mapping[str, str], *, clear_postponement: bool
) -> InformatieplichtUpdate | None:
    """Marking the child and/or the parents as informed; None when nothing was ticked.

    Only marking is offered: once informed, a person cannot be un-informed.
    """
    child = form.get(CHILD_INFORMED) == YES
    parents = form.get(PARENTS_INFORMED) == YES
    if not (child or parents):
        return None
    return InformatieplichtUpdate(
        child_informed=True if child else None,
        parents_informed=True if parents else None,
        clear_postponement=clear_postponement,
    )


def parse_close_reason(form: Mapping[str, str]) -> CloseReason | None:
    raw = form.get("reason", "")
    return CloseReason(raw) if raw in {r.value for r in CloseReason} else None


def parse_follow_up(form: Mapping[str, str]) -> bool | None:
    """`mark` → True, `undo` → False, anything else → None."""
    return {"mark": True, "undo": False}.get(form.get("action", ""))


def parse_uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw or "")
    except ValueError:
        return None
