"""Acts that cannot be taken back, each behind a page that asks for a reason and a confirmation.

Freezing, thawing and closing an account, reversing and refunding a transfer share one flow: a
GET on the act's URL shows what will happen, to what, with a required reason; a POST of that
page acts through :mod:`accounts.facade` with the member of staff, the reason and
``Surface.DASHBOARD``, so the audit trail records who did it, why and from where. A form error
or a refusal from the facade shows the page again with what was typed, and nothing is written.

Each act keeps the permission it had as a one-click button: ``accounts.change_account`` for an
account's status, ``accounts.reverse_transfer`` and ``accounts.refund_transfer`` for the
corrections the facade trusts its caller with.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.generic import FormView

from accounts import exceptions, facade
from accounts.models import Account, Status, Surface, Transfer, TransferKind
from accounts.money import format_amount
from accounts.money import money_text as _money

from .action_forms import ReasonForm, RefundConfirmForm, ReverseConfirmForm
from .common import (
    FacadeActionMixin,
    StaffPermissionRequiredMixin,
    may_see_card_codes,
    record_action,
    shown_code,
)
from .transfer_views import _get_transfer

#: The descriptions of a reversal and a refund when staff type none: data in the ledger, not
#: messages, so stored in English whatever the language of the moment, as the facade's own
#: defaults ("Initial load", "Top-up"), and the books read the same for everyone.
REVERSAL_DESCRIPTION = "Reversal of %(reference)s"
REFUND_DESCRIPTION = "Refund of %(reference)s"


class ConfirmActionView(FacadeActionMixin, StaffPermissionRequiredMixin, FormView):
    """Show what an act will do and ask why (GET); do it through the facade (POST)."""

    template_name = "accounts/dashboard/confirm.html"
    form_class: type[forms.Form] = ReasonForm
    #: The page's heading and the confirm button's label.
    title: Any = ""
    confirm_label: Any = ""
    #: Whether the act is drawn as a dangerous one.
    danger = False

    # The target is read in get() and post(), after the permission check in dispatch(), so
    # people without the permission learn nothing about it, not even whether it exists.
    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        self.target = self.get_target()
        return super().get(request, *args, **kwargs)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        self.target = self.get_target()
        return super().post(request, *args, **kwargs)

    # -- what each act says ------------------------------------------------------------------

    def get_target(self) -> Any:
        raise NotImplementedError

    def facts(self) -> list[tuple[str, str]]:
        """What the page shows about the target: label and value."""
        raise NotImplementedError

    def consequences(self) -> list[str]:
        """What the act will do, in sentences."""
        raise NotImplementedError

    def refusal(self) -> str | None:
        """Why the act cannot be done now, or None; the facade checks again under a lock."""
        return None

    def cancel_url(self) -> str:
        raise NotImplementedError

    def done_url(self) -> str:
        return self.cancel_url()

    def show_again(self, form: Any) -> HttpResponse:
        return self.form_invalid(form)

    # -- the flow ----------------------------------------------------------------------------

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            title=self.title,
            confirm_label=self.confirm_label,
            danger=self.danger,
            facts=self.facts(),
            consequences=self.consequences(),
            refusal=self.refusal(),
            cancel_url=self.cancel_url(),
        )
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        refusal = self.refusal()
        if refusal is not None:
            form.add_error(None, refusal)
            return self.form_invalid(form)
        return self.perform(form)


# -- accounts --------------------------------------------------------------------------------


class AccountStatusConfirmView(ConfirmActionView):
    """Freeze, thaw or close an account; the facade locks the row and checks the rules."""

    permission_required = "accounts.change_account"
    #: The facade's function, and the statuses it may start from.
    change: Any = None
    allowed_from: tuple[str, ...] = ()
    #: The message once done, with ``%(account)s``.
    done: Any = ""
    #: The admin history's line for it.
    logged: Any = ""

    def get_target(self) -> Account:
        account: Account = get_object_or_404(Account, pk=self.kwargs["pk"])
        return account

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["account"] = self.target
        return context

    def facts(self) -> list[tuple[str, str]]:
        account: Account = self.target
        full = may_see_card_codes(self.request.user)
        return [
            (gettext("Account"), str(account)),
            (gettext("Code"), shown_code(account, full=full)),
            (gettext("Status"), str(account.get_status_display())),
            (gettext("Balance"), _money(account.get_balance(), account.currency)),
        ]

    def refusal(self) -> str | None:
        account: Account = self.target
        if account.status not in self.allowed_from:
            return gettext("Account %(account)s is %(status)s: this cannot be done now.") % {
                "account": account,
                "status": account.get_status_display().lower(),
            }
        return None

    def act(self, form: ReasonForm) -> str:
        account: Account = self.target
        self.change(
            account,
            user=self.request.user,
            reason=form.cleaned_data["reason"],
            surface=Surface.DASHBOARD,
        )
        record_action(self.request, account, str(self.logged))
        return str(self.done) % {"account": account}

    def cancel_url(self) -> str:
        return reverse("accounts_dashboard:account_detail", args=[self.target.pk])


class AccountFreezeView(AccountStatusConfirmView):
    change = staticmethod(facade.freeze_account)
    allowed_from = (Status.OPEN,)
    title = gettext_lazy("Freeze this account")
    confirm_label = gettext_lazy("Freeze")
    done = gettext_lazy("Account %(account)s frozen.")
    logged = gettext_lazy("Frozen (dashboard).")

    def consequences(self) -> list[str]:
        return [
            gettext("No money can move to or from the account until it is thawed."),
            gettext("Its balance stays as it is."),
        ]


class AccountThawView(AccountStatusConfirmView):
    change = staticmethod(facade.thaw_account)
    allowed_from = (Status.FROZEN,)
    title = gettext_lazy("Thaw this account")
    confirm_label = gettext_lazy("Thaw")
    done = gettext_lazy("Account %(account)s thawed.")
    logged = gettext_lazy("Thawed (dashboard).")

    def consequences(self) -> list[str]:
        return [gettext("The account opens again: money can move to and from it.")]


class AccountCloseView(AccountStatusConfirmView):
    change = staticmethod(facade.close_account)
    allowed_from = (Status.OPEN, Status.FROZEN)
    title = gettext_lazy("Close this account")
    confirm_label = gettext_lazy("Close")
    danger = True
    done = gettext_lazy("Account %(account)s closed.")
    logged = gettext_lazy("Closed (dashboard).")

    def consequences(self) -> list[str]:
        account: Account = self.target
        said = [gettext("Closing is for good: a closed account never opens again.")]
        balance = account.get_balance()
        if balance:
            # The facade's rule: only an account holding nothing can be closed.
            said.append(
                gettext(
                    "It holds %(balance)s: closing is refused until that balance is moved "
                    "out (withdrawn, or transferred to another account)."
                )
                % {"balance": _money(balance, account.currency)}
            )
        else:
            said.append(gettext("It holds nothing, so nothing is moved."))
        return said


# -- transfers -------------------------------------------------------------------------------


class TransferCorrectionView(ConfirmActionView):
    """Reverse or refund a transfer; each needs its own permission (see the module)."""

    form_class = ReverseConfirmForm
    permission_required: Any = None  # each correction names its own

    def get_target(self) -> Transfer:
        return _get_transfer(self.kwargs["reference"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["transfer"] = self.target
        return context

    def refundable(self) -> Decimal:
        if not hasattr(self, "_refundable"):
            self._refundable = facade.refundable_amount(self.target)
        return self._refundable

    def facts(self) -> list[tuple[str, str]]:
        made: Transfer = self.target
        return [
            (gettext("Transfer"), made.reference),
            (gettext("Kind"), str(made.get_kind_display())),
            (gettext("Amount"), _money(made.amount, made.currency)),
            (gettext("From"), str(made.source) if made.source else "—"),
            (gettext("To"), str(made.destination) if made.destination else "—"),
            (gettext("Remaining refundable"), _money(self.refundable(), made.currency)),
        ]

    def refusal(self) -> str | None:
        made: Transfer = self.target
        if made.kind == TransferKind.REVERSAL:
            return gettext("Transfer %(reference)s is itself a reversal.") % {
                "reference": made.reference
            }
        if made.source_id is None or made.destination_id is None:
            return gettext(
                "Transfer %(reference)s has more than two legs; post a correcting entry."
            ) % {"reference": made.reference}
        if self.refundable() <= 0:
            return gettext("Nothing remains to correct of transfer %(reference)s.") % {
                "reference": made.reference
            }
        return None

    def cancel_url(self) -> str:
        return reverse("accounts_dashboard:transfer_detail", args=[self.target.reference])


class TransferReverseView(TransferCorrectionView):
    permission_required = "accounts.reverse_transfer"
    title = gettext_lazy("Reverse this transfer")
    confirm_label = gettext_lazy("Reverse")
    danger = True

    def consequences(self) -> list[str]:
        made: Transfer = self.target
        return [
            gettext(
                "A reversal returns the remaining %(amount)s from %(destination)s to "
                "%(source)s, as a new transfer."
            )
            % {
                "amount": _money(self.refundable(), made.currency),
                "destination": made.destination,
                "source": made.source,
            },
            gettext("A transfer is reversed once only, and a reversal cannot be reversed."),
        ]

    def act(self, form: ReverseConfirmForm) -> str:
        original: Transfer = self.target
        made = facade.reverse(
            original,
            user=self.request.user,
            description=form.cleaned_data["description"]
            or REVERSAL_DESCRIPTION % {"reference": original.reference},
            reason=form.cleaned_data["reason"],
            surface=Surface.DASHBOARD,
        )
        return gettext("Reversed %(amount)s as transfer %(reference)s.") % {
            "amount": _money(made.amount, made.currency),
            "reference": made.reference,
        }


class TransferRefundView(TransferCorrectionView):
    permission_required = "accounts.refund_transfer"
    form_class = RefundConfirmForm
    title = gettext_lazy("Refund this transfer")
    confirm_label = gettext_lazy("Refund")

    def get_initial(self) -> dict[str, Any]:
        made: Transfer = self.target
        return {"amount": format_amount(self.refundable(), made.currency)}

    def consequences(self) -> list[str]:
        made: Transfer = self.target
        return [
            gettext(
                "A refund returns the amount you give, up to %(amount)s, from %(destination)s "
                "back to %(source)s, as a new transfer."
            )
            % {
                "amount": _money(self.refundable(), made.currency),
                "destination": made.destination,
                "source": made.source,
            }
        ]

    def act(self, form: RefundConfirmForm) -> str:
        original: Transfer = self.target
        if original.source is None or original.destination is None:
            raise exceptions.InvalidTransfer(
                gettext("Transfer %(reference)s has more than two legs; post a correcting entry.")
                % {"reference": original.reference}
            )
        amount = form.cleaned_data["amount"]
        made = facade.transfer(
            original.destination,
            original.source,
            amount,
            parent=original,
            user=self.request.user,
            description=form.cleaned_data["description"]
            or REFUND_DESCRIPTION % {"reference": original.reference},
            reason=form.cleaned_data["reason"],
            surface=Surface.DASHBOARD,
        )
        return gettext("Refunded %(amount)s as transfer %(reference)s.") % {
            "amount": _money(amount, made.currency),
            "reference": made.reference,
        }
