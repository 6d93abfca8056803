"""Pages of the staff dashboard about accounts: the list, an account's page, its statement.

Every page needs an active member of staff holding the model permission the view names. A
card's code is shown in full only on its own page, to its creator once and otherwise to staff
holding ``accounts.view_card_code``; placeholders, which only sum their children, get a page
of their own. What changes an account is in :mod:`accounts.dashboard.account_action_views`
and :mod:`accounts.dashboard.confirmations`.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import DetailView, ListView

from accounts import audit, codes, reports
from accounts.models import Account, Status

from . import charts
from .action_forms import TopUpForm, WithdrawForm
from .common import (
    PAGE_SIZE,
    StaffPermissionRequiredMixin,
    _user_lookups,
    bad_filter_response,
    csv_amount,
    csv_response,
    may_see_card_codes,
)
from .filter_forms import AccountFilterForm, PeriodForm
from .hold_views import pending_holds_of
from .report_views import tree_order

#: Lines per page of an account's statement on its page.
STATEMENT_PAGE_SIZE = 25
#: The latest entries of the audit trail shown on an account's page; the audit list has the rest.
HISTORY_LENGTH_MAX = 20
#: What "expiring soon" means in the account list filter.
EXPIRING_SOON_DAYS = 30
#: The highest page number read from a URL; beyond it the last page is as far as anyone gets.
PAGE_NUMBER_MAX = 1_000_000
#: The session key naming the card whose full code its creator sees once, on its page.
NEW_CARD_SESSION_KEY = "accounts_dashboard_new_card"
#: The statement CSV's header row: column identifiers for the programs that read the file, in
#: English whatever the language of the page, never translated (so are the other CSV headers).
STATEMENT_CSV_HEADER = (
    "date",
    "reference",
    "kind",
    "description",
    "amount",
    "balance",
    "currency",
    "by",
)


#: The most house accounts the account list orders siblings by code for (one query reads them);
#: past it, a chart of accounts larger than any shop's, they follow their tree paths alone.
HOUSE_ORDER_MAX = 500


def account_list_order(accounts: QuerySet[Account]) -> list[Any]:
    """The account list's order for ``accounts`` (already filtered).

    House accounts come first, in tree order: each right after its parent, siblings by code, as
    the account tree report shows them, so the few accounts the books are built on are not lost
    among thousands of cards. Cards follow, grouped by account type in the type tree's order
    (untyped cards last), then by code.
    """
    rows = (
        accounts.filter(is_card=False)
        .select_related(None)
        .order_by()
        .values_list("pk", "code", "tree_path")[: HOUSE_ORDER_MAX + 1]
    )
    house = [Account(pk=pk, code=code, tree_path=path, is_card=False) for pk, code, path in rows]
    # Without house accounts there is nothing to rank (and a bare constant in ORDER BY would be
    # read as a column number).
    house_order: list[Any] = []
    if house and len(house) <= HOUSE_ORDER_MAX:
        ranks = [When(pk=a.pk, then=Value(i)) for i, a in enumerate(tree_order(house))]
        house_order = [Case(*ranks, default=Value(len(ranks))).asc()]
    elif house:
        # ``tree_path`` still puts each account right after its parent; siblings then follow
        # their random path tokens.
        house_order = [Case(When(is_card=False, then=F("tree_path")), default=Value("")).asc()]
    return [
        "is_card",
        *house_order,
        F("account_type__tree_id").asc(nulls_last=True),
        F("account_type__lft").asc(nulls_last=True),
        "code",
        "pk",
    ]


def _page_number(text: str | None) -> int:
    try:
        return min(max(1, int(text or 1)), PAGE_NUMBER_MAX)
    except ValueError:
        return 1


def _safe_filename(text: str, fallback: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "", text) or fallback


class IndexView(StaffPermissionRequiredMixin, View):
    """Send staff to the first section they may open."""

    permission_required: tuple[str, ...] = ()

    def get(self, request: HttpRequest) -> HttpResponse:
        for permission, name in (
            ("accounts.view_account", "account_list"),
            ("accounts.view_transfer", "transfer_list"),
            ("accounts.view_reports", "report_list"),
            ("accounts.view_auditentry", "audit_list"),
        ):
            if request.user.has_perm(permission):
                return redirect(f"accounts_dashboard:{name}")
        raise PermissionDenied


class AccountListView(StaffPermissionRequiredMixin, ListView):
    permission_required = "accounts.view_account"
    template_name = "accounts/dashboard/account_list.html"
    context_object_name = "accounts"
    paginate_by = PAGE_SIZE

    def get_queryset(self) -> QuerySet[Account]:
        # Placeholders hold no legs of their own: show their children's total, as the tree does.
        accounts = (
            Account.objects.with_balances()
            .annotate(has_children=Exists(Account.objects.filter(parent=OuterRef("pk"))))
            .select_related("account_type", "primary_user")
        )
        self.filter_form = AccountFilterForm(self.request.GET or None)
        if not self.filter_form.is_valid():
            return accounts.order_by(*account_list_order(accounts))
        data = self.filter_form.cleaned_data
        text = data["q"].strip()
        if text:
            # A full code finds its account for everyone. Part of a code finds house accounts,
            # and cards only for staff who may see their codes: otherwise searching for
            # "7", "7K", "7KQ"... would read a card's code a character at a time.
            part_of_code = Q(code__icontains=text)
            if not may_see_card_codes(self.request.user):
                part_of_code &= Q(is_card=False)
            accounts = accounts.filter(
                Q(name__icontains=text)
                | part_of_code
                | Q(code=codes.normalise(text))
                | Q(code__iexact=text)
                | _user_lookups("primary_user", text)
            )
        if data["status"]:
            accounts = accounts.filter(status=data["status"])
        if data["kind"]:
            accounts = accounts.filter(kind=data["kind"])
        if data["account_type"]:
            accounts = accounts.filter(account_type=data["account_type"])
        if data["currency"]:
            accounts = accounts.filter(currency=data["currency"])
        if data["expiring"]:
            now = timezone.now()
            accounts = accounts.filter(
                status=Status.OPEN,
                end_date__gt=now,
                end_date__lte=now + datetime.timedelta(days=EXPIRING_SOON_DAYS),
            )
        return accounts.order_by(*account_list_order(accounts))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        return context


class AccountDetailView(StaffPermissionRequiredMixin, DetailView):
    """Balance, dates, users, a chart of the balance, and the statement, one page at a time."""

    permission_required = "accounts.view_account"
    template_name = "accounts/dashboard/account_detail.html"
    context_object_name = "account"
    queryset = Account.objects.select_related("account_type", "primary_user", "parent")

    @cached_property
    def placeholder(self) -> bool:
        """Whether the account only sums its children (and so takes no postings of its own)."""
        return self.object.is_placeholder()

    def get_template_names(self) -> list[str]:
        # A placeholder has no statement and no forms it could use: a page of its own.
        if self.placeholder:
            return ["accounts/dashboard/account_placeholder.html"]
        return super().get_template_names()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        account: Account = self.object
        if self.placeholder:
            context.update(placeholder_context(account))
            return context
        period = PeriodForm(self.request.GET or None)
        start, end = period.bounds() if period.is_valid() else (None, None)
        statement = reports.statement(
            account,
            start=start,
            end=end,
            page=_page_number(self.request.GET.get("page")),
            page_size=STATEMENT_PAGE_SIZE,
        )
        # The card's creator sees its code once, whatever their permissions: it is theirs to
        # hand over. Afterwards only staff holding accounts.view_card_code see it in full.
        session = getattr(self.request, "session", None)
        just_created = (
            account.is_card
            and session is not None
            and session.get(NEW_CARD_SESSION_KEY) == account.pk
        )
        if just_created:
            del session[NEW_CARD_SESSION_KEY]  # type: ignore[union-attr]
        children = list(account.children.order_by("code")[:PAGE_SIZE])
        # One more entry than shown, to know whether the full audit list has more.
        history = list(audit.entries_for(account)[: HISTORY_LENGTH_MAX + 1])
        context.update(
            balance=account.get_balance(),
            chart=charts.account_balance_chart(account),
            statement=statement,
            period_form=period,
            secondary_users=list(account.secondary_users.all()),
            children=children,
            full_code=not account.is_card or just_created or may_see_card_codes(self.request.user),
            just_created=just_created,
            moves_money=account.is_card and account.is_open() and not children,
            # Forms a refused action posted come back as they were typed (AccountActionView).
            top_up_form=kwargs.get("top_up_form", TopUpForm()),
            withdraw_form=kwargs.get("withdraw_form", WithdrawForm()),
            history=history[:HISTORY_LENGTH_MAX],
            pending_holds=pending_holds_of(account),
            history_continues=len(history) > HISTORY_LENGTH_MAX,
        )
        return context

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        if self.object.is_card and context["full_code"]:
            # A page holding a card's code is kept out of every cache, the browser's included.
            add_never_cache_headers(response)
        return response


def placeholder_context(account: Account) -> dict[str, Any]:
    """A placeholder's page: its children with their balances and the roll-up total.

    Each child's balance is rolled up over its own subtree in its own currency; the total is
    the placeholder's roll-up per currency, never adding amounts in different currencies.
    """
    children = list(
        Account.objects.with_balances()
        .filter(parent=account)
        .annotate(has_children=Exists(Account.objects.filter(parent=OuterRef("pk"))))
        .order_by("code", "pk")[: PAGE_SIZE + 1]
    )
    return {
        "children": children[:PAGE_SIZE],
        "more_children": len(children) > PAGE_SIZE,
        "balance": account.get_balance(),
        "other_balances": [
            (currency, amount)
            for currency, amount in account.get_balances().items()
            if currency != account.currency and amount
        ],
    }


class AccountStatementCsvView(StaffPermissionRequiredMixin, View):
    """The whole statement for the chosen period, read a page of legs at a time."""

    permission_required = "accounts.view_account"

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        account = get_object_or_404(Account, pk=pk)
        period = PeriodForm(request.GET or None)
        if period.is_bound and not period.is_valid():
            # A download cannot show a form error, and a statement for another period than
            # the one asked for would be a wrong file.
            return bad_filter_response(period)
        start, end = period.bounds() if period.is_bound else (None, None)
        currency = account.currency

        def rows() -> Iterator[list[Any]]:
            page = 1
            while True:
                statement = reports.statement(
                    account,
                    start=start,
                    end=end,
                    page=page,
                    page_size=reports.STATEMENT_PAGE_SIZE_MAX,
                )
                for line in statement.lines:
                    yield [
                        line.leg.created_at,
                        line.transfer.reference,
                        line.transfer.kind,  # the code, as every category in a CSV
                        line.transfer.description,
                        csv_amount(line.amount, currency),
                        csv_amount(line.balance, currency),
                        currency,
                        # Last, so files read by column position keep their meaning.
                        line.transfer.username,
                    ]
                if page >= statement.page_count:
                    return
                page += 1

        # A file name outlives the download (history, shared folders): never a card's code.
        name = (
            f"card-{account.pk}"
            if account.is_card
            else _safe_filename(account.code, str(account.pk))
        )
        return csv_response(
            f"statement-{name}.csv",
            STATEMENT_CSV_HEADER,
            rows(),
        )
