"""Alembic environment for ustad's schema.

Two ways in:

- From the application (``Database.migrate``): ``config.attributes["connection"]`` is a
  sync view of one of the app's async connections, already in a transaction that holds
  the migration lock; migrations run on it and the caller commits.
- From a command line (``python -m ustad.store`` or ``alembic -c .../alembic.ini``) with
  no connection: this opens its own engine on the configured URL
  (``config.attributes["url"]``, else ``sqlalchemy.url``, else ``USTAD_DB__URL`` / the
  default) and takes the same lock.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, make_url
from sqlalchemy.engine import URL

from ustad.store.database import Database, configured_url
from ustad.store.models import Base, UtcDateTime

config = context.config
target_metadata = Base.metadata


def _url() -> URL:
    given = config.attributes.get("url")
    if given is not None:
        return make_url(given)
    option = config.get_main_option("sqlalchemy.url")
    return make_url(option or configured_url())


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write our UTC timestamp type as the plain SQLAlchemy type it stores as."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**options: Any) -> None:
    url = options.pop("url", None)
    dialect = url.get_backend_name() if url is not None else options["connection"].dialect.name
    context.configure(
        url=url,
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=dialect == "sqlite",
        **options,
    )


def run_offline() -> None:
    """Emit SQL to stdout (``--sql``) instead of running it."""
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_on(connection: Connection) -> None:
    """Run the migrations on a connection (inside the caller's transaction if it has one)."""
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_own_engine() -> None:
    """Open an engine on the configured URL, migrate under the lock, close it."""
    database = Database(_url())
    try:
        async with database.migration_connection() as connection:
            await connection.run_sync(run_on)
    finally:
        await database.close()


if config.attributes.get("configure_logger", True) and config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_offline()
elif (shared := config.attributes.get("connection")) is not None:
    run_on(shared)
else:
    asyncio.run(run_own_engine())
