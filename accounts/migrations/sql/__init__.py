"""The exact SQL each migration installs, one frozen copy per version and database vendor.

Files are named ``<version>_<vendor>.sql`` (installed going forwards) and
``<version>_<vendor>_reverse.sql`` (what undoes it). Statements are separated by a line reading
``-- accounts: next statement``. A file is never edited once a migration that uses it has been
released: changing the database's rules means a new version and a new migration, so that
replaying the history gives every database exactly what it got at the time.

``@@SCHEMA@@`` in PostgreSQL functions stands for the schema the ledger lives in (their fixed
``search_path``); it is filled in from ``current_schema()`` when the file is run.

Django's migration loader only imports modules, not packages, from ``migrations/``: this package
is never taken for a migration.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

SEPARATOR = "-- accounts: next statement"
SCHEMA_PLACEHOLDER = "@@SCHEMA@@"
DIRECTORY = Path(__file__).resolve().parent
VENDORS = ("postgresql", "mysql", "sqlite")


def path(version: str, vendor: str, *, reverse: bool = False) -> Path:
    return DIRECTORY / f"{version}_{vendor}{'_reverse' if reverse else ''}.sql"


@cache
def statements(version: str, vendor: str, *, reverse: bool = False) -> tuple[str, ...]:
    """The statements of one frozen file; none for a vendor it does not cover."""
    file = path(version, vendor, reverse=reverse)
    if not file.exists():
        return ()
    text = file.read_text(encoding="utf-8")
    return tuple(part.strip() for part in text.split(SEPARATOR) if part.strip())


def render(connection: Any, sql: str) -> str:
    """Fill in the ledger's schema for PostgreSQL."""
    if SCHEMA_PLACEHOLDER not in sql:
        return sql
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = connection.ops.quote_name(cursor.fetchone()[0])
    return sql.replace(SCHEMA_PLACEHOLDER, schema)


def run(schema_editor: Any, version: str, *, reverse: bool = False) -> None:
    """Run one frozen file through a migration's schema editor."""
    connection = schema_editor.connection
    for sql in statements(version, connection.vendor, reverse=reverse):
        schema_editor.execute(render(connection, sql), params=None)


def write(version: str, vendor: str, install: list[str], uninstall: list[str]) -> None:
    """Freeze ``install`` and ``uninstall`` as a new version (for maintainers, never at runtime)."""
    for reverse, sqls in ((False, install), (True, uninstall)):
        file = path(version, vendor, reverse=reverse)
        if file.exists():
            raise FileExistsError(f"{file.name} is frozen; make a new version instead.")
        body = f"\n{SEPARATOR}\n".join(_dedent(sql) for sql in sqls)
        file.write_text(body + "\n", encoding="utf-8")


def _dedent(sql: str) -> str:
    import textwrap

    return textwrap.dedent(sql.strip("\n")).strip()
