"""Ledger rows built by hand, past the facade: the one builder the tests and the benchmark share.

The facade is the only way the application writes the ledger. Tests that provoke the database's
rules, and fixtures too long to post one transfer at a time (a history of 10,000 or 100,000
legs), write rows themselves; this module is where such rows are spelled, so that each follows
the rules the triggers enforce:

* :func:`leg_values` gives the columns of the leg that continues an account's running balance:
  ``balance_after`` is the balance plus the amount times the account's normal sign (the sign
  rule of :mod:`accounts.vocabulary`), ``account_version`` the next version.
* :func:`load_transfers` writes a run of two-leg transfers between two accounts in bulk, the way
  ``loaddata`` restores a dumped ledger: under :func:`accounts.integrity.unlocked`, with every
  running balance and version as the facade would have written them, then the accounts'
  balances and versions. :func:`accounts.reports.verify` accepts the result.

It lives with the tests and is imported by ``bench`` (``python -m bench`` runs from the
repository root, as the tests do): the shipped package must not carry test fixtures, and the
test suite stays runnable on its own, without the benchmark harness. It imports only Django and
the app, never pytest or factory_boy, so the benchmark needs no test tools to use it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import codes, integrity
from accounts.models import Account, Transaction, Transfer, TransferKind, normal_sign

#: Transfers written per ``transaction.atomic()`` by :func:`load_transfers`.
CHUNK_SIZE = 5000


def leg_values(
    leg_index: int,
    account: Account,
    amount: Decimal,
    *,
    created_at: datetime.datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The columns of a leg continuing ``account``'s running balance as the object holds it.

    The leg takes the account's next version, and its balance after is the account's balance
    moved by ``amount`` by the sign rule. Keys are the fields' attribute names (``account_id``),
    so the dict serves a model's constructor and a raw ``INSERT`` alike; ``extra`` overrides any
    column (to build a leg the database must refuse). The caller refreshes ``account`` first if
    its stored balance may have moved.
    """
    values: dict[str, Any] = {
        "leg_index": leg_index,
        "account_id": account.pk,
        "amount": amount,
        "currency": account.currency,
        "balance_after": account.balance + amount * normal_sign(account.kind),
        "account_version": account.version + 1,
        "created_at": timezone.now() if created_at is None else created_at,
        "backdated": False,
    }
    values.update(extra)
    return values


def post_leg(transfer: Transfer, leg_index: int, account: Account, amount: Decimal) -> Transaction:
    """An unsaved leg of ``transfer`` continuing ``account``, which moves on to its new state."""
    values = leg_values(leg_index, account, amount, created_at=transfer.created_at)
    account.balance, account.version = values["balance_after"], values["account_version"]
    return Transaction(transfer=transfer, **values)


def load_transfers(
    source: Account | int,
    destination: Account | int,
    moments: Sequence[datetime.datetime],
    *,
    amount: Decimal = Decimal(1),
    description: str = "",
    chunk_size: int = CHUNK_SIZE,
    after_chunk: Callable[[], Any] | None = None,
) -> None:
    """Write one transfer of ``amount`` from ``source`` to ``destination`` at each moment, in bulk.

    Each transfer has the facade's two legs (the source's first), continuing both accounts'
    running balances from what is stored. Transfers and legs are inserted ``chunk_size``
    transfers to a ``transaction.atomic()`` block under :func:`accounts.integrity.unlocked`
    (committed one by one when the caller holds no transaction), ``after_chunk`` is called after
    each block, and the two accounts' balances and versions are set last.
    """
    pks = [getattr(account, "pk", account) for account in (source, destination)]
    stored = Account.objects.in_bulk(pks)
    payer, payee = stored[pks[0]], stored[pks[1]]
    for start in range(0, len(moments), chunk_size):
        with transaction.atomic(), integrity.unlocked():
            transfers = [
                Transfer(
                    reference=codes.generate(),
                    kind=TransferKind.TRANSFER,
                    source=payer,
                    destination=payee,
                    amount=amount,
                    currency=payee.currency,
                    leg_count=2,
                    description=description,
                    created_at=moment,
                )
                for moment in moments[start : start + chunk_size]
            ]
            Transfer.objects.bulk_create(transfers)
            if transfers[0].pk is None:  # a backend that cannot return ids from a bulk insert
                ids = dict(
                    Transfer.objects.filter(
                        reference__in=[t.reference for t in transfers]
                    ).values_list("reference", "pk")
                )
                for item in transfers:
                    item.pk = ids[item.reference]
            legs: list[Transaction] = []
            for item in transfers:
                legs.append(post_leg(item, 1, payer, -amount))
                legs.append(post_leg(item, 2, payee, amount))
            Transaction.objects.bulk_create(legs)
        if after_chunk is not None:
            after_chunk()
    with transaction.atomic(), integrity.unlocked():
        for account in (payer, payee):
            Account.objects.filter(pk=account.pk).update(
                balance=account.balance, version=account.version
            )
