"""The rules of accounts.rules on plain values, and the model and the facade asking them alone."""

from __future__ import annotations

import ast
import inspect
import textwrap
from decimal import Decimal
from types import SimpleNamespace

import pytest

from accounts import rules
from accounts.ledger import checks
from accounts.models import Account

from ..test_architecture import import_graph

D = Decimal


@pytest.mark.parametrize(
    ("balance", "new_balance", "limit", "within"),
    [
        (D("10"), D("0"), D("0"), True),  # spending down to zero
        (D("10"), D("-0.01"), D("0"), False),  # one cent past a zero limit
        (D("10"), D("-5"), D("5"), True),  # down to the limit exactly
        (D("-10"), D("-8"), D("5"), True),  # raising a balance already past the limit
        (D("-10"), D("-11"), D("5"), False),  # lowering it further
        (D("0"), D("-1000000"), None, True),  # no limit at all
    ],
)
def test_within_credit_limit(balance, new_balance, limit, within):
    assert rules.within_credit_limit(balance, new_balance, limit) is within


class User(SimpleNamespace):
    def has_perm(self, name: str) -> bool:
        return name in self.perms


def never() -> bool:
    raise AssertionError("this fact should not have been asked for")


@pytest.mark.parametrize(
    ("user", "primary", "has_secondary", "is_secondary", "may"),
    [
        (None, None, lambda: False, never, True),  # nobody's account: the holder may
        (None, 7, never, never, False),  # somebody's, and no user
        (User(pk=7, perms=()), 7, never, never, True),  # its primary user
        (User(pk=8, perms=()), 7, never, lambda: True, True),  # a secondary user
        (User(pk=8, perms=()), 7, never, lambda: False, False),  # somebody else
        (User(pk=8, perms=(rules.SPEND_FROM_ANY_ACCOUNT,)), 7, never, lambda: False, True),
        (User(pk=None, perms=()), None, lambda: True, never, False),  # anonymous, users exist
    ],
)
def test_may_spend_asks_only_for_the_facts_it_needs(
    user, primary, has_secondary, is_secondary, may
):
    assert (
        rules.may_spend(
            user,
            primary_user_id=primary,
            has_secondary_users=has_secondary,
            user_is_secondary=is_secondary,
        )
        is may
    )


def test_the_rules_import_nothing_of_the_app():
    assert import_graph()["accounts.rules"] == set()


def _calls(function: object) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return {
        f"{node.func.value.id}.{node.func.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
    }


def test_the_model_and_the_facade_ask_the_same_rules():
    assert "rules.within_credit_limit" in _calls(Account.is_debit_permitted)
    assert "rules.within_credit_limit" in _calls(checks.check_limits)
    assert "rules.may_spend" in _calls(Account.can_be_authorised_by)
    assert "rules.may_spend" in _calls(checks.is_authorised)
