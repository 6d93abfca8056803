"""The benchmark's database: create it if missing, migrate it, empty it between scenarios.

Everything here runs against the database ``DATABASE_URL`` names (see :mod:`bench.settings`),
never a test database. The raw-SQL baseline opens its own driver connections through
:func:`raw_connect`, with the same parameters Django uses, so both sides talk to the same server
over the same kind of socket.
"""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path
from typing import Any

SETTINGS_MODULE = "bench.settings"
REPO_DIR = Path(__file__).resolve().parent.parent

#: Ledger tables emptied before each scenario, children first.
LEDGER_TABLES = (
    # Rows that point at transfers and accounts first: the audit trail, keys and holds.
    "accounts_auditentry",
    "accounts_idempotencykey",
    "accounts_hold",
    # Bank statements point at accounts and transfers: emptied first.
    "accounts_ruleapplication",
    "accounts_statementline",
    "accounts_statementimport",
    "accounts_matchingrule",
    "accounts_transaction",
    "accounts_transfer",
    "accounts_account_secondary_users",
    "accounts_account",
)


def setup_django() -> None:
    """Point Django at the bench settings and load the apps (idempotent; used by workers too)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    import django

    django.setup()


def db_settings() -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.DATABASES["default"])


def vendor_of(config: dict[str, Any]) -> str:
    """``postgresql``, ``mysql`` or ``sqlite`` from a Django database settings dict."""
    engine = config["ENGINE"]
    for vendor in ("postgresql", "mysql", "sqlite"):
        if vendor in engine:
            return vendor
    raise SystemExit(f"bench: unsupported database engine {engine}")


def create_database_if_missing(config: dict[str, Any]) -> bool:
    """Create the configured database on its server if it does not exist; True if created."""
    vendor = vendor_of(config)
    name = config["NAME"]
    if vendor == "sqlite":
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        return not Path(name).exists()
    if vendor == "postgresql":
        import psycopg
        from psycopg import sql

        with psycopg.connect(**_pg_params(config, dbname="postgres"), autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if found:
                return False
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    import MySQLdb

    conn = MySQLdb.connect(**_my_params(config, db=None))
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        if cursor.fetchone():
            return False
        quoted = name.replace("`", "``")
        cursor.execute(
            f"CREATE DATABASE `{quoted}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
        return True
    finally:
        conn.close()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def reset_ledger() -> None:
    """Empty the ledger tables and recreate the three core accounts.

    Transfers and legs are append-only; :func:`accounts.integrity.unlocked` lets this wholesale
    reset past the triggers, as Django's ``flush`` does.
    """
    from django.db import connection, transaction

    from accounts import integrity
    from accounts.models import Account

    quote = connection.ops.quote_name
    with transaction.atomic(), integrity.unlocked(), connection.cursor() as cursor:
        for table in LEDGER_TABLES:
            cursor.execute(f"DELETE FROM {quote(table)}")
    Account.objects.create_core_accounts()
    analyse(LEDGER_TABLES)


def analyse(tables: tuple[str, ...]) -> None:
    """Refresh planner statistics (and, on PostgreSQL, reclaim deleted rows) as autovacuum would."""
    from django.db import connection

    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f"VACUUM ANALYZE {quote(table)}")
            elif connection.vendor == "mysql":
                cursor.execute(f"ANALYZE TABLE {quote(table)}")
                cursor.fetchall()
            else:
                cursor.execute(f"ANALYZE {quote(table)}")


def _pg_params(config: dict[str, Any], *, dbname: str | None = None) -> dict[str, Any]:
    params = {
        "dbname": dbname or config["NAME"],
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    return {k: v for k, v in params.items() if v is not None}


def _my_params(config: dict[str, Any], *, db: str | None = "") -> dict[str, Any]:
    params: dict[str, Any] = {
        "user": config.get("USER") or "root",
        "host": config.get("HOST") or "localhost",
        "charset": "utf8mb4",
    }
    if config.get("PASSWORD"):
        params["passwd"] = config["PASSWORD"]
    if config.get("PORT"):
        params["port"] = int(config["PORT"])
    if db is not None:
        params["db"] = db or config["NAME"]
    return params


def sqlite_begin(config: dict[str, Any]) -> str:
    """How the baseline opens a transaction on SQLite: as Django does for these settings."""
    mode = config.get("OPTIONS", {}).get("transaction_mode")
    return f"BEGIN {mode}" if mode else "BEGIN"


def raw_connect(config: dict[str, Any]) -> Any:
    """A plain DB-API connection for the baseline: psycopg, MySQLdb or sqlite3, no Django.

    The connection is not in autocommit mode on the servers (the driver opens a transaction on
    the first statement); the SQLite one is, and the baseline issues its own ``BEGIN``.
    """
    vendor = vendor_of(config)
    if vendor == "postgresql":
        import psycopg

        return psycopg.connect(**_pg_params(config))
    if vendor == "mysql":
        import MySQLdb

        conn = MySQLdb.connect(**_my_params(config))
        conn.autocommit(False)
        return conn
    return sqlite3.connect(config["NAME"], isolation_level=None, timeout=5)


#: Names a database server's process (or thread) has in /proc/<id>/comm.
SERVER_COMMANDS = ("postgres", "mariadbd", "mysqld")


def server_task_id(cursor: Any, vendor: str) -> int | None:
    """The operating-system id of the server process (PostgreSQL) or thread (MariaDB) serving
    the connection that ``cursor`` belongs to, when the server reports it."""
    try:
        if vendor == "postgresql":
            cursor.execute("SELECT pg_backend_pid()")
        elif vendor == "mysql":
            cursor.execute(
                "SELECT tid FROM information_schema.processlist WHERE id = CONNECTION_ID()"
            )
        else:
            return None
        row = cursor.fetchone()
    except Exception:  # an older server without the column: no server CPU figures
        return None
    return int(row[0]) if row and row[0] else None


def server_cpu_seconds(task_id: int | None) -> float | None:
    """CPU time (user + system) used so far by a server task on this machine, or None.

    Read from ``/proc``, so only when the server runs on the same machine; the command name is
    checked so that an id from a server elsewhere never reads some unrelated local process.
    """
    if task_id is None:
        return None
    try:
        if Path(f"/proc/{task_id}/comm").read_text().strip() not in SERVER_COMMANDS:
            return None
        fields = Path(f"/proc/{task_id}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command come state (field 3) ... utime (field 14) and stime (field 15).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def describe_environment(config: dict[str, Any]) -> dict[str, Any]:
    """The machine, the server and the drivers, for the results file."""
    import django
    from django.db import connection

    vendor = vendor_of(config)
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "django": django.get_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "vendor": vendor,
        "load_average_at_start": os.getloadavg(),
    }
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            import psycopg

            cursor.execute("SHOW server_version")
            info["server"] = f"PostgreSQL {cursor.fetchone()[0]}"
            settings = {}
            for name in ("fsync", "synchronous_commit", "shared_buffers"):
                cursor.execute(f"SHOW {name}")
                settings[name] = cursor.fetchone()[0]
            info["server_settings"] = settings
            info["driver"] = f"psycopg {psycopg.__version__} ({psycopg.pq.__impl__})"
        elif vendor == "mysql":
            import MySQLdb

            cursor.execute("SELECT VERSION()")
            info["server"] = cursor.fetchone()[0]
            cursor.execute(
                "SHOW VARIABLES WHERE variable_name IN ('innodb_flush_log_at_trx_commit', "
                "'innodb_buffer_pool_size', 'log_bin', 'transaction_isolation', 'tx_isolation')"
            )
            info["server_settings"] = dict(cursor.fetchall())
            info["driver"] = "mysqlclient " + ".".join(str(p) for p in MySQLdb.version_info[:3])
        else:
            info["server"] = f"SQLite {sqlite3.sqlite_version}"
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            info["server_settings"] = {
                "journal_mode": journal,
                "synchronous": cursor.fetchone()[0],
                "transaction_mode": config.get("OPTIONS", {}).get("transaction_mode", "DEFERRED"),
            }
            info["driver"] = f"sqlite3 (Python {platform.python_version()})"
    if vendor == "mysql" and "MariaDB" in str(info.get("server")):
        info["vendor_label"] = "mariadb"
    else:
        info["vendor_label"] = vendor
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
