"""The dashboard's action forms: top-ups and withdrawals, reversals and refunds, and the
reason a confirmation page asks for.

Forms only parse and check input; money moves in the views, through :mod:`accounts.facade`,
which re-checks every rule against locked rows.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from accounts import audit
from accounts.models import SALES_CODE, Account

from .form_fields import AccountCodeField, DashboardForm, amount_field

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
