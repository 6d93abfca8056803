"""Forms of the staff dashboard: list filters, account creation and edits, money actions.

Forms only parse and check input; money moves in the views, through :mod:`accounts.facade`,
which re-checks every rule against locked rows.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from accounts import codes, conf, money
from accounts.models import (
    EXPIRED_CODE,
    SALES_CODE,
    SOURCE_CODE,
    Account,
    AccountType,
    Kind,
    Status,
)

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


def day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the current time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def day_end(day: datetime.date) -> datetime.datetime:
    """Midnight at the end of ``day`` (the start of the next), an exclusive bound."""
    return day_start(day + datetime.timedelta(days=1))


class AccountCodeField(forms.CharField):
    """An account given by its code, as staff would type it; cleans to the Account."""

    def to_python(self, value: Any) -> Account | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
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
                "No account has the code %(code)s.", code="unknown_account", params={"code": text}
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
        model = get_user_model()
        lookup = Q(**{model.USERNAME_FIELD: text})
        if "@" in text and hasattr(model, "email"):
            lookup |= Q(email__iexact=text)
        found = list(model._default_manager.filter(lookup)[:2])
        if len(found) != 1:
            raise forms.ValidationError(
                "No single user matches %(user)s.", code="unknown_user", params={"user": text}
            )
        return found[0]

    def prepare_value(self, value: Any) -> Any:
        if value is not None and hasattr(value, "get_username"):
            return value.get_username()
        return value


# -- list filters ----------------------------------------------------------------------------


class AccountFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=150)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Status.choices])
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Kind.choices])
    account_type = forms.ModelChoiceField(
        queryset=AccountType.objects.all(), required=False, empty_label="Any type"
    )
    currency = forms.CharField(required=False, max_length=3)
    expiring = forms.BooleanField(label="Expiring within 30 days", required=False)

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).strip().upper()


class TreeFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Kind.choices])
    currency = forms.CharField(required=False, max_length=3)

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).strip().upper()


class TransferFilterForm(forms.Form):
    reference = forms.CharField(required=False, max_length=64)
    account = forms.CharField(label="Account code", required=False, max_length=64)
    user = forms.CharField(required=False, max_length=150)
    date_from = forms.DateField(label="From", required=False, widget=DateInput())
    date_to = forms.DateField(label="To", required=False, widget=DateInput())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            raise forms.ValidationError("The end date is before the start date.")
        return cleaned


class PeriodForm(forms.Form):
    """An optional period of whole days, both ends included."""

    start = forms.DateField(required=False, widget=DateInput())
    end = forms.DateField(required=False, widget=DateInput())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            raise forms.ValidationError("The end date is before the start date.")
        return cleaned

    def bounds(self) -> tuple[datetime.datetime | None, datetime.datetime | None]:
        """The period as aware datetimes: start inclusive, end exclusive."""
        start, end = self.cleaned_data.get("start"), self.cleaned_data.get("end")
        return (day_start(start) if start else None, day_end(end) if end else None)


class AsOfForm(forms.Form):
    as_of = forms.DateField(label="As of the end of", required=False, widget=DateInput())

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
        min_value=Decimal(0),
        required=False,
        initial=Decimal("0.00"),
        help_text="How far below zero the balance may go.",
    )
    unlimited = forms.BooleanField(
        label="No credit limit",
        required=False,
        help_text="Only for accounts money comes from, such as a bank or the source account.",
    )

    def clean_credit_limit_pair(self, cleaned: dict[str, Any]) -> Decimal | None:
        if cleaned.get("unlimited"):
            return None
        limit = cleaned.get("credit_limit")
        return Decimal("0.00") if limit is None else limit


class AccountCreateForm(CreditLimitMixin, forms.Form):
    """A new account and, optionally, its opening balance loaded from a source account."""

    name = forms.CharField(max_length=128, required=False)
    code = forms.CharField(
        max_length=64, required=False, help_text="Leave blank to generate a gift-card code."
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.LIABILITY)
    account_type = forms.ModelChoiceField(queryset=AccountType.objects.all(), required=False)
    currency = forms.CharField(max_length=3, min_length=3)
    start_date = forms.DateTimeField(required=False, widget=DateTimeLocalInput())
    end_date = forms.DateTimeField(required=False, widget=DateTimeLocalInput())
    primary_user = UserField(
        label="Primary user", required=False, help_text="Username or e-mail address."
    )
    amount = amount_field(
        label="Opening balance",
        required=False,
        help_text="Loaded from the source account in the same step; leave blank for none.",
    )
    source = AccountCodeField(label="Load from (account code)", required=False, initial=SOURCE_CODE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].initial = conf.default_currency()
        self.order_fields(
            [
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
        if code and Account.objects.filter(code=code).exists():
            raise forms.ValidationError("Another account already has this code.")
        return code

    def clean_currency(self) -> str:
        currency = str(self.cleaned_data["currency"]).strip().upper()
        if not money.is_valid_currency(currency):
            raise forms.ValidationError("Enter an ISO 4217 code of three letters, such as GBP.")
        return currency

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["credit_limit"] = self.clean_credit_limit_pair(cleaned)
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end <= start:
            self.add_error("end_date", "The end date must be after the start date.")
        currency = cleaned.get("currency")
        if cleaned.get("amount") is not None and "source" not in self.errors:
            source = cleaned.get("source") or Account.objects.source()
            cleaned["source"] = core_sibling(source, currency) if currency else source
        return cleaned

    def account_fields(self) -> dict[str, Any]:
        """Keyword arguments for the new :class:`~accounts.models.Account`."""
        names = [
            "name",
            "code",
            "description",
            "kind",
            "account_type",
            "currency",
            "credit_limit",
            "start_date",
            "end_date",
            "primary_user",
        ]
        # A blank code makes the model generate an unguessable one.
        return {name: self.cleaned_data[name] for name in names}


class AccountEditForm(CreditLimitMixin, forms.ModelForm):
    """The descriptive fields of an account; balances and status change only elsewhere."""

    class Meta:
        model = Account
        fields = ["name", "description", "account_type", "end_date"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "end_date": DateTimeLocalInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["credit_limit"] = self.instance.credit_limit
            self.initial["unlimited"] = self.instance.credit_limit is None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["credit_limit"] = self.clean_credit_limit_pair(cleaned)
        end = cleaned.get("end_date")
        start = self.instance.start_date
        if start and end and end <= start:
            starts = f"{timezone.localtime(start):%Y-%m-%d %H:%M}"
            self.add_error("end_date", f"The end date must be after the start date ({starts}).")
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
            f"The balance is {money.format_amount(balance, currency)} {currency}; the credit "
            f"limit must be at least {money.format_amount(-balance, currency)} while it is.",
        )
        return False


# -- actions ---------------------------------------------------------------------------------


class TopUpForm(forms.Form):
    amount = amount_field()
    description = forms.CharField(max_length=255, required=False)


class WithdrawForm(forms.Form):
    amount = amount_field()
    destination = AccountCodeField(
        label="Pay into (account code)", initial=SALES_CODE, required=False
    )
    description = forms.CharField(max_length=255, required=False)

    def clean_destination(self) -> Account:
        return self.cleaned_data.get("destination") or Account.objects.sales()


class RefundForm(forms.Form):
    amount = amount_field()
    description = forms.CharField(max_length=255, required=False)


class ReverseForm(forms.Form):
    description = forms.CharField(max_length=255, required=False)
