"""Alembic migrations of the service's schema; ``upgrade()`` applies them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

HERE = Path(__file__).parent


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to ``engine`` (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Apply migrations up to ``revision``."""
    command.upgrade(alembic_config(engine), revision)


def current(engine: Engine) -> str:
    """The applied revisions (one per area branch), comma-separated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return ",".join(sorted(MigrationContext.configure(conn).get_current_heads())) or "none"
