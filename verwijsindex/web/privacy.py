"""The privacy officer's pages (`/privacy`): the audit log, the check of its hash chain, and
subject-access reports.

The audit-log search is a GET form (so its pages can be linked and paged), and none of its
fields holds personal data: dates and ids only. The subject-access request is the other
way round: the BSN travels only in the body of `POST /privacy/inzage`, and the report is the
answer to that POST (the app sends every page with `Cache-Control: no-store`). A GET of
`/privacy/inzage` only ever shows the empty form, whatever its query says; no page shows
the BSN, and after an error the field is empty.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from verwijsindex.audit import Outcome
from verwijsindex.domain import LOCAL_TIME, Role
from verwijsindex.pseudonym import parse_bsn
from verwijsindex.services.audit_chain import chain_status, request_verification
from verwijsindex.services.audit_log import AuditQuery, find_professionals, search_audit_events
from verwijsindex.services.core import Core
from verwijsindex.services.subject_access import SubjectRole, subject_access_report
from verwijsindex.web import forms
from verwijsindex.web.context import actor, core, login_required
from verwijsindex.web.labels import action_nl, roles_nl
from verwijsindex.web.pages import page
from verwijsindex.web.professional import template_helpers

bp = Blueprint("web_privacy", __name__)
bp.context_processor(template_helpers)

PAGE_SIZE = 50
OUTCOMES_NL = {Outcome.SUCCESS: "gelukt", Outcome.DENIED: "geweigerd"}
# Which credential acted (audit.Who.credential), as the audit-log page names it.
CREDENTIALS_NL = {
    "system": "met systeemtoken",
    "personal": "met persoonlijk token",
    "web": "via de website (tweestapsverificatie)",
}
SUBJECT_ROLES_NL = {SubjectRole.CHILD: "jeugdige", SubjectRole.PARENT: "ouder"}
BSN_MISSING = "Vul het BSN van de betrokkene in."
ID_INVALID = "Vul een geldig id in: 36 tekens, zoals 0b7e3c1e-5f0a-4d8e-9a51-2c3d4e5f6a7b."
UNTIL_BEFORE_SINCE = "De einddatum ligt vóór de begindatum."

# The audit log's reasons for a broken chain (audit.AuditLog.verify), in Dutch.
_CHAIN_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"seq (\d+) is missing"), "record {0} ontbreekt"),
    (re.compile(r"seq out of order"), "de records staan niet op volgorde"),
    (
        re.compile(r"does not follow its predecessor.*"),
        "het record sluit niet aan op het vorige (er is een record verwijderd of tussengevoegd)",
    ),
    (
        re.compile(r"its content was altered.*"),
        "de inhoud van het record is gewijzigd, of het is niet door de verwijsindex geschreven",
    ),
    (re.compile(r"its data subject was altered"), "de betrokkene van het record is gewijzigd"),
    (re.compile(r"the chain's head record is missing"), "het eindrecord van de keten ontbreekt"),
    (
        re.compile(r"the chain's head record was altered"),
        "het eindrecord van de keten is gewijzigd",
    ),
    (
        re.compile(r"records after seq (\d+) are missing \(the head says (\d+)\)"),
        "de records na record {0} ontbreken (het eindrecord noemt record {1})",
    ),
    (
        re.compile(r"the log ends at seq (\d+) but .+ vouches for seq (\d+): .*"),
        "het log eindigt bij record {0}, maar een ondertekend controlepunt noemt record {1}: "
        "er zijn records verwijderd (afgekapt of teruggezet)",
    ),
    (
        re.compile(r"record (\d+) is missing or differs from .+: .*"),
        "record {0} ontbreekt of wijkt af van een ondertekend controlepunt: het log is "
        "teruggezet of herschreven",
    ),
    (
        re.compile(r"the anchor .+ is not signed with this service's checkpoint key .*"),
        "een regel in het ankerbestand is niet door de verwijsindex ondertekend (vervalst of "
        "gewijzigd)",
    ),
]


# The log is kept in several chains; a reason names the chain it was found in at its end.
_IN_CHAIN = re.compile(r"(?P<reason>.*) \(chain (?P<chain>\d+)\)")


def chain_reason_nl(reason: str | None) -> str:
    text, chain = reason or "", None
    in_chain = _IN_CHAIN.fullmatch(text)
    if in_chain:
        text, chain = in_chain["reason"], in_chain["chain"]
    suffix = f" (keten {chain})" if chain is not None else ""
    for pattern, dutch in _CHAIN_REASONS:
        found = pattern.fullmatch(text)
        if found:
            return dutch.format(*found.groups()) + suffix
    return (reason or "onbekende reden") if not text else text + suffix


def getal(number: int) -> str:
    """`12.345`: Dutch digit grouping."""
    return f"{number:,}".replace(",", ".")


def moment(at: datetime) -> str:
    """`24-11-2026 10:15:03`, Dutch time: the audit log is read to the second."""
    return f"{at.astimezone(LOCAL_TIME):%d-%m-%Y %H:%M:%S}"


@bp.context_processor
def privacy_helpers() -> dict[str, Any]:
    return {
        "getal": getal,
        "moment": moment,
        "outcome_nl": lambda outcome: OUTCOMES_NL.get(outcome, outcome),
        "credential_nl": lambda kind: CREDENTIALS_NL.get(kind, kind),
        "action_nl": action_nl,
        "roles_nl": roles_nl,
        "subject_role_nl": lambda role: SUBJECT_ROLES_NL.get(role, str(role)),
    }


@bp.get("/privacy")
@login_required(Role.PRIVACY_OFFICER)
def index() -> Response:
    return page("web/privacy/index.html")


# --- the audit log -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditForm:
    values: dict[str, str]
    errors: dict[str, str]
    query: AuditQuery | None


def parse_audit_form(args: dict[str, str]) -> AuditForm:
    """`van` and `tot` are Dutch calendar days, both included; `actor` and `object` ids."""
    values = {name: args.get(name, "").strip() for name in ("van", "tot", "actor", "object")}
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name in ("van", "tot"):
        days[name] = forms.parse_date(values[name]) if values[name] else None
        if values[name] and days[name] is None:
            errors[name] = forms.DATE_INVALID
        elif days[name] is not None:
            values[name] = f"{days[name]:%Y-%m-%d}"  # what a date field can show again
    since_day, until_day = days["van"], days["tot"]
    if since_day and until_day and until_day < since_day:
        errors["tot"] = UNTIL_BEFORE_SINCE
    ids: dict[str, uuid.UUID | None] = {}
    for name in ("actor", "object"):
        ids[name] = forms.parse_uuid(values[name]) if values[name] else None
        if values[name] and ids[name] is None:
            errors[name] = ID_INVALID
    if errors:
        return AuditForm(values, errors, None)
    before = args.get("na", "")
    query = AuditQuery(
        since=Core.start_of_local_day(since_day) if since_day else None,
        until=Core.start_of_local_day(until_day + timedelta(days=1)) if until_day else None,
        actor=ids["actor"],
        object_id=ids["object"],
        before_seq=int(before) if before.isdigit() and len(before) < 19 else None,
        page_size=PAGE_SIZE,
    )
    return AuditForm(values, {}, query)


WHO_MISSING = "Vul een naam of e-mailadres in."
WHO_UNKNOWN = "Geen professional gevonden met deze naam of dit e-mailadres."


@bp.post("/privacy/auditlog")
@login_required(Role.PRIVACY_OFFICER)
def find_actor() -> Response:
    """A name or an e-mail address becomes the professional's id: it is sent in a POST body
    (the search page's address holds dates and ids only, never a name or an address) and
    one professional found sends the browser to their records; several are listed to choose
    from."""
    who = request.form.get("wie", "").strip()[:200]
    empty = {"van": "", "tot": "", "actor": "", "object": ""}
    if not who:
        return page(
            "web/privacy/audit_log.html", 400, values=empty, errors={"wie": WHO_MISSING}, found=None
        )
    people = find_professionals(core(), actor(), who)
    if len(people) == 1:
        return redirect(url_for(".audit_log", actor=people[0].id), 303)
    if not people:
        return page(
            "web/privacy/audit_log.html",
            404,
            values=empty,
            errors={"wie": WHO_UNKNOWN},
            found=None,
            who=who,
        )
    return page(
        "web/privacy/audit_log.html", values=empty, errors={}, found=None, who=who, choices=people
    )


@bp.get("/privacy/auditlog")
@login_required(Role.PRIVACY_OFFICER)
def audit_log() -> Response:
    form = parse_audit_form(request.args.to_dict())
    if form.query is None:
        return page(
            "web/privacy/audit_log.html", 400, values=form.values, errors=form.errors, found=None
        )
    found = search_audit_events(core(), actor(), form.query)
    filters = {name: value for name, value in form.values.items() if value}
    return page(
        "web/privacy/audit_log.html",
        values=form.values,
        errors={},
        found=found,
        filters=filters,
        paged=form.query.before_seq is not None,
    )


# --- the hash chain ----------------------------------------------------------------------------


@bp.get("/privacy/keten")
@login_required(Role.PRIVACY_OFFICER)
def chain() -> Response:
    """The result of the last verification, never a walk: at millions of records a walk
    takes minutes, and would hold a server worker that long. A new one is queued (POST)
    and run by `verwijsindex worker`."""
    status = chain_status(core(), actor())
    last = status.last
    return page(
        "web/privacy/chain.html",
        last=last,
        pending=status.pending,
        head_seq=status.head_seq,
        reason=chain_reason_nl(last.reason) if last is not None else "",
    )


@bp.post("/privacy/keten")
@login_required(Role.PRIVACY_OFFICER)
def request_chain_check() -> Response:
    """`soort=volledig` walks every record; anything else only those since the newest
    verified checkpoint."""
    request_verification(core(), actor(), full=request.form.get("soort") == "volledig")
    return redirect(url_for(".chain"), 303)


# --- subject access ----------------------------------------------------------------------------


@bp.route("/privacy/inzage", methods=["GET", "POST"])
@login_required(Role.PRIVACY_OFFICER)
def subject_access() -> Response:
    if request.method == "GET":
        return page("web/privacy/subject_access.html", errors={})
    raw = request.form.get("bsn", "")
    # Spaces and dots are forgiven, as on the signal form: people copy them from letters.
    bsn = parse_bsn(re.sub(r"[\s.]", "", raw))
    if bsn is None:
        error = BSN_MISSING if not raw.strip() else forms.BSN_INVALID
        return page("web/privacy/subject_access.html", 400, errors={"bsn": error})
    report = subject_access_report(core(), actor(), bsn)
    return page("web/privacy/subject_access_report.html", report=report)
