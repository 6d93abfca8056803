"""Closed periods in the dashboard: the closings so far, and closing the books through a day.

Seeing the closings needs ``accounts.view_closedperiod``; closing the books needs
``accounts.add_closedperiod`` (no built-in role holds either: closing is the treasurer's act,
given to them on purpose). Closing goes through a confirmation page and
:func:`accounts.facade.close_period`, which refuses a day that is not over or not after the last
closing, and a closing entry the settings do not allow, with nothing written.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy
from django.views.generic import ListView

from accounts import facade
from accounts.models import ClosedPeriod, Transfer, TransferKind

from .action_forms import ReasonForm
from .common import PAGE_SIZE, StaffPermissionRequiredMixin, record_action
from .confirmations import ConfirmActionView
from .form_fields import DayField


def last_day_of_previous_month() -> datetime.date:
    """The day a monthly closing would usually be through."""
    return timezone.localdate().replace(day=1) - datetime.timedelta(days=1)


class ClosePeriodForm(ReasonForm):
    through = DayField(
        label=gettext_lazy("Close the books through"),
        help_text=gettext_lazy("Nothing dated on or before the end of this day can be posted."),
    )
    closing_entry = forms.BooleanField(
        label=gettext_lazy("Post the year-end closing entry"),
        required=False,
        help_text=gettext_lazy(
            "Moves every income and expense balance into the retained-earnings account "
            "(ACCOUNTS_RETAINED_EARNINGS), dated the first moment after the closed days."
        ),
    )
    field_order = ["through", "closing_entry", "reason"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = gettext_lazy("Kept with the closing and your name.")


class PeriodListView(StaffPermissionRequiredMixin, ListView):
    """Every closing, newest first: through which day, when, by whom, why, and its entries."""

    permission_required = "accounts.view_closedperiod"
    template_name = "accounts/dashboard/period_list.html"
    context_object_name = "closings"
    paginate_by = PAGE_SIZE

    def get_queryset(self) -> QuerySet[ClosedPeriod]:
        return ClosedPeriod.objects.select_related("user").order_by("-closed_until")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        closings = list(context["closings"])
        # The page's closing entries in one query: each is dated its closing's closed_until.
        entries = Transfer.objects.filter(
            kind=TransferKind.CLOSING, created_at__in=[c.closed_until for c in closings]
        ).order_by("pk")
        for closing in closings:
            closing.entries = [e for e in entries if e.created_at == closing.closed_until]
            closing.as_of = closing.closed_through.isoformat()  # the reports' query
        context["closed_through"] = facade.closed_through()
        return context


class PeriodCloseView(ConfirmActionView):
    """Close the books through a day (see the module)."""

    permission_required = "accounts.add_closedperiod"
    form_class = ClosePeriodForm
    title = gettext_lazy("Close the books")
    confirm_label = gettext_lazy("Close the books")
    danger = True

    def get_target(self) -> datetime.date | None:
        return facade.closed_through()

    def get_initial(self) -> dict[str, Any]:
        return {"through": last_day_of_previous_month()}

    def facts(self) -> list[tuple[str, str]]:
        closed = self.target
        shown = date_format(closed, "SHORT_DATE_FORMAT") if closed else gettext("never closed")
        return [
            (gettext("Books closed through"), shown),
            (gettext("Today"), date_format(timezone.localdate(), "SHORT_DATE_FORMAT")),
        ]

    def consequences(self) -> list[str]:
        return [
            gettext(
                "Nothing can be posted dated on or before the end of the day you give: "
                "transfers, entries, reversals, refunds and expiry sweeps dated then are "
                "refused, here, in the API and in the database."
            ),
            gettext(
                "Reports of the closed days never change again; corrections are posted in the "
                "open period."
            ),
            gettext("A closing cannot be undone, and a later one must close a later day."),
        ]

    def act(self, form: ClosePeriodForm) -> str:
        data = form.cleaned_data
        closing = facade.close_period(
            data["through"],
            user=self.request.user,
            reason=data["reason"],
            closing_entry=data["closing_entry"],
        )
        record_action(
            self.request,
            closing,
            gettext("Closed the books through %(day)s (dashboard).")
            % {"day": closing.closed_through.isoformat()},
            added=True,
        )
        done = gettext("The books are closed through %(day)s.") % {
            "day": date_format(closing.closed_through, "SHORT_DATE_FORMAT")
        }
        if data["closing_entry"]:
            count = closing.closing_entries().count()
            done += " " + gettext("Closing entries posted: %(count)d.") % {"count": count}
        return done

    def cancel_url(self) -> str:
        return reverse("accounts_dashboard:period_list")
