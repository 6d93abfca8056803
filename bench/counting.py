"""Count the SQL statements a block of code sends, BEGIN and COMMIT included.

Django's ``connection.execute_wrapper`` sees only the statements Django itself executes; the
transaction control (``BEGIN`` on PostgreSQL, ``SET autocommit`` and ``COMMIT`` on MySQL,
``COMMIT`` everywhere) goes straight through the driver. So the count is taken lower down, where
nothing can hide, with a method per database:

PostgreSQL
    libpq's own protocol trace (``PQtrace``, reached through ``pgconn.trace()``): every message
    the client sends is written to a file. A statement is a ``Query`` message (simple protocol)
    or an ``Execute`` message (extended protocol); a round trip ends at ``ReadyForQuery``. The
    trace's timestamps also give the time each statement spends on the server and the wire.
MariaDB/MySQL
    the server's per-session ``Questions`` status counter (statements sent by the client,
    excluding those run inside triggers), read before and after, minus the cost of reading it.
SQLite
    the sqlite3 module's ``set_trace_callback``: every statement the library starts. Python
    reports each trigger program a statement fires with that statement's own text again, so a
    callback repeating the text of the one before it is not counted as a new statement (two
    identical statements in a row would count as one; a transfer sends none).

Each method also records the Django-visible statements through ``execute_wrapper`` as a
cross-check.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class StatementLog:
    """What a counted block sent: the statements in order, and their server time on PostgreSQL."""

    statements: list[str] = field(default_factory=list)
    #: Seconds from sending each statement to ``ReadyForQuery`` (PostgreSQL only).
    round_trip_seconds: list[float] = field(default_factory=list)
    #: Statements Django's execute_wrapper saw (no transaction control).
    django_visible: int = 0
    #: When the driver cannot list statements (MySQL), only their number is known.
    total: int | None = None

    @property
    def count(self) -> int:
        return self.total if self.total is not None else len(self.statements)

    def labels(self) -> Counter[str]:
        return Counter(label(s) for s in self.statements)


_TABLE_AFTER = {
    "SELECT": re.compile(r"\bFROM\s+[`\"]?(\w+)", re.I),
    "INSERT": re.compile(r"^INSERT\s+INTO\s+[`\"]?(\w+)", re.I),
    "UPDATE": re.compile(r"^UPDATE\s+[`\"]?(\w+)", re.I),
    "DELETE": re.compile(r"^DELETE\s+FROM\s+[`\"]?(\w+)", re.I),
}


def label(sql: str) -> str:
    """A short name for a statement: its verb and table (``INSERT accounts_transfer``)."""
    text = sql.strip()
    verb = text.split(None, 1)[0].upper() if text else "?"
    pattern = _TABLE_AFTER.get(verb)
    match = pattern.search(text) if pattern else None
    name = f"{verb} {match.group(1)}" if match else verb
    if verb == "SELECT" and re.search(r"\bFOR\s+UPDATE\b", text, re.I):
        name += " FOR UPDATE"
    return name


class _DjangoVisible:
    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def count_django(block: Callable[[], Any]) -> tuple[StatementLog, Any]:
    """Run ``block`` with the configured Django connection and count what it sends."""
    from django.db import connection

    connection.ensure_connection()
    visible = _DjangoVisible()
    with connection.execute_wrapper(visible):
        if connection.vendor == "postgresql":
            log, result = _count_pg(connection.connection, block)
        elif connection.vendor == "mysql":
            log, result = _count_mysql(lambda: _questions_django(connection), block)
        else:
            log, result = _count_sqlite(connection.connection, block)
    log.django_visible = visible.count
    return log, result


def count_raw(conn: Any, vendor: str, block: Callable[[], Any]) -> tuple[StatementLog, Any]:
    """Run ``block`` on a raw DB-API connection ``conn`` and count what it sends."""
    if vendor == "postgresql":
        return _count_pg(conn, block)
    if vendor == "mysql":
        return _count_mysql(lambda: _questions_raw(conn), block)
    return _count_sqlite(conn, block)


# -- PostgreSQL: libpq protocol trace ----------------------------------------------------------

_TRACE_LINE = re.compile(r"^(\S+ \S+)\t([FB])\t\d+\t(\w+)\t?(.*)$")
_PARSE = re.compile(r'^"([^"]*)" "(.*)"(?: [\d ]*)?$', re.S)
_BIND = re.compile(r'^"[^"]*" "([^"]*)"')


def _count_pg(conn: Any, block: Callable[[], Any]) -> tuple[StatementLog, Any]:
    pgconn = conn.pgconn
    fd, path = tempfile.mkstemp(prefix="bench-pqtrace-", suffix=".log")
    try:
        pgconn.trace(fd)
        try:
            result = block()
        finally:
            pgconn.untrace()  # flushes the trace stream
        with open(path, encoding="utf-8", errors="replace") as trace:
            log = parse_pq_trace(trace.read())
    finally:
        os.close(fd)
        os.unlink(path)
    return log, result


def parse_pq_trace(text: str) -> StatementLog:
    """Turn a libpq trace into statements and their round-trip times."""
    log = StatementLog()
    prepared: dict[str, str] = {}
    last_parse = ""
    pending_start: datetime | None = None
    for line in text.splitlines():
        match = _TRACE_LINE.match(line)
        if not match:
            continue
        stamp, direction, message, rest = match.groups()
        when = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f")
        if direction == "F":
            if message == "Query":
                log.statements.append(_quoted(rest))
                pending_start = pending_start or when
            elif message == "Parse":
                parsed = _PARSE.match(rest.strip())
                if parsed:
                    last_parse = parsed.group(2)
                    prepared[parsed.group(1)] = last_parse
            elif message == "Bind":
                bound = _BIND.match(rest.strip())
                name = bound.group(1) if bound else ""
                # A statement prepared before tracing began is known only by its name.
                last_parse = prepared.get(name, f"EXECUTE {name}" if name else last_parse)
            elif message == "Execute":
                log.statements.append(last_parse)
                pending_start = pending_start or when
        elif message == "ReadyForQuery" and pending_start is not None:
            log.round_trip_seconds.append((when - pending_start).total_seconds())
            pending_start = None
    return log


def _quoted(rest: str) -> str:
    rest = rest.strip()
    if rest.startswith('"') and rest.endswith('"'):
        return rest[1:-1]
    return rest


# -- MariaDB/MySQL: the session's Questions counter --------------------------------------------


def _questions_django(connection: Any) -> int:
    cursor = connection.connection.cursor()
    try:
        cursor.execute("SHOW SESSION STATUS LIKE 'Questions'")
        return int(cursor.fetchone()[1])
    finally:
        cursor.close()


def _questions_raw(conn: Any) -> int:
    cursor = conn.cursor()
    try:
        cursor.execute("SHOW SESSION STATUS LIKE 'Questions'")
        return int(cursor.fetchone()[1])
    finally:
        cursor.close()


def _count_mysql(read: Callable[[], int], block: Callable[[], Any]) -> tuple[StatementLog, Any]:
    # Reading the counter is itself a statement: measure what two back-to-back reads differ by.
    first = read()
    overhead = read() - first
    before = read()
    result = block()
    after = read()
    return StatementLog(total=after - before - overhead), result


# -- SQLite: the sqlite3 trace callback --------------------------------------------------------


def _count_sqlite(conn: Any, block: Callable[[], Any]) -> tuple[StatementLog, Any]:
    log = StatementLog()

    def trace(sql: str) -> None:
        if log.statements and log.statements[-1] == sql:
            return  # a trigger program fired by the statement just counted
        log.statements.append(sql)

    conn.set_trace_callback(trace)
    try:
        result = block()
    finally:
        conn.set_trace_callback(None)
    return log, result
