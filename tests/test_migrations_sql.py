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

#: SHA-256 of every frozen file. A released file never changes: add a version instead.
CHECKSUMS = {
    "0002_mysql.sql": "8fcb1a2647699e5b79fbca799fb3a906f952897f946ca445d38f05bdb934451c",
    "0002_mysql_reverse.sql": "c062d92407cebdcfaf69290ff45921d54473ac103730be66cc08a051ffbd2839",
    "0002_postgresql.sql": "f113ab819fd671e0c481e10b595c0f935d778726abb9f763e7499ce918be19c4",
    "0002_postgresql_reverse.sql": "1215f30780434c27d7f080f7a1a373a6fa8ea9c34564e7fd24efd581899e7530",
    "0002_sqlite.sql": "67d086eea09c8a42fe5863bd19902bfcc1f98e1138f743fb3699229d55faf6f6",
    "0002_sqlite_reverse.sql": "c062d92407cebdcfaf69290ff45921d54473ac103730be66cc08a051ffbd2839",
    "0005_mysql.sql": "8fcb1a2647699e5b79fbca799fb3a906f952897f946ca445d38f05bdb934451c",
    "0005_mysql_reverse.sql": "c062d92407cebdcfaf69290ff45921d54473ac103730be66cc08a051ffbd2839",
    "0005_postgresql.sql": "fa38956087be480f1b88d979b9a78fdfb93e9b08fd9da82ad60e59f61e769b4f",
    "0005_postgresql_reverse.sql": "cc96bbf202a3149c3ec4cbb73186ad15f6e74f22817e12f39d45b02fc575411b",
    "0005_sqlite.sql": "67d086eea09c8a42fe5863bd19902bfcc1f98e1138f743fb3699229d55faf6f6",
    "0005_sqlite_reverse.sql": "c062d92407cebdcfaf69290ff45921d54473ac103730be66cc08a051ffbd2839",
    "0006_mysql.sql": "7888db35c2d54ea01813c3b4c9d208d5a515c1b16f5c8bb69e8a9a8ea08ab544",
    "0006_mysql_reverse.sql": "c062d92407cebdcfaf69290ff45921d54473ac103730be66cc08a051ffbd2839",
    "0006_postgresql.sql": "a0a40447ee91c57b81b0cf4253aa4104fbf6f1756c9acafa2bdb3f3a2cfe770b",
    "0006_postgresql_reverse.sql": "cc96bbf202a3149c3ec4cbb73186ad15f6e74f22817e12f39d45b02fc575411b",
    "0006_sqlite.sql": "67d086eea09c8a42fe5863bd19902bfcc1f98e1138f743fb3699229d55faf6f6",
    "0006_sqlite_reverse.sql": "c062d92407cebdcfaf69290ff45921d54473ac103730be66cc08a051ffbd2839",
    "0007_mysql.sql": "23b9e9a107499ded3570de11f7dd614e6bb570f30ea0b4fb3eed8d95c3dfdc6f",
    "0007_mysql_reverse.sql": "40ca812008f1c129f85b7a58f42f37ab54f12a249df58d0bbc800c0a2efc64c7",
    "0007_postgresql.sql": "a0092a152dad6f91a2559c9d8d7c379484af75b1e9f22c59ea5d3432ec1f47a4",
    "0007_postgresql_reverse.sql": "cc96bbf202a3149c3ec4cbb73186ad15f6e74f22817e12f39d45b02fc575411b",
    "0007_sqlite.sql": "67d086eea09c8a42fe5863bd19902bfcc1f98e1138f743fb3699229d55faf6f6",
    "0007_sqlite_reverse.sql": "40ca812008f1c129f85b7a58f42f37ab54f12a249df58d0bbc800c0a2efc64c7",
    "0008_mysql.sql": "18e1df450e361851e42b3e6d2697834f5133c3e5e4f60750c714ecfcca9312a7",
    "0008_mysql_reverse.sql": "8d3eea01f3c80ad15f80ec6f807aa275b149228b1e1137285a3c2837c5aeebff",
    "0008_postgresql.sql": "43c6b54b2b65a1a644f5f8bb2fb5382004f6154ac6d3014576ba5633faf8016c",
    "0008_postgresql_reverse.sql": "97810ecc9d18a2f4d5b64c4a4a0ea44aac5080d0797e829f78120939b2cf1d1b",
    "0008_sqlite.sql": "559b2312afdeb0c6c9dfbe56d4fdf6606f3ef0d1c0e41011a7ee69c404103904",
    "0008_sqlite_reverse.sql": "8d3eea01f3c80ad15f80ec6f807aa275b149228b1e1137285a3c2837c5aeebff",
}


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
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'accounts%%'",
    }[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(query)
        return {row[0] for row in cursor.fetchall()}


def assert_latest_rules_installed() -> None:
    latest = created_triggers(integrity.LEDGER_VERSION, integrity.AUDIT_VERSION)
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
