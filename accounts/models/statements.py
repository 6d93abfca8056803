"""Bank statements: what a bank says happened on a bank account, and how it meets the ledger.

A :class:`StatementImport` is one file read into one bank account; each of its rows that was
new became a :class:`StatementLine`. Lines are never edited (the admin shows them read-only):
they are reconciled with at most one :class:`~accounts.models.Transfer`, and a transfer with at
most one line, which the database enforces with a one-to-one column.

De-duplication is per bank account: a line's ``fingerprint`` hashes what the bank said (date,
amount, texts), and ``occurrence`` counts identical lines within one file, so two genuine
identical payments on one day are lines 1 and 2 of that fingerprint, and importing the file
again (or one that overlaps it) meets the unique (bank account, fingerprint, occurrence) index
and adds nothing.

Reconciling moves money only through :mod:`accounts.facade` (reached through the models' one
gateway, ``account._facade``): :meth:`StatementLine.create_transaction` posts a transfer
between the bank account and another account dated as the line; :meth:`unreconcile` reverses a
transfer the line created and merely detaches one it was matched with. Nothing is deleted.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import exceptions, money
from ..compat import check_constraint
from ..fields import money_field
from .account import Account, _facade
from .ledger import Transfer

#: The longest description, payee and bank reference a line keeps (longer fields are refused).
STATEMENT_TEXT_LENGTH_MAX = 1000
#: The longest payee and bank reference columns.
STATEMENT_NAME_LENGTH_MAX = 255
#: How much of a source row a line keeps, for people to check it against the file.
RAW_ROW_LENGTH_MAX = 2000
#: How many rejected rows an import records (the count covers them all).
REJECTIONS_KEPT_MAX = 100


class StatementFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    CAMT053 = "camt053", _("CAMT.053")
    #: OFX 1.x (SGML) and 2.x (XML), and Quicken's QFX, which is OFX with a bank id.
    OFX = "ofx", _("OFX/QFX")


class ImportState(models.TextChoices):
    """Where an import stands: every row in, some rows rejected, or every line reconciled."""

    IMPORTED = "imported", _("imported")
    PARTIAL = "partial", _("imported in part")
    RECONCILED = "reconciled", _("reconciled")


class Reconciliation(models.TextChoices):
    """How a line met the ledger: by a transfer it posted, or one that was already there."""

    CREATED = "created", _("transfer created")
    MATCHED = "matched", _("existing transfer matched")


class StatementImport(models.Model):
    """One statement file read into one bank account."""

    bank_account = models.ForeignKey(
        Account,
        verbose_name=_("bank account"),
        on_delete=models.PROTECT,
        related_name="statement_imports",
    )
    source = models.CharField(_("format"), max_length=16, choices=StatementFormat.choices)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    #: The SHA-256 of the file's bytes, to recognise a file seen before.
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    #: The column mapping (CSV) or what was read (CAMT.053), remembered for the next file.
    mapping = models.JSONField(_("mapping"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lines_added = models.PositiveIntegerField(_("lines added"), default=0)
    lines_duplicate = models.PositiveIntegerField(_("duplicates skipped"), default=0)
    lines_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    #: The first rejected rows: ``[{"row": 12, "reason": "..."}]``.
    rejections = models.JSONField(_("rejected rows"), default=list, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=ImportState.choices, default=ImportState.IMPORTED
    )

    class Meta:
        verbose_name = _("statement import")
        verbose_name_plural = _("statement imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.file_name or gettext("Statement import #%(id)s") % {"id": self.pk}

    def update_state(self) -> None:
        """Mark the import reconciled once every line is, and back when one is undone."""
        open_lines = self.lines.filter(reconciled_transfer__isnull=True).exists()
        if not open_lines and self.lines.exists():
            state = ImportState.RECONCILED
        else:
            state = ImportState.PARTIAL if self.lines_rejected else ImportState.IMPORTED
        if state != self.state:
            self.state = state
            self.save(update_fields=["state"])


class StatementLine(models.Model):
    """One row of a bank statement: a signed amount in the bank account's currency."""

    statement_import = models.ForeignKey(
        StatementImport,
        verbose_name=_("statement import"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    bank_account = models.ForeignKey(
        Account,
        verbose_name=_("bank account"),
        on_delete=models.PROTECT,
        related_name="statement_lines",
    )
    date = models.DateField(_("date"))
    #: Positive when money came into the bank account, negative when it left.
    amount = money_field(verbose_name=_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    description = models.TextField(_("description"), blank=True)
    payee = models.CharField(_("payee"), max_length=STATEMENT_NAME_LENGTH_MAX, blank=True)
    bank_reference = models.CharField(
        _("bank reference"), max_length=STATEMENT_NAME_LENGTH_MAX, blank=True
    )
    row_number = models.PositiveIntegerField(_("row"))
    raw_row = models.TextField(_("source row"), blank=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    occurrence = models.PositiveIntegerField(_("occurrence"), default=1)
    reconciled_transfer = models.OneToOneField(
        Transfer,
        verbose_name=_("reconciled transfer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="statement_line",
    )
    reconciliation = models.CharField(
        _("reconciliation"), max_length=16, choices=Reconciliation.choices, blank=True
    )
    reconciled_at = models.DateTimeField(_("reconciled at"), null=True, blank=True)
    reconciled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reconciled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["bank_account", "fingerprint", "occurrence"],
                name="accounts_statementline_unique_fingerprint",
            ),
            check_constraint(~Q(amount=0), "accounts_statementline_amount_not_zero"),
            check_constraint(Q(occurrence__gte=1), "accounts_statementline_occurrence_positive"),
            check_constraint(
                Q(reconciled_transfer__isnull=True, reconciliation="")
                | (
                    Q(reconciled_transfer__isnull=False, reconciled_at__isnull=False)
                    & ~Q(reconciliation="")
                ),
                "accounts_statementline_reconciled_whole",
            ),
        ]
        indexes = [
            models.Index(fields=["bank_account", "date"], name="accounts_stmtline_account_date")
        ]

    def __str__(self) -> str:
        return f"{self.date} {money.format_amount(self.amount, self.currency)} {self.description}"

    @property
    def is_reconciled(self) -> bool:
        return self.reconciled_transfer_id is not None

    @property
    def is_money_in(self) -> bool:
        return self.amount > 0

    def posting_date(self) -> datetime.datetime:
        """The line's date as a posting moment: noon there, or now for a line dated today."""
        noon = datetime.datetime.combine(self.date, datetime.time(12))
        return min(timezone.make_aware(noon), timezone.now())

    # -- reconciliation (money moves through the facade only) --------------------------------

    def create_transaction(
        self, to_account: Account, *, user: Any = None, description: str | None = None
    ) -> Transfer:
        """Post this line between its bank account and ``to_account``, and reconcile with it.

        Money in debits the bank account (the transfer's source) and credits ``to_account``;
        money out is the reverse. The transfer is dated as the line. Atomic: a refusal of the
        facade leaves the line unreconciled and the ledger unchanged.
        """
        with transaction.atomic():
            line = self._locked()
            if line.is_reconciled:
                raise exceptions.AlreadyReconciled(
                    gettext("Statement line %(line)s is already reconciled.") % {"line": line}
                )
            bank = line.bank_account
            source, destination = (bank, to_account) if line.is_money_in else (to_account, bank)
            if not bank.is_bank:
                raise exceptions.NotBankAccount(
                    gettext("Account %(account)s is not a bank account.") % {"account": bank}
                )
            if getattr(to_account, "currency", line.currency) != line.currency:
                raise exceptions.CurrencyMismatch(
                    gettext("The line is in %(line)s but account %(account)s is in %(other)s.")
                    % {"line": line.currency, "account": to_account, "other": to_account.currency}
                )
            posted = _facade().transfer(
                source,
                destination,
                abs(line.amount),
                user=user,
                description=line.description if description is None else description,
                merchant_reference=line.bank_reference[:128] or None,
                date=line.posting_date(),
            )
            line._mark(posted, Reconciliation.CREATED, user)
        self._copy_from(line)
        return posted

    #: The seed's name, next to the ledger's own.
    create_transfer = create_transaction

    def reconcile_with(self, existing: Transfer, *, user: Any = None) -> None:
        """Reconcile this line with a transfer already in the ledger (a payment recorded).

        The transfer must move the line's amount, in its currency, into the bank account for
        money in and out of it for money out, not be reversed, and be reconciled with no
        other line.
        """
        if not isinstance(existing, Transfer) or existing.pk is None:
            raise exceptions.InvalidTransfer(
                gettext("A statement line is reconciled only with a saved transfer.")
            )
        with transaction.atomic():
            line = self._locked()
            if (
                line.is_reconciled
                or StatementLine.objects.filter(reconciled_transfer=existing).exists()
            ):
                raise exceptions.AlreadyReconciled(
                    gettext("Statement line %(line)s or transfer %(transfer)s is reconciled.")
                    % {"line": line, "transfer": existing}
                )
            if not line.matches(existing):
                raise exceptions.ReconciliationMismatch(
                    gettext(
                        "Transfer %(transfer)s does not move %(amount)s %(currency)s "
                        "%(direction)s bank account %(account)s."
                    )
                    % {
                        "transfer": existing,
                        "amount": money.format_amount(abs(line.amount), line.currency),
                        "currency": line.currency,
                        "direction": gettext("into") if line.is_money_in else gettext("out of"),
                        "account": line.bank_account,
                    }
                )
            line._mark(existing, Reconciliation.MATCHED, user)
        self._copy_from(line)

    def matches(self, candidate: Transfer) -> bool:
        """Whether ``candidate`` moves this line's money on its bank account, in its direction.

        The transfer's legs on the bank account must come to the line's amount: a plain
        transfer's, or one leg of a multi-leg entry (a shop paid from the bank and split over
        two expenses). Legs are signed credit-positive, and money into a bank (an asset) is a
        debit, so the legs sum to the line's amount negated.
        """
        if candidate.pk is None or candidate.is_reversal():
            return False
        moved = candidate.transactions.filter(account_id=self.bank_account_id).aggregate(
            total=Sum("amount")
        )["total"]
        return (
            moved is not None
            and moved == -self.amount
            # A reversed transfer no longer moves anything.
            and not Transfer.objects.filter(reverses=candidate).exists()
        )

    def unreconcile(self, *, user: Any = None, reason: str | None = None) -> Transfer | None:
        """Undo the reconciliation; return the reversal posted, if any.

        A transfer the line created is reversed through the facade (the ledger keeps both); a
        transfer that was already there and only matched is left alone and merely detached.
        """
        with transaction.atomic():
            line = self._locked()
            if not line.is_reconciled:
                raise exceptions.NotReconciled(
                    gettext("Statement line %(line)s is not reconciled.") % {"line": line}
                )
            reversal = None
            posted = line.reconciled_transfer
            already_reversed = Transfer.objects.filter(reverses=posted).exists()
            # A transfer reversed by other means has been undone already: only detach it.
            if line.reconciliation == Reconciliation.CREATED and not already_reversed:
                reversal = _facade().reverse(
                    posted,
                    user=user,
                    reason=reason,
                    description=gettext("Statement line unreconciled: %(line)s")
                    % {"line": str(line)[:1900]},
                )
            StatementLine.objects.filter(pk=line.pk).update(
                reconciled_transfer=None, reconciliation="", reconciled_at=None, reconciled_by=None
            )
            line.statement_import.update_state()
        self.refresh_from_db()
        return reversal

    def _locked(self) -> StatementLine:
        if self.pk is None:
            raise exceptions.InvalidTransfer(gettext("The statement line is not saved."))
        return (
            StatementLine.objects.select_for_update()
            .select_related("bank_account", "statement_import")
            .get(pk=self.pk)
        )

    def _mark(self, posted: Transfer, how: str, user: Any) -> None:
        self.reconciled_transfer = posted
        self.reconciliation = how
        self.reconciled_at = timezone.now()
        self.reconciled_by = user if getattr(user, "pk", None) is not None else None
        try:
            with transaction.atomic():
                self.save(
                    update_fields=[
                        "reconciled_transfer",
                        "reconciliation",
                        "reconciled_at",
                        "reconciled_by",
                    ]
                )
        except IntegrityError as error:  # another line took the transfer meanwhile
            raise exceptions.AlreadyReconciled(
                gettext("Statement line %(line)s or transfer %(transfer)s is reconciled.")
                % {"line": self, "transfer": posted}
            ) from error
        self.statement_import.update_state()

    def _copy_from(self, line: StatementLine) -> None:
        for name in ("reconciled_transfer", "reconciliation", "reconciled_at", "reconciled_by"):
            setattr(self, name, getattr(line, name))


class MatchingRule(models.Model):
    """``description contains X`` → post the line to an account, for every future line."""

    class Direction(models.TextChoices):
        ANY = "any", _("money in and out")
        IN = "in", _("money in")
        OUT = "out", _("money out")

    bank_account = models.ForeignKey(
        Account,
        verbose_name=_("bank account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="matching_rules",
        help_text=_("Empty: every bank account."),
    )
    pattern = models.CharField(
        _("description contains"),
        max_length=255,
        help_text=_("Matched against the line's description and payee, ignoring case."),
    )
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.ANY
    )
    account = models.ForeignKey(
        Account,
        verbose_name=_("post to"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)
    #: Rules are tried in ascending order; the first that matches a line wins.
    position = models.PositiveIntegerField(_("position"), default=100)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("matching rule")
        verbose_name_plural = _("matching rules")
        ordering = ["position", "pk"]
        constraints = [
            check_constraint(~Q(pattern=""), "accounts_matchingrule_pattern_not_empty"),
            check_constraint(
                ~Q(bank_account=F("account")), "accounts_matchingrule_not_to_its_bank"
            ),
        ]

    def __str__(self) -> str:
        return gettext("“%(pattern)s” → %(account)s") % {
            "pattern": self.pattern,
            "account": self.account,
        }

    def applies_to(self, line: StatementLine) -> bool:
        if self.bank_account_id is not None and self.bank_account_id != line.bank_account_id:
            return False
        if self.direction == self.Direction.IN and line.amount < 0:
            return False
        if self.direction == self.Direction.OUT and line.amount > 0:
            return False
        needle = self.pattern.casefold()
        return needle in line.description.casefold() or needle in line.payee.casefold()


class RuleApplication(models.Model):
    """The record of a rule reconciling a line: which rule, which line, which transfer."""

    rule = models.ForeignKey(
        MatchingRule,
        verbose_name=_("matching rule"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    line = models.ForeignKey(
        StatementLine,
        verbose_name=_("statement line"),
        on_delete=models.CASCADE,
        related_name="rule_applications",
    )
    transfer = models.ForeignKey(
        Transfer, verbose_name=_("transfer"), on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField(_("applied at"), default=timezone.now)

    class Meta:
        verbose_name = _("rule application")
        verbose_name_plural = _("rule applications")
        ordering = ["-applied_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.rule} / {self.line}"
