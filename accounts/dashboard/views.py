"""Pages and actions of the staff dashboard: accounts and transfers.

Every page needs an active member of staff holding the model permission the view names. Every
action is a POST (so Django's CSRF protection applies), moves money only through
:mod:`accounts.facade`, and passes the member of staff as ``user`` so the transfer records who
made it. Refusals come back as :class:`~accounts.exceptions.AccountException` and are shown
with their message; nothing is written when one is raised.

Money is loaded onto and taken off customer cards only (``Account.is_card``): the top-up and
withdraw forms are offered on a card's page alone, and their views refuse any other account.
A withdrawal pays into a core account or another card, never into a house account, so value
cannot leave the customers' side of the books except as a sale, an expiry or a refund to the
source. Reversals and refunds, which the facade trusts its caller with, need their own
permissions (``accounts.reverse_transfer``, ``accounts.refund_transfer``). Freezing, thawing,
closing, reversing and refunding go through a confirmation page that asks for a reason
(:mod:`accounts.dashboard.confirmations`).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.functional import cached_property
from django.utils.translation import gettext, gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView, ListView, UpdateView

from accounts import audit, codes, exceptions, facade, reports
from accounts.exceptions import AccountException
from accounts.models import Account, Status, Surface, Transaction, Transfer, TransferKind
from accounts.money import money_text

from . import charts
from .common import (
    PAGE_SIZE,
    FacadeActionMixin,
    StaffPermissionRequiredMixin,
    bad_filter_response,
    csv_amount,
    csv_response,
    may_see_card_codes,
    record_action,
)
from .forms import (
    AccountCreateForm,
    AccountEditForm,
    AccountFilterForm,
    PeriodForm,
    TopUpForm,
    TransferFilterForm,
    WithdrawForm,
    core_sibling,
    day_end,
    day_start,
    is_storable_text,
)
from .report_views import tree_order

#: Lines per page of an account's statement on its page.
STATEMENT_PAGE_SIZE = 25
#: The latest entries of the audit trail shown on an account's page; the audit list has the rest.
HISTORY_LENGTH_MAX = 20
#: What "expiring soon" means in the account list filter.
EXPIRING_SOON_DAYS = 30
#: The highest page number read from a URL; beyond it the last page is as far as anyone gets.
PAGE_NUMBER_MAX = 1_000_000
#: The longest text taken for a transfer reference in a URL (references are 19 characters;
#: typed with spaces, a little more).
REFERENCE_LENGTH_MAX = 64
#: The session key naming the card whose full code its creator sees once, on its page.
NEW_CARD_SESSION_KEY = "accounts_dashboard_new_card"
#: The refusal of a top-up or withdrawal on an account that is not a card.
NOT_A_CARD = gettext_lazy(
    "%(account)s is not a customer card: the dashboard loads money onto cards and takes it off "
    "them, never house, core or placeholder accounts."
)
#: The descriptions the dashboard gives the transfers it posts when staff type none. They are
#: data in the ledger, not messages: stored in English whatever the language of the moment, as
#: the facade's own defaults ("Initial load", "Top-up"), so the books read the same for all.
OPENING_BALANCE_DESCRIPTION = "Opening balance"
WITHDRAWAL_DESCRIPTION = "Withdrawal"
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


# -- accounts --------------------------------------------------------------------------------


def _user_lookups(prefix: str, text: str) -> Q:
    """Match the user behind ``prefix`` by username or e-mail address, whatever the user model."""
    model = get_user_model()
    query = Q(**{f"{prefix}__{model.USERNAME_FIELD}__icontains": text})
    email = model.get_email_field_name()
    if any(f.name == email for f in model._meta.get_fields()):
        query |= Q(**{f"{prefix}__{email}__icontains": text})
    return query


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


class AccountCreateView(StaffPermissionRequiredMixin, FormView):
    """Create an account and load its opening balance in one atomic step."""

    permission_required = "accounts.add_account"
    template_name = "accounts/dashboard/account_form.html"
    form_class = AccountCreateForm
    extra_context = {"title": gettext_lazy("New account")}

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def form_valid(self, form: AccountCreateForm) -> HttpResponse:
        data = form.cleaned_data
        amount = data["amount"]
        fields = form.account_fields()
        # create_account() gives its ``description`` to the load, so the account's own is set
        # in the same transaction, right after.
        account_description = fields.pop("description")
        create = facade.create_card if form.is_card() else facade.create_account
        try:
            with transaction.atomic():
                # If the load is refused, the new account is rolled back with it. The member
                # of staff is the load's user: loading from a card is spending from it.
                account = create(
                    amount=amount,
                    source=data["source"] if amount is not None else None,
                    user=self.request.user,
                    description=OPENING_BALANCE_DESCRIPTION,
                    **fields,
                )
                if account_description:
                    account.description = account_description
                    account.save(update_fields=["description", "updated_at"])
        except AccountException as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        except IntegrityError:
            form.add_error("code", gettext("Another account took this code meanwhile; try again."))
            return self.form_invalid(form)
        # str(account) masks a card's code: the message, the log line and the admin's history
        # never hold it.
        values = {"account": account, "amount": money_text(amount, account.currency)}
        if amount is None:
            logged = gettext("Created (dashboard).")
            if account.is_card:
                done = gettext("Created card %(account)s.") % values
            else:
                done = gettext("Created account %(account)s.") % values
        else:
            logged = gettext("Created with an opening balance of %(amount)s (dashboard).") % values
            if account.is_card:
                done = (
                    gettext("Created card %(account)s with an opening balance of %(amount)s.")
                    % values
                )
            else:
                done = (
                    gettext("Created account %(account)s with an opening balance of %(amount)s.")
                    % values
                )
        record_action(self.request, account, logged, added=True)
        messages.success(self.request, done)
        if account.is_card:
            self.request.session[NEW_CARD_SESSION_KEY] = account.pk
        return redirect("accounts_dashboard:account_detail", pk=account.pk)


#: What the edit form changes, through :func:`accounts.facade.edit_account`.
EDITED_FIELDS = ("name", "description", "account_type", "end_date", "credit_limit")


class AccountEditView(StaffPermissionRequiredMixin, UpdateView):
    """Edit the descriptive fields and the credit limit."""

    permission_required = "accounts.change_account"
    template_name = "accounts/dashboard/account_form.html"
    form_class = AccountEditForm
    model = Account
    context_object_name = "account"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["title"] = gettext("Edit %(account)s") % {"account": self.object}
        return context

    def form_valid(self, form: AccountEditForm) -> HttpResponse:  # type: ignore[override]
        """Save through :func:`accounts.facade.edit_account`, which locks the row, checks the
        credit limit against the locked balance and records the change in the audit trail."""
        changes = {name: form.cleaned_data.get(name) for name in EDITED_FIELDS}
        try:
            account = facade.edit_account(
                Account.objects.get(pk=self.object.pk),  # not the form's instance, changed already
                user=self.request.user,
                reason=form.cleaned_data.get("reason") or None,
                surface=Surface.DASHBOARD,
                **changes,
            )
        except exceptions.InvalidCreditLimit as exc:
            current = Account.objects.get(pk=self.object.pk)
            if form.check_credit_limit(current.balance, current.currency):
                form.add_error("credit_limit", exc.message)
            return self.form_invalid(form)
        except AccountException as exc:  # the model's own checks, such as a card's limit
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        changed = [name for name in EDITED_FIELDS if name in form.changed_data]
        if changed:
            what = ", ".join(
                str(getattr(Account._meta.get_field(name), "verbose_name", name))
                for name in changed
            )
            logged = gettext("Edited %(fields)s (dashboard).") % {"fields": what}
        else:
            logged = gettext("Edited nothing (dashboard).")
        record_action(self.request, account, logged)
        messages.success(self.request, gettext("Saved account %(account)s.") % {"account": account})
        return redirect("accounts_dashboard:account_detail", pk=account.pk)


class AccountActionView(FacadeActionMixin, StaffPermissionRequiredMixin, View):
    """A POST that moves money on one card, then returns to its page with a message.

    A refused action shows the card's page again with the form as it was typed and its errors
    (status 200, as the other forms of the dashboard), instead of a redirect that would lose it.
    """

    permission_required = "accounts.change_account"
    http_method_names = ["post"]
    form_class: type[forms.Form] = TopUpForm
    #: The name the account page gives this action's form.
    form_context_name = "top_up_form"
    #: Whether the action moves money, which the dashboard does on customer cards only.
    cards_only = False

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = get_object_or_404(Account, pk=pk)
        if self.cards_only and not account.is_card:
            # Such a page offers no form, so nothing typed is lost by going back to it.
            messages.error(request, NOT_A_CARD % {"account": account})
            return redirect("accounts_dashboard:account_detail", pk=account.pk)
        self.account = account
        form = self.form_class(request.POST)
        if form.is_valid():
            return self.perform(form)
        return self.show_again(form)

    def done_url(self) -> str:
        return reverse("accounts_dashboard:account_detail", args=[self.account.pk])

    def show_again(self, form: forms.Form) -> HttpResponse:
        """The account's page, with ``form`` bound to what was posted and showing its errors."""
        page = AccountDetailView()
        page.setup(self.request, pk=self.account.pk)
        # Read the account afresh: a refused act may have left the instance with stale values.
        page.object = page.get_object()
        context = page.get_context_data(object=page.object, **{self.form_context_name: form})
        return page.render_to_response(context)

    account: Account


class AccountTopUpView(AccountActionView):
    """Load money onto a card from the core source account of its currency."""

    form_class = TopUpForm
    cards_only = True

    def act(self, form: TopUpForm) -> str:
        account = self.account
        amount = form.cleaned_data["amount"]
        made = facade.top_up(
            account,
            amount,
            user=self.request.user,
            description=form.cleaned_data["description"] or None,
        )
        return gettext(
            "Topped up %(amount)s (transfer %(reference)s); the balance is now %(balance)s."
        ) % {
            "amount": money_text(amount, account.currency),
            "reference": made.reference,
            "balance": money_text(account.balance, account.currency),
        }


class AccountWithdrawView(AccountActionView):
    """Pay money out of the account into another, the sales account unless told otherwise.

    The member of staff is the ``user`` of the transfer, so the facade's one authorisation rule
    applies: an account with users can only be spent from by one of them or by someone holding
    ``accounts.spend_from_any_account``. Only cards are withdrawn from, and only into a core
    account or another card (:class:`~accounts.dashboard.forms.WithdrawForm`).
    """

    form_class = WithdrawForm
    form_context_name = "withdraw_form"
    cards_only = True

    def act(self, form: WithdrawForm) -> str:
        account = self.account
        amount = form.cleaned_data["amount"]
        destination = core_sibling(form.cleaned_data["destination"], account.currency)
        made = facade.transfer(
            account,
            destination,
            amount,
            user=self.request.user,
            description=form.cleaned_data["description"] or WITHDRAWAL_DESCRIPTION,
        )
        return gettext(
            "Withdrew %(amount)s to %(destination)s (transfer %(reference)s); "
            "the balance is now %(balance)s."
        ) % {
            "amount": money_text(amount, account.currency),
            "destination": destination,
            "reference": made.reference,
            "balance": money_text(account.balance, account.currency),
        }


# -- transfers -------------------------------------------------------------------------------


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
