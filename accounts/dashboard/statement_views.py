"""Bank statements in the dashboard: upload with a preview of the columns, the result, and the
reconciliation screen.

Uploading needs ``accounts.add_statementimport``; the result page ``view_statementimport``;
reconciling ``change_statementline``. Money moves only through the statement line's own
methods, which post and reverse through :mod:`accounts.facade`; a refusal is shown as a message
and changes nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, Q, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext, ngettext
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
from .statement_forms import (
    BulkReconcileForm,
    ColumnMappingForm,
    StatementUploadForm,
    posted_file_sha256,
    posted_header_row,
)

#: Unreconciled lines shown at once on the reconciliation screen, oldest first.
RECONCILE_LINES_MAX = 50
#: Suggested transfers shown per line.
SUGGESTIONS_SHOWN = 3
#: Accounts offered to post a line to.
TARGET_ACCOUNTS_MAX = 200
#: Reconciled lines shown, most recent first, with a button to undo each.
RECENT_RECONCILED_MAX = 20
#: Lines of an import listed on its page, in date order.
IMPORT_LINES_SHOWN = 500
#: Rows of the file shown in the preview.
PREVIEW_ROWS = 10


class StatementUploadView(StaffPermissionRequiredMixin, FormView):
    """Upload a statement; *Preview* shows what was detected, *Import* imports it.

    A CSV file's preview carries the column mapping form, filled with the bank account's
    remembered mapping or the guess (empty when nothing could be guessed); the file is chosen
    again to import it with the columns as confirmed or changed. A mapping posted for another
    file than the one chosen is not applied: that file is previewed instead.
    """

    permission_required = "accounts.add_statementimport"
    template_name = "accounts/dashboard/statement_upload.html"
    form_class = StatementUploadForm

    def form_valid(self, form: StatementUploadForm) -> HttpResponse:
        stream = form.cleaned_data["file"].file
        sha256 = _sha256(stream)
        posted = posted_file_sha256(self.request.POST)
        if posted is not None and posted != sha256:
            form.add_error(
                None,
                gettext(
                    "This is not the file the columns were chosen for: check its columns and "
                    "import it again."
                ),
            )
            return self.show_preview(form, stream, sha256)
        if posted is not None:
            return self.with_mapping(form, stream, sha256)
        if "preview" in self.request.POST:
            return self.show_preview(form, stream, sha256)
        return self.run_import(form, stream, sha256, mapping=None)

    def with_mapping(self, form: StatementUploadForm, stream: Any, sha256: str) -> HttpResponse:
        """Preview again with the posted choices, or import with them once they hold."""
        bank = form.cleaned_data["bank_account"]
        try:
            reader = statements.preview_csv(
                stream, bank, header_row=posted_header_row(self.request.POST)
            )
        except exceptions.InvalidColumnMapping as error:  # the row chosen holds no names
            form.add_error(None, error.message)
            return self.show_preview(form, stream, sha256)
        except exceptions.AccountException as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        mapping_form = ColumnMappingForm(self.request.POST, reader=reader, sha256=sha256)
        if "preview" in self.request.POST:
            # Choices in progress are kept, and not yet judged.
            return self.show_preview(form, stream, sha256, mapping_form.reopened())
        if not mapping_form.is_valid():
            return self.show_preview(form, stream, sha256, mapping_form)
        return self.run_import(form, stream, sha256, mapping=mapping_form.mapping())

    def run_import(
        self,
        form: StatementUploadForm,
        stream: Any,
        sha256: str,
        *,
        mapping: statements.ColumnMapping | None,
    ) -> HttpResponse:
        data = form.cleaned_data
        try:
            result = statements.import_statement(
                data["bank_account"],
                stream,
                file_name=data["file"].name,
                mapping=mapping,
                date_order=data["date_order"] or None,
                allow_partial=data["allow_partial"],
                dry_run=data["dry_run"],
                user=self.request.user,
            )
        except exceptions.StatementHasRejectedRows as error:
            form.add_error(None, error.message)
            context = self.get_context_data(form=form, rejections=error.rejections)
            return self.render_to_response(context)
        except exceptions.InvalidStatement as error:
            # Not a dead end: the preview lets the person choose the columns or the order.
            form.add_error(None, error.message)
            return self.show_preview(form, stream, sha256)
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

    def show_preview(
        self,
        form: StatementUploadForm,
        stream: Any,
        sha256: str,
        mapping_form: ColumnMappingForm | None = None,
    ) -> HttpResponse:
        bank = form.cleaned_data["bank_account"]
        context = self.preview(stream, bank, sha256, mapping_form)
        return self.render_to_response(self.get_context_data(form=form, **context))

    def preview(
        self, stream: Any, bank: Account, sha256: str, mapping_form: ColumnMappingForm | None
    ) -> dict[str, Any]:
        try:
            statement_format = statements.detect_format(stream)
            if statement_format != StatementFormat.CSV:
                return {"preview": {"format": StatementFormat(statement_format).label}}
            if mapping_form is None:
                reader = statements.preview_csv(stream, bank)
                mapping_form = ColumnMappingForm(reader=reader, sha256=sha256)
        except exceptions.AccountException as error:
            return {"preview_error": error.message}
        reader = mapping_form.reader
        roles = _roles(mapping_form)
        return {
            "mapping_form": mapping_form,
            "preview": {
                "format": "CSV",
                "encoding": reader.encoding,
                "delimiter": {"\t": "tab"}.get(reader.delimiter, reader.delimiter),
                "columns": [(name, roles.get(name, "")) for name in reader.columns],
                "rows": reader.sample_rows[:PREVIEW_ROWS],
            },
        }


def _sha256(stream: Any) -> str:
    stream.seek(0)
    digest = hashlib.sha256()
    while chunk := stream.read(64 * 1024):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _roles(mapping_form: ColumnMappingForm) -> dict[str, str]:
    """Column name -> what it holds, as chosen in the form (or as first read)."""
    labels = {
        "date": gettext("date"),
        "amount": gettext("amount"),
        "money_in": gettext("money in"),
        "money_out": gettext("money out"),
        "payee": gettext("payee"),
        "reference": gettext("reference"),
        "description": gettext("description"),
    }
    names = mapping_form.reader.columns
    return {
        names[index]: labels[role]
        for role, positions in mapping_form.chosen().items()
        for index in positions
        if 0 <= index < len(names)
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
        lines = self.object.lines.all()
        context["summary"] = lines.aggregate(
            count=Count("pk"),
            first=Min("date"),
            last=Max("date"),
            money_in=Sum("amount", filter=Q(amount__gt=0)),
            money_out=Sum("amount", filter=Q(amount__lt=0)),
            reconciled=Count("pk", filter=Q(reconciled_transfer__isnull=False)),
        )
        context["lines"] = list(
            lines.select_related("reconciled_transfer").order_by("date", "row_number", "pk")[
                :IMPORT_LINES_SHOWN
            ]
        )
        return context


class StatementReconcileView(StaffPermissionRequiredMixin, TemplateView):
    """Unreconciled lines of a bank account, each with its suggested transfers.

    Lines are reconciled one at a time, or several ticked lines to one account at once
    (:func:`accounts.statements.reconcile_lines`: all of them or none, at most
    ``BULK_RECONCILE_MAX``), under the same permission.
    """

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
            targets=self.targets(bank)[:TARGET_ACCOUNTS_MAX],
            bulk_max=statements.BULK_RECONCILE_MAX,
        )
        return context

    def targets(self, bank: Account) -> Any:
        """The accounts a line of ``bank`` is offered to be posted to."""
        return (
            Account.objects.filter(currency=bank.currency, is_card=False, status="open")
            .filter(children__isnull=True)  # a placeholder only sums its children
            .exclude(pk=bank.pk)
            .order_by("name", "code")
        )

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
        if "bulk" in request.POST:
            self.bulk(bank, request)
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

    def bulk(self, bank: Account, request: HttpRequest) -> None:
        """Post the ticked lines to one account, all or nothing; say what happened."""
        form = BulkReconcileForm(request.POST, targets=self.targets(bank))
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, str(error))
            return
        account = form.cleaned_data["account"]
        try:
            posted = statements.reconcile_lines(
                bank, form.cleaned_data["lines"], account, user=request.user
            )
        except exceptions.AccountException as error:
            messages.error(
                request,
                gettext("No line was reconciled: %(reason)s") % {"reason": error.message},
            )
            return
        messages.success(
            request,
            ngettext(
                "%(count)d line is reconciled with %(account)s.",
                "%(count)d lines are reconciled with %(account)s.",
                len(posted),
            )
            % {"count": len(posted), "account": account},
        )

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
