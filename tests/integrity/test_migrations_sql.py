"""The database rules each migration installs are frozen, and the history replays exactly.

Migrations that install triggers run a frozen copy of their SQL (``accounts/migrations/sql/``),
never the live code, so editing today's rules cannot change what an old migration does. These
tests hold the copies to their checksums, hold the code that writes the next version to the
latest copy, and check that a database migrated from scratch, or back and forth, carries exactly
the latest rules.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.management import call_command
from django.db import connection

from accounts import integrity
from accounts.migrations import sql as frozen

#: SHA-256 of every frozen file, in ``sha256sum`` format. A released file never changes: add a
#: version instead (and its line here).
CHECKSUMS = dict(
    reversed(line.split("  ", 1))
    for line in (frozen.DIRECTORY / "SHA256SUMS").read_text().splitlines()
    if line.strip()
)


def test_every_frozen_file_is_unchanged_and_listed():
    files = {path.name for path in frozen.DIRECTORY.glob("*.sql")}
    assert files == set(CHECKSUMS)
    for name, digest in CHECKSUMS.items():
        assert hashlib.sha256((frozen.DIRECTORY / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize("vendor", frozen.VENDORS)
def test_the_rules_in_the_code_are_the_latest_frozen_version(vendor):
    """Editing the rules in accounts/integrity.py needs a new frozen version and migration."""
    lists = {"postgresql": "POSTGRESQL", "mysql": "MYSQL", "sqlite": "SQLITE"}[vendor]
    ledger = [frozen._dedent(sql) for sql in getattr(integrity, lists)]
    ledger_reverse = [frozen._dedent(sql) for sql in getattr(integrity, lists + "_REVERSE")]
    audit, audit_reverse = (
        [frozen._dedent(sql) for sql in part] for part in integrity.AUDIT[vendor]
    )

    assert ledger == list(frozen.statements(integrity.LEDGER_VERSION, vendor))
    assert ledger_reverse == list(frozen.statements(integrity.LEDGER_VERSION, vendor, reverse=True))
    assert audit == list(frozen.statements(integrity.AUDIT_VERSION, vendor))
    assert audit_reverse == list(frozen.statements(integrity.AUDIT_VERSION, vendor, reverse=True))
    periods, periods_reverse = (
        [frozen._dedent(sql) for sql in part] for part in integrity.PERIODS[vendor]
    )
    version = integrity.PERIODS_VERSIONS[vendor]
    assert periods == list(frozen.statements(version, vendor))
    assert periods_reverse == list(frozen.statements(version, vendor, reverse=True))


def created_triggers(*versions: str) -> set[str]:
    names: set[str] = set()
    for version in versions:
        for sql in frozen.statements(version, connection.vendor):
            match = re.match(r"CREATE (?:CONSTRAINT )?TRIGGER (\w+)", sql)
            if match:
                names.add(match.group(1))
    return names


def installed_triggers() -> set[str]:
    query = {
        "postgresql": "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
        "AND tgname LIKE 'accounts%%'",
        "mysql": "SELECT trigger_name FROM information_schema.triggers "
        "WHERE trigger_schema = DATABASE() AND trigger_name LIKE 'accounts%%'",
        "sqlite": "SELECT name FROM sqlite_master "
        "WHERE type = 'trigger' AND name LIKE 'accounts%%'",
    }[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(query)
        return {row[0] for row in cursor.fetchall()}


def assert_latest_rules_installed() -> None:
    latest = created_triggers(
        integrity.LEDGER_VERSION,
        integrity.AUDIT_VERSION,
        integrity.PERIODS_VERSIONS[connection.vendor],
    )
    assert installed_triggers() == latest
    assert len(latest) == integrity.expected_trigger_count(connection.vendor)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT proname, proconfig FROM pg_proc WHERE proname LIKE 'accounts%%'")
            functions = dict(cursor.fetchall())
        assert functions
        for name, config in functions.items():
            assert any(
                c.startswith("search_path=pg_catalog,") and c.endswith("pg_temp")
                for c in config or []
            ), name


@pytest.mark.django_db
def test_a_freshly_migrated_database_carries_exactly_the_latest_rules():
    assert_latest_rules_installed()


@pytest.mark.django_db(transaction=True)  # migrations commit (MySQL commits around DDL anyway)
def test_migrating_back_and_forth_replays_each_frozen_version():
    try:
        call_command("migrate", "accounts", "0006", verbosity=0)
        assert installed_triggers() == created_triggers("0006")
        call_command("migrate", "accounts", "0001", verbosity=0)
        assert installed_triggers() == set()
    finally:
        call_command("migrate", "accounts", verbosity=0)
    assert_latest_rules_installed()
