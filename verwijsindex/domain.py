"""Pure types and rules of the verwijsindex: no Flask, no SQL, nothing of ours imported.

The vocabulary follows the contract (`../shared/CONTRACT.md`); Dutch terms of art such as
*informatieplicht* and *regisseur* are kept because that is what the users call them.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from stdnum.nl import bsn as stdnum_bsn

# Ages, birthdays, review dates and months are Dutch calendar days, not UTC ones.
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")

# Jeugdwet art. 7.1.4.5/7.1.4.6 and the definition of "young person".
ACTIVE_YEARS = 2
ARCHIVED_YEARS = 5
MAX_AGE = 23
CHILD_INFORMED_FROM_AGE = 12
PARENTS_INFORMED_BELOW_AGE = 16
MAX_PARENTS = 4
JUSTIFICATION_MAX_LENGTH = 1000


class Sector(enum.StrEnum):
    JEUGDHULP = "jeugdhulp"
    JEUGDGEZONDHEIDSZORG = "jeugdgezondheidszorg"
    GEZONDHEIDSZORG = "gezondheidszorg"
    ONDERWIJS = "onderwijs"
    MAATSCHAPPELIJKE_ONDERSTEUNING = "maatschappelijke_ondersteuning"
    WERK_EN_INKOMEN = "werk_en_inkomen"
    JUSTITIE = "justitie"


class Role(enum.StrEnum):
    PROFESSIONAL = "professional"
    BEHEERDER = "beheerder"
    PRIVACY_OFFICER = "privacy_officer"
    # Appointed by a municipality (Jeugdwet 7.1.3.2): checks that matched professionals made
    # contact, for assigned gemeenten or the whole index, and sees nothing else.
    REGIEVOERDER = "regievoerder"
    # Appointed by an organisation (7.1.3.3): keeps its professionals' contact details and
    # its signals in order (moves them when someone leaves); never sees a child's pseudonym.
    COORDINATOR = "coordinator"


class SignalStatus(enum.StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class MatchType(enum.StrEnum):
    CLIENT = "client"
    FAMILY = "family"


class PostponementReason(enum.StrEnum):
    NOT_REASONABLY_POSSIBLE = "not_reasonably_possible"
    NOT_IN_INTEREST_OF_CHILD = "not_in_interest_of_child"


class CloseReason(enum.StrEnum):
    """Why a professional closes a signal (DELETE)."""

    RISK_GONE = "risk_gone"
    UNJUSTIFIED = "unjustified"


class Bsn:
    """A citizen service number, opaque to everything but `pseudonym.py`.

    `str()` and `repr()` are redacted so a BSN cannot slip into a log line, an exception
    message or a template by accident; only `pseudonym.py` calls `reveal()`.
    """

    __slots__ = ("_digits",)

    def __init__(self, digits: str) -> None:
        self._digits = digits

    def reveal(self) -> str:
        return self._digits

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bsn) and other._digits == self._digits

    def __hash__(self) -> int:
        return hash(("Bsn", self._digits))

    def __repr__(self) -> str:
        return "Bsn(<redacted>)"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class Postponement:
    reason: PostponementReason
    justification: str
    review_on: date


@dataclass(frozen=True, slots=True)
class Informatieplicht:
    child_informed: bool
    parents_informed: bool
    postponement: Postponement | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, named by its field path in the contract's terms."""

    name: str
    reason: str


class DomainError(Exception):
    """Base of the errors a use case may raise; the API maps each to a problem response."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomainError):
    def __init__(
        self, problems: Sequence[Problem], detail: str = "The input is not valid."
    ) -> None:
        super().__init__(detail)
        self.problems = list(problems)


class NotFound(DomainError):
    """Also used for objects of others, so that existence never leaks (contract 2.5)."""


class Conflict(DomainError):
    """The request contradicts what is stored (the API answers 409)."""


class DuplicateSignal(Conflict):
    """The professional already has an active signal on this child: the client can go on
    with that one (`existing_signal_id`), which is their own, so naming it leaks nothing.
    None only when a concurrent registration won the race and was closed again before its
    id could be read."""

    def __init__(self, existing_signal_id: uuid.UUID | None) -> None:
        super().__init__("You already have an active signal on this child.")
        self.existing_signal_id = existing_signal_id


class Forbidden(DomainError):
    """Only for objects the caller may see but not change (e.g. stepping down for another)."""


class Unauthenticated(DomainError):
    """No valid credentials (the API answers 401)."""


def local_date(moment: datetime) -> date:
    """The Dutch calendar day of a moment: ages, review dates and months are counted in it."""
    return moment.astimezone(LOCAL_TIME).date()


def start_of_local_day(day: date) -> datetime:
    """Midnight at the start of a Dutch calendar day, as a UTC moment (for comparisons with
    stored timestamps, which are UTC)."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_TIME).astimezone(UTC)


def add_years(day: date, years: int) -> date:
    """Calendar years later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_years_dt(moment: datetime, years: int) -> datetime:
    return datetime.combine(add_years(moment.date(), years), moment.timetz())


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on `day`.

    Defined through `add_years`, so the two agree: someone born on 29 February has a
    birthday on 28 February in common years, for the age rules and the 23rd birthday alike.
    """
    years = day.year - birth_date.year
    return years if add_years(birth_date, years) <= day else years - 1


def turns_23_on(birth_date: date) -> date:
    """The day all data about the child must be gone (Jeugdwet: young people under 23)."""
    return add_years(birth_date, MAX_AGE)


def child_must_be_informed(age: int) -> bool:
    return age >= CHILD_INFORMED_FROM_AGE


def parents_must_be_informed(age: int) -> bool:
    return age < PARENTS_INFORMED_BELOW_AGE


@dataclass(frozen=True, slots=True)
class NewSignal:
    """A validated request to register a signal, BSNs still opaque."""

    child: Bsn
    birth_date: date
    parents: tuple[Bsn, ...]
    informatieplicht: Informatieplicht
    gemeente: str | None = None  # CBS code; None: the organisation's default (if any)
    own_reference: str | None = None  # the author's own short label; see `own_reference_problems`


UNKNOWN_GEMEENTE = "Unknown CBS gemeente code (e.g. GM0363 Amsterdam)."


def gemeente_problems(gemeente: str | None, known: Container[str]) -> list[Problem]:
    """A named gemeente must be on the bundled CBS list (`known`, passed in so the domain
    stays free of data files); naming none is fine."""
    if gemeente is None or gemeente in known:
        return []
    return [Problem("gemeente", UNKNOWN_GEMEENTE)]


def new_signal_problems(
    *,
    child: Bsn | None,
    birth_date: date | None,
    parents: Sequence[Bsn] | None,
    informatieplicht: Informatieplicht | None,
    today: date,
    gemeente: str | None = None,
    known_gemeenten: Container[str] = frozenset(),
) -> list[Problem]:
    """Cross-field rules of contract section 5 ("Signal in").

    Any argument may be None when its field was missing or malformed, so that a caller can
    report every problem at once; rules that need a missing value are simply not checked.
    """
    problems: list[Problem] = []
    if birth_date is not None:
        if birth_date > today:
            problems.append(Problem("birthDate", "The birth date lies in the future."))
        elif age_on(birth_date, today) >= MAX_AGE:
            problems.append(
                Problem("birthDate", f"The child must be under {MAX_AGE} on the day of signalling.")
            )
    if parents is not None:
        if len(parents) > MAX_PARENTS:
            problems.append(Problem("parentBsns", f"At most {MAX_PARENTS} parents."))
        if len(set(parents)) != len(parents):
            problems.append(Problem("parentBsns", "Parents must be distinct."))
        if child is not None and child in parents:
            problems.append(Problem("parentBsns", "A parent cannot be the child itself."))
    if informatieplicht is not None:
        problems.extend(postponement_problems(informatieplicht.postponement, today))
        problems.extend(
            contradiction_problems(
                child_informed=informatieplicht.child_informed,
                parents_informed=informatieplicht.parents_informed,
                postponed=informatieplicht.postponement is not None,
            )
        )
        if birth_date is not None and birth_date <= today:
            problems.extend(informatieplicht_problems(informatieplicht, age_on(birth_date, today)))
    problems.extend(gemeente_problems(gemeente, known_gemeenten))
    return problems


# A number in free text: digits, possibly in groups split by one space, dot or hyphen.
_NUMBER_IN_TEXT = re.compile(r"[0-9]+(?:[ .\-\u00a0][0-9]+)*")
_DIGIT_GROUP = re.compile(r"[0-9]+")
BSN_IN_JUSTIFICATION = "Do not put a BSN in the justification: the signal already names the child."


def _reads_as_bsn(digits: str) -> bool:
    return len(digits) == 9 and bool(stdnum_bsn.is_valid(digits))


def _bsn_spans(text: str) -> list[tuple[int, int]]:
    """Where free text holds what reads as a BSN: a number of nine digits passing the
    elfproef, written whole or in groups ("111222333", "1112 22 333", "111.222.333"), or a
    nine-digit group inside a longer run ("111222333 123456782").

    A guard against a slip of the keyboard, not a data-loss filter: longer numbers written
    in groups (phone numbers, dates with times) are left alone on purpose.
    """
    spans = []
    for number in _NUMBER_IN_TEXT.finditer(text):
        if _reads_as_bsn("".join(_DIGIT_GROUP.findall(number.group()))):
            spans.append(number.span())
            continue
        spans += [
            (number.start() + group.start(), number.start() + group.end())
            for group in _DIGIT_GROUP.finditer(number.group())
            if _reads_as_bsn(group.group())
        ]
    return spans


def mentions_bsn(text: str) -> bool:
    """Whether free text (an informatieplicht justification) seems to hold a BSN, which
    would then be stored and shown back outside the pseudonymisation."""
    return bool(_bsn_spans(text))


OWN_REFERENCE_MAX_LENGTH = 40
OWN_REFERENCE_TOO_LONG = f"At most {OWN_REFERENCE_MAX_LENGTH} characters."
BSN_IN_OWN_REFERENCE = "The own reference must not contain a BSN."


def own_reference(raw: str | None) -> str | None:
    """An own reference as stored: trimmed, and None when nothing is left."""
    text = (raw or "").strip()
    return text or None


def own_reference_problems(reference: str | None) -> list[Problem]:
    """An own reference (issue 14) tells the author's cases apart, nothing more: short, on
    one line, and never a BSN (it would be stored outside the pseudonymisation). Names and
    diagnoses cannot be detected; the form asks plainly not to write them."""
    if reference is None:
        return []
    problems = []
    if len(reference) > OWN_REFERENCE_MAX_LENGTH:
        problems.append(Problem("ownReference", OWN_REFERENCE_TOO_LONG))
    elif any(ch < " " for ch in reference):
        problems.append(Problem("ownReference", "One line, without control characters."))
    if mentions_bsn(reference):
        problems.append(Problem("ownReference", BSN_IN_OWN_REFERENCE))
    return problems


def without_bsns(text: str, mark: str) -> str:
    """`text` with every BSN-like number replaced by `mark`, for showing a refused form
    back to its author without repeating the number."""
    for start, end in reversed(_bsn_spans(text)):
        text = text[:start] + mark + text[end:]
    return text


def postponement_problems(postponement: Postponement | None, today: date) -> list[Problem]:
    if postponement is None:
        return []
    problems = []
    if not postponement.justification.strip():
        problems.append(
            Problem("informatieplicht.postponement.justification", "A justification is required.")
        )
    elif mentions_bsn(postponement.justification):
        problems.append(
            Problem("informatieplicht.postponement.justification", BSN_IN_JUSTIFICATION)
        )
    if postponement.review_on <= today:
        problems.append(
            Problem("informatieplicht.postponement.reviewOn", "The review date must lie ahead.")
        )
    return problems


NOTHING_TO_POSTPONE = (
    "The child and the parents are both informed, so there is nothing to postpone: "
    "remove the postponement, or say who is not informed yet."
)


def contradiction_problems(
    *, child_informed: bool, parents_informed: bool, postponed: bool
) -> list[Problem]:
    """Everyone informed *and* a postponement of informing them says two things at once;
    storing it would put the signal on the open-postponements list and send a review
    reminder for a duty already done."""
    if postponed and child_informed and parents_informed:
        return [Problem("informatieplicht.postponement", NOTHING_TO_POSTPONE)]
    return []


def informatieplicht_problems(duty: Informatieplicht, age: int) -> list[Problem]:
    """Who must have been informed at this age, unless a postponement is recorded."""
    if duty.postponement is not None:
        return []
    problems = []
    if child_must_be_informed(age) and not duty.child_informed:
        problems.append(
            Problem(
                "informatieplicht.childInformed",
                f"A child of {CHILD_INFORMED_FROM_AGE} or older must be informed, "
                "or a postponement given.",
            )
        )
    if parents_must_be_informed(age) and not duty.parents_informed:
        problems.append(
            Problem(
                "informatieplicht.parentsInformed",
                f"The parents of a child under {PARENTS_INFORMED_BELOW_AGE} must be informed, "
                "or a postponement given.",
            )
        )
    return problems


def active_until(created_at: datetime, turns_23_at: datetime) -> datetime:
    return min(add_years_dt(created_at, ACTIVE_YEARS), turns_23_at)


def archived_until(archived_at: datetime, turns_23_at: datetime) -> datetime:
    return min(add_years_dt(archived_at, ARCHIVED_YEARS), turns_23_at)


# --- Read models returned by the repository -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Organisation:
    id: uuid.UUID
    name: str
    sector: Sector
    # CBS code its professionals' signals carry unless they name another gemeente.
    default_gemeente: str | None = None
    # Another region's organisation, mirrored by federation (docs/federation.md): the
    # region that holds its signals. None for this region's own organisations.
    region: str | None = None

    @property
    def is_remote(self) -> bool:
        """Mirrored from another region: its people get no mail, login or regie here."""
        return self.region is not None


@dataclass(frozen=True, slots=True)
class Professional:
    id: uuid.UUID
    organisation: Organisation
    name: str
    email: str
    phone: str
    roles: frozenset[Role]
    active: bool = True

    def has_role(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True, slots=True)
class InformatieplichtView:
    """What a reader may see: the justification only for its author (and privacy officers)."""

    child_informed: bool
    parents_informed: bool
    postponed: bool
    review_on: date | None
    reason: PostponementReason | None
    justification: str | None


@dataclass(frozen=True, slots=True)
class MatchRef:
    id: uuid.UUID
    type: MatchType


@dataclass(frozen=True, slots=True)
class Signal:
    id: uuid.UUID
    professional: Professional
    status: SignalStatus
    created_at: datetime
    active_until: datetime
    archived_until: datetime
    informatieplicht: InformatieplichtView
    history_available: bool
    matches: tuple[MatchRef, ...] = ()
    gemeente: str | None = None  # CBS code of the child's municipality, if named
    # Author's view only (`show_justification`): the child's birth date, to tell cases apart,
    # and the author's own reference, opened; None in any other view.
    child_birth_date: date | None = None
    own_reference: str | None = None


@dataclass(frozen=True, slots=True)
class Participant:
    professional: Professional
    since: date
    is_regisseur: bool
    followed_up_at: datetime | None = None  # when they marked the match as followed up
    # Contract section 10: while this participant is deactivated and their signals are not
    # yet moved, the coordinator of their organisation to contact instead (None otherwise).
    contact: Professional | None = None


@dataclass(frozen=True, slots=True)
class Match:
    id: uuid.UUID
    type: MatchType
    created_at: datetime
    my_signal_ids: tuple[uuid.UUID, ...]
    participants: tuple[Participant, ...]
    regisseur: Participant | None = field(default=None)
