"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from bot.migrate import upgrade
from bot.models import Base
from tests.conftest import PG_URL, private_pg_schema

TARGETS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=TARGETS)
def empty_db(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migrate.sqlite3"
        return
    with private_pg_schema("qingche_migrate") as url:
        yield url


def test_upgrade_matches_the_models(empty_db):
    upgrade(empty_db)
    upgrade(empty_db)  # a second run is a no-op
    engine = create_engine(empty_db)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    engine.dispose()
    assert diff == []
