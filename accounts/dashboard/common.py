"""What every dashboard view shares: who may see it, how actions are recorded, CSV exports."""

from __future__ import annotations

import csv
import datetime
import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import Model
from django.forms import Form
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from accounts.money import quantum

logger = logging.getLogger("accounts.dashboard")

#: Rows per page of the account and transfer lists and of the account tree.
PAGE_SIZE = 50


class StaffPermissionRequiredMixin(PermissionRequiredMixin):
    """Allow active staff holding ``permission_required``; nobody else.

    Anonymous visitors are sent to ``settings.LOGIN_URL``; a logged-in user who is not staff or
    lacks the permission gets 403 (Django's ``PermissionRequiredMixin`` does exactly that once
    ``has_permission`` is False).
    """

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


#: Every permission the dashboard checks, without the ``accounts.`` prefix.
DASHBOARD_PERMISSIONS = (
    "view_account",
    "add_account",
    "change_account",
    "view_transfer",
    "add_transfer",
    "view_reports",
)

#: The sections of the navigation bar: label, URL name, and the permission that shows it.
SECTIONS = (
    ("Accounts", "account_list", "accounts.view_account"),
    ("New account", "account_create", "accounts.add_account"),
    ("Transfers", "transfer_list", "accounts.view_transfer"),
    ("Reports", "report_list", "accounts.view_reports"),
)

#: Which section each page belongs to, by URL name prefix.
_SECTION_OF_PREFIX = (
    ("account_create", "account_create"),
    ("account_", "account_list"),
    ("transfer_", "transfer_list"),
    ("report_", "report_list"),
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
        {"label": label, "url": reverse(f"accounts_dashboard:{name}"), "active": name == section}
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
            messages.error(request, f"{label.capitalize()}: {error}" if label else str(error))


# -- CSV -------------------------------------------------------------------------------------

#: Characters that make a spreadsheet read a cell as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose ``write`` hands the line back, for streaming."""

    def write(self, value: str) -> str:
        return value


def csv_amount(amount: Decimal | None, currency: str) -> Decimal | None:
    """An amount with exactly its currency's places, written as a plain number."""
    return None if amount is None else amount.quantize(quantum(currency))


def _cell(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        # Names and descriptions come from customers too; never let them run as formulas.
        return "'" + value
    return "" if value is None else value


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
