"""Alembic migrations to head, run by `verwijsindex db upgrade` and on first `serve`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from verwijsindex.db import ensure_sqlite_directory


def migrations_dir() -> Path:
    """`migrations/` beside the package (a checkout) or in the working directory (an image)."""
    for candidate in (
        Path(__file__).resolve().parents[1] / "migrations",
        Path.cwd() / "migrations",
    ):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("cannot find the migrations/ directory")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    ensure_sqlite_directory(database_url)
    command.upgrade(alembic_config(database_url), "head")
