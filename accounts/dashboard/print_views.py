"""Printable pages: a customer card with its full code, and a receipt for a transfer.

A card's code is its bearer secret, so its printable page needs ``accounts.view_card_code`` as
well as ``accounts.view_account`` (anyone else gets 403), is kept out of every cache, and each
print is logged. The code is printed large, in groups, and as a QR code when the optional
``segno`` package is installed (the ``qr`` extra); without it the page shows the code as text
alone. A receipt names the accounts as the transfer's page does, cards masked, so it may be
handed to a customer.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.views.generic import DetailView

from accounts.models import Account, Transfer

from .common import StaffPermissionRequiredMixin
from .transfer_views import _get_transfer

logger = logging.getLogger("accounts.dashboard")

#: Pixels per QR module in the SVG's own coordinates; the print CSS sets the printed size.
QR_SCALE = 4
#: Error correction of the QR code: "m" still reads with some 15% of the print smudged.
QR_ERROR = "m"


def qr_svg(text: str) -> SafeString | None:
    """``text`` as a QR code in inline SVG, or None when ``segno`` is not installed."""
    try:
        import segno
    except ImportError:
        return None
    svg = segno.make(text, error=QR_ERROR).svg_inline(scale=QR_SCALE, omitsize=True)
    # segno builds the SVG itself from the QR matrix: it holds no text from the page.
    return mark_safe(svg)


class CardPrintView(StaffPermissionRequiredMixin, DetailView):
    """A customer card's full code, big and readable, with a QR code, ready to print."""

    permission_required = ("accounts.view_account", "accounts.view_card_code")
    template_name = "accounts/dashboard/print_card.html"
    context_object_name = "account"
    queryset = Account.objects.select_related("account_type")

    def get_object(self, queryset: Any = None) -> Account:
        account: Account = super().get_object(queryset)
        if not account.is_card:
            # House accounts' codes are not handed to anyone: nothing to print.
            raise Http404(gettext("Only customer cards are printed."))
        return account

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        account: Account = self.object
        context.update(qr=qr_svg(account.code), code_groups=account.code.split("-"))
        return context

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        logger.info(
            "%s: printed card %s (accounts.Account #%s)",
            self.request.user.get_username(),
            self.object.display_code,
            self.object.pk,
        )
        response = super().render_to_response(context, **kwargs)
        add_never_cache_headers(response)
        return response


class TransferReceiptView(StaffPermissionRequiredMixin, DetailView):
    """A receipt for one transfer: reference, date, amount, accounts (cards masked)."""

    permission_required = "accounts.view_transfer"
    template_name = "accounts/dashboard/print_receipt.html"
    context_object_name = "transfer"

    def get_object(self, queryset: Any = None) -> Transfer:
        return _get_transfer(self.kwargs["reference"])
