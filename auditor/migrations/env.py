"""Alembic environment: runs on the engine handed in by ``auditor.migrations.upgrade``."""

from alembic import context

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    context.run_migrations()
