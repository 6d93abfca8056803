"""Bank statements in the dashboard: upload with a preview of the columns, the result, and the
reconciliation screen.

Uploading needs ``accounts.add_statementimport``; the result page ``view_statementimport``;
reconciling ``change_statementline``. Money moves only through the statement line's own
methods, which post and reverse through :mod:`accounts.facade`; a refusal is shown as a message
and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, FormView, TemplateView

from accounts import exceptions, statements
from accounts.models import (
    Account,
    Reconciliation,
    StatementFormat,
    StatementImport,
    StatementLine,
    Transfer,
)

from .common import StaffPermissionRequiredMixin

#: Unreconciled lines shown at once on the reconciliation screen, oldest first.
RECONCILE_LINES_MAX = 50
#: Suggested transfers shown per line.
SUGGESTIONS_SHOWN = 3
#: Accounts offered to post a line to.
TARGET_ACCOUNTS_MAX = 200
#: Reconciled lines shown, most recent first, with a button to undo each.
RECENT_RECONCILED_MAX = 20
#: Rows of the file shown in the preview.
PREVIEW_ROWS = 10


class StatementUploadForm(forms.Form):
    bank_account = forms.ModelChoiceField(
        queryset=Account.objects.filter(is_bank=True).order_by("name"), label=_("Bank account")
    )
    file = forms.FileField(label=_("Statement file (CSV, CAMT.053 or OFX)"))
    date_order = forms.ChoiceField(
        label=_("Date order"),
        required=False,
        choices=[
            ("", _("Guess from the file")),
            (statements.DateOrder.DAY_FIRST, _("Day first (31/12/2026)")),
            (statements.DateOrder.MONTH_FIRST, _("Month first (12/31/2026)")),
        ],
    )
    allow_partial = forms.BooleanField(
        required=False, label=_("Import the valid rows when some are rejected")
    )
    dry_run = forms.BooleanField(required=False, label=_("Dry run: count, import nothing"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > statements.FILE_SIZE_MAX:
            raise forms.ValidationError(
                gettext("The file is larger than %(limit)d bytes.")
                % {"limit": statements.FILE_SIZE_MAX}
            )
        return upload


class StatementUploadView(StaffPermissionRequiredMixin, FormView):
    """Upload a statement; *Preview* shows what was detected, *Import* imports it."""

    permission_required = "accounts.add_statementimport"
    template_name = "accounts/dashboard/statement_upload.html"
    form_class = StatementUploadForm

    def form_valid(self, form: StatementUploadForm) -> HttpResponse:
        data = form.cleaned_data
        stream = data["file"].file
        if "preview" in self.request.POST:
            return self.render_to_response(self.get_context_data(form=form, **self.preview(stream)))
        try:
            result = statements.import_statement(
                data["bank_account"],
                stream,
                file_name=data["file"].name,
                date_order=data["date_order"] or None,
                allow_partial=data["allow_partial"],
                dry_run=data["dry_run"],
                user=self.request.user,
            )
        except exceptions.StatementHasRejectedRows as error:
            form.add_error(None, error.message)
            context = self.get_context_data(form=form, rejections=error.rejections)
            return self.render_to_response(context)
        except exceptions.AccountException as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        if result.dry_run or result.statement_import is None:
            return self.render_to_response(self.get_context_data(form=form, dry_run=result))
        return HttpResponseRedirect(
            reverse("accounts_dashboard:statement_import", args=[result.statement_import.pk])
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if self.request.user.has_perm("accounts.change_statementline"):
            context["banks"] = Account.objects.filter(is_bank=True).order_by("name")
        return context

    def preview(self, stream: Any) -> dict[str, Any]:
        try:
            statement_format = statements.detect_format(stream)
            if statement_format != StatementFormat.CSV:
                return {"preview": {"format": StatementFormat(statement_format).label}}
            reader = statements.CsvStatement(stream)
        except exceptions.AccountException as error:
            return {"preview_error": error.message}
        mapping = reader.mapping
        roles = {
            name: label
            for label, name in (
                (gettext("date"), mapping.date),
                (gettext("amount"), mapping.amount),
                (gettext("money in"), mapping.money_in),
                (gettext("money out"), mapping.money_out),
                (gettext("payee"), mapping.payee),
                (gettext("reference"), mapping.reference),
                *((gettext("description"), name) for name in mapping.description),
            )
            if name
        }
        return {
            "preview": {
                "format": "CSV",
                "encoding": reader.encoding,
                "delimiter": {"\t": "tab"}.get(reader.delimiter, reader.delimiter),
                "columns": [(name, roles.get(name, "")) for name in reader.columns],
                "rows": reader.sample_rows[:PREVIEW_ROWS],
            }
        }


class StatementImportView(StaffPermissionRequiredMixin, DetailView):
    """What an import did: its counts, its rejected rows, and where to reconcile."""

    permission_required = "accounts.view_statementimport"
    template_name = "accounts/dashboard/statement_import.html"
    model = StatementImport
    context_object_name = "statement_import"

    def get_queryset(self) -> Any:
        return StatementImport.objects.select_related("bank_account", "created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_reconcile"] = self.request.user.has_perm("accounts.change_statementline")
        return context


class StatementReconcileView(StaffPermissionRequiredMixin, TemplateView):
    """Unreconciled lines of a bank account, each with its suggested transfers."""

    permission_required = "accounts.change_statementline"
    template_name = "accounts/dashboard/statement_reconcile.html"

    def bank(self) -> Account:
        return get_object_or_404(Account, pk=self.kwargs["pk"], is_bank=True)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        bank = self.bank()
        open_lines = bank.statement_lines.filter(reconciled_transfer__isnull=True)
        lines = list(open_lines.order_by("date", "pk")[:RECONCILE_LINES_MAX])
        done_lines = bank.statement_lines.filter(reconciled_transfer__isnull=False)
        context.update(
            bank=bank,
            open_count=open_lines.count(),
            done_lines=done_lines.select_related("reconciled_transfer").order_by(
                "-reconciled_at", "-pk"
            )[:RECENT_RECONCILED_MAX],
            may_reverse=self.request.user.has_perm("accounts.reverse_transfer"),
            rows=[(line, statements.suggest(line, limit=SUGGESTIONS_SHOWN)) for line in lines],
            targets=Account.objects.filter(currency=bank.currency, is_card=False, status="open")
            .exclude(pk=bank.pk)
            .order_by("name", "code")[:TARGET_ACCOUNTS_MAX],
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        bank = self.bank()
        done = HttpResponseRedirect(request.path)
        if "apply_rules" in request.POST:
            open_lines = bank.statement_lines.filter(reconciled_transfer__isnull=True)
            applied = statements.apply_rules(open_lines.iterator(), user=request.user)
            messages.success(
                request,
                ngettext(
                    "%(count)d line was reconciled by a rule.",
                    "%(count)d lines were reconciled by rules.",
                    applied,
                )
                % {"count": applied},
            )
            return done
        line = get_object_or_404(StatementLine, pk=request.POST.get("line") or 0, bank_account=bank)
        try:
            if "unreconcile" in request.POST:
                self.unreconcile(line, request)
            else:
                self.reconcile(line, request)
        except exceptions.AccountException as error:
            messages.error(request, error.message)
        return done

    def unreconcile(self, line: StatementLine, request: HttpRequest) -> None:
        """Undo a reconciliation; reversing a transfer the line posted is a correction, gated
        by ``accounts.reverse_transfer`` as every reversal in the dashboard is."""
        posting = line.reconciliation == Reconciliation.CREATED
        if posting and not request.user.has_perm("accounts.reverse_transfer"):
            raise PermissionDenied
        line.unreconcile(user=request.user, reason=gettext("Unreconciled in the dashboard."))
        messages.success(request, gettext("Line %(line)s is unreconciled.") % {"line": line})

    def reconcile(self, line: StatementLine, request: HttpRequest) -> None:
        transfer_pk, account_pk = request.POST.get("transfer"), request.POST.get("account")
        if transfer_pk and transfer_pk.isdigit():
            transfer = get_object_or_404(Transfer, pk=transfer_pk)
            line.reconcile_with(transfer, user=request.user)
        elif account_pk and account_pk.isdigit():
            account = get_object_or_404(Account, pk=account_pk, is_card=False)
            line.create_transaction(account, user=request.user)
        else:
            messages.error(request, gettext("Choose an account or a transfer."))
            return
        messages.success(request, gettext("Line %(line)s is reconciled.") % {"line": line})
