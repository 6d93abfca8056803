"""Atomic batches at volume: :func:`transfer_many`.

A batch is many postings as one atomic unit: all are written or none. It is built for volume:
the input is read in chunks of :data:`BATCH_CHUNK_SIZE` items, and for each chunk

1. the accounts not yet locked are locked (``SELECT ... FOR UPDATE`` in primary-key order, one
   statement, through :func:`accounts.ledger.posting.lock`): a list or tuple has every account
   it names locked before its first chunk, so it never deadlocks with another batch or
   posting; a streamed input locks each chunk's new accounts as it reaches them;
2. every item is checked against the locked rows in Python, in input order, by the same rules
   as :func:`~accounts.facade.transfer` and :func:`~accounts.facade.post` (status, window,
   placeholder, currency, precision, authorisation, credit limits), and its legs get their
   running balance and version from the rows as the items before it left them: limits are
   counted cumulatively over the batch, and an account that appears in many items gets one
   unbroken run of versions;
3. the chunk is written with a few multi-row statements (:mod:`accounts.ledger.posting_bulk`):
   all its transfers, all its legs; once every chunk is in, every touched balance, each row
   updated once. The database's rules stay on and check every leg and balance, as they do for
   one posting.

A refusal names the index of the first refused item (``error.index``, and ``"Item 3: ..."`` in
its message) and keeps its class, so ``except InsufficientFunds`` still catches it; the batch
then writes nothing (inside a caller's transaction, a savepoint undoes the chunks already
written, and the caller's transaction stays usable).
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connections, transaction
from django.utils.translation import gettext

from .. import events, exceptions
from ..ledger import checks, posting, posting_bulk
from ..ledger.checks import validate_amount
from ..ledger.posting_sql import LockedAccounts
from ..models import Account, Transfer, TransferKind
from .common import check_pair, once
from .entries import Credit, Debit, _check_entry_lines, _entry_legs

#: Items checked and written together: one lock statement and a few writes per chunk. Memory
#: and statement sizes follow the chunk, not the batch.
BATCH_CHUNK_SIZE = 1000
#: Largest ``chunk_size`` :func:`transfer_many` accepts.
BATCH_CHUNK_SIZE_MAX = 10_000

#: The keys of an item that moves money from one account to another, as :func:`transfer`.
TRANSFER_ITEM_KEYS = frozenset(
    {"source", "destination", "amount", "merchant_reference", "description", "date"}
)
#: The keys of an item that is an entry of debit and credit lines, as :func:`post`.
ENTRY_ITEM_KEYS = frozenset({"lines", "merchant_reference", "description", "date"})

T = TypeVar("T")

#: What an empty input yields first (an item may be None, and is refused as one).
_NOTHING: Any = object()


@dataclasses.dataclass(frozen=True)
class _Item:
    """One item, checked as far as it can be without the database."""

    index: int
    #: The accounts the caller passed, in the item's order.
    accounts: list[Account]
    #: A transfer's amount, or None for an entry.
    amount: Decimal | None
    lines: Sequence[Debit | Credit]
    merchant_reference: str | None
    description: str | None
    date: datetime.datetime | None


def transfer_many(
    items: Iterable[Mapping[str, Any]],
    *,
    user: Any = None,
    chunk_size: int = BATCH_CHUNK_SIZE,
    return_transfers: bool = True,
    idempotency_key: str | None = None,
) -> list[Transfer]:
    """Post every item, all or nothing, and return their transfers in input order.

    An item is a mapping of :func:`transfer`'s arguments (``source``, ``destination``,
    ``amount``, and optionally ``merchant_reference``, ``description``, ``date``) or an entry
    of :class:`Debit` and :class:`Credit` lines as :func:`post` takes them (``lines`` and the
    same optional keys). Refunds (``parent``) are refused: post them with :func:`transfer`.
    When ``user`` is given, they must be allowed to spend from every account an item debits.

    ``items`` may be any iterable and is read ``chunk_size`` items at a time. A list or tuple
    is retried whole on a deadlock or serialisation failure when the batch owns its
    transaction, as every posting is; a one-shot iterator (a generator) cannot be read twice,
    so it is not retried: the error reaches the caller, and nothing was written.

    The returned transfers, and the caller's Account objects (shown their new balances at the
    end, as :func:`transfer` shows them), are all the batch keeps per item. With
    ``return_transfers=False`` it keeps neither, returns an empty list and its memory stays
    flat however long the input: for jobs of millions of items.

    With ``idempotency_key`` (a list or tuple only) the batch runs at most once, as
    :func:`transfer` does: a replay returns the first call's transfers, read again.
    """
    replayable = isinstance(items, Sequence)
    _check_call(chunk_size, keyed=idempotency_key is not None, replayable=replayable)
    iterator = iter(items)
    first = next(iterator, _NOTHING)
    if first is _NOTHING:
        return []
    using = posting.db_for(*_parse(0, first).accounts)

    def run() -> list[Transfer]:
        batch = _Batch(user, using, keep=return_transfers)
        with transaction.atomic(using=using):
            if replayable:
                # All in memory already: lock every account first, in one primary-key order,
                # so batches and single postings over the same accounts never deadlock.
                parsed, refusal = _parse_all(enumerate(items))
                batch.lock(parsed)
                for chunk in _chunks(parsed, chunk_size):
                    batch.post(chunk)
                if refusal is not None:
                    raise refusal
                batch.finish()
            else:
                for pairs in _chunks(enumerate(itertools.chain([first], iterator)), chunk_size):
                    parsed, refusal = _parse_all(pairs)
                    batch.lock(parsed)
                    batch.post(parsed)
                    if refusal is not None:
                        raise refusal
                batch.finish()
        posting.sync(batch.caller_accounts.values(), batch.locked)
        return batch.transfers

    if idempotency_key is not None:
        arguments = {"items": items, "user": user, "return_transfers": return_transfers}
        return once(using, idempotency_key, "transfer_many", arguments, run)
    if replayable:
        return posting.in_transaction(using, run)
    if connections[using].in_atomic_block:
        return run()
    with transaction.atomic(using=using):
        return run()


def _check_call(chunk_size: Any, *, keyed: bool, replayable: bool) -> None:
    if not isinstance(chunk_size, int) or not 1 <= chunk_size <= BATCH_CHUNK_SIZE_MAX:
        raise exceptions.InvalidTransfer(
            gettext("The chunk size must be a whole number from 1 to %(limit)d.")
            % {"limit": BATCH_CHUNK_SIZE_MAX}
        )
    if keyed and not replayable:
        raise exceptions.InvalidTransfer(
            gettext("A batch with an idempotency key must be a list or a tuple of items.")
        )


def _chunks(pairs: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(pairs)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class _Batch:
    """What a batch keeps between its chunks: the locked rows, the transfers, caller objects."""

    def __init__(self, user: Any, using: str, *, keep: bool) -> None:
        self.user = user
        self.keep = keep
        self.using = using
        self.connection = connections[using]
        self.locked = LockedAccounts()
        self.writer = posting_bulk.BulkWriter(self.connection, using, self.locked)
        self.transfers: list[Transfer] = []
        #: The Account objects the caller passed, shown their new balances once all is posted.
        self.caller_accounts: dict[int, Account] = {}

    def post(self, parsed: list[_Item]) -> None:
        """Check every item against the locked rows, in order, then write them together."""
        written: list[Transfer] = []
        for item in parsed:
            try:
                new = self.writer.add(self._posting(item))
            except exceptions.AccountException as error:
                raise _at(error, item.index) from None
            written.append(new)
        self.writer.flush()
        # After the flush: the transfers have their keys, which the events' receivers need.
        for new in written:
            events.emit(events.transfer_posted, transfer=new, user=self.user, using=self.using)
        if self.keep:
            self.transfers.extend(written)

    def finish(self) -> None:
        """Move every touched account's row to its balance and version after the batch."""
        self.writer.finish()

    def lock(self, parsed: list[_Item]) -> None:
        """Lock the chunk's accounts that no earlier chunk locked, in primary-key order."""
        wanted: dict[int, Account] = {}
        for item in parsed:
            for account in item.accounts:
                if self.keep:
                    self.caller_accounts.setdefault(id(account), account)
                if account.pk not in self.locked:
                    wanted.setdefault(account.pk, account)
        pks = sorted(wanted)
        # The lock takes a parameter per account (and one for the user): stay under the limit.
        per_statement = posting_bulk.params_max(self.connection) - 1
        for start in range(0, len(pks), per_statement):
            part = [wanted[pk] for pk in pks[start : start + per_statement]]
            try:
                fresh = posting.lock(part, self.user, self.using)
            except exceptions.AccountNotFound as error:
                raise _at(error, _first_with_missing(parsed, part, self.using)) from None
            self.locked.update(fresh)
            self.locked.facts.update(fresh.facts)

    def _posting(self, item: _Item) -> posting.Posting:
        """Check ``item`` against the locked rows and return what to write."""
        locked, user = self.locked, self.user
        common = {
            "user": user,
            "merchant_reference": item.merchant_reference,
            "description": item.description,
            "date": item.date,
        }
        if item.amount is not None:
            amount = item.amount
            src, dst = locked[item.accounts[0].pk], locked[item.accounts[1].pk]
            check_pair(src, dst, amount, user, locked)
            checks.check_limits(src, posting.new_balance(src, -amount))
            checks.check_limits(dst, posting.new_balance(dst, amount))
            legs = [posting.Leg(src, -amount), posting.Leg(dst, amount)]
            return posting.Posting(
                legs,
                kind=TransferKind.TRANSFER,
                amount=amount,
                currency=src.currency,
                source=src,
                destination=dst,
                **common,
            )
        legs = _entry_legs(item.lines, locked, user)
        debits = [leg for leg in legs if leg.amount < 0]
        credits = [leg for leg in legs if leg.amount > 0]
        two_legged = len(debits) == 1 and len(credits) == 1
        currency = legs[0].account.currency
        total = sum((-leg.amount for leg in debits if leg.account.currency == currency), Decimal(0))
        return posting.Posting(
            legs,
            kind=TransferKind.ENTRY,
            amount=total,
            currency=currency,
            source=debits[0].account if two_legged else None,
            destination=credits[0].account if two_legged else None,
            **common,
        )


def _parse_all(
    pairs: Iterable[tuple[int, Any]],
) -> tuple[list[_Item], exceptions.AccountException | None]:
    """The items up to the first one refused without the database, and that refusal.

    The items before it are still checked against the locked rows, so the refusal reported is
    always the first item's in input order, whichever rule refuses it.
    """
    parsed: list[_Item] = []
    for index, item in pairs:
        try:
            parsed.append(_parse(index, item))
        except exceptions.AccountException as error:
            return parsed, error
    return parsed, None


def _parse(index: int, item: Any) -> _Item:
    """Check what needs no database in one item; refusals name the item's index."""
    try:
        return _parse_item(index, item)
    except exceptions.AccountException as error:
        raise _at(error, index) from None


def _parse_item(index: int, item: Any) -> _Item:
    if not isinstance(item, Mapping):
        raise exceptions.InvalidTransfer(
            gettext("An item must be a mapping of a transfer's arguments, not %(type)s.")
            % {"type": type(item).__name__}
        )
    if "parent" in item:
        raise exceptions.InvalidTransfer(
            gettext("Refunds (parent) are not posted in batches; use facade.transfer().")
        )
    allowed = ENTRY_ITEM_KEYS if "lines" in item else TRANSFER_ITEM_KEYS
    unknown = sorted(str(key) for key in set(item) - allowed)
    missing = sorted(
        key for key in allowed - {"merchant_reference", "description", "date"} if key not in item
    )
    if unknown or missing:
        raise exceptions.InvalidTransfer(
            # Translators: the lists are argument names, which stay in English.
            gettext("Unknown keys: %(unknown)s; missing keys: %(missing)s.")
            % {"unknown": ", ".join(unknown) or "-", "missing": ", ".join(missing) or "-"}
        )
    date = checks.check_date(item.get("date"))
    merchant_reference, description = item.get("merchant_reference"), item.get("description")
    checks.check_texts(merchant_reference, description)
    if "lines" in item:
        if not isinstance(item["lines"], (list, tuple)):
            raise exceptions.InvalidEntry(
                gettext("An entry needs at least one debit and one credit.")
            )
        lines = list(item["lines"])
        _check_entry_lines(lines)
        accounts = [line.account for line in lines]
        return _Item(index, accounts, None, lines, merchant_reference, description, date)
    amount = validate_amount(item["amount"])
    source, destination = item["source"], item["destination"]
    checks.check_saved(source)
    checks.check_saved(destination)
    if source.pk == destination.pk:
        raise exceptions.SameAccount(gettext("The source and destination are the same account."))
    return _Item(index, [source, destination], amount, (), merchant_reference, description, date)


def _at(error: exceptions.AccountException, index: int) -> exceptions.AccountException:
    """``error`` (same class, same code) naming the item it refuses: ``.index`` and message."""
    error.index = index  # type: ignore[attr-defined]
    error.message = gettext("Item %(index)d: %(message)s") % {
        "index": index,
        "message": error.message,
    }
    error.args = (error.message,)
    return error


def _first_with_missing(parsed: list[_Item], part: list[Account], using: str) -> int:
    """The index of the first item naming an account of ``part`` that no longer exists."""
    pks = {account.pk for account in part}
    found = set(Account.objects.using(using).filter(pk__in=pks).values_list("pk", flat=True))
    for item in parsed:
        if any(account.pk in pks - found for account in item.accounts):
            return item.index
    return parsed[0].index
