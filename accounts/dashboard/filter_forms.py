"""The dashboard's filter forms: the account, transfer and audit lists, periods and dates.

Built from :mod:`accounts.dashboard.form_fields`, so bad input is a form error, never a server
error.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext, gettext_lazy

from accounts.models import AccountType, AuditAction, Status, Surface, kind_choices

from .form_fields import (
    CODE_LENGTH_MAX,
    PRIMARY_KEY_MAX,
    DashboardForm,
    DayField,
    TypeChoiceField,
    day_end,
    day_start,
)


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
