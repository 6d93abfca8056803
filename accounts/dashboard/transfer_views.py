"""Pages of the staff dashboard about transfers: the filtered list and a transfer's page.

Both need ``accounts.view_transfer``. Reversing and refunding a transfer go through a
confirmation page (:mod:`accounts.dashboard.confirmations`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext
from django.views.generic import DetailView, ListView

from accounts import codes, facade
from accounts.models import Transaction, Transfer, TransferKind

from .common import PAGE_SIZE, StaffPermissionRequiredMixin, _user_lookups
from .filter_forms import TransferFilterForm
from .form_fields import day_end, day_start, is_storable_text

#: The longest text taken for a transfer reference in a URL (references are 19 characters;
#: typed with spaces, a little more).
REFERENCE_LENGTH_MAX = 64


class TransferListView(StaffPermissionRequiredMixin, ListView):
    permission_required = "accounts.view_transfer"
    template_name = "accounts/dashboard/transfer_list.html"
    context_object_name = "transfers"
    paginate_by = PAGE_SIZE

    def get_queryset(self) -> QuerySet[Transfer]:
        transfers = Transfer.objects.select_related("source", "destination").order_by(
            "-created_at", "-pk"
        )
        self.filter_form = TransferFilterForm(self.request.GET or None)
        if not self.filter_form.is_valid():
            return transfers
        data = self.filter_form.cleaned_data
        reference = data["reference"].strip()
        if reference:
            transfers = transfers.filter(
                Q(reference=codes.normalise(reference))
                | Q(reference__icontains=reference)
                | Q(merchant_reference=reference)
            )
        code = data["account"].strip()
        if code:
            legs = Transaction.objects.filter(
                Q(account__code=codes.normalise(code)) | Q(account__code__iexact=code),
                transfer=OuterRef("pk"),
            )
            transfers = transfers.filter(Exists(legs))
        who = data["user"].strip()
        if who:
            transfers = transfers.filter(Q(username__icontains=who) | _user_lookups("user", who))
        if data["date_from"]:
            transfers = transfers.filter(created_at__gte=day_start(data["date_from"]))
        if data["date_to"]:
            transfers = transfers.filter(created_at__lt=day_end(data["date_to"]))
        return transfers

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        return context


def _get_transfer(reference: str) -> Transfer:
    if len(reference) > REFERENCE_LENGTH_MAX or not is_storable_text(reference):
        raise Http404(gettext("No transfer has this reference."))
    related = Transfer.objects.select_related("source", "destination", "parent", "user")
    try:
        return related.get(reference=codes.normalise(reference))
    except Transfer.DoesNotExist:
        raise Http404(gettext("No transfer has this reference.")) from None


def can_be_corrected(transfer: Transfer, refundable: Decimal) -> bool:
    """Whether a reversal or refund of ``transfer`` is worth offering."""
    return (
        transfer.kind != TransferKind.REVERSAL
        and transfer.source_id is not None
        and transfer.destination_id is not None
        and refundable > 0
    )


class TransferDetailView(StaffPermissionRequiredMixin, DetailView):
    """A transfer, its legs, its parent and children, and what remains refundable."""

    permission_required = "accounts.view_transfer"
    template_name = "accounts/dashboard/transfer_detail.html"
    context_object_name = "transfer"

    def get_object(self, queryset: Any = None) -> Transfer:
        return _get_transfer(self.kwargs["reference"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        made: Transfer = self.object
        refundable = facade.refundable_amount(made)
        context.update(
            legs=list(made.transactions.select_related("account").order_by("leg_index")),
            parent_rows=[made.parent] if made.parent is not None else [],
            children=list(made.children.select_related("source", "destination").order_by("pk")),
            refundable=refundable,
            can_correct=can_be_corrected(made, refundable),
        )
        return context
