"""The Alembic migrations build exactly the schema the models describe, on both databases.

A model change without its migration (or the reverse) fails here, not in production.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from verwijsindex.models import Base


def test_migrations_and_models_agree(backend: str) -> None:
    engine = create_engine(backend)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []
