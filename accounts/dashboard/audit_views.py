"""The audit trail in the dashboard: every administrative act, filtered, as a page or a CSV file.

Both need the model permission ``accounts.view_auditentry`` (the supervisor role holds it).
Accounts are named as everywhere in the dashboard: a card's code in full only for staff holding
``accounts.view_card_code``, and the account filter finds cards by part of their code only for
them too (see :class:`~accounts.dashboard.account_views.AccountListView`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext
from django.views import View
from django.views.generic import ListView

from accounts import codes
from accounts.models import Account, AuditEntry

from .common import (
    PAGE_SIZE,
    StaffPermissionRequiredMixin,
    bad_filter_response,
    csv_response,
    may_see_card_codes,
    shown_code,
)
from .filter_forms import AuditFilterForm
from .form_fields import day_end, day_start

#: Entries read from the database at a time for the CSV download.
CSV_BATCH_SIZE = 500


def filtered_entries(request: HttpRequest, form: AuditFilterForm) -> QuerySet[AuditEntry]:
    """Every entry, most recent first, narrowed by ``form`` when it is valid."""
    entries = AuditEntry.objects.select_related("account", "transfer", "user").order_by(
        "-created_at", "-pk"
    )
    if not form.is_valid():
        return entries
    data = form.cleaned_data
    if data["action"]:
        entries = entries.filter(action=data["action"])
    if data["surface"]:
        entries = entries.filter(surface=data["surface"])
    who = data["user"].strip()
    if who:
        entries = entries.filter(username__icontains=who)
    text = data["account"].strip()
    if text:
        # As in the account list: part of a card's code finds it only for those who may see
        # cards' codes, or searching "7", "7K"... would read one a character at a time.
        part_of_code = Q(account__code__icontains=text)
        if not may_see_card_codes(request.user):
            part_of_code &= Q(account__is_card=False)
        entries = entries.filter(
            Q(account__name__icontains=text)
            | part_of_code
            | Q(account__code=codes.normalise(text))
            | Q(account__code__iexact=text)
        )
    if data["account_id"]:
        entries = entries.filter(account_id=data["account_id"])
    if data["date_from"]:
        entries = entries.filter(created_at__gte=day_start(data["date_from"]))
    if data["date_to"]:
        entries = entries.filter(created_at__lt=day_end(data["date_to"]))
    return entries


def _field_name(name: str) -> str:
    """An account field's name as the account's form shows it, in the reader's language."""
    try:
        field = Account._meta.get_field(name)
        return str(getattr(field, "verbose_name", name))
    except FieldDoesNotExist:
        return name.replace("_", " ")


def changes_text(entry: AuditEntry) -> str:
    """``name: old → new`` for each changed field, one after the other."""
    return "; ".join(
        gettext("%(field)s: %(old)s → %(new)s")
        % {
            "field": _field_name(name),
            "old": "—" if old is None else old,
            "new": "—" if new is None else new,
        }
        for name, (old, new) in (entry.changes or {}).items()
    )


class AuditListView(StaffPermissionRequiredMixin, ListView):
    permission_required = "accounts.view_auditentry"
    template_name = "accounts/dashboard/audit_list.html"
    context_object_name = "entries"
    paginate_by = PAGE_SIZE

    def get_queryset(self) -> QuerySet[AuditEntry]:
        self.filter_form = AuditFilterForm(self.request.GET or None)
        return filtered_entries(self.request, self.filter_form)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        return context


class AuditCsvView(StaffPermissionRequiredMixin, View):
    """The filtered list as a file; filters that are not valid are a 400, never another list."""

    permission_required = "accounts.view_auditentry"

    def get(self, request: HttpRequest) -> HttpResponseBase:
        form = AuditFilterForm(request.GET or None)
        if form.is_bound and not form.is_valid():
            return bad_filter_response(form)
        entries = filtered_entries(request, form)
        full = may_see_card_codes(request.user)

        def rows() -> Iterator[list[Any]]:
            for entry in entries.iterator(chunk_size=CSV_BATCH_SIZE):
                yield [
                    entry.created_at,
                    entry.action,
                    shown_code(entry.account, full=full) if entry.account else "",
                    entry.account.name if entry.account else "",
                    entry.transfer.reference if entry.transfer else "",
                    entry.username,
                    entry.surface,
                    entry.reason,
                    changes_text(entry),
                ]

        # The header row holds column identifiers for programs, never translated; the action
        # and surface columns hold codes too.
        return csv_response(
            "audit.csv",
            [
                "date",
                "action",
                "account",
                "account name",
                "transfer",
                "user",
                "surface",
                "reason",
                "changes",
            ],
            rows(),
        )
