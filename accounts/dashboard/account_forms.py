"""The dashboard's account forms: a new account with its opening balance, and an edit.

Forms only parse and check input; the account is made or changed in the views, through
:mod:`accounts.facade`, which re-checks every rule against locked rows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accounts import audit, codes, conf, money
from accounts.models import CORE_CODE_PREFIX, SOURCE_CODE, Account, AccountType, Kind, kind_choices

from .form_fields import (
    CODE_LENGTH_MAX,
    DESCRIPTION_LENGTH_MAX,
    AccountCodeField,
    MomentField,
    StorableTextMixin,
    TypeChoiceField,
    UserField,
    amount_field,
    core_sibling,
)


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
