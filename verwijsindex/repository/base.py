"""The session and field encryption every part of the repository shares."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from verwijsindex.crypto import KeyRing


class RepositoryBase:
    def __init__(self, session: Session, keys: KeyRing) -> None:
        self.session = session
        self._keys = keys
        self._cipher = keys.cipher

    def email_lookup(self, email: str) -> str:
        """The keyed hash a person is found by at login (addresses are case-insensitive)."""
        return self._keys.lookup("email", email.strip().lower())

    # --- encryption helpers --------------------------------------------------------------

    def _seal(self, table: str, row_id: uuid.UUID | str, column: str, value: str) -> bytes:
        return self._cipher.encrypt(value, f"{table}:{row_id}:{column}")

    def _open(self, table: str, row_id: uuid.UUID | str, column: str, blob: bytes) -> str:
        return self._cipher.decrypt(blob, f"{table}:{row_id}:{column}")
