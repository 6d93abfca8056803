"""Meeting the ledger: suggested transfers for a line, and rules that reconcile lines.

A suggestion is a transfer already in the ledger that :meth:`StatementLine.matches` the line
(its leg on the bank account moves the line's amount in its direction; a multi-leg entry too),
not reconciled yet, dated within ``SUGGESTION_WINDOW_DAYS`` of the line, ranked by date
proximity and then by how alike the descriptions are (:mod:`difflib`, in any word order).

A rule (:class:`~accounts.models.MatchingRule`) posts a line to its account through
:meth:`StatementLine.create_transaction`; each application is recorded as a
:class:`~accounts.models.RuleApplication`. A line the ledger refuses (a closed account, another
currency, a bank account that may not go overdrawn) stays unreconciled for people to look at.

:func:`reconcile_lines` posts several lines of one bank account to one account in one atomic
step: all of them, or, at the first refusal, none.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from .. import exceptions
from ..models import (
    Account,
    MatchingRule,
    RuleApplication,
    StatementLine,
    Transaction,
    Transfer,
    TransferKind,
)

#: How far from the line's date a suggested transfer may be.
SUGGESTION_WINDOW_DAYS = 14
#: How many suggestions a line gets.
SUGGESTIONS_MAX = 5
#: A word of a description, for comparing descriptions whatever their word order.
_WORD = re.compile(r"\w+")
#: How much the date counts against the description in a suggestion's score.
DATE_WEIGHT = 0.6
#: The most lines :func:`reconcile_lines` posts in one step (one request of the dashboard):
#: each is a transfer posted with the bank account's row locked until the last one.
BULK_RECONCILE_MAX = 50


@dataclass(frozen=True)
class Suggestion:
    """A transfer a line could be reconciled with, and why it ranks where it does."""

    transfer: Transfer
    score: float
    days_apart: int
    similarity: float


def _similarity(left: str, right: str) -> float:
    """How alike two descriptions are, from 0 to 1, in any case and word order.

    Banks reorder what people wrote ("Rent: Ana" arrives as "ANA RENT"), so the texts are
    compared as written and with their words sorted, and the better of the two counts.
    """
    left, right = left.casefold().strip(), right.casefold().strip()
    if not left or not right:
        return 0.0
    as_written = difflib.SequenceMatcher(None, left, right).ratio()
    words = difflib.SequenceMatcher(None, _sorted_words(left), _sorted_words(right)).ratio()
    return max(as_written, words)


def _sorted_words(text: str) -> str:
    return " ".join(sorted(_WORD.findall(text)))


def suggest(line: StatementLine, *, limit: int = SUGGESTIONS_MAX) -> list[Suggestion]:
    """The transfers ``line`` could be reconciled with, best first.

    A candidate has a leg on the bank account of the line's amount, in its direction (see
    :meth:`StatementLine.matches`), dated within the window: a plain transfer or a multi-leg
    entry alike.
    """
    if line.is_reconciled:
        return []
    window = datetime.timedelta(days=SUGGESTION_WINDOW_DAYS + 1)
    noon = line.posting_date()
    legs = (
        Transaction.objects.filter(
            account=line.bank_account_id,
            amount=-line.amount,
            created_at__range=(noon - window, noon + window),
            transfer__statement_line__isnull=True,
            transfer__reversal__isnull=True,
        )
        .exclude(transfer__kind=TransferKind.REVERSAL)
        .select_related("transfer")
        .order_by("-created_at", "-pk")[:200]
    )
    ranked = []
    text = " ".join(part for part in (line.description, line.payee) if part)
    found = [
        leg
        for leg in legs
        if abs((timezone.localdate(leg.created_at) - line.date).days) <= SUGGESTION_WINDOW_DAYS
    ]
    # The ledger keeps one leg per account in a transfer: each leg found is one candidate.
    for leg in found:
        candidate = leg.transfer
        days = abs((timezone.localdate(leg.created_at) - line.date).days)
        other = " ".join(
            part for part in (candidate.description, candidate.merchant_reference or "") if part
        )
        similarity = _similarity(text, other)
        closeness = 1 - days / (SUGGESTION_WINDOW_DAYS + 1)
        score = DATE_WEIGHT * closeness + (1 - DATE_WEIGHT) * similarity
        ranked.append(Suggestion(candidate, round(score, 4), days, round(similarity, 4)))
    ranked.sort(key=lambda s: (-s.score, s.days_apart, -s.transfer.pk))
    return ranked[:limit]


def rules_for(bank_account_id: int) -> list[MatchingRule]:
    return list(
        MatchingRule.objects.filter(is_active=True)
        .filter(Q(bank_account__isnull=True) | Q(bank_account=bank_account_id))
        .select_related("account")
        .order_by("position", "pk")
    )


def apply_rules(lines: Iterable[StatementLine], *, user: Any = None) -> int:
    """Reconcile each unreconciled line by the first active rule that matches it.

    Returns how many lines were reconciled. Each line is its own transaction: one the ledger
    refuses is left unreconciled and the others go on.
    """
    if not MatchingRule.objects.filter(is_active=True).exists():
        return 0
    rules: dict[int, list[MatchingRule]] = {}
    applied = 0
    for line in lines:
        if line.is_reconciled:
            continue
        if line.bank_account_id not in rules:
            rules[line.bank_account_id] = rules_for(line.bank_account_id)
        rule = next((r for r in rules[line.bank_account_id] if r.applies_to(line)), None)
        if rule is None:
            continue
        try:
            with transaction.atomic():
                posted = line.create_transaction(rule.account, user=user)
                RuleApplication.objects.create(rule=rule, line=line, transfer=posted)
        except exceptions.AccountException:
            continue
        applied += 1
    return applied


def reconcile_lines(
    bank_account: Account,
    line_ids: Iterable[int],
    to_account: Account,
    *,
    user: Any = None,
) -> list[Transfer]:
    """Post every line named to ``to_account``, as one step: all of them or none.

    The lines must be ``bank_account``'s and unreconciled; there must be one to
    :data:`BULK_RECONCILE_MAX`. Each is posted as
    :meth:`StatementLine.create_transaction` posts one, oldest first; the first refusal (of
    these checks or of the ledger) rolls back every line posted before it.
    """
    wanted = sorted(set(line_ids))
    if not 1 <= len(wanted) <= BULK_RECONCILE_MAX:
        raise exceptions.ReconciliationMismatch(
            gettext("Choose between 1 and %(limit)d lines to reconcile at once.")
            % {"limit": BULK_RECONCILE_MAX}
        )
    with transaction.atomic():
        # Locked in primary-key order, as every writer of several lines locks them.
        lines = list(StatementLine.objects.select_for_update().filter(pk__in=wanted).order_by("pk"))
        strangers = set(wanted) - {
            line.pk for line in lines if line.bank_account_id == bank_account.pk
        }
        if strangers:
            raise exceptions.ReconciliationMismatch(
                gettext("Lines %(lines)s are not statement lines of bank account %(account)s.")
                % {"lines": ", ".join(map(str, sorted(strangers))), "account": bank_account}
            )
        done = [line for line in lines if line.is_reconciled]
        if done:
            raise exceptions.AlreadyReconciled(
                gettext("Statement line %(line)s is already reconciled.") % {"line": done[0]}
            )
        lines.sort(key=lambda line: (line.date, line.pk))
        return [line.create_transaction(to_account, user=user) for line in lines]
