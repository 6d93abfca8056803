"""What the API's endpoints share: finding cards, transfers and holds, and showing them.

The API sees designated cards only (:func:`is_card`); everything it shows names a card by its
masked code and any other account as ``null`` (see :mod:`accounts.api.views`). Every lookup by
code or reference is one throttled step (:func:`accounts.api.throttle.lookup`).
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import Prefetch, Q
from django.utils.translation import gettext
from ninja import Header, Path

from .. import codes, conf, facade, money
from ..models import (
    CORE_CODE_PREFIX,
    SALES_CODE,
    SOURCE_CODE,
    Account,
    Hold,
    HoldStatus,
    Kind,
    Status,
    Transaction,
    Transfer,
    TransferKind,
)
from . import auth, schemas, throttle
from .http import ApiError

#: The permission that lets a caller refund or reverse transfers other callers made.
CORRECT_ANY_PERMISSION = "accounts.correct_any_transfer"

_GROUP = f"[{codes.ALPHABET}]{{{codes.GROUP_SIZE}}}"
#: The shape of a generated reference: ``7KQ2-M9XD-HT4W-PB3N``.
_REFERENCE_RE = re.compile(f"{_GROUP}(-{_GROUP}){{{codes.CODE_LENGTH // codes.GROUP_SIZE - 1}}}")
#: A transfer's reference in a URL. Over-long text is a 400; any other text that does not
#: name a transfer on a card (NUL bytes included) is a 404 that counts as a failed lookup.
Reference = Annotated[
    str,
    Path(
        min_length=1,
        max_length=schemas.CODE_TEXT_LENGTH_MAX,
        description="The transfer's reference, as printed on the receipt (case and dashes do "
        "not matter).",
    ),
]

#: The ``Idempotency-Key`` header every POST that moves money or creates a card takes.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Makes the request safe to retry: a request repeated with the same key and "
        "the same body, by the same user, answers as the first one did (201, the same transfer "
        "or card, shown as it is now) and moves no money again; the same key with a different "
        "request is refused with 409 idempotency_conflict, naming the fields that differ. 1 to "
        "255 characters, unique per ledger, kept for ACCOUNTS_IDEMPOTENCY_KEY_RETENTION (30 days "
        "by default). A request refused for a reason of the ledger, such as insufficient funds, "
        "does not keep its key.",
    ),
]


# -- finding cards and transfers -------------------------------------------------------------


def is_card(account: Account | None) -> bool:
    """Whether the API may see ``account``: a designated card, limited, not a core account."""
    return (
        account is not None
        and account.is_card
        and account.kind == Kind.LIABILITY
        and account.credit_limit is not None
        and not account.code.startswith(CORE_CODE_PREFIX)
    )


def _cards() -> Any:
    """The accounts :func:`is_card` accepts, as a query."""
    return Account.objects.filter(
        is_card=True, kind=Kind.LIABILITY, credit_limit__isnull=False
    ).exclude(code__startswith=CORE_CODE_PREFIX)


def is_sales_account(account: Account, currency: str) -> bool:
    """Whether ``account`` is the core sales account (or its sibling) for ``currency``."""
    return account.currency == currency and account.code in {
        SALES_CODE,
        f"{SALES_CODE}-{currency}",
    }


def is_currency_offered(currency: str) -> bool:
    """Whether cards may be issued in ``currency``: the default, or one with a source account.

    Checked so that API callers cannot fill the chart of accounts with core accounts for
    every three-letter code they can think of; staff open a currency by creating its source
    account (``Account.objects.source(currency=...)``) or a first card in it.
    """
    if currency == conf.default_currency():
        return True
    return Account.objects.filter(
        code__in=[SOURCE_CODE, f"{SOURCE_CODE}-{currency}"], currency=currency
    ).exists()


def _find_card(code: str) -> Account | None:
    # The schema has refused NUL and over-long text, so the query is safe on every database.
    return _cards().filter(code=codes.normalise(code)).first()


def _find_transfer(text: str) -> Transfer | None:
    # References come from the URL: only a generated shape reaches the database.
    reference = codes.normalise(text)
    if not _REFERENCE_RE.fullmatch(reference):
        return None
    on_a_card = Transaction.objects.filter(account__in=_cards())
    return (
        Transfer.objects.filter(reference=reference, pk__in=on_a_card.values("transfer_id"))
        .select_related("source", "destination")
        .first()
    )


def _find_hold(text: str) -> Hold | None:
    # As transfers: only a generated shape reaches the database, and only holds on a card.
    reference = codes.normalise(text)
    if not _REFERENCE_RE.fullmatch(reference):
        return None
    return (
        holds_on_cards()
        .filter(reference=reference)
        .select_related("source", "destination", "transfer")
        .first()
    )


def holds_on_cards() -> Any:
    """The holds the API may show: those taking money from, or giving it to, a card."""
    cards = _cards()
    return Hold.objects.filter(Q(source__in=cards) | Q(destination__in=cards))


def find_card(call: auth.Caller, code: str) -> Account:
    """Return the card with code ``code`` (as a customer typed it) or raise 404."""
    found = throttle.lookup(call.client, lambda: _find_card(code))
    if found is None:
        raise ApiError(404, "account_not_found", gettext("No card has this code."))
    return found


def find_transfer(call: auth.Caller, reference: str) -> Transfer:
    """Return the transfer with ``reference`` if it moved money on a card, or raise 404."""
    found = throttle.lookup(call.client, lambda: _find_transfer(reference))
    if found is None:
        raise ApiError(
            404, "transfer_not_found", gettext("No transfer on a card has this reference.")
        )
    return found


def find_hold(call: auth.Caller, reference: str) -> Hold:
    """Return the hold with ``reference`` if it is on a card, or raise 404."""
    found = throttle.lookup(call.client, lambda: _find_hold(reference))
    if found is None:
        raise ApiError(404, "hold_not_found", gettext("No hold on a card has this reference."))
    return found


def check_may_correct(call: auth.Caller, original: Transfer) -> None:
    """Refuse to refund or reverse a transfer another caller made, without the permission."""
    if original.user_id is not None and original.user_id == call.user.pk:
        return
    if call.user.has_perm(CORRECT_ANY_PERMISSION):
        return
    raise ApiError(
        403,
        "not_your_transfer",
        gettext(
            "Transfer %(reference)s was not made by this user; correcting it needs the "
            "%(permission)s permission."
        )
        % {"reference": original.reference, "permission": CORRECT_ANY_PERMISSION},
    )


# -- representations -------------------------------------------------------------------------


def _amount(value: Decimal, currency: str) -> str:
    return money.format_amount(value, currency)


def _moment(value: datetime.datetime) -> str:
    """Write an aware datetime as RFC 3339 in UTC (``2026-01-31T12:00:00Z``)."""
    return value.astimezone(datetime.timezone.utc).isoformat().removesuffix("+00:00") + "Z"


def _moment_or_none(value: datetime.datetime | None) -> str | None:
    return None if value is None else _moment(value)


def _card_code(account: Account | None) -> str | None:
    """The masked code of a card; None for any other account, which the API never names."""
    return codes.mask(account.code) if account is not None and is_card(account) else None


def account_data(account: Account, *, full_code: bool = False) -> schemas.Account:
    available = account.amount_available
    return schemas.Account(
        code=account.code if full_code else codes.mask(account.code),
        name=account.name,
        currency=account.currency,
        balance=_amount(account.balance, account.currency),
        amount_available=None if available is None else _amount(available, account.currency),
        posted=_amount(account.posted, account.currency),
        pending=_amount(account.pending, account.currency),
        status=Status(account.status),
        is_active=account.is_active(),
        start_date=_moment_or_none(account.start_date),
        end_date=_moment_or_none(account.end_date),
        created_at=_moment(account.created_at),
    )


def transfer_data(transfer: Transfer) -> schemas.Transfer:
    """A transfer with its legs; cards are masked, other accounts null, as is their balance."""
    found = (
        Transfer.objects.select_related("source", "destination", "parent")
        .prefetch_related(
            Prefetch(
                "transactions",
                queryset=Transaction.objects.select_related("account").order_by("leg_index"),
            )
        )
        .get(pk=transfer.pk)
    )
    currency = found.currency
    return schemas.Transfer(
        reference=found.reference,
        kind=TransferKind(found.kind),
        amount=_amount(found.amount, currency),
        currency=currency,
        source=_card_code(found.source),
        destination=_card_code(found.destination),
        parent=found.parent.reference if found.parent else None,
        merchant_reference=found.merchant_reference,
        description=found.description,
        created_at=_moment(found.created_at),
        refundable_amount=_amount(facade.refundable_amount(found), currency),
        legs=[
            schemas.Leg(
                account=_card_code(leg.account),
                amount=_amount(leg.amount, leg.currency),
                balance_after=_amount(leg.balance_after, leg.currency)
                if is_card(leg.account) and leg.balance_after is not None
                else None,
            )
            for leg in found.transactions.all()
        ],
    )


def hold_data(hold: Hold) -> schemas.Hold:
    """A hold as the API shows it: cards masked, other accounts null."""
    currency = hold.currency
    captured = hold.captured_amount
    return schemas.Hold(
        reference=hold.reference,
        status=HoldStatus(hold.status),
        amount=_amount(hold.amount, currency),
        currency=currency,
        source=_card_code(hold.source),
        destination=_card_code(hold.destination),
        captured_amount=None if captured is None else _amount(captured, currency),
        released_amount=_amount(hold.released_amount, currency),
        transfer=hold.transfer.reference if hold.transfer is not None else None,
        merchant_reference=hold.merchant_reference,
        description=hold.description,
        expires_at=_moment_or_none(hold.expires_at),
        created_at=_moment(hold.created_at),
        resolved_at=_moment_or_none(hold.resolved_at),
    )
