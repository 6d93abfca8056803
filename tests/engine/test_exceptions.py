"""Every exception class, raised through the public API, with its stable code.

Each entry of ``TRIGGERS`` makes one refusal happen the way a caller would. Three classes are
roots of families and are never raised themselves; they are triggered through a subclass.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone, translation
from django.utils.functional import Promise

from accounts import exceptions, facade
from accounts.api.statuses import status_for
from accounts.facade import Credit, Debit
from accounts.models import Account, Status, Transfer

from ..factories import AccountFactory, SourceAccountFactory, UserFactory
from ..statements.triggers import TRIGGERS as STATEMENT_TRIGGERS
from .book_triggers import TRIGGERS as BOOK_TRIGGERS

pytestmark = pytest.mark.django_db

ONE = Decimal("1.00")

#: Classes that only group others; a caller meets them through a subclass.
FAMILY_ROOTS = {exceptions.AccountException, exceptions.InvalidAmount, exceptions.InactiveAccount}


def funded(amount: Decimal = Decimal("10.00"), **fields: object) -> Account:
    account = AccountFactory(**fields)
    facade.transfer(SourceAccountFactory(), account, amount)
    return account


Act = Callable[[], object]


def not_an_account() -> Act:
    source = SourceAccountFactory()
    return lambda: facade.transfer(source, "CORE-SALES", ONE)  # type: ignore[arg-type]


def unsaved() -> Act:
    source = SourceAccountFactory()
    return lambda: facade.transfer(source, Account(), ONE)


def deleted() -> Act:
    source, gone = SourceAccountFactory(), AccountFactory()
    Account.objects.filter(pk=gone.pk).delete()
    return lambda: facade.transfer(source, gone, ONE)


def same_account() -> Act:
    account = funded()
    return lambda: facade.transfer(account, account, ONE)


def currency_mismatch() -> Act:
    source, euros = SourceAccountFactory(), AccountFactory(currency="EUR")
    return lambda: facade.transfer(source, euros, ONE)


def placeholder() -> Act:
    source, parent = SourceAccountFactory(), AccountFactory()
    AccountFactory(parent=parent)
    return lambda: facade.transfer(source, parent, ONE)


def with_status(status: str) -> Callable[[], Act]:
    def arrange() -> Act:
        source, account = SourceAccountFactory(), AccountFactory(status=status)
        return lambda: facade.transfer(source, account, ONE)

    return arrange


def expired() -> Act:
    source = SourceAccountFactory()
    ended = AccountFactory(end_date=timezone.now() - datetime.timedelta(seconds=1))
    return lambda: facade.transfer(source, ended, ONE)


def not_yet_active() -> Act:
    source = SourceAccountFactory()
    later = AccountFactory(start_date=timezone.now() + datetime.timedelta(hours=1))
    return lambda: facade.transfer(source, later, ONE)


def not_empty() -> Act:
    return funded().close


def insufficient_funds() -> Act:
    card, shop = funded(), AccountFactory()
    return lambda: facade.transfer(card, shop, Decimal("10.01"))


def negative_credit_limit() -> Act:
    return lambda: Account.objects.create(credit_limit=Decimal("-10.00"))


def child_of_another_kind() -> Act:
    parent = AccountFactory(kind="asset", credit_limit=None)
    return lambda: Account.objects.create(parent=parent, kind="liability")


def unauthorised() -> Act:
    card, shop, stranger = funded(primary_user=UserFactory()), AccountFactory(), UserFactory()
    return lambda: facade.transfer(card, shop, ONE, user=stranger)


def reverse_unsaved() -> Act:
    return lambda: facade.reverse(Transfer())


def future_date() -> Act:
    source, account = SourceAccountFactory(), AccountFactory()
    later = timezone.now() + datetime.timedelta(days=1)
    return lambda: facade.transfer(source, account, ONE, date=later)


def too_early() -> Act:
    source, account = SourceAccountFactory(), AccountFactory()
    earlier = facade.POSTING_DATE_MIN - datetime.timedelta(microseconds=1)
    return lambda: facade.transfer(source, account, ONE, date=earlier)


def text(**fields: object) -> Callable[[], Act]:
    def arrange() -> Act:
        source, account = SourceAccountFactory(), AccountFactory()
        return lambda: facade.transfer(source, account, ONE, **fields)  # type: ignore[arg-type]

    return arrange


def card_without_limit() -> Act:
    return lambda: Account.objects.create(is_card=True, credit_limit=None)


def freeze_from(surface: str) -> Callable[[], Act]:
    def arrange() -> Act:
        account = AccountFactory()
        return lambda: facade.freeze_account(account, surface=surface)

    return arrange


def one_sided_entry() -> Act:
    lines = [Debit(SourceAccountFactory(), ONE), Debit(AccountFactory(), ONE)]
    return lambda: facade.post(lines)


def too_many_legs() -> Act:
    shops = [Credit(AccountFactory.build(), Decimal("0.01"))] * facade.MAX_LEGS_PER_TRANSFER
    lines = [Debit(SourceAccountFactory(), Decimal("10.00")), *shops]
    return lambda: facade.post(lines)


def reverse_twice() -> Act:
    t = facade.transfer(SourceAccountFactory(), AccountFactory(), ONE)
    facade.reverse(t)
    return lambda: facade.reverse(t)


def reverse_a_reversal() -> Act:
    r = facade.reverse(facade.transfer(SourceAccountFactory(), AccountFactory(), ONE))
    return lambda: facade.reverse(r)


def refund_too_much() -> Act:
    card, shop = funded(), AccountFactory()
    sale = facade.transfer(card, shop, Decimal("5.00"))
    return lambda: facade.transfer(shop, card, Decimal("5.01"), parent=sale)


def delete_a_transfer() -> Act:
    return facade.transfer(SourceAccountFactory(), AccountFactory(), ONE).delete


def load_too_much() -> Act:
    @override_settings(ACCOUNTS_MAX_INITIAL_VALUE=Decimal("100.00"))
    def act() -> object:
        return facade.create_account(amount=Decimal("100.01"))

    return act


def amount(value: object) -> Callable[[], Act]:
    def arrange() -> Act:
        source, account = SourceAccountFactory(), AccountFactory()
        return lambda: facade.transfer(source, account, value)  # type: ignore[arg-type]

    return arrange


def malformed_key() -> Act:
    source, account = SourceAccountFactory(), AccountFactory()
    return lambda: facade.transfer(source, account, ONE, idempotency_key=" padded")


def key_reused() -> Act:
    source, account = SourceAccountFactory(), AccountFactory()
    facade.transfer(source, account, ONE, idempotency_key="order-1")
    return lambda: facade.transfer(source, account, ONE + ONE, idempotency_key="order-1")


#: class -> (its stable code, a function that sets the scene and returns the refused call)
TRIGGERS: dict[type[exceptions.AccountException], tuple[str, Callable[[], Act]]] = {
    exceptions.AccountException: ("account_error", insufficient_funds),
    exceptions.InvalidAmount: ("invalid_amount", amount(Decimal("0"))),
    exceptions.AmountNotDecimal: ("amount_must_be_decimal", amount(1.0)),
    exceptions.AmountNotPositive: ("amount_must_be_positive", amount(Decimal("-1"))),
    exceptions.AmountNotFinite: ("amount_must_be_finite", amount(Decimal("NaN"))),
    exceptions.AmountTooPrecise: ("amount_too_precise", amount(Decimal("1.001"))),
    exceptions.AmountTooLarge: ("amount_too_large", amount(facade.MAX_AMOUNT + 1)),
    exceptions.AmountOutOfRange: ("amount_out_of_range", load_too_much),
    exceptions.InvalidAccount: ("invalid_account", not_an_account),
    exceptions.AccountNotSaved: ("account_not_saved", unsaved),
    exceptions.AccountNotFound: ("account_not_found", deleted),
    exceptions.SameAccount: ("accounts_must_be_different", same_account),
    exceptions.CurrencyMismatch: ("currency_mismatch", currency_mismatch),
    exceptions.PlaceholderAccount: ("account_is_placeholder", placeholder),
    exceptions.InactiveAccount: ("account_inactive", with_status(Status.CLOSED)),
    exceptions.FrozenAccount: ("account_frozen", with_status(Status.FROZEN)),
    exceptions.ClosedAccount: ("account_closed", with_status(Status.CLOSED)),
    exceptions.AccountExpired: ("account_expired", expired),
    exceptions.AccountNotYetActive: ("account_not_yet_active", not_yet_active),
    exceptions.AccountNotEmpty: ("account_not_empty", not_empty),
    exceptions.InsufficientFunds: ("insufficient_funds", insufficient_funds),
    exceptions.InvalidCreditLimit: ("invalid_credit_limit", negative_credit_limit),
    exceptions.KindMismatch: ("kind_differs_from_parent", child_of_another_kind),
    exceptions.Unauthorised: ("user_not_authorised", unauthorised),
    exceptions.InvalidTransfer: ("invalid_transfer", reverse_unsaved),
    exceptions.InvalidDate: ("invalid_date", future_date),
    exceptions.InvalidText: ("invalid_text", text(description=12)),
    exceptions.TextTooLong: ("text_too_long", text(merchant_reference="x" * 129)),
    exceptions.TextNotStorable: ("text_not_storable", text(description="a\x00b")),
    exceptions.InvalidCard: ("invalid_card", card_without_limit),
    exceptions.InvalidSurface: ("invalid_surface", freeze_from("the moon")),
    exceptions.InvalidEntry: ("entry_unbalanced", one_sided_entry),
    exceptions.TooManyLegs: ("too_many_legs", too_many_legs),
    exceptions.AlreadyReversed: ("transfer_already_reversed", reverse_twice),
    exceptions.CannotReverseReversal: ("cannot_reverse_a_reversal", reverse_a_reversal),
    exceptions.RefundExceedsRemaining: ("refund_exceeds_remaining", refund_too_much),
    exceptions.LedgerImmutable: ("ledger_is_append_only", delete_a_transfer),
    exceptions.InvalidIdempotencyKey: ("invalid_idempotency_key", malformed_key),
    exceptions.IdempotencyConflict: ("idempotency_conflict", key_reused),
    **STATEMENT_TRIGGERS,
    **BOOK_TRIGGERS,
}


def test_every_exception_class_has_a_trigger():
    assert set(exceptions.ALL) == set(TRIGGERS)


def test_the_seeds_exception_names_exist():
    for name in (
        "InsufficientFunds",
        "InvalidAmount",
        "InactiveAccount",
        "ClosedAccount",
        "AccountNotEmpty",
    ):
        assert issubclass(getattr(exceptions, name), exceptions.AccountException)


@pytest.mark.parametrize("error", list(TRIGGERS), ids=lambda cls: cls.__name__)
def test_each_exception_class_is_raised_through_the_public_api(error, unchanged):
    code, arrange = TRIGGERS[error]
    act = arrange()
    with unchanged(), pytest.raises(error) as caught:
        act()
    raised = caught.value
    if error not in FAMILY_ROOTS:
        assert type(raised) is error
    assert isinstance(raised, exceptions.AccountException)
    assert error.code == code
    assert raised.message and str(raised) == raised.message
    assert raised.as_dict() == {"code": raised.code, "message": raised.message}
    assert 400 <= status_for(raised) < 500


def test_codes_are_unique():
    codes = [cls.code for cls in exceptions.ALL]
    assert len(codes) == len(set(codes))


#: What the root says when raised bare; it is no rule of its own, so its docstring says what it is.
ROOT_MESSAGE = "The ledger refused this request."


@pytest.mark.parametrize("error", exceptions.ALL, ids=lambda cls: cls.__name__)
def test_each_exception_class_states_its_rule(error):
    # The docstring states the rule for developers; the default message says the same rule to
    # people, translated when the refusal is made (so it is lazy, and every class has its own).
    assert error.__doc__ and error.__doc__.strip()
    assert "default_message" in vars(error)
    assert isinstance(error.default_message, Promise)
    rule = ROOT_MESSAGE if error is exceptions.AccountException else error.__doc__.strip()
    with translation.override("en"):
        assert error().message == rule
        assert type(error().message) is str


def test_default_messages_are_distinct():
    with translation.override("en"):
        messages = [str(cls.default_message) for cls in exceptions.ALL]
    assert len(messages) == len(set(messages))


def test_a_message_can_carry_context():
    raised = exceptions.InsufficientFunds("Only 3.00 GBP available.", available=Decimal("3.00"))
    assert raised.message == "Only 3.00 GBP available."
    assert raised.context == {"available": Decimal("3.00")}
