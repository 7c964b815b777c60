"""Helpers for the hub's and key holder's tests: members with their own Ed25519 keys,
enrolled in the server's database, calling it through the Flask test client with real
client assertions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

from verwijsindex.federation import members, oprf
from verwijsindex.federation.identity import Identity, b64url, public_pem
from verwijsindex.federation.server_app import Server, server_of


def element(label: str) -> str:
    """A federation pseudonym for test data: an element no BSN produced."""
    return b64url(oprf.hash_to_group(b"test-pseudonym:" + label.encode()))


@dataclass
class Member:
    """A region (or the hub, at the key holder) calling a federation server."""

    identity: Identity
    http: FlaskClient
    audience: str

    @property
    def name(self) -> str:
        return self.identity.name

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.identity.assertion(self.audience)}"}

    def call(self, method: str, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body)
        return self.http.open(
            path,
            method=method,
            data=data,
            headers=self.headers(),
            content_type="application/json" if data is not None else None,
        )


def enrol(app: Flask, name: str, url: str | None = None) -> Member:
    """A fresh key for `name`, enrolled at the app's server."""
    server = server_of(app)
    identity = Identity(name, Ed25519PrivateKey.generate())
    server.transaction(
        lambda s: members.enrol(s, name, public_pem(identity.public_key), url, datetime.now(UTC))
    )
    return Member(identity, app.test_client(), server.name)


def audit_actions(server: Server) -> list[tuple[str | None, str, dict[str, Any]]]:
    from sqlalchemy import select

    from verwijsindex.models import FederationAuditRow

    with server.database.unit_of_work(write=False) as uow:
        rows = uow.session.execute(
            select(FederationAuditRow).order_by(FederationAuditRow.id)
        ).scalars()
        return [(r.member, r.action, json.loads(r.detail)) for r in rows]


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return body
