"""Database errors: their text never carries statement parameters (pseudonyms), and a
database that cannot be reached is a 503 with Retry-After, never a 500."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.servers import free_port
from verwijsindex import create_app
from verwijsindex.config import Settings
from verwijsindex.db import Database

PSEUDONYM = "k1:c2VjcmV0LXBzZXVkb255bS1vZi1hLWNoaWxk"


def test_a_database_error_and_the_statement_log_do_not_show_the_parameters(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    database = Database(backend)
    try:
        with database.engine.connect() as connection:
            create = "CREATE TEMPORARY TABLE probe (id INTEGER PRIMARY KEY, p TEXT)"
            connection.execute(text(create))
            insert = text("INSERT INTO probe (id, p) VALUES (:id, :p)")
            connection.execute(insert, {"id": 1, "p": "first"})
            with pytest.raises(IntegrityError) as raised:
                # A duplicate id: the database's own message names the key, not `p`.
                connection.execute(insert, {"id": 1, "p": PSEUDONYM})
    finally:
        database.dispose()
    assert "INSERT INTO probe" in str(raised.value)  # the statement is still there to debug
    assert PSEUDONYM not in str(raised.value)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "INSERT INTO probe" in logged, "the statement log should have been captured"
    assert PSEUDONYM not in logged


def app_without_a_database(keys_dir: Path) -> Flask:
    nobody_listens = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/verwijsindex"
    return create_app(Settings(database_url=nobody_listens, keys_dir=keys_dir))


def test_an_unreachable_database_is_a_503_problem_with_retry_after(keys_dir: Path) -> None:
    app = app_without_a_database(keys_dir)
    try:
        response = app.test_client().post(
            "/api/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": str(uuid.uuid4()),  # well-formed, so it is looked up
                "client_secret": "secret",
            },
        )
    finally:
        app.extensions["verwijsindex"].database.dispose()
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json()
    assert body["status"] == 503 and body["title"] == "Service Unavailable"
    assert "Traceback" not in response.get_data(as_text=True)


def test_an_unreachable_database_is_a_dutch_503_page_with_retry_after_in_the_web_ui(
    keys_dir: Path,
) -> None:
    app = app_without_a_database(keys_dir)
    client = app.test_client()
    client.set_cookie("verwijsindex_sessie", "a-session-to-look-up")
    try:
        response = client.get("/")
    finally:
        app.extensions["verwijsindex"].database.dispose()
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
    assert "Probeer het later opnieuw" in response.get_data(as_text=True)
