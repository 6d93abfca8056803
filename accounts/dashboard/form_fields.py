"""The fields, widgets and checks the staff dashboard's forms are built from.

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
from django.utils.translation import gettext
from mptt.forms import TreeNodeChoiceField

from accounts import facade, money
from accounts.models import EXPIRED_CODE, SALES_CODE, SOURCE_CODE, Account

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
