"""What `verwijsindex keyholder …` and `verwijsindex hub …` do besides serving: enrol and
revoke members, rotate, sweep, report. The CLI calls these (it touches no storage itself).

Each opens the installation (settings, keys made if missing, database migrated) and runs
in one transaction; expected failures are `AdminError`s with a sentence for the operator.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from verwijsindex.config import ConfigError, Settings
from verwijsindex.crypto import KeyFileError, KeyRing, ensure_keys, load_keys
from verwijsindex.db import Database
from verwijsindex.federation import hub, keyholder, members
from verwijsindex.federation.identity import Identity, signing_key
from verwijsindex.federation.problems import FederationProblem
from verwijsindex.federation.settings import FederationSettings
from verwijsindex.migrate import upgrade
from verwijsindex.models import FederationMemberKeyRow, FederationMemberRow

FACTOR_TIMEOUT_SECONDS = 30


class AdminError(Exception):
    """A failure the operator can act on; `code` 2 for bad input or configuration."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Installation:
    mode: str
    settings: Settings
    federation: FederationSettings
    database: Database
    keys: KeyRing
    identity: Identity

    @property
    def name(self) -> str:
        return self.identity.name


def prepare(mode: str) -> Settings:
    """Settings read, keys made if missing, database migrated: what `serve` needs first."""
    try:
        settings = Settings.from_env()
        FederationSettings.from_env()
    except ConfigError as error:
        raise AdminError(str(error), 2) from None
    ensure_keys(settings.keys_dir)
    signing_key(settings.keys_dir)
    upgrade(settings.database_url)
    return settings


@contextmanager
def installation(mode: str) -> Iterator[Installation]:
    settings = prepare(mode)
    federation = FederationSettings.from_env()
    try:
        keys = load_keys(settings.keys_dir)
    except KeyFileError as error:
        raise AdminError(str(error), 2) from None
    database = Database(settings.database_url)
    name = federation.member_name(mode)
    try:
        yield Installation(
            mode,
            settings,
            federation,
            database,
            keys,
            Identity(name, signing_key(settings.keys_dir)),
        )
    finally:
        database.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _session(found: Installation) -> Iterator[Session]:
    with found.database.unit_of_work(write=True) as uow:
        yield uow.session
        uow.commit()


# --- members --------------------------------------------------------------------------------


def enrol(found: Installation, name: str, public_key_file: Path, url: str | None) -> str:
    """Enrol `name` with the key in `public_key_file` (PEM); returns the key's kid."""
    if not re.match(members.MEMBER_NAME_PATTERN, name):
        raise AdminError(
            "a member name is lower-case letters, digits and hyphens (at most 63), "
            "e.g. regio-utrecht",
            2,
        )
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise AdminError("--url must be an http(s) URL, e.g. https://vi.regio.example", 2)
        url = url.rstrip("/")
    try:
        pem = public_key_file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise AdminError(f"cannot read {public_key_file}: {error}", 2) from None
    with _session(found) as session:
        try:
            kid = members.enrol(session, name, pem, url, _now())
        except ValueError as error:
            raise AdminError(f"{public_key_file}: {error}", 2) from None
        members.audit(session, None, f"{found.mode}:enrol", {"name": name, "kid": kid}, _now())
    return kid


def revoke(found: Installation, name: str, kid: str | None) -> None:
    with _session(found) as session:
        if not members.revoke(session, name, _now(), kid):
            what = f"key {kid} of member {name}" if kid else f"member {name}"
            raise AdminError(f"there is no {what}")
        members.audit(
            session, None, f"{found.mode}:revoke", {"name": name, "kid": kid or "all"}, _now()
        )


def member_list(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(select(FederationMemberRow).order_by(FederationMemberRow.name))
    keys: dict[str, int] = {}
    for member, revoked in session.execute(
        select(FederationMemberKeyRow.member, FederationMemberKeyRow.revoked_at)
    ):
        if revoked is None:
            keys[member] = keys.get(member, 0) + 1
    return [
        {
            "name": m.name,
            "url": m.url,
            "revoked": m.revoked_at is not None,
            "activeKeys": keys.get(m.name, 0),
        }
        for m in rows.scalars()
    ]


# --- key holder -----------------------------------------------------------------------------


def keyholder_rotate(found: Installation) -> int:
    with _session(found) as session:
        try:
            return keyholder.rotate(session, found.keys.cipher, _now())
        except FederationProblem as refused:
            raise AdminError(refused.detail) from None


def keyholder_status(found: Installation) -> dict[str, Any]:
    with _session(found) as session:
        current, _ = keyholder.current_key(session, found.keys.cipher, _now())
        return {
            "name": found.name,
            "keyVersion": current,
            "versions": [
                {"version": v, "createdAt": c.isoformat()} for v, c in keyholder.versions(session)
            ],
            "members": member_list(session),
            "usageThisMinute": keyholder.usage_this_minute(session, _now()),
        }


# --- hub ------------------------------------------------------------------------------------


def fetch_factor(found: Installation, old: int, new: int) -> bytes:
    """The re-key factor `k_new · k_old⁻¹` from the key holder, asked as member `hub`."""
    base = found.federation.keyholder_url
    if base is None:
        raise AdminError("set VERWIJSINDEX_FEDERATION_KEYHOLDER_URL to the key holder's address", 2)
    call = urllib.request.Request(  # noqa: S310 - the operator's configured http(s) URL
        f"{base}/federation/v1/rekey?from={old}&to={new}",
        headers={
            "Authorization": f"Bearer {found.identity.assertion(found.federation.keyholder_name)}",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(call, timeout=FACTOR_TIMEOUT_SECONDS) as answer:  # noqa: S310
            body = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise AdminError(
                f"the key holder has no key version {new}: run `verwijsindex keyholder rotate` "
                "there first"
            ) from None
        if error.code == 401:
            raise AdminError(
                f"the key holder refused this hub: enrol it there as `{found.name}` with the "
                "output of `verwijsindex federation public-key`"
            ) from None
        raise AdminError(f"the key holder answered {error.code}") from None
    except (OSError, ValueError) as error:
        raise AdminError(f"cannot reach the key holder at {base}: {error}") from None
    try:
        return keyholder.check_scalar(str(body["factor"]))
    except (KeyError, TypeError, ValueError):
        raise AdminError("the key holder's answer holds no valid factor") from None


def hub_rotate(found: Installation) -> dict[str, int]:
    """Move every pointer from the hub's key version v to v+1 (the key holder must have
    rotated first); regions then get 409 until they have re-keyed too."""
    with _session(found) as session:
        old = hub.key_version(session)
    factor = fetch_factor(found, old, old + 1)
    with _session(found) as session:
        try:
            count = hub.rekey_all(session, factor, old, _now())
        except FederationProblem as refused:
            raise AdminError(refused.detail) from None
    return {"from": old, "to": old + 1, "pseudonyms": count}


def hub_maintenance(found: Installation) -> dict[str, int]:
    swept = 0
    while True:
        with _session(found) as session:
            done = hub.sweep(session, _now())
        swept += done
        if done < hub.SWEEP_BATCH:
            break
    with _session(found) as session:
        purged = hub.purge_notices(session, _now())
    return {"expiredPointers": swept, "noticesPurged": purged}


def hub_status(found: Installation) -> dict[str, Any]:
    with _session(found) as session:
        return {
            "name": found.name,
            "keyVersion": hub.key_version(session),
            **hub.counts(session, _now()),
            "members": member_list(session),
        }
