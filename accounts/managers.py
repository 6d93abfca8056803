"""The managers and querysets of the ledger's models: how accounts and ledger rows are found.

Balances as of a moment come from the one builder in :mod:`accounts.ledger.balances`.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, models, transaction
from django.db.models import F, Q, Value
from django.utils import timezone
from mptt.managers import TreeManager

from . import codes, conf, exceptions
from .ledger import balances
from .vocabulary import EXPIRED_CODE, SALES_CODE, SOURCE_CODE, Kind, Status

if TYPE_CHECKING:
    from .models import Account, AccountType, Transfer


class AccountTypeManager(TreeManager):
    def get_by_natural_key(self, code: str) -> AccountType:
        return self.get(code=code)


class AccountQuerySet(models.QuerySet["Account"]):
    def active(self, at: datetime.datetime | None = None) -> AccountQuerySet:
        """Open accounts inside their start/end window at ``at`` (default now)."""
        at = at or timezone.now()
        return self.filter(
            Q(start_date__isnull=True) | Q(start_date__lte=at),
            Q(end_date__isnull=True) | Q(end_date__gt=at),
            status=Status.OPEN,
        )

    def expired(self, at: datetime.datetime | None = None) -> AccountQuerySet:
        """Open accounts whose end date has passed at ``at`` (default now)."""
        return self.filter(status=Status.OPEN, end_date__lte=at or timezone.now())

    def with_balances(self, as_of: datetime.datetime | None = None) -> AccountQuerySet:
        """Annotate ``rollup_balance``: the balance of each account and all its descendants.

        Only descendants in the account's own currency are added (amounts in different
        currencies are never summed); use :meth:`Account.get_balances` for the other
        currencies. With ``as_of``, each leaf's balance is read from its last leg at or before
        that moment. Either way it is one query, whatever the number of accounts.
        """
        if as_of is None:
            return self.annotate(rollup_balance=balances.rolled_up(F("balance")))
        return self.annotate(rollup_balance=balances.rolled_up_as_of(as_of))


class AccountManager(models.Manager["Account"]):
    def get_queryset(self) -> AccountQuerySet:
        return AccountQuerySet(self.model, using=self._db)

    def active(self, at: datetime.datetime | None = None) -> AccountQuerySet:
        return self.get_queryset().active(at)

    def expired(self, at: datetime.datetime | None = None) -> AccountQuerySet:
        return self.get_queryset().expired(at)

    def with_balances(self, as_of: datetime.datetime | None = None) -> AccountQuerySet:
        return self.get_queryset().with_balances(as_of)

    def get_by_natural_key(self, code: str) -> Account:
        return self.get(code=code)

    def get_by_code(self, text: str) -> Account:
        """Find an account by a code as a customer might type it (case, spaces, dashes)."""
        return self.get(code=codes.normalise(text))

    # The three core accounts are found by stable code and created on first use.
    def _core(self, code: str, name: str, kind: str, currency: str | None = None) -> Account:
        """The core account ``code``, or its sibling for another ``currency``.

        The core accounts hold the currency that was the default when they were created; money
        in any other currency goes to a sibling coded ``<code>-<currency>``, created on first
        use, because one account never mixes currencies.
        """
        account = self._get_or_create_core(code, name=name, kind=kind)
        if currency is None or currency == account.currency:
            return account
        return self._get_or_create_core(
            f"{code}-{currency}", name=f"{name} {currency}", kind=kind, currency=currency
        )

    def _get_or_create_core(self, code: str, **fields: Any) -> Account:
        try:
            return self.get(code=code)
        except self.model.DoesNotExist:
            try:
                with transaction.atomic():
                    return self.create(code=code, credit_limit=None, **fields)
            except IntegrityError:  # created concurrently
                return self.get(code=code)

    def source(self, currency: str | None = None) -> Account:
        """The asset account money is loaded from (no credit limit)."""
        return self._core(SOURCE_CODE, conf.source_name(), Kind.ASSET, currency)

    def sales(self, currency: str | None = None) -> Account:
        """The income account redemptions are paid into."""
        return self._core(SALES_CODE, conf.sales_name(), Kind.INCOME, currency)

    def expired_account(self, currency: str | None = None) -> Account:
        """The income account that receives what is left in expired accounts."""
        return self._core(EXPIRED_CODE, conf.expired_name(), Kind.INCOME, currency)

    def create_core_accounts(self) -> list[Account]:
        """Create the core accounts, or rename them to follow the settings (run by migrate)."""
        core = [self.source(), self.sales(), self.expired_account()]
        names = [conf.source_name(), conf.sales_name(), conf.expired_name()]
        for account, name in zip(core, names):
            if account.name != name:
                self.filter(pk=account.pk).update(name=name)
                account.name = name
        return core


class LedgerQuerySet(models.QuerySet[Any]):
    """Ledger rows are append-only: bulk updates and deletes are refused in Python too."""

    def update(self, **kwargs: Any) -> int:
        raise exceptions.LedgerImmutable()

    def delete(self) -> tuple[int, dict[str, int]]:
        raise exceptions.LedgerImmutable()

    update.queryset_only = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]

    def backdated(self) -> LedgerQuerySet:
        """The back-dated legs, found through the (account, backdated) index on every backend.

        ``filter(backdated=True)`` compiles to a bare ``"backdated"`` on SQLite, which its
        planner does not match to the index: it read every leg of the account. Comparing with a
        bound value makes it one probe there too.
        """
        return self.filter(backdated=Value(True, output_field=models.BooleanField()))


class TransferManager(models.Manager["Transfer"]):
    def get_queryset(self) -> LedgerQuerySet:
        return LedgerQuerySet(self.model, using=self._db)

    def get_by_natural_key(self, reference: str) -> Transfer:
        return self.get(reference=reference)

    def get_by_reference(self, text: str) -> Transfer:
        return self.get(reference=codes.normalise(text))
