"""The forms of the bank statement pages: the upload, the column mapping, the bulk reconcile.

The mapping form names columns by position, not by name: the names depend on which row holds
them, which the same form lets the person change, so a choice stays put when the header row
moves. :meth:`ColumnMappingForm.mapping` turns the positions back into the names the importer
remembers for the bank account. The form carries the SHA-256 of the file it was drawn for, so
an import never applies one file's columns to another file.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import statements
from accounts.models import Account

#: How many of the file's first rows are offered as the header row (more when the header found
#: is further down).
HEADER_ROWS_OFFERED = 10
#: How much of a row is shown in the header row's choices.
HEADER_ROW_TEXT_MAX = 80
#: The mapping form's prefix, which also tells a posted mapping from none.
MAPPING_PREFIX = "map"
#: The roles of one column each, in the order the form shows them.
SINGLE_ROLES = ("date", "amount", "money_in", "money_out", "payee", "reference")


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


def posted_header_row(data: Any) -> int | None:
    """The header row a posted mapping form names, or None (none posted, or not a number)."""
    value = str(data.get(f"{MAPPING_PREFIX}-header_row", ""))
    return int(value) if value.isdigit() and len(value) <= 4 else None


def posted_file_sha256(data: Any) -> str | None:
    """The SHA-256 of the file a posted mapping form was drawn for, or None."""
    return data.get(f"{MAPPING_PREFIX}-file_sha256") or None


def _column(**options: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(coerce=int, empty_value=None, **options)


class ColumnMappingForm(forms.Form):
    """Which column of a CSV file holds what, as guessed (or remembered) and then confirmed."""

    file_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
    header_row = forms.TypedChoiceField(label=_("Column names are in"), coerce=int)
    date = _column(label=_("Date"))
    amount = _column(label=_("Amount (signed)"), required=False)
    money_in = _column(label=_("Money in"), required=False)
    money_out = _column(label=_("Money out"), required=False)
    description = forms.TypedMultipleChoiceField(
        label=_("Description"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    payee = _column(label=_("Payee"), required=False)
    reference = _column(label=_("Bank reference"), required=False)

    def __init__(self, *args: Any, reader: statements.CsvStatement, sha256: str, **kwargs: Any):
        kwargs.setdefault("prefix", MAPPING_PREFIX)
        super().__init__(*args, **kwargs)
        self.reader = reader
        columns = [(str(index), name) for index, name in enumerate(reader.columns)]
        optional = [("", gettext("(none)")), *columns]
        for role in SINGLE_ROLES:
            choices = columns if role == "date" else optional
            cast(forms.ChoiceField, self.fields[role]).choices = choices
        cast(forms.ChoiceField, self.fields["description"]).choices = columns
        cast(forms.ChoiceField, self.fields["header_row"]).choices = self._header_choices()
        if not self.is_bound:
            self.initial = {"file_sha256": sha256, **self._initial_columns(), **self.initial}

    def reopened(self) -> ColumnMappingForm:
        """An unbound form showing this bound one's choices over the reader's guess, so a
        preview of choices in progress (a new header row) shows no errors yet."""
        self.is_valid()  # fills cleaned_data with each field that holds a valid choice
        posted = {
            name: value
            for name, value in getattr(self, "cleaned_data", {}).items()
            if value not in (None, []) and name != "file_sha256"
        }
        sha256 = str(self.data.get(self.add_prefix("file_sha256"), ""))
        return ColumnMappingForm(reader=self.reader, sha256=sha256, initial=posted)

    def chosen(self) -> dict[str, list[int]]:
        """Role -> the positions of its columns, as posted when valid, else as first shown."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else self.initial
        chosen = {role: [data[role]] for role in SINGLE_ROLES if data.get(role) is not None}
        return chosen | {"description": list(data.get("description") or [])}

    def current_header_row(self) -> int:
        """The row the reader took the column names from (0: none)."""
        if self.reader.header_row is not None:
            return self.reader.header_row
        return self.reader.skip_rows + 1 if self.reader.header else 0

    def _header_choices(self) -> list[tuple[str, str]]:
        shown = max(HEADER_ROWS_OFFERED, self.current_header_row())
        delimiter = self.reader.delimiter
        choices = [("0", gettext("No row: the columns are numbered"))]
        for number, row in enumerate(self.reader.top_rows[:shown], start=1):
            text = delimiter.join(row)
            if len(text) > HEADER_ROW_TEXT_MAX:
                text = text[: HEADER_ROW_TEXT_MAX - 1] + "…"
            label = gettext("Row %(number)d: %(text)s") % {"number": number, "text": text}
            choices.append((str(number), label))
        return choices

    def _initial_columns(self) -> dict[str, Any]:
        initial: dict[str, Any] = {"header_row": self.current_header_row()}
        mapping = self.reader.mapping
        if mapping is None:
            return initial  # nothing could be guessed: the person chooses
        position = {name: index for index, name in enumerate(self.reader.columns)}
        for role in SINGLE_ROLES:
            name = getattr(mapping, role)
            initial[role] = position.get(name) if name else None
        initial["description"] = [position[name] for name in mapping.description]
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        amount, money_in, money_out = (data.get(r) for r in ("amount", "money_in", "money_out"))
        if amount is None and (money_in is None or money_out is None):
            raise forms.ValidationError(
                gettext("Choose an amount column, or a money-in and a money-out column.")
            )
        if amount is not None and (money_in is not None or money_out is not None):
            raise forms.ValidationError(
                gettext("Choose an amount column or money-in and money-out columns, not both.")
            )
        chosen = [data[role] for role in SINGLE_ROLES if data.get(role) is not None]
        chosen += data.get("description") or []
        repeated = sorted({index for index in chosen if chosen.count(index) > 1})
        if repeated:
            raise forms.ValidationError(
                gettext("A column holds one thing; chosen more than once: %(columns)s.")
                % {"columns": ", ".join(self.reader.columns[index] for index in repeated)}
            )
        return data

    def mapping(self) -> statements.ColumnMapping:
        """The columns chosen, by name, with the header row: what the import remembers."""
        data, names = self.cleaned_data, self.reader.columns
        single = {
            role: names[data[role]] if data.get(role) is not None else None for role in SINGLE_ROLES
        }
        return statements.ColumnMapping(
            date=str(single.pop("date")),
            description=tuple(names[index] for index in data.get("description") or []),
            header_row=data["header_row"],
            **single,
        )


class LineNumbersField(forms.Field):
    """The primary keys of the lines ticked on the screen, as whole numbers."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Choose the lines to reconcile."),
        "invalid": _("Statement lines are named by their numbers."),
    }

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, (list, tuple)) else [value] if value else []
        if not all(str(v).isdigit() and len(str(v)) <= 18 for v in values):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return sorted({int(v) for v in values})


class BulkReconcileForm(forms.Form):
    """Several lines of the screen, and the one account they are all posted to.

    Which lines may be reconciled (the bank account's, unreconciled) is for
    :func:`accounts.statements.reconcile_lines` to say, with a message that names them; the
    form bounds how many.
    """

    lines = LineNumbersField(label=_("Lines"))
    account = forms.ModelChoiceField(queryset=Account.objects.none(), label=_("Post to"))

    def __init__(self, *args: Any, targets: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["account"]).queryset = targets

    def clean_lines(self) -> list[int]:
        chosen = self.cleaned_data["lines"]
        if len(chosen) > statements.BULK_RECONCILE_MAX:
            raise forms.ValidationError(
                gettext("Choose at most %(limit)d lines at once.")
                % {"limit": statements.BULK_RECONCILE_MAX}
            )
        return chosen
