"""The import_statement command: thin, with a summary, a dry run and CommandError for refusals."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import StatementImport, StatementLine

from .conftest import FILES

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_statement", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_imports_and_prints_the_summary(gbp_bank):
    out, err = run(gbp_bank.code, str(FILES / "uk_bank_2026_11.csv"))
    assert "15 lines added, 0 duplicates skipped, 0 rows rejected" in out
    assert "Importing statement lines: 15/15" in err  # the progress, off a terminal
    assert StatementImport.objects.get().file_name == "uk_bank_2026_11.csv"
    out, _ = run(gbp_bank.code, str(FILES / "uk_bank_2026_11.csv"), "--no-progress")
    assert "0 lines added, 15 duplicates skipped" in out


def test_a_dry_run_writes_nothing(eur_bank):
    out, _ = run(
        eur_bank.code, str(FILES / "camt053_2026_11.xml"), "--dry-run", "--format", "camt053"
    )
    assert "11 lines added" in out and "dry run" in out
    assert not StatementLine.objects.exists()


def test_the_date_order_can_be_given(gbp_bank, tmp_path):
    path = tmp_path / "ambiguous.csv"
    path.write_text("Date,Description,Amount\n03/04/2026,Rent,-500.00\n")
    with pytest.raises(CommandError, match="choose the date order"):
        run(gbp_bank.code, str(path))
    run(gbp_bank.code, str(path), "--date-order", "month-first")
    assert StatementLine.objects.get().date.month == 3


def test_rejected_rows_are_listed_and_nothing_is_imported_unless_allowed(gbp_bank, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Date,Description,Amount\n20/11/2026,Ok,1.00\n21/11/2026,Bad,lots\n")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 rows were rejected"):
        call_command("import_statement", gbp_bank.code, str(path), stdout=out, stderr=err)
    assert "row 3: lots is not an amount." in err.getvalue()
    assert not StatementLine.objects.exists()
    out_text, err_text = run(gbp_bank.code, str(path), "--allow-partial")
    assert "1 lines added, 0 duplicates skipped, 1 rows rejected" in out_text
    assert "row 3" in err_text


def test_unknown_accounts_files_and_non_bank_accounts_are_command_errors(gbp_bank, account):
    with pytest.raises(CommandError, match="No account has the code"):
        run("NOPE", str(FILES / "uk_bank_2026_11.csv"))
    with pytest.raises(CommandError, match="No such file"):
        run(gbp_bank.code, str(FILES / "missing.csv"))
    with pytest.raises(CommandError, match="not designated as a bank account"):
        run(account.code, str(FILES / "uk_bank_2026_11.csv"))
