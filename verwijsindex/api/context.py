"""Request-scoped access to the core and to the acting professional."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import current_app, g, request

from verwijsindex.domain import InvalidInput, Problem, Unauthenticated
from verwijsindex.services import Actor, Core
from verwijsindex.services.auth import SystemCaller, authenticate, authenticate_system

EXTENSION_KEY = "verwijsindex"


def core() -> Core:
    found: Core = current_app.extensions[EXTENSION_KEY]
    return found


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("A bearer token is required (Authorization: Bearer ...).")
    return token.strip()


def actor() -> Actor:
    """The professional this request acts for, authenticated once per request."""
    cached: Actor | None = g.get("actor")
    if cached is not None:
        return cached
    found = authenticate(core(), _bearer_token(), request.headers.get("X-Professional-Id"))
    g.actor = found
    return found


def system_caller() -> SystemCaller:
    """The system client calling for itself (no X-Professional-Id), once per request."""
    cached: SystemCaller | None = g.get("system_caller")
    if cached is not None:
        return cached
    found = authenticate_system(core(), _bearer_token())
    g.system_caller = found
    return found


# --- cursor pagination ----------------------------------------------------------------------


class BadCursor(ValueError):
    pass


def encode_cursor(key: tuple[datetime, uuid.UUID]) -> str:
    raw = f"{key[0].isoformat()}|{key[1]}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        moment, _, key = raw.partition("|")
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None:
            raise BadCursor("cursor")
        return parsed, uuid.UUID(key)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursor("cursor") from None


def bad_cursor() -> InvalidInput:
    return InvalidInput([Problem("cursor", "Not a cursor this service gave out.")])


def cursor_key(query: dict[str, Any]) -> tuple[datetime, uuid.UUID] | None:
    """The page key from a list query's `cursor`, or None for the first page."""
    if "cursor" not in query:
        return None
    try:
        return decode_cursor(query["cursor"])
    except BadCursor:
        raise bad_cursor() from None


def next_url(path: str, key: tuple[datetime, uuid.UUID] | None, **query: object) -> str | None:
    """The absolute URL of the next page, or None on the last one."""
    return None if key is None else page_url(path, encode_cursor(key), **query)


def page_url(path: str, cursor: str, **query: object) -> str:
    """An absolute URL on this service's public base, with the query's non-empty values."""
    params = {k: v for k, v in query.items() if v is not None}
    params["cursor"] = cursor
    return f"{core().settings.base_url.rstrip('/')}{path}?{urlencode(params)}"
