"""Models and migrations agree: on a database built by the migrations alone, Alembic's
autogenerate comparison against the models finds nothing to add, drop or alter (SQLite and
Postgres). A column added to models.py without a migration, or a migration that drifts from the
model it was written for, fails here."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from backend.db import get_engine
from backend.migrate import upgrade
from backend.models import Base


def test_the_migrations_build_exactly_the_schema_the_models_declare(db_url):
    upgrade(db_url)
    with get_engine(db_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        drift = compare_metadata(context, Base.metadata)
    assert drift == [], "models.py and the migrations disagree (write a migration):\n" + "\n".join(map(str, drift))
