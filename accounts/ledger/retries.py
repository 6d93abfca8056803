"""Run a posting in a transaction of its own, retried whole when the database aborts it.

Databases abort a transaction to keep concurrent work correct: PostgreSQL under ``SERIALIZABLE``
or ``REPEATABLE READ`` (SQLSTATE 40001) and on a deadlock (40P01), CockroachDB always (40001),
MariaDB and MySQL on a deadlock (error 1213) or a lock wait timeout (1205), SQLite when another
connection holds the write lock past the busy timeout (``SQLITE_BUSY``). Nothing was committed,
so running the whole transaction again is the correct answer, and the one these databases ask of
their clients.

:func:`in_transaction` does that when it owns the transaction, a bounded number of times with a
randomised, growing pause between attempts so that the transactions that collided do not collide
again in step. Inside a caller's transaction it never retries: the caller's earlier work was
rolled back with it, and only the caller can redo that, so the error is theirs. What is retried
must have no effect outside the transaction: the facade's postings read and write the database
only, and their ``on_commit`` callbacks of an aborted attempt are discarded with it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import DatabaseError, OperationalError, connections, transaction

T = TypeVar("T")

logger = logging.getLogger("accounts.retries")

#: Attempts at a transaction the database aborted at once (a serialisation failure or a
#: deadlock), the first included. Under ``SERIALIZABLE``, every transaction that waited for a row
#: another one then changed is aborted, so one busy account can need many attempts: eight
#: processes posting to the same two accounts needed up to 21 in the concurrency tests.
RETRY_ATTEMPTS_MAX = 50
#: Attempts at a transaction that gave up after waiting out the database's own timeout (a lock
#: wait timeout on MariaDB, a busy SQLite file): each of those attempts already waited long.
RETRY_ATTEMPTS_AFTER_TIMEOUT_MAX = 3
#: The pause before the second attempt is up to this many seconds; it doubles for each further
#: attempt, up to :data:`RETRY_PAUSE_MAX`, and is drawn uniformly from zero to that bound.
RETRY_PAUSE_FIRST = 0.002
RETRY_PAUSE_MAX = 0.05
#: PostgreSQL (and CockroachDB): serialization failure, deadlock detected.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
#: MariaDB and MySQL: deadlock.
RETRYABLE_MYSQL_ERRNOS = frozenset({1213})
#: MariaDB and MySQL: lock wait timeout. InnoDB rolls back only the statement; the retry rolls
#: back the whole transaction first, which makes running it again safe.
TIMEOUT_MYSQL_ERRNOS = frozenset({1205})
#: SQLite: SQLITE_BUSY and SQLITE_LOCKED, with their extended codes (the low byte).
TIMEOUT_SQLITE_CODES = frozenset({5, 6})


class StaleSnapshot(OperationalError):
    """A row another transaction committed is not in this one's snapshot: run it again.

    Under ``REPEATABLE READ`` or ``SERIALIZABLE`` a transaction reads the database as it was when
    it began; a unique key another transaction inserted meanwhile refuses this one's insert, yet
    cannot be read. Only a new transaction, with a new snapshot, can see it.
    """


def attempts_allowed(error: DatabaseError) -> int:
    """How many attempts in all an error of this kind allows: 0 when it is not retried.

    :data:`RETRY_ATTEMPTS_MAX` when the database aborted the transaction so that running it
    again may succeed, :data:`RETRY_ATTEMPTS_AFTER_TIMEOUT_MAX` when it gave up waiting.
    """
    if isinstance(error, StaleSnapshot):
        return RETRY_ATTEMPTS_MAX
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return RETRY_ATTEMPTS_MAX
    sqlite_code = getattr(cause, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return RETRY_ATTEMPTS_AFTER_TIMEOUT_MAX if sqlite_code & 0xFF in TIMEOUT_SQLITE_CODES else 0
    if type(cause).__module__ == "sqlite3":  # Python 3.10 names no code
        locked = "database is locked" in str(cause) or "database table is locked" in str(cause)
        return RETRY_ATTEMPTS_AFTER_TIMEOUT_MAX if locked else 0
    args: tuple[Any, ...] = tuple(getattr(cause, "args", ()))
    if args and args[0] in RETRYABLE_MYSQL_ERRNOS:
        return RETRY_ATTEMPTS_MAX
    if args and args[0] in TIMEOUT_MYSQL_ERRNOS:
        return RETRY_ATTEMPTS_AFTER_TIMEOUT_MAX
    return 0


def is_retryable(error: DatabaseError) -> bool:
    """Whether the database aborted the transaction so that running it again may succeed."""
    return attempts_allowed(error) > 0


def pause_before(attempt: int) -> float:
    """Seconds to wait before ``attempt`` (2, 3, ...): random, up to a bound that doubles."""
    bound = min(RETRY_PAUSE_MAX, RETRY_PAUSE_FIRST * 2 ** (attempt - 2))
    return random.uniform(0, bound)


def in_transaction(using: str, func: Callable[[], T]) -> T:
    """Run ``func`` in the caller's transaction if there is one, else in a new one, retried.

    In a transaction of its own, an abort :func:`is_retryable` names runs ``func`` again in a
    fresh transaction, up to the attempts :func:`attempts_allowed` gives that kind of abort;
    the last attempt's error is raised. Inside the caller's transaction the error is raised at once.
    """
    if connections[using].in_atomic_block:
        return func()
    for attempt in range(1, RETRY_ATTEMPTS_MAX + 1):
        if attempt > 1:
            time.sleep(pause_before(attempt))
        try:
            with transaction.atomic(using=using):
                return func()
        except OperationalError as error:
            allowed = attempts_allowed(error)
            if attempt >= allowed:
                raise
            logger.debug("attempt %d of %d aborted, retrying: %s", attempt, allowed, error)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
