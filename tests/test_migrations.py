"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from bot.migrate import upgrade
from bot.models import Base
from tests.conftest import PG_URL

TARGETS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=TARGETS)
def empty_db(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migrate.sqlite3"
        return
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS qingche_migrate CASCADE"))
        conn.execute(text("CREATE SCHEMA qingche_migrate"))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3Dqingche_migrate"
    with admin.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS qingche_migrate CASCADE"))
    admin.dispose()


def test_upgrade_matches_the_models(empty_db):
    upgrade(empty_db)
    upgrade(empty_db)  # a second run is a no-op
    engine = create_engine(empty_db)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    engine.dispose()
    assert diff == []
