"""The SQL of many postings at once: a chunk of a batch in a few multi-row statements.

:func:`write_many` writes the transfers and legs of postings that
:func:`accounts.ledger.posting.prepare` made ready one after another (so the running balance and
version of each leg continue the one before it, even when an account appears in many postings):

1. one ``INSERT`` of all the transfers, returning their keys in order where the database can
   (PostgreSQL, SQLite 3.35+, MariaDB 10.5+: Django's ``can_return_rows_from_bulk_insert``),
   else one ``INSERT`` per transfer;
2. one ``INSERT`` of all their legs, in posting order, so each account's legs arrive in version
   order (MariaDB's and SQLite's row triggers check each leg against the one before it as it
   arrives; PostgreSQL's statement trigger checks them all after the statement);
3. and, once the whole batch's legs are in, :func:`move_balances`: one ``UPDATE`` moving every
   touched account to its balance and version after its last leg, joined to a list of (key,
   balance, version) rows. The legs' checks compare each leg with the one before it, not with
   the account's row, so the rows can follow at the end, each updated once per batch.

On PostgreSQL each statement takes one array per column and ``unnest`` makes the rows; elsewhere
each stays under the database's limit of parameters (Django's ``max_query_params``), split into
several of the same kind when a chunk needs more. The database's rules stay on and check every
row, as for a single posting.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.db.models.signals import post_save, pre_save

from ..models import Account, Transfer
from . import periods
from .posting import Posting, Prepared, apply, prepare
from .posting_sql import LockedAccounts, PostingSql, for_connection

#: Parameters one statement may carry where Django names no limit (PostgreSQL's protocol).
PARAMS_PER_STATEMENT_MAX = 65535
#: Accounts per balance UPDATE on PostgreSQL. Its trigger (T4) joins the statement's old and
#: new rows, two transition tables without an index, so its cost grows with the square of the
#: accounts in one statement: measured 0.5 s per 10,000 accounts at 1,000 a statement.
BALANCES_PER_UPDATE = 100
#: Accounts per balance UPDATE where it must be a CASE (SQLite before 3.33), whose cost grows
#: with the square of its size.
CASE_ACCOUNTS_MAX = 100


class BulkWriter:
    """Checked postings on rows locked once, prepared one after another, written in chunks.

    :meth:`add` prepares a posting from the locked rows as the postings before it left them and
    moves the rows on; :meth:`flush` writes what was added since the last flush (transfers and
    legs); :meth:`finish` flushes and then moves every touched account's row, once. Checking
    each posting first (limits on the rows as they are now) is the caller's part, as it is for
    :func:`accounts.ledger.posting.write`.
    """

    def __init__(self, connection: Any, using: str, locked: LockedAccounts) -> None:
        self.connection = connection
        self.using = using
        self.locked = locked
        self.pending: list[Prepared] = []
        #: Each touched account's balance and version after its last leg so far.
        self.new_state: dict[int, tuple[Decimal, int]] = {}

    def add(self, checked: Posting) -> Transfer:
        """Prepare ``checked`` (refused here only by SQLite's exactness) and move the rows on."""
        locked = self.locked
        periods.check_open(checked.date, self.using, locked)
        ready = prepare(checked, locked, self.connection.vendor)
        apply(ready, locked)
        moment = ready.transfer.created_at
        for pk in ready.new_state:
            # The account's next leg follows this one, in time as in version.
            locked.facts[pk] = dataclasses.replace(locked.facts[pk], last_leg_at=moment)
        self.new_state.update(ready.new_state)
        self.pending.append(ready)
        return ready.transfer

    def flush(self) -> None:
        """Write the transfers and legs added since the last flush."""
        if self.pending:
            with periods.refused_as_closed():
                write_many(self.connection, self.using, self.pending)
            self.pending = []

    def finish(self) -> None:
        """Flush, then move every touched account's row to its balance and version."""
        self.flush()
        if self.new_state:
            move_balances(self.connection, self.new_state)
            self.new_state = {}


def params_max(connection: Any) -> int:
    """How many parameters one statement may carry on ``connection``."""
    return int(connection.features.max_query_params or PARAMS_PER_STATEMENT_MAX)


def write_many(connection: Any, using: str, postings: Sequence[Prepared]) -> None:
    """Insert the transfers of ``postings`` and their legs, then move the balances.

    ``new_state`` maps each account the postings touch to its balance and version after the
    last of them. Each transfer gets its primary key, as ``save()`` would give it, and
    ``pre_save`` and ``post_save`` are sent for it when anything listens.
    """
    sql = for_connection(connection)
    transfers = [p.transfer for p in postings]
    if pre_save.has_listeners(Transfer):
        for new in transfers:
            pre_save.send(sender=Transfer, instance=new, raw=False, using=using, update_fields=None)
    if connection.vendor == "postgresql":
        _write_arrays(connection, using, sql, postings)
    else:
        _write_rows(connection, using, sql, postings)
    if post_save.has_listeners(Transfer):
        for new in transfers:
            post_save.send(
                sender=Transfer,
                instance=new,
                created=True,
                update_fields=None,
                raw=False,
                using=using,
            )


def _write_rows(connection: Any, using: str, sql: PostingSql, postings: Sequence[Prepared]) -> None:
    """The writes as multi-row ``VALUES`` statements, a parameter per value."""
    _insert_transfers(connection, using, sql, [p.transfer for p in postings])
    limit = params_max(connection)
    rows_max = max(1, limit // len(sql.leg_fields))
    params: list[Any] = []
    count = 0
    with connection.cursor() as cursor:
        for leg in _leg_rows(connection, sql, postings):
            params.extend(leg)
            count += 1
            if count == rows_max:
                cursor.execute(sql.legs_sql(count), params)
                params, count = [], 0
        if count:
            cursor.execute(sql.legs_sql(count), params)


def _leg_rows(
    connection: Any, sql: PostingSql, postings: Sequence[Prepared]
) -> Iterator[list[Any]]:
    """Each leg's values ready to send, its transfer's key filled in."""
    prepared_fields = sql.leg_prepared
    for posting in postings:
        for leg in posting.leg_rows:
            leg[0] = posting.transfer.pk
            for index, field in prepared_fields:
                leg[index] = field.get_db_prep_save(leg[index], connection)
            yield leg


def _write_arrays(
    connection: Any, using: str, sql: PostingSql, postings: Sequence[Prepared]
) -> None:
    """PostgreSQL: each statement takes one array per column and ``unnest`` makes the rows.

    A parameter per column instead of per value: the statement's text stays short, so the
    driver parses it once and keeps it (a 15,000-placeholder statement is parsed again on every
    call, which cost more client time than everything else in a batch), and no chunk meets
    the protocol's limit of parameters. The transfers' keys come back with their references,
    which are unique, so no order of returned rows is relied on.
    """
    transfers = [p.transfer for p in postings]
    rows = _transfer_rows(connection, sql, transfers)
    with connection.cursor() as cursor:
        cursor.execute(_unnest_transfers_sql(sql, connection), [list(c) for c in zip(*rows)])
        keys = dict((reference, pk) for pk, reference in cursor.fetchall())
        for new in transfers:
            sql._saved(new, keys[new.reference], using)
        legs = list(_leg_rows(connection, sql, postings))
        cursor.execute(_unnest_legs_sql(sql, connection), [list(c) for c in zip(*legs)])


def _unnest(columns: Sequence[Any], connection: Any) -> str:
    """``unnest`` of one typed array parameter per field of ``columns``."""
    return ", ".join(f"CAST(%s AS {f.db_type(connection)}[])" for f in columns)


@functools.lru_cache(maxsize=8)
def _unnest_transfers_sql(sql: PostingSql, connection: Any) -> str:
    qn = sql.qn
    return (
        f"INSERT INTO {sql.transfer_table} "
        f"({', '.join(qn(f.column) for f in sql.transfer_fields)}) "
        f"SELECT * FROM unnest({_unnest(sql.transfer_fields, connection)}) "
        f"RETURNING {qn(sql.transfer_pk.column)}, {qn('reference')}"
    )


@functools.lru_cache(maxsize=8)
def _unnest_legs_sql(sql: PostingSql, connection: Any) -> str:
    return (
        f"INSERT INTO {sql.leg_table} ({', '.join(sql.qn(f.column) for f in sql.leg_fields)}) "
        f"SELECT * FROM unnest({_unnest(sql.leg_fields, connection)})"
    )


@functools.lru_cache(maxsize=8)
def _unnest_balances_sql(sql: PostingSql, connection: Any) -> str:
    qn = sql.qn
    table, pk = sql.account_table, qn(Account._meta.pk.column)
    fields = [Account._meta.pk, sql.balance_field, Account._meta.get_field("version")]
    return (
        f"UPDATE {table} SET {qn('balance')} = n.b, {qn('version')} = n.v "
        f"FROM unnest({_unnest(fields, connection)}) AS n (k, b, v) WHERE {table}.{pk} = n.k"
    )


def _transfer_rows(
    connection: Any, sql: PostingSql, transfers: Sequence[Transfer]
) -> list[list[Any]]:
    """Each transfer's column values, ready to send."""
    fields, prepared = sql.transfer_fields, sql.transfer_prepared
    return [
        [
            f.get_db_prep_save(getattr(new, f.attname), connection)
            if prepare
            else getattr(new, f.attname)
            for f, prepare in zip(fields, prepared)
        ]
        for new in transfers
    ]


def _insert_transfers(
    connection: Any, using: str, sql: PostingSql, transfers: Sequence[Transfer]
) -> None:
    """Insert ``transfers`` and give each its key: in multi-row statements where keys return."""
    fields = sql.transfer_fields
    rows = _transfer_rows(connection, sql, transfers)
    with connection.cursor() as cursor:
        if not connection.features.can_return_rows_from_bulk_insert:
            # One at a time: without RETURNING, only the last inserted key can be read back.
            for new, row in zip(transfers, rows):
                cursor.execute(sql.transfer_sql, row)
                if sql.returning:
                    pk = cursor.fetchone()[0]
                else:
                    pk = connection.ops.last_insert_id(
                        cursor, Transfer._meta.db_table, sql.transfer_pk.column
                    )
                sql._saved(new, pk, using)
            return
        rows_max = max(1, params_max(connection) // len(fields))
        for start in range(0, len(rows), rows_max):
            part = rows[start : start + rows_max]
            params = [value for row in part for value in row]
            cursor.execute(_transfers_sql(sql, len(part)), params)
            # Keys come back in the order of the VALUES rows, as Django's bulk_create relies on.
            for new, (pk,) in zip(transfers[start : start + rows_max], cursor.fetchall()):
                sql._saved(new, pk, using)


@functools.lru_cache(maxsize=64)
def _transfers_sql(sql: PostingSql, count: int) -> str:
    qn = sql.qn
    row = "(" + ", ".join(["%s"] * len(sql.transfer_fields)) + ")"
    return (
        f"INSERT INTO {sql.transfer_table} "
        f"({', '.join(qn(f.column) for f in sql.transfer_fields)}) "
        f"VALUES {', '.join([row] * count)} RETURNING {qn(sql.transfer_pk.column)}"
    )


def move_balances(connection: Any, new_state: dict[int, tuple[Decimal, int]]) -> None:
    """Move every account of ``new_state`` to its balance and version after its last leg.

    Once per batch, after all its legs: the database checks each balance against the account's
    newest leg, and an account's row is updated once however many chunks touch it.
    """
    sql = for_connection(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _move_balances_arrays(cursor, connection, sql, new_state)
        else:
            _move_balances(cursor, connection, sql, new_state, params_max(connection))


def _move_balances_arrays(
    cursor: Any, connection: Any, sql: PostingSql, new_state: dict[int, tuple[Decimal, int]]
) -> None:
    """PostgreSQL: one array per column, :data:`BALANCES_PER_UPDATE` accounts a statement."""
    balance_field = sql.balance_field
    items = list(new_state.items())
    for start in range(0, len(items), BALANCES_PER_UPDATE):
        part = items[start : start + BALANCES_PER_UPDATE]
        cursor.execute(
            _unnest_balances_sql(sql, connection),
            [
                [pk for pk, _ in part],
                [balance_field.get_db_prep_save(b, connection) for _, (b, _) in part],
                [v for _, (_, v) in part],
            ],
        )


def _move_balances(
    cursor: Any,
    connection: Any,
    sql: PostingSql,
    new_state: dict[int, tuple[Decimal, int]],
    limit: int,
) -> None:
    """Move every touched account to its new balance and version (3 parameters an account).

    Joined to a list of rows, not the single posting's ``CASE`` per column: a ``CASE`` of n
    branches on n rows costs n² comparisons, most of a second per 10,000 transfers over 1,000
    accounts on PostgreSQL.
    """
    balance_field = sql.balance_field
    items = list(new_state.items())
    casts: tuple[str, ...] = ()
    if connection.vendor == "postgresql":
        casts = (
            str(Account._meta.pk.rel_db_type(connection)),
            str(balance_field.db_type(connection)),
            "bigint",
        )
    if connection.vendor == "sqlite" and connection.Database.sqlite_version_info < (3, 33):
        # No UPDATE ... FROM before SQLite 3.33: the single posting's CASE, in short statements.
        for start in range(0, len(items), CASE_ACCOUNTS_MAX):
            part = items[start : start + CASE_ACCOUNTS_MAX]
            balances: list[Any] = []
            versions: list[Any] = []
            for account_pk, (balance, version) in part:
                balances += [account_pk, balance_field.get_db_prep_save(balance, connection)]
                versions += [account_pk, version]
            cursor.execute(
                sql.balances_sql(len(part)), [*balances, *versions, *(pk for pk, _ in part)]
            )
        return
    per_statement = max(1, limit // 3)
    for start in range(0, len(items), per_statement):
        part = items[start : start + per_statement]
        params: list[Any] = []
        for account_pk, (balance, version) in part:
            params += [account_pk, balance_field.get_db_prep_save(balance, connection), version]
        cursor.execute(_balances_sql(sql, connection.vendor, casts, len(part)), params)


@functools.lru_cache(maxsize=64)
def _balances_sql(sql: PostingSql, vendor: str, casts: tuple[str, ...], count: int) -> str:
    """One UPDATE setting ``count`` accounts' balance and version from (key, balance, version)."""
    qn = sql.qn
    table, pk = sql.account_table, qn(Account._meta.pk.column)
    balance, version = qn("balance"), qn("version")
    if vendor == "mysql":
        # MariaDB has no UPDATE ... FROM: join a derived table of UNION ALL rows instead.
        rows = " UNION ALL ".join(
            ["SELECT %s AS k, %s AS b, %s AS v"] + ["SELECT %s, %s, %s"] * (count - 1)
        )
        return (
            f"UPDATE {table} a JOIN ({rows}) n ON a.{pk} = n.k "
            f"SET a.{balance} = n.b, a.{version} = n.v"
        )
    if casts:
        row = "(" + ", ".join(f"CAST(%s AS {cast})" for cast in casts) + ")"
    else:
        row = "(%s, %s, %s)"
    # SQLite (3.33+) names the columns of VALUES column1, column2, ...; PostgreSQL takes the
    # names after the alias.
    values = f"VALUES {', '.join([row] * count)}"
    if vendor == "sqlite":
        values = f"SELECT column1 AS k, column2 AS b, column3 AS v FROM ({values})"
        source = f"({values}) AS n"
    else:
        source = f"({values}) AS n (k, b, v)"
    return (
        f"UPDATE {table} SET {balance} = n.b, {version} = n.v "
        f"FROM {source} WHERE {table}.{pk} = n.k"
    )
