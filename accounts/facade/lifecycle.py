"""Accounts from opening to close: create and load, top up, freeze, thaw, close, edit, expire.

Each act is recorded in the audit trail (:mod:`accounts.audit`) in the same transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import router, transaction
from django.utils import timezone
from django.utils.translation import gettext

from .. import audit, conf, events, exceptions, money
from ..ledger import checks, posting
from ..ledger.checks import DESCRIPTION_LENGTH_MAX, validate_amount
from ..models import Account, AuditAction, Kind, Status, Surface, Transfer, TransferKind
from .common import check_pair, move, once
from .transfers import transfer


def _check_load(
    amount: Decimal, *, balance_after: Decimal | None = None, currency: str = ""
) -> None:
    """Refuse a load or top-up outside the settings' bounds.

    ``currency`` is the account's, for showing the limits and ``balance_after`` in its minor
    units (``500.00``, not the setting's ``500`` or the column's ``525.0000``).
    """
    low, high = conf.min_initial_value(), conf.max_initial_value()
    currency = currency or conf.default_currency()
    if low is not None and amount < low:
        raise exceptions.AmountOutOfRange(
            gettext("The smallest amount that can be loaded is %(limit)s.")
            % {"limit": money.format_amount(low, currency)}
        )
    if high is not None and amount > high:
        raise exceptions.AmountOutOfRange(
            gettext("The largest amount that can be loaded is %(limit)s.")
            % {"limit": money.format_amount(high, currency)}
        )
    if high is not None and balance_after is not None and balance_after > high:
        raise exceptions.AmountOutOfRange(
            gettext(
                "A top-up may not take the balance above %(limit)s; it would reach %(balance)s."
            )
            % {
                "limit": money.format_amount(high, currency),
                "balance": money.format_amount(balance_after, currency),
            }
        )


def create_account(
    *,
    amount: Decimal | None = None,
    source: Account | None = None,
    user: Any = None,
    description: str | None = None,
    merchant_reference: str | None = None,
    reason: str | None = None,
    surface: str = Surface.CODE,
    **fields: Any,
) -> Account:
    """Create an account and load its opening balance from ``source`` in one atomic step.

    ``fields`` are :class:`~accounts.models.Account` fields. The load, if any, must lie within
    ``ACCOUNTS_MIN_INITIAL_VALUE`` and ``ACCOUNTS_MAX_INITIAL_VALUE``; if it is refused, no
    account is left behind. The audit trail records the creation (with the load, ``reason`` and
    ``surface``).
    """
    checks.check_texts(merchant_reference, description)
    surface = checks.check_act(reason, surface)
    if amount is not None:
        amount = validate_amount(amount)
        _check_load(amount, currency=fields.get("currency") or "")
    using = router.db_for_write(Account)

    def run() -> Account:
        # A savepoint of its own: inside a caller's transaction a refused load still takes the
        # new account with it.
        with transaction.atomic(using=using):
            account = Account.objects.create(**fields)
            load = None
            if amount is not None:
                load = transfer(
                    source or Account.objects.source(currency=account.currency),
                    account,
                    amount,
                    user=user,
                    description=description or "Initial load",
                    merchant_reference=merchant_reference,
                )
                account.refresh_from_db()
            audit.record(
                AuditAction.CREATED,
                account=account,
                transfer=load,
                user=user,
                surface=surface,
                reason=reason,
                using=using,
            )
            events.emit(
                events.account_created, account=account, transfer=load, user=user, using=using
            )
            return account

    return posting.in_transaction(using, run)


def create_card(
    *,
    amount: Decimal | None = None,
    source: Account | None = None,
    user: Any = None,
    description: str | None = None,
    merchant_reference: str | None = None,
    reason: str | None = None,
    surface: str = Surface.CODE,
    idempotency_key: str | None = None,
    **fields: Any,
) -> Account:
    """Create a customer card (gift card, store credit) and load it, in one atomic step.

    As :func:`create_account`, for an account designated as a card: a liability with a credit
    limit (0 unless given) and a generated code unless one is given. Only cards are loaded,
    spent and looked up by code through the dashboard and the API. With ``idempotency_key``,
    a second call with the same key and arguments returns the first call's card (re-read) and
    creates nothing, as :func:`~accounts.facade.transfer` does.
    """
    arguments = dict(locals())  # before any is rebound: what a key remembers
    arguments.update(arguments.pop("fields"))  # each field by its own name
    fields.setdefault("credit_limit", Decimal(0))

    def run() -> Account:
        return create_account(
            amount=amount,
            source=source,
            user=user,
            description=description,
            merchant_reference=merchant_reference,
            reason=reason,
            surface=surface,
            kind=Kind.LIABILITY,
            is_card=True,
            **fields,
        )

    return once(router.db_for_write(Account), idempotency_key, "create_card", arguments, run)


def top_up(
    account: Account,
    amount: Decimal,
    *,
    source: Account | None = None,
    user: Any = None,
    description: str | None = None,
    merchant_reference: str | None = None,
) -> Transfer:
    """Load ``amount`` more onto ``account``, within the min/max load settings."""
    amount = validate_amount(amount)
    checks.check_texts(merchant_reference, description)
    checks.check_saved(account)
    _check_load(amount, balance_after=account.balance + amount, currency=account.currency)
    source = source or Account.objects.source(currency=account.currency)
    checks.check_saved(source)
    using = posting.db_for(account)
    load_source = source

    def run() -> Transfer:
        # Lock both rows in primary-key order, as transfer() does, so the two never deadlock.
        fresh = posting.lock([load_source, account], None, using)[account.pk]
        _check_load(amount, balance_after=fresh.balance + amount, currency=fresh.currency)
        return transfer(
            load_source,
            account,
            amount,
            user=user,
            description=description or "Top-up",
            merchant_reference=merchant_reference,
        )

    return posting.in_transaction(using, run)


#: The act each status change records.
_STATUS_ACTIONS = {
    Status.CLOSED: AuditAction.CLOSED,
    Status.FROZEN: AuditAction.FROZEN,
    Status.OPEN: AuditAction.THAWED,
}

#: The signal each status change sends after commit.
_STATUS_EVENTS = {
    Status.CLOSED: events.account_closed,
    Status.FROZEN: events.account_frozen,
    Status.OPEN: events.account_thawed,
}


def _set_status(
    account: Account,
    status: str,
    allowed_from: set[str],
    *,
    user: Any,
    reason: str | None,
    surface: str,
) -> Account:
    checks.check_saved(account)
    surface = checks.check_act(reason, surface)
    using = posting.db_for(account)

    def run() -> Account:
        fresh = posting.lock([account], None, using)[account.pk]  # AccountNotFound if it is gone
        if fresh.status == Status.CLOSED:
            raise exceptions.ClosedAccount(
                gettext("Account %(account)s is closed.") % {"account": fresh}
            )
        if fresh.status not in allowed_from:
            return fresh
        if status == Status.CLOSED:
            checks.check_no_pending_holds(fresh)
        if status == Status.CLOSED and fresh.balance != 0:
            raise exceptions.AccountNotEmpty(
                gettext(
                    "Account %(account)s holds %(balance)s %(currency)s; move it out before "
                    "closing."
                )
                % {
                    "account": fresh,
                    "balance": money.format_amount(fresh.balance, fresh.currency),
                    "currency": fresh.currency,
                }
            )
        Account.objects.filter(pk=fresh.pk).update(status=status, updated_at=timezone.now())
        fresh.status = status
        audit.record(
            _STATUS_ACTIONS[status],  # type: ignore[index]
            account=fresh,
            user=user,
            surface=surface,
            reason=reason,
            using=using,
        )
        events.emit(_STATUS_EVENTS[status], account=fresh, user=user, using=using)  # type: ignore[index]
        return fresh

    fresh = posting.in_transaction(using, run)
    account.status = fresh.status
    return fresh


def close_account(
    account: Account, *, user: Any = None, reason: str | None = None, surface: str = Surface.CODE
) -> Account:
    """Close ``account`` for good; refused unless its balance is zero. Recorded in the trail."""
    return _set_status(
        account,
        Status.CLOSED,
        {Status.OPEN, Status.FROZEN},
        user=user,
        reason=reason,
        surface=surface,
    )


def freeze_account(
    account: Account, *, user: Any = None, reason: str | None = None, surface: str = Surface.CODE
) -> Account:
    """Stop all postings to and from ``account`` until it is thawed. Recorded in the trail."""
    return _set_status(
        account, Status.FROZEN, {Status.OPEN}, user=user, reason=reason, surface=surface
    )


def thaw_account(
    account: Account, *, user: Any = None, reason: str | None = None, surface: str = Surface.CODE
) -> Account:
    """Reopen a frozen account. Recorded in the trail."""
    return _set_status(
        account, Status.OPEN, {Status.FROZEN}, user=user, reason=reason, surface=surface
    )


#: The descriptive fields :func:`edit_account` may change.
EDITABLE_FIELDS = frozenset(
    {"name", "description", "account_type", "start_date", "end_date", "credit_limit"}
)


def _check_changes(changes: dict[str, Any]) -> None:
    """The fields an edit names must be editable, and its texts storable."""
    unknown = sorted(set(changes) - EDITABLE_FIELDS)
    if unknown:
        raise exceptions.InvalidAccount(
            # Translators: fields and editable are lists of field names, which stay in English.
            gettext("%(fields)s cannot be edited; editable: %(editable)s.")
            % {"fields": ", ".join(unknown), "editable": ", ".join(sorted(EDITABLE_FIELDS))}
        )
    if "name" in changes:
        checks.check_text(checks.NAME_LABEL, changes["name"], 128)
    if "description" in changes:
        checks.check_text(
            checks.ACCOUNT_DESCRIPTION_LABEL, changes["description"], DESCRIPTION_LENGTH_MAX
        )


def edit_account(
    account: Account,
    *,
    user: Any = None,
    reason: str | None = None,
    surface: str = Surface.CODE,
    **changes: Any,
) -> Account:
    """Change descriptive fields of ``account`` and its credit limit; record what changed.

    ``changes`` name fields of :data:`EDITABLE_FIELDS`. The row is locked, so no posting moves
    the balance between the credit-limit check and the save; a limit the balance already
    breaks is refused with :class:`~accounts.exceptions.InvalidCreditLimit`. The trail gets an
    ``edited`` entry with the old and new values, and a separate ``credit_limit_changed`` entry
    when the limit changed.
    """
    checks.check_saved(account)
    surface = checks.check_act(reason, surface)
    _check_changes(changes)
    using = posting.db_for(account)

    def run() -> Account:
        fresh = posting.lock([account], None, using)[account.pk]
        before = Account.objects.using(using).get(pk=fresh.pk)
        diff = {
            name: (getattr(before, name), value)
            for name, value in changes.items()
            if getattr(before, name) != value
        }
        if not diff:
            return before
        for name, (_, value) in diff.items():
            setattr(before, name, value)
        before.balance = fresh.balance  # Account.save() checks the limit against it
        before.save(update_fields=[*diff, "updated_at"])
        # The limit has an entry of its own; the other fields share one.
        limit = {"credit_limit": diff.pop("credit_limit")} if "credit_limit" in diff else {}
        for action, changed in (
            (AuditAction.EDITED, diff),
            (AuditAction.CREDIT_LIMIT_CHANGED, limit),
        ):
            if changed:
                audit.record(
                    action,
                    account=before,
                    user=user,
                    surface=surface,
                    reason=reason,
                    changes=changed,
                    using=using,
                )
        return before

    edited = posting.in_transaction(using, run)
    for name in changes:
        setattr(account, name, getattr(edited, name))
    return edited


def check_sweepable(acct: Account) -> None:
    """Refuse to sweep an account that holds a debt or that pending holds still draw on."""
    checks.check_no_pending_holds(acct)
    if acct.balance < 0:
        # A debt does not lapse by itself.
        raise exceptions.AccountNotEmpty(
            gettext(
                "Account %(account)s is overdrawn by %(amount)s %(currency)s; settle it "
                "before it can be closed."
            )
            % {
                "account": acct,
                "amount": money.format_amount(-acct.balance, acct.currency),
                "currency": acct.currency,
            }
        )


def expire_account(
    account: Account, *, user: Any = None, reason: str | None = None, surface: str = Surface.CODE
) -> Transfer | None:
    """Move what is left in an expired ``account`` to the expired account, then close it.

    Returns the sweeping transfer, or None when the balance was already zero. An account whose
    balance is negative (money owed) is not swept: a debt does not lapse by itself, so
    :class:`~accounts.exceptions.AccountNotEmpty` is raised and the account stays open. The
    trail records the expiry with the sweep, ``reason`` and ``surface``.
    """
    checks.check_saved(account)
    surface = checks.check_act(reason, surface)
    expired = Account.objects.expired_account(currency=account.currency)
    using = posting.db_for(account)

    def run() -> Transfer | None:
        locked = posting.lock([account, expired], None, using)
        acct, target = locked[account.pk], locked[expired.pk]
        if acct.status != Status.OPEN or not acct.is_expired():
            return None
        swept = None
        check_sweepable(acct)
        if acct.balance > 0:
            amount = acct.balance
            # Bring the balance to zero: debit a credit-normal account, credit a debit-normal.
            src, dst = (acct, target) if not acct.is_debit_normal else (target, acct)
            check_pair(src, dst, amount, None, locked, check_window=False)
            checks.check_can_post(target, locked.facts_of(target), timezone.now())
            swept = move(
                src,
                dst,
                amount,
                locked,
                kind=TransferKind.EXPIRY,
                user=user,
                description="Expired",
                using=using,
            )
        Account.objects.using(using).filter(pk=acct.pk).update(
            status=Status.CLOSED, updated_at=timezone.now()
        )
        acct.status = Status.CLOSED
        audit.record(
            AuditAction.EXPIRED,
            account=acct,
            transfer=swept,
            user=user,
            surface=surface,
            reason=reason,
            using=using,
        )
        posting.sync([account, expired], locked)
        if swept is not None:
            events.emit(events.transfer_posted, transfer=swept, user=user, using=using)
        events.emit(events.account_expired, account=acct, transfer=swept, user=user, using=using)
        return swept

    return posting.in_transaction(using, run)
