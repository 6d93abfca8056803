"""What every dashboard view shares: who may see it, how actions are recorded, CSV exports.

A card's code is the authority to spend it, so the dashboard shows it in full only on the
card's own page, to staff holding ``accounts.view_card_code`` (:func:`shown_code`). Everywhere
else (lists, transfers, reports, CSV exports, messages, log lines and the admin's history) a
card is named by :attr:`~accounts.models.Account.display_code` or ``str(account)``, which mask
it; house accounts' codes are chosen by hand and shown as they are.
"""

from __future__ import annotations

import csv
import datetime
import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import Model, Q
from django.forms import Form
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accounts.exceptions import AccountException
from accounts.models import Account
from accounts.money import DECIMAL_PLACES, quantum

from .form_fields import replace_garbled

logger = logging.getLogger("accounts.dashboard")

#: Rows per page of the account and transfer lists and of the account tree.
PAGE_SIZE = 50


def _user_lookups(prefix: str, text: str) -> Q:
    """Match the user behind ``prefix`` by username or e-mail address, whatever the user model."""
    model = get_user_model()
    query = Q(**{f"{prefix}__{model.USERNAME_FIELD}__icontains": text})
    email = model.get_email_field_name()
    if any(f.name == email for f in model._meta.get_fields()):
        query |= Q(**{f"{prefix}__{email}__icontains": text})
    return query


class FacadeActionMixin:
    """The one skeleton of the dashboard's POST actions that act through the facade.

    :meth:`perform` does the act; a refusal (:class:`~accounts.exceptions.AccountException`)
    shows the form again, as it was typed, with the refusal as its error, and writes nothing; a
    success says what was done and goes back to :meth:`done_url`. The money forms on an
    account's page and the confirmation pages (freeze, thaw, close, reverse, refund) differ only
    in what they show again and where they go.
    """

    request: HttpRequest

    def act(self, form: Any) -> str:
        """Do it through the facade; return the success message."""
        raise NotImplementedError

    def done_url(self) -> str:
        raise NotImplementedError

    def show_again(self, form: Any) -> HttpResponse:
        raise NotImplementedError

    def perform(self, form: Any) -> HttpResponse:
        try:
            done = self.act(form)
        except AccountException as exc:
            form.add_error(None, exc.message)
            return self.show_again(form)
        messages.success(self.request, done)
        return HttpResponseRedirect(self.done_url())


class StaffPermissionRequiredMixin(PermissionRequiredMixin):
    """Allow active staff holding ``permission_required``; nobody else.

    Anonymous visitors are sent to ``settings.LOGIN_URL``; a logged-in user who is not staff or
    lacks the permission gets 403 (Django's ``PermissionRequiredMixin`` does exactly that once
    ``has_permission`` is False).
    """

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        # A lone surrogate cannot come over HTTP (Django decodes bad bytes to U+FFFD), but a
        # caller in the process can pass one; treat it the same way, so that forms refuse it
        # and pages (a 404 page too) can still show and re-encode what was sent.
        request.path = replace_garbled(request.path)
        request.path_info = replace_garbled(request.path_info)
        request.GET = _without_surrogates(request.GET)  # type: ignore[assignment]
        if request.method == "POST":
            request.POST = _without_surrogates(request.POST)  # type: ignore[assignment]
        super().setup(request, *args, **kwargs)  # type: ignore[misc]

    def has_permission(self) -> bool:
        user = self.request.user  # type: ignore[attr-defined]
        return bool(user.is_active and user.is_staff) and super().has_permission()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        request = self.request  # type: ignore[attr-defined]
        context["dashboard_nav"] = navigation(request)
        # What the user may do, for showing buttons; the views check again on every request.
        context["can"] = {
            name: request.user.has_perm(f"accounts.{name}") for name in DASHBOARD_PERMISSIONS
        }
        # Our own name, so the pages work without the messages context processor.
        context["dashboard_messages"] = messages.get_messages(request)
        return context


#: Every permission the dashboard checks, without the ``accounts.`` prefix. The facade checks
#: one more on withdrawals and refunds: ``spend_from_any_account``, for accounts with users.
DASHBOARD_PERMISSIONS = (
    "view_account",
    "add_account",
    "change_account",
    "view_card_code",
    "view_transfer",
    "reverse_transfer",
    "refund_transfer",
    "view_hold",
    "change_hold",
    "view_reports",
    "view_auditentry",
    "add_statementimport",
    "view_statementimport",
    "change_statementline",
    "view_closedperiod",
    "add_closedperiod",
)


def _without_surrogates(params: QueryDict) -> QueryDict:
    """``params``, or a copy whose lone surrogates are replaced by U+FFFD if it holds any."""
    given = list(params.lists())
    replaced = [(replace_garbled(k), [replace_garbled(v) for v in vs]) for k, vs in given]
    if replaced == given:
        return params
    clean = QueryDict(mutable=True)
    for key, values in replaced:
        clean.setlist(key, values)
    clean._mutable = False
    return clean


def may_see_card_codes(user: Any) -> bool:
    return bool(user.has_perm("accounts.view_card_code"))


def shown_code(account: Account, *, full: bool) -> str:
    """``account``'s code for a page: a card's in full only when ``full`` (see the module)."""
    return account.code if full or not account.is_card else account.display_code


#: The sections of the navigation bar: label, URL name, and the permission that shows it.
SECTIONS = (
    (gettext_lazy("Accounts"), "account_list", "accounts.view_account"),
    (gettext_lazy("New account"), "account_create", "accounts.add_account"),
    (gettext_lazy("Transfers"), "transfer_list", "accounts.view_transfer"),
    (gettext_lazy("Holds"), "hold_list", "accounts.view_hold"),
    (gettext_lazy("Reports"), "report_list", "accounts.view_reports"),
    (gettext_lazy("Audit"), "audit_list", "accounts.view_auditentry"),
    (gettext_lazy("Bank statements"), "statement_upload", "accounts.add_statementimport"),
    (gettext_lazy("Closed periods"), "period_list", "accounts.view_closedperiod"),
)

#: Which section each page belongs to, by URL name prefix.
_SECTION_OF_PREFIX = (
    ("account_create", "account_create"),
    ("account_", "account_list"),
    ("transfer_", "transfer_list"),
    ("hold_", "hold_list"),
    ("report_", "report_list"),
    ("audit_", "audit_list"),
    ("statement_", "statement_upload"),
    ("period_", "period_list"),
)


def navigation(request: HttpRequest) -> list[dict[str, Any]]:
    """The sections the user may open, with the current one marked."""
    match = request.resolver_match
    current = match.url_name if match is not None else ""
    section = None
    for prefix, name in _SECTION_OF_PREFIX:
        if current and current.startswith(prefix):
            section = name
            break
    return [
        {
            "label": str(label),
            "url": reverse(f"accounts_dashboard:{name}"),
            "active": name == section,
        }
        for label, name, permission in SECTIONS
        if request.user.has_perm(permission)
    ]


def record_action(request: HttpRequest, obj: Model, message: str, *, added: bool = False) -> None:
    """Record who did what to ``obj``: in the log and, when the admin is installed, its history.

    Money movements are already recorded on their transfers (``user`` and ``username``); this
    covers the changes that have no ledger row, such as freezing or editing an account.
    """
    user = request.user
    logger.info("%s: %s (%s #%s)", user.get_username(), message, obj._meta.label, obj.pk)
    if not apps.is_installed("django.contrib.admin") or user.pk is None:
        return
    from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.create(
        user_id=user.pk,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action_flag=ADDITION if added else CHANGE,
        change_message=message,
    )


def report_form_errors(request: HttpRequest, form: Form) -> None:
    """Show a form's errors as messages, for actions posted from another page."""
    for field, errors in form.errors.items():
        label = ""
        if field in form.fields:
            label = str(form.fields[field].label or field.replace("_", " "))
        for error in errors:
            if label:
                text = gettext("%(field)s: %(error)s") % {
                    "field": label[:1].upper() + label[1:],
                    "error": error,
                }
            else:
                text = str(error)
            messages.error(request, text)


# -- CSV -------------------------------------------------------------------------------------

#: Characters that make a spreadsheet read a cell as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose ``write`` hands the line back, for streaming."""

    def write(self, value: str) -> str:
        return value


#: The ledger's own precision: every money column has DECIMAL_PLACES places.
STORED_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)


def csv_amount(amount: Decimal | None, currency: str) -> Decimal | None:
    """An amount for a CSV file: a plain number, never localised and never rounded away.

    It has its currency's places (``12.50``), or every place the ledger stores
    (:data:`~accounts.money.DECIMAL_PLACES`) when it has more: an amount posted before a
    currency's places were narrowed keeps its last digits. Only what lies beyond the stored
    places goes, which is the noise of SQLite's floating-point sums (``9520.58000000001``).
    """
    if amount is None:
        return None
    stored = amount.quantize(STORED_QUANTUM)
    shown = stored.quantize(quantum(currency))
    # No more places than the currency's: all of them. More: the digits, without trailing zeros.
    return shown if shown == stored else stored.normalize()


def _cell(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        # Names and descriptions come from customers too; never let them run as formulas.
        return "'" + value
    return "" if value is None else value


def bad_filter_response(form: Form) -> HttpResponseBadRequest:
    """Answer a download whose filters are not valid with 400 and what is wrong with them.

    A page shows such errors next to its form and falls back to its defaults; a file cannot,
    and a file for another period than the one asked for would mislead.
    """
    problems = "; ".join(
        gettext("%(field)s: %(error)s")
        % {
            # The query parameter's name, as in the URL; errors of the whole form are the
            # filters'.
            "field": name if name != "__all__" else gettext("filters"),
            "error": " ".join(str(e) for e in errors),
        }
        for name, errors in form.errors.items()
    )
    return HttpResponseBadRequest(
        gettext("Nothing to download: %(problems)s") % {"problems": problems} + "\n",
        content_type="text/plain; charset=utf-8",
    )


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """Stream ``rows`` under ``header`` as a UTF-8 CSV download named ``filename``."""
    writer = csv.writer(_Echo())

    def lines() -> Iterable[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
