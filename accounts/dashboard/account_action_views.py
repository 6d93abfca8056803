"""Actions of the staff dashboard on accounts: create, edit, top up and withdraw.

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

from typing import Any

from django import forms
from django.contrib import messages
from django.db import IntegrityError, router
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views import View
from django.views.generic import FormView, UpdateView

from accounts import exceptions, facade
from accounts.exceptions import AccountException
from accounts.ledger import retries
from accounts.models import Account, Surface
from accounts.money import money_text

from .account_forms import AccountCreateForm, AccountEditForm
from .account_views import NEW_CARD_SESSION_KEY, AccountDetailView
from .action_forms import TopUpForm, WithdrawForm
from .common import FacadeActionMixin, StaffPermissionRequiredMixin, record_action
from .form_fields import core_sibling

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

        def run() -> Account:
            # If the load is refused, the new account is rolled back with it. The member of
            # staff is the load's user: loading from a card is spending from it.
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
            return account

        try:
            # One transaction, retried whole on a deadlock or serialization failure.
            account = retries.in_transaction(router.db_for_write(Account), run)
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
    account or another card (:class:`~accounts.dashboard.action_forms.WithdrawForm`).
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
