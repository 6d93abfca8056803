"""URLs of the staff dashboard, namespaced ``accounts_dashboard``."""

from django.urls import URLPattern, path, register_converter
from django.urls.converters import IntConverter

from . import (
    account_action_views,
    account_views,
    audit_views,
    book_views,
    confirmations,
    hold_views,
    period_views,
    print_views,
    report_views,
    statement_views,
    transfer_views,
)

app_name = "accounts_dashboard"


class PrimaryKeyConverter(IntConverter):
    """A primary key of at most 18 digits: every value fits a 64-bit integer column.

    Django's ``int`` converter takes any run of digits, and a key past 2**63 makes the database
    driver raise instead of finding nothing; here such a path is simply no match (404).
    """

    regex = "[0-9]{1,18}"


register_converter(PrimaryKeyConverter, "account_pk")

urlpatterns: list[URLPattern] = [
    path("", account_views.IndexView.as_view(), name="index"),
    # bank statements
    path(
        "statements/upload/",
        statement_views.StatementUploadView.as_view(),
        name="statement_upload",
    ),
    path(
        "statements/imports/<account_pk:pk>/",
        statement_views.StatementImportView.as_view(),
        name="statement_import",
    ),
    path(
        "statements/<account_pk:pk>/reconcile/",
        statement_views.StatementReconcileView.as_view(),
        name="statement_reconcile",
    ),
    # accounts
    path("accounts/", account_views.AccountListView.as_view(), name="account_list"),
    path("accounts/new/", account_action_views.AccountCreateView.as_view(), name="account_create"),
    path(
        "accounts/<account_pk:pk>/",
        account_views.AccountDetailView.as_view(),
        name="account_detail",
    ),
    path(
        "accounts/<account_pk:pk>/statement.csv",
        account_views.AccountStatementCsvView.as_view(),
        name="account_statement_csv",
    ),
    path(
        "accounts/<account_pk:pk>/edit/",
        account_action_views.AccountEditView.as_view(),
        name="account_edit",
    ),
    path(
        "accounts/<account_pk:pk>/top-up/",
        account_action_views.AccountTopUpView.as_view(),
        name="account_top_up",
    ),
    path(
        "accounts/<account_pk:pk>/withdraw/",
        account_action_views.AccountWithdrawView.as_view(),
        name="account_withdraw",
    ),
    path(
        "accounts/<account_pk:pk>/freeze/",
        confirmations.AccountFreezeView.as_view(),
        name="account_freeze",
    ),
    path(
        "accounts/<account_pk:pk>/thaw/",
        confirmations.AccountThawView.as_view(),
        name="account_thaw",
    ),
    path(
        "accounts/<account_pk:pk>/close/",
        confirmations.AccountCloseView.as_view(),
        name="account_close",
    ),
    path(
        "accounts/<account_pk:pk>/print/",
        print_views.CardPrintView.as_view(),
        name="account_print",
    ),
    # transfers
    path("transfers/", transfer_views.TransferListView.as_view(), name="transfer_list"),
    path(
        "transfers/<str:reference>/",
        transfer_views.TransferDetailView.as_view(),
        name="transfer_detail",
    ),
    path(
        "transfers/<str:reference>/reverse/",
        confirmations.TransferReverseView.as_view(),
        name="transfer_reverse",
    ),
    path(
        "transfers/<str:reference>/refund/",
        confirmations.TransferRefundView.as_view(),
        name="transfer_refund",
    ),
    # holds
    path("holds/", hold_views.HoldListView.as_view(), name="hold_list"),
    path("holds/<str:reference>/", hold_views.HoldDetailView.as_view(), name="hold_detail"),
    path(
        "holds/<str:reference>/capture/",
        hold_views.HoldCaptureView.as_view(),
        name="hold_capture",
    ),
    path("holds/<str:reference>/void/", hold_views.HoldVoidView.as_view(), name="hold_void"),
    # the audit trail
    path("periods/", period_views.PeriodListView.as_view(), name="period_list"),
    path("periods/close/", period_views.PeriodCloseView.as_view(), name="period_close"),
    path("audit/", audit_views.AuditListView.as_view(), name="audit_list"),
    path("audit.csv", audit_views.AuditCsvView.as_view(), name="audit_list_csv"),
    path(
        "transfers/<str:reference>/receipt/",
        print_views.TransferReceiptView.as_view(),
        name="transfer_receipt",
    ),
    # reports
    path("reports/", report_views.ReportListView.as_view(), name="report_list"),
]

for slug, name, view in (
    ("trial-balance", "report_trial_balance", report_views.TrialBalanceView),
    ("account-tree", "report_account_tree", report_views.AccountTreeView),
    ("deferred-income", "report_deferred_income", report_views.DeferredIncomeView),
    ("profit-and-loss", "report_profit_and_loss", book_views.ProfitAndLossView),
    ("balance-sheet", "report_balance_sheet", book_views.BalanceSheetView),
    ("gift-card-flows", "report_gift_card_flows", report_views.GiftCardFlowsView),
):
    urlpatterns += [
        path(f"reports/{slug}/", view.as_view(), name=name),
        path(f"reports/{slug}.csv", view.as_view(as_csv=True), name=f"{name}_csv"),
    ]
