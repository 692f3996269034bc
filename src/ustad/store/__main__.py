"""Migrate ustad's database by hand: ``python -m ustad.store upgrade|current|revision``.

The URL is the service's own (``USTAD_DB__URL``, ``.env``, or the SQLite default);
``--url`` overrides it. Every command runs under the same migration lock as the app.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from ustad.store.database import Database, configured_url


def next_revision_id(config: Config) -> str:
    """The next zero-padded number after the highest numbered revision (``0002`` ...)."""
    script = ScriptDirectory.from_config(config)
    numbers = [int(rev.revision) for rev in script.walk_revisions() if rev.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ustad.store", description=__doc__)
    parser.add_argument("--url", help="database URL (default: USTAD_DB__URL or the default)")
    commands = parser.add_subparsers(dest="command", required=True)
    upgrade = commands.add_parser("upgrade", help="upgrade the schema (default: to head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    current = commands.add_parser("current", help="show the revision the database is at")
    current.add_argument("-v", "--verbose", action="store_true")
    revision = commands.add_parser("revision", help="write a new migration script")
    revision.add_argument("-m", "--message", required=True)
    revision.add_argument(
        "--autogenerate", action="store_true", help="diff the models against the database"
    )
    return parser


async def _run(args: argparse.Namespace) -> None:
    database = Database(args.url or configured_url())
    try:
        if args.command == "upgrade":
            await database.run_alembic(lambda config: command.upgrade(config, args.revision))
        elif args.command == "current":
            await database.run_alembic(lambda config: command.current(config, args.verbose))
        else:

            def write(config: Config) -> None:
                command.revision(
                    config,
                    message=args.message,
                    autogenerate=args.autogenerate,
                    rev_id=next_revision_id(config),
                )

            await database.run_alembic(write)
    finally:
        await database.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.INFO)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    asyncio.run(_run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
