"""Pages of the staff dashboard about holds: the list, a hold's page, capture and void.

Seeing holds needs ``accounts.view_hold``; capturing and voiding one needs
``accounts.change_hold`` (the hold's model permission: the admin shows holds read-only, so
this permission grants nothing there). Both acts go through a confirmation page
(:class:`~accounts.dashboard.confirmations.ConfirmActionView`) and the facade, which locks the
hold and refuses one already resolved or past its expiry. A capture is recorded on its
transfer; a void, which posts nothing, is recorded in the hold's admin history with the reason.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.generic import DetailView, ListView

from accounts import codes, facade
from accounts.models import Account, Hold, HoldStatus
from accounts.money import format_amount
from accounts.money import money_text as _money

from .action_forms import ReasonForm, action_description_field
from .common import PAGE_SIZE, StaffPermissionRequiredMixin, record_action
from .confirmations import ConfirmActionView
from .form_fields import DashboardForm, amount_field, is_storable_text
from .transfer_views import REFERENCE_LENGTH_MAX

#: How many pending holds an account's page lists; the holds list shows the rest.
ACCOUNT_HOLDS_SHOWN_MAX = 20
#: The description of a capture when staff type none: data in the ledger, kept in English.
CAPTURE_DESCRIPTION = "Capture of hold %(reference)s"


class HoldFilterForm(DashboardForm):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *HoldStatus.choices],
    )
    reference = forms.CharField(
        label=gettext_lazy("Reference"), required=False, max_length=REFERENCE_LENGTH_MAX
    )


class HoldCaptureForm(DashboardForm):
    amount = amount_field(
        label=gettext_lazy("Amount"),
        required=False,
        help_text=gettext_lazy("Left empty, all of the hold is captured."),
    )
    description = action_description_field()


def pending_holds_of(account: Account) -> list[Hold]:
    """The account's pending holds, newest first, either side; at most a page's worth."""
    found = (
        Hold.objects.filter(Q(source=account) | Q(destination=account), status=HoldStatus.PENDING)
        .select_related("source", "destination")
        .order_by("-created_at", "-pk")
    )
    return list(found[:ACCOUNT_HOLDS_SHOWN_MAX])


def _get_hold(reference: str) -> Hold:
    if len(reference) > REFERENCE_LENGTH_MAX or not is_storable_text(reference):
        raise Http404(gettext("No hold has this reference."))
    related = Hold.objects.select_related("source", "destination", "transfer", "user")
    try:
        return related.get(reference=codes.normalise(reference))
    except Hold.DoesNotExist:
        raise Http404(gettext("No hold has this reference.")) from None


class HoldListView(StaffPermissionRequiredMixin, ListView):
    permission_required = "accounts.view_hold"
    template_name = "accounts/dashboard/hold_list.html"
    context_object_name = "holds"
    paginate_by = PAGE_SIZE

    def get_queryset(self) -> QuerySet[Hold]:
        holds = Hold.objects.select_related("source", "destination", "transfer").order_by(
            "-created_at", "-pk"
        )
        self.filter_form = HoldFilterForm(self.request.GET or None)
        if not self.filter_form.is_valid():
            return holds
        data = self.filter_form.cleaned_data
        if data["status"]:
            holds = holds.filter(status=data["status"])
        reference = data["reference"].strip()
        if reference and is_storable_text(reference):
            holds = holds.filter(
                Q(reference=codes.normalise(reference)) | Q(merchant_reference=reference)
            )
        return holds

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        return context


class HoldDetailView(StaffPermissionRequiredMixin, DetailView):
    """A hold: its accounts, amounts, expiry, and the transfer that captured it."""

    permission_required = "accounts.view_hold"
    template_name = "accounts/dashboard/hold_detail.html"
    context_object_name = "hold"

    def get_object(self, queryset: Any = None) -> Hold:
        return _get_hold(self.kwargs["reference"])


class HoldResolveView(ConfirmActionView):
    """Capture or void a pending hold (see the module)."""

    permission_required = "accounts.change_hold"

    def get_target(self) -> Hold:
        return _get_hold(self.kwargs["reference"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["hold"] = self.target
        return context

    def facts(self) -> list[tuple[str, str]]:
        hold: Hold = self.target
        return [
            (gettext("Hold"), hold.reference),
            (gettext("Amount"), _money(hold.amount, hold.currency)),
            (gettext("From"), str(hold.source)),
            (gettext("To"), str(hold.destination)),
            (gettext("Status"), str(hold.get_status_display())),
        ]

    def refusal(self) -> str | None:
        hold: Hold = self.target
        if not hold.is_pending():
            return gettext("Hold %(reference)s is already %(status)s.") % {
                "reference": hold.reference,
                "status": hold.get_status_display().lower(),
            }
        return None

    def cancel_url(self) -> str:
        return reverse("accounts_dashboard:hold_detail", args=[self.target.reference])


class HoldCaptureView(HoldResolveView):
    form_class = HoldCaptureForm
    title = gettext_lazy("Capture this hold")
    confirm_label = gettext_lazy("Capture")

    def get_initial(self) -> dict[str, Any]:
        hold: Hold = self.target
        return {"amount": format_amount(hold.amount, hold.currency)}

    def consequences(self) -> list[str]:
        hold: Hold = self.target
        said = [
            gettext(
                "A capture posts the amount you give, up to %(amount)s, from %(source)s to "
                "%(destination)s, as a new transfer; the rest of the hold is released."
            )
            % {
                "amount": _money(hold.amount, hold.currency),
                "source": hold.source,
                "destination": hold.destination,
            }
        ]
        if hold.is_expired():
            said.append(gettext("This hold has expired: it can no longer be captured."))
        return said

    def act(self, form: HoldCaptureForm) -> str:
        hold: Hold = self.target
        made = facade.capture(
            hold,
            form.cleaned_data["amount"],
            user=self.request.user,
            description=form.cleaned_data["description"]
            or CAPTURE_DESCRIPTION % {"reference": hold.reference},
        )
        return gettext("Captured %(amount)s as transfer %(reference)s.") % {
            "amount": _money(made.amount, made.currency),
            "reference": made.reference,
        }


class HoldVoidView(HoldResolveView):
    form_class = ReasonForm
    title = gettext_lazy("Void this hold")
    confirm_label = gettext_lazy("Void")
    danger = True

    def consequences(self) -> list[str]:
        hold: Hold = self.target
        return [
            gettext("Voiding releases all %(amount)s back to %(source)s; nothing is posted.")
            % {"amount": _money(hold.amount, hold.currency), "source": hold.source},
            gettext("A hold resolves once: a voided hold cannot be captured."),
        ]

    def act(self, form: ReasonForm) -> str:
        hold: Hold = self.target
        facade.void(hold, user=self.request.user)
        record_action(
            self.request,
            hold,
            gettext("Voided (dashboard): %(reason)s") % {"reason": form.cleaned_data["reason"]},
        )
        return gettext("Hold %(reference)s voided.") % {"reference": hold.reference}
