"""Rendering shared by every page: the template context, safe redirects, form errors."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template

from verwijsindex.domain import InvalidInput

# Dutch for the reasons services give in English; unknown reasons are shown as they are.
REASONS_NL = {
    "Must not be empty.": "Vul dit veld in.",
    "Not a valid e-mail address.": "Dit is geen geldig e-mailadres.",
    "Not a valid phone number.": "Dit is geen geldig telefoonnummer.",
    "This e-mail address is already in use.": "Dit e-mailadres is al in gebruik.",
    "The two passwords differ.": "De wachtwoorden zijn niet gelijk.",
}


def reason_nl(reason: str) -> str:
    if reason.startswith("At least ") and reason.endswith(" characters."):
        return f"Minstens {reason.split()[2]} tekens."
    return REASONS_NL.get(reason, reason)


def errors_of(error: InvalidInput) -> dict[str, str]:
    """Field name → Dutch message, for showing each error next to its field."""
    found: dict[str, str] = {}
    for problem in error.problems:
        found.setdefault(problem.name, reason_nl(problem.reason))
    return found


def page(template: str, status: int = 200, **context: Any) -> Response:
    response = make_response(render_template(template, **context), status)
    return response


def local_path(candidate: str | None, default: str = "/") -> str:
    """Only paths on this site are followed after login: never `//host` or `https://...`."""
    if candidate and candidate.startswith("/") and not candidate.startswith("//"):
        return candidate
    return default
