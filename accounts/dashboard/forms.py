"""Forms of the staff dashboard: list filters, account creation and edits, money actions.

Forms only parse and check input; money moves in the views, through :mod:`accounts.facade`,
which re-checks every rule against locked rows.

Bad input is a form error, never a server error: every text field refuses NUL characters,
lone surrogates and the replacement character (the mark of bytes that were not UTF-8) before
any query sees them, and has a length limit; every date lies between :data:`DAY_MIN` and
:data:`DAY_MAX`, so adding a day or a time zone's offset to it cannot overflow.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from mptt.forms import TreeNodeChoiceField

from accounts import audit, codes, conf, facade, money
from accounts.models import (
    CORE_CODE_PREFIX,
    EXPIRED_CODE,
    SALES_CODE,
    SOURCE_CODE,
    Account,
    AccountType,
    AuditAction,
    Kind,
    Status,
    Surface,
    kind_choices,
)

#: The earliest day a filter or an account's dates may name: the ledger holds nothing dated
#: before the facade's earliest posting date.
DAY_MIN = facade.POSTING_DATE_MIN.date()
#: The latest: a year short of the calendar's end, so that the day's end in any time zone and
#: the reports' look-ahead (deferred income counts 90 days past the day chosen) stay in range.
DAY_MAX = datetime.date(9998, 12, 31)
#: The longest account code the form fields read (the column's length).
CODE_LENGTH_MAX = Account._meta.get_field("code").max_length or 64
#: The longest description of an account, as of a transfer.
DESCRIPTION_LENGTH_MAX = facade.DESCRIPTION_LENGTH_MAX
#: The longest username or e-mail address a user field reads.
USER_LENGTH_MAX = 254

#: Lone surrogates (no UTF-8 encoding exists for them) and the replacement character.
_GARBLED = re.compile("[\ud800-\udfff\ufffd]")


#: The largest primary key a choice field looks up: a 64-bit signed integer column's maximum.
PRIMARY_KEY_MAX = 2**63 - 1


class TypeChoiceField(TreeNodeChoiceField):
    """A choice of account type that refuses a key no column can hold before looking it up.

    SQLite's driver raises ``OverflowError`` for an integer past 64 bits (Django 4.2 lets it
    through), so such input would be a server error instead of a form error.
    """

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values:
            text = str(value).strip()
            if not text.isdigit() or not 0 < int(text) <= PRIMARY_KEY_MAX:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


def is_storable_text(text: str) -> bool:
    """Whether ``text`` can be stored and shown as it is: no NUL, no garbled characters."""
    return "\x00" not in text and not _GARBLED.search(text)


def validate_text(value: Any) -> None:
    """Refuse text that no database column should hold (a form field validator)."""
    if isinstance(value, str) and not is_storable_text(value):
        raise ValidationError(
            gettext("Enter plain text: this holds a NUL or a character that is not valid Unicode."),
            code="invalid_text",
        )


def replace_garbled(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, as Django decodes bad bytes."""
    return re.sub("[\ud800-\udfff]", "\ufffd", text)


class StorableTextMixin:
    """Make every text field of a form refuse text that is not storable (see the module)."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # each form instance has its own copies
            if isinstance(field, forms.CharField):
                field.validators.append(validate_text)


class DashboardForm(StorableTextMixin, forms.Form):
    """The base of the dashboard's forms."""


#: A browser's ``datetime-local`` input sends and expects this shape.
DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=DATETIME_LOCAL_FORMAT)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def amount_field(**kwargs: Any) -> forms.DecimalField:
    """A positive amount; the facade refuses more places than the account's currency allows."""
    kwargs.setdefault("min_value", Decimal("0.0001"))
    return forms.DecimalField(
        max_digits=money.MAX_DIGITS, decimal_places=money.DECIMAL_PLACES, **kwargs
    )


class DayField(forms.DateField):
    """A day between :data:`DAY_MIN` and :data:`DAY_MAX`."""

    widget = DateInput

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and not DAY_MIN <= value <= DAY_MAX:
            raise ValidationError(
                gettext("Enter a day from %(first)s to %(last)s."),
                code="day_out_of_range",
                params={"first": DAY_MIN.isoformat(), "last": DAY_MAX.isoformat()},
            )


class MomentField(forms.DateTimeField):
    """A date and time whose day lies between :data:`DAY_MIN` and :data:`DAY_MAX`."""

    widget = DateTimeLocalInput

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and not DAY_MIN <= timezone.localtime(value).date() <= DAY_MAX:
            raise ValidationError(
                gettext("Enter a date from %(first)s to %(last)s."),
                code="date_out_of_range",
                params={"first": DAY_MIN.isoformat(), "last": DAY_MAX.isoformat()},
            )


def day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the current time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def day_end(day: datetime.date) -> datetime.datetime:
    """Midnight at the end of ``day`` (the start of the next), an exclusive bound."""
    return day_start(day + datetime.timedelta(days=1))


class AccountCodeField(forms.CharField):
    """An account given by its code, as staff would type it; cleans to the Account.

    Only exact codes find an account (a generated code in any case, with or without dashes):
    a field that matched part of a code would let anyone read a card's code a guess at a time.
    Text too long to be a code, or not storable, is refused before any query sees it.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"maxlength": CODE_LENGTH_MAX}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Account | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        if len(text) > CODE_LENGTH_MAX or not is_storable_text(text):
            # Checked before any query sees it, and never repeated back.
            raise forms.ValidationError(
                gettext("No account has this code."), code="unknown_account"
            )
        core = {
            SOURCE_CODE: Account.objects.source,
            SALES_CODE: Account.objects.sales,
            EXPIRED_CODE: Account.objects.expired_account,
        }
        if text.strip().upper() in core:  # created on first use, like everywhere else
            return core[text.strip().upper()]()
        try:
            return Account.objects.get_by_code(text)
        except Account.DoesNotExist:
            pass
        try:  # staff type codes in any case
            return Account.objects.get(code__iexact=text.strip())
        except (Account.DoesNotExist, Account.MultipleObjectsReturned):
            raise forms.ValidationError(
                gettext("No account has the code %(code)s."),
                code="unknown_account",
                params={"code": text},
            ) from None

    def prepare_value(self, value: Any) -> Any:
        return value.code if isinstance(value, Account) else value


def core_sibling(account: Account, currency: str) -> Account:
    """The core account's sibling in ``currency`` when ``account`` is a core account.

    Forms offer ``CORE-SOURCE`` and ``CORE-SALES`` by default; for an account in another
    currency they mean that currency's core account, created on first use.
    """
    if account.currency == currency:
        return account
    getters = {
        SOURCE_CODE: Account.objects.source,
        SALES_CODE: Account.objects.sales,
        EXPIRED_CODE: Account.objects.expired_account,
    }
    for code, getter in getters.items():
        if account.code == code or account.code == f"{code}-{account.currency}":
            return getter(currency=currency)
    return account


class UserField(forms.CharField):
    """A user given by username or e-mail address; cleans to the user."""

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return None
        if len(text) > USER_LENGTH_MAX or not is_storable_text(text):
            raise forms.ValidationError(
                gettext("No single user matches this."), code="unknown_user"
            )
        model = get_user_model()
        lookup = Q(**{model.USERNAME_FIELD: text})
        if "@" in text and hasattr(model, "email"):
            lookup |= Q(email__iexact=text)
        found = list(model._default_manager.filter(lookup)[:2])
        if len(found) != 1:
            raise forms.ValidationError(
                gettext("No single user matches %(user)s."),
                code="unknown_user",
                params={"user": text},
            )
        return found[0]

    def prepare_value(self, value: Any) -> Any:
        if value is not None and hasattr(value, "get_username"):
            return value.get_username()
        return value


# -- list filters ----------------------------------------------------------------------------


class AccountFilterForm(DashboardForm):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=150)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *Status.choices],
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("Any kind")), *kind_choices()],
    )
    account_type = TypeChoiceField(
        label=gettext_lazy("Account type"),
        queryset=AccountType.objects.all(),
        required=False,
        empty_label=gettext_lazy("Any type"),
    )
    currency = forms.CharField(label=gettext_lazy("Currency"), required=False, max_length=3)
    expiring = forms.BooleanField(label=gettext_lazy("Expiring within 30 days"), required=False)

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).strip().upper()


class TreeFilterForm(DashboardForm):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("Any kind")), *kind_choices()],
    )
    currency = forms.CharField(label=gettext_lazy("Currency"), required=False, max_length=3)

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).strip().upper()


class TransferFilterForm(DashboardForm):
    reference = forms.CharField(label=gettext_lazy("Reference"), required=False, max_length=64)
    account = forms.CharField(
        label=gettext_lazy("Account code"), required=False, max_length=CODE_LENGTH_MAX
    )
    user = forms.CharField(label=gettext_lazy("User"), required=False, max_length=150)
    date_from = DayField(label=gettext_lazy("From"), required=False)
    date_to = DayField(label=gettext_lazy("To"), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            raise forms.ValidationError(gettext("The end date is before the start date."))
        return cleaned


class PeriodForm(DashboardForm):
    """An optional period of whole days, both ends included."""

    start = DayField(label=gettext_lazy("Start"), required=False)
    end = DayField(label=gettext_lazy("End"), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            raise forms.ValidationError(gettext("The end date is before the start date."))
        return cleaned

    def bounds(self) -> tuple[datetime.datetime | None, datetime.datetime | None]:
        """The period as aware datetimes: start inclusive, end exclusive."""
        start, end = self.cleaned_data.get("start"), self.cleaned_data.get("end")
        return (day_start(start) if start else None, day_end(end) if end else None)


class AsOfForm(DashboardForm):
    as_of = DayField(label=gettext_lazy("As of the end of"), required=False)

    def moment(self) -> datetime.datetime | None:
        """The last moment of the chosen day, or None for now."""
        day = self.cleaned_data.get("as_of")
        if day is None:
            return None
        return day_end(day) - datetime.timedelta(microseconds=1)


# -- accounts --------------------------------------------------------------------------------


class CreditLimitMixin(forms.Form):
    """A credit limit typed as an amount, with a box to tick for "no limit"."""

    credit_limit = amount_field(
        label=gettext_lazy("Credit limit"),
        min_value=Decimal(0),
        required=False,
        initial=Decimal("0.00"),
        help_text=gettext_lazy("How far below zero the balance may go."),
    )
    unlimited = forms.BooleanField(
        label=gettext_lazy("No credit limit"),
        required=False,
        help_text=gettext_lazy(
            "Only for house accounts money comes from, such as a bank; never for a customer card."
        ),
    )

    def clean_credit_limit_pair(self, cleaned: dict[str, Any]) -> Decimal | None:
        if cleaned.get("unlimited"):
            return None
        limit = cleaned.get("credit_limit")
        return Decimal("0.00") if limit is None else limit


#: What a new account is for: the two values of the account form's ``role`` field.
CARD = "card"
HOUSE = "house"
ROLES = [
    (
        CARD,
        gettext_lazy("Customer card: a gift card or store credit, loaded and spent by its code"),
    ),
    (
        HOUSE,
        gettext_lazy(
            "House account: the shop's own books (a bank, income, expenses, a credit line)"
        ),
    ),
]

#: Refusals of the account forms that the tests and the docs quote.
CARD_NEEDS_LIMIT = gettext_lazy(
    "A customer card always has a credit limit (0 for a gift card): a card with no limit "
    "would be a source of money anyone holding its code could spend."
)
CARD_IS_LIABILITY = gettext_lazy(
    "A customer card is a liability: the shop owes its balance to the holder."
)
#: With ``%(prefix)s``, the core accounts' prefix (``CORE-``).
CORE_CODE_RESERVED = gettext_lazy("Codes starting with %(prefix)s are kept for the core accounts.")
SOURCE_NOT_A_CARD = gettext_lazy(
    "An opening balance comes from the source account of its currency or from a customer card."
)
CARD_MONEY_STAYS_ON_CARDS = gettext_lazy(
    "Money taken off a card can only be loaded onto another customer card."
)
SOURCE_NEEDS_WITHDRAW = gettext_lazy(
    "Loading from a card takes money off it: that needs the permission to withdraw from cards "
    "(accounts.change_account)."
)


def is_core_source(account: Account, currency: str) -> bool:
    """Whether ``account`` is the core source account of ``currency``."""
    return account.pk == Account.objects.source(currency=currency).pk


class AccountCreateForm(StorableTextMixin, CreditLimitMixin, forms.Form):
    """A new account and, optionally, its opening balance loaded from a source account.

    ``role`` says what it is: a customer card (made by :func:`accounts.facade.create_card`, the
    only kind of account the dashboard and the API load, spend and look up by code) or a house
    account. The opening balance comes from the core source account of its currency or, for a
    card made by staff who may withdraw from cards, from another card: money the dashboard
    takes off a card only ever goes to a core account or another card.
    """

    role = forms.ChoiceField(
        label=gettext_lazy("Account role"),
        choices=ROLES,
        initial=CARD,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=Account._meta.get_field("name").max_length,
        required=False,
    )
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=CODE_LENGTH_MAX,
        required=False,
        help_text=gettext_lazy(
            "Leave blank to generate an unguessable code (always, for a card sold to a "
            "customer, unless it is printed on a physical card)."
        ),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=DESCRIPTION_LENGTH_MAX,
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=kind_choices,
        initial=Kind.LIABILITY,
        help_text=gettext_lazy("A customer card is always a liability."),
    )
    account_type = TypeChoiceField(
        label=gettext_lazy("Account type"), queryset=AccountType.objects.all(), required=False
    )
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, min_length=3)
    start_date = MomentField(label=gettext_lazy("Start date"), required=False)
    end_date = MomentField(label=gettext_lazy("End date"), required=False)
    primary_user = UserField(
        label=gettext_lazy("Primary user"),
        required=False,
        help_text=gettext_lazy("Username or e-mail address."),
    )
    amount = amount_field(
        label=gettext_lazy("Opening balance"),
        required=False,
        help_text=gettext_lazy(
            "Loaded from the source account in the same step; leave blank for none."
        ),
    )
    source = AccountCodeField(
        label=gettext_lazy("Load from (account code)"),
        required=False,
        initial=SOURCE_CODE,
        help_text=gettext_lazy(
            "The source account, or another customer card to move its money onto this one."
        ),
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Who creates the account: loading it from a card needs their permission to withdraw.
        self.user = user
        self.fields["currency"].initial = conf.default_currency()
        self.order_fields(
            [
                "role",
                "name",
                "code",
                "description",
                "kind",
                "account_type",
                "currency",
                "credit_limit",
                "unlimited",
                "start_date",
                "end_date",
                "primary_user",
                "amount",
                "source",
            ]
        )

    def clean_code(self) -> str:
        code = codes.normalise(self.cleaned_data["code"] or "")
        if code.upper().startswith(CORE_CODE_PREFIX):
            raise forms.ValidationError(CORE_CODE_RESERVED, params={"prefix": CORE_CODE_PREFIX})
        if code and Account.objects.filter(code=code).exists():
            raise forms.ValidationError(gettext("Another account already has this code."))
        return code

    def clean_currency(self) -> str:
        currency = str(self.cleaned_data["currency"]).strip().upper()
        if not money.is_valid_currency(currency):
            raise forms.ValidationError(
                gettext("Enter an ISO 4217 code of three letters, such as GBP.")
            )
        return currency

    def is_card(self) -> bool:
        return self.cleaned_data.get("role") == CARD

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        card = cleaned.get("role") == CARD
        if card and cleaned.get("unlimited"):
            self.add_error("unlimited", CARD_NEEDS_LIMIT)
        if card and cleaned.get("kind") not in (None, Kind.LIABILITY):
            self.add_error("kind", CARD_IS_LIABILITY)
        cleaned["credit_limit"] = self.clean_credit_limit_pair(cleaned)
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end <= start:
            self.add_error("end_date", gettext("The end date must be after the start date."))
        currency = cleaned.get("currency")
        if cleaned.get("amount") is not None and "source" not in self.errors and currency:
            source = core_sibling(cleaned.get("source") or Account.objects.source(), currency)
            cleaned["source"] = source
            if not is_core_source(source, currency):
                self.check_card_source(source, card=card)
        return cleaned

    def check_card_source(self, source: Account, *, card: bool) -> None:
        """Refuse a load from anything but a card, onto anything but a card, or by staff who
        may not withdraw from cards. The facade then checks, against the locked row, that
        this member of staff may spend from that card (its users, or
        ``accounts.spend_from_any_account``)."""
        if not source.is_card:
            self.add_error("source", SOURCE_NOT_A_CARD)
        elif not card:
            self.add_error("source", CARD_MONEY_STAYS_ON_CARDS)
        elif self.user is None or not self.user.has_perm("accounts.change_account"):
            self.add_error("source", SOURCE_NEEDS_WITHDRAW)

    def account_fields(self) -> dict[str, Any]:
        """Keyword arguments for the new :class:`~accounts.models.Account`."""
        names = [
            "name",
            "code",
            "description",
            "account_type",
            "currency",
            "credit_limit",
            "start_date",
            "end_date",
            "primary_user",
        ]
        if not self.is_card():  # create_card() makes every card a liability itself
            names.append("kind")
        # A blank code makes the model generate an unguessable one.
        return {name: self.cleaned_data[name] for name in names}


class AccountEditForm(StorableTextMixin, CreditLimitMixin, forms.ModelForm):
    """The descriptive fields of an account; balances and status change only elsewhere."""

    description = forms.CharField(
        label=gettext_lazy("Description"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=DESCRIPTION_LENGTH_MAX,
    )
    end_date = MomentField(label=gettext_lazy("End date"), required=False)
    reason = forms.CharField(
        label=gettext_lazy("Reason for the change"),
        max_length=audit.REASON_LENGTH_MAX,
        required=False,
        help_text=gettext_lazy("Optional; kept in the account's history of changes."),
    )
    field_order = [
        "name",
        "description",
        "account_type",
        "end_date",
        "credit_limit",
        "unlimited",
        "reason",
    ]

    class Meta:
        model = Account
        fields = ["name", "description", "account_type", "end_date"]
        field_classes = {"account_type": TypeChoiceField}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["credit_limit"] = self.instance.credit_limit
            self.initial["unlimited"] = self.instance.credit_limit is None
        if self.instance.is_card:
            self.fields["unlimited"].help_text = gettext(
                "Never for a customer card such as this one."
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.is_card and cleaned.get("unlimited"):
            self.add_error("unlimited", CARD_NEEDS_LIMIT)
        cleaned["credit_limit"] = self.clean_credit_limit_pair(cleaned)
        end = cleaned.get("end_date")
        start = self.instance.start_date
        if start and end and end <= start:
            starts = f"{timezone.localtime(start):%Y-%m-%d %H:%M}"
            self.add_error(
                "end_date",
                gettext("The end date must be after the start date (%(start)s).")
                % {"start": starts},
            )
        return cleaned

    def check_credit_limit(self, balance: Decimal, currency: str) -> bool:
        """Refuse a limit the current ``balance`` already breaks; True when it is acceptable.

        The database refuses such a row too (``accounts_account_within_credit_limit``); this
        turns the refusal into a message the member of staff can act on.
        """
        limit = self.cleaned_data.get("credit_limit")
        if limit is None or balance >= -limit:
            return True
        self.add_error(
            "credit_limit",
            gettext(
                "The balance is %(balance)s; the credit limit must be at least %(needed)s "
                "while it is."
            )
            % {
                "balance": money.money_text(balance, currency),
                "needed": money.money_text(-balance, currency),
            },
        )
        return False


# -- actions ---------------------------------------------------------------------------------


#: The longest description of a top-up, withdrawal, refund or reversal typed in the dashboard.
ACTION_DESCRIPTION_LENGTH_MAX = 255

#: The refusal of a withdrawal into an account that is neither core nor a card.
WITHDRAW_DESTINATIONS = gettext_lazy(
    "Money taken off a card can only be paid into a core account (the sales account unless "
    "another is given) or onto another customer card."
)


def action_description_field() -> forms.CharField:
    """The optional description of a top-up, withdrawal, refund or reversal."""
    return forms.CharField(
        label=gettext_lazy("Description"), max_length=ACTION_DESCRIPTION_LENGTH_MAX, required=False
    )


class TopUpForm(DashboardForm):
    amount = amount_field(label=gettext_lazy("Amount"))
    description = action_description_field()


class WithdrawForm(DashboardForm):
    """A withdrawal from a card: into a core account (sales by default) or another card."""

    amount = amount_field(label=gettext_lazy("Amount"))
    destination = AccountCodeField(
        label=gettext_lazy("Pay into (account code)"),
        initial=SALES_CODE,
        required=False,
    )
    description = action_description_field()

    def clean_destination(self) -> Account:
        destination = self.cleaned_data.get("destination") or Account.objects.sales()
        if not (destination.is_core() or destination.is_card):
            raise forms.ValidationError(WITHDRAW_DESTINATIONS, code="not_core_or_card")
        return destination


class RefundForm(DashboardForm):
    amount = amount_field(label=gettext_lazy("Amount"))
    description = action_description_field()


class ReverseForm(DashboardForm):
    description = action_description_field()


# -- confirmations and the audit trail -------------------------------------------------------


class ReasonForm(DashboardForm):
    """Why a member of staff freezes, thaws, closes, reverses or refunds: the trail keeps it."""

    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=audit.REASON_LENGTH_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Kept in the account's history of changes with your name."),
    )


class ReverseConfirmForm(ReasonForm):
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=ACTION_DESCRIPTION_LENGTH_MAX,
        required=False,
    )
    field_order = ["description", "reason"]


class RefundConfirmForm(ReverseConfirmForm):
    amount = amount_field(label=gettext_lazy("Amount"))
    field_order = ["amount", "description", "reason"]


class AuditFilterForm(DashboardForm):
    action = forms.ChoiceField(
        label=gettext_lazy("Action"),
        required=False,
        choices=[("", gettext_lazy("Any action")), *AuditAction.choices],
    )
    user = forms.CharField(label=gettext_lazy("User"), required=False, max_length=150)
    surface = forms.ChoiceField(
        label=gettext_lazy("Surface"),
        required=False,
        choices=[("", gettext_lazy("Any surface")), *Surface.choices],
    )
    account = forms.CharField(label=gettext_lazy("Account"), required=False, max_length=150)
    #: One account, as linked from its page: by key, so no card's code goes into a URL.
    account_id = forms.IntegerField(
        required=False, min_value=1, max_value=PRIMARY_KEY_MAX, widget=forms.HiddenInput
    )
    date_from = DayField(label=gettext_lazy("From"), required=False)
    date_to = DayField(label=gettext_lazy("To"), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            raise forms.ValidationError(gettext("The end date is before the start date."))
        return cleaned
