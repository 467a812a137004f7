"""`keel ledger`: import-entries (all or nothing, line-numbered errors, dry run), trial-balance
formats, close/reopen periods, close-year, and the action list in --help."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import subprocess
import sys
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from keel.core.models import Activity
from keel.core.services.parties import create_party
from keel.ledger.choices import PeriodStatus
from keel.ledger.models import Entry, FiscalYear, Line, Period
from keel.ledger.services.balances import verify_balances
from keel.ledger.tests.factories import post_sale

pytestmark = pytest.mark.django_db

HEADER = "entry,date,journal,account,label,debit,credit,currency,amount_currency,party,tax\n"
GOOD = HEADER + (
    "A1,2026-03-01,GEN,6100,March rent,1500.00,,,,,\n"
    "A1,2026-03-01,GEN,1400,,,1500.00,,,,\n"
    "A2,2026-03-05,SAL,1200,Invoice 12,240.00,,,,Hooli Ltd,\n"
    "A2,2026-03-05,SAL,4000,,,200.00,,,,\n"
    "A2,2026-03-05,SAL,2200,,,40.00,,,,\n"
)


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("ledger", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def hooli(books, owner):
    return create_party(actor=owner, company=books, name="Hooli Ltd", roles=["customer"])


def _file(tmp_path, text, name="entries.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_posts_every_entry(books, hooli, accountant, tmp_path):
    out, _ = _run("import-entries", _file(tmp_path, GOOD), "--company", "acme", "--user", accountant.username)
    assert "2 entries (5 lines) posted" in out
    entries = Entry.objects.filter(company=books, status="posted").order_by("date")
    assert [e.journal.code for e in entries] == ["GEN", "SAL"]
    assert Line.objects.get(entry=entries[1], account__code="1200").party == hooli
    assert verify_balances(books).ok


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(books, hooli, tmp_path):
    bad = GOOD + (
        "B1,2026-02-30,GEN,6100,bad date,10,,,,,\n"         # line 7
        "B1,2026-02-28,GEN,1400,,,10,,,,\n"                 # line 8: differs from B1's first date? no date on 7
        "B2,2026-03-07,GEN,6100,,ten,,,,,\n"                # line 9
        "B2,2026-03-07,GEN,9999,,,10,,,,\n"                 # line 10
        "B3,2026-03-08,GEN,6100,,10,,,,,\n"                 # line 11
        "B3,2026-03-08,GEN,1400,,,9,,,,\n"                  # line 12 -> B3 unbalanced
        "B4,2026-03-09,GEN,6100,,5,,,,Nobody,\n"            # line 13
        "B4,2026-03-09,GEN,1400,,,5,,,,VAT99\n"             # line 14
    )
    with pytest.raises(CommandError) as failed:
        _run("import-entries", _file(tmp_path, bad), "--company", "acme")
    assert failed.value.returncode == 1 and "nothing was imported" in str(failed.value)
    _, err = _capture_errors(tmp_path, bad)
    assert "line 7: '2026-02-30' is not a date (YYYY-MM-DD)" in err
    assert "line 9: The debit 'ten' is not a number." in err
    assert "line 10: no account '9999' in the chart" in err
    assert "entry B3 (line 11): The entry does not balance: debit 10, credit 9" in err
    assert "line 13: no party 'Nobody' in acme" in err
    assert "line 14: no tax code 'VAT99'" in err
    assert not Entry.objects.filter(company=books).exists() and not Line.objects.filter(company=books).exists()


def _capture_errors(tmp_path, text):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.suppress(CommandError):
        call_command("ledger", "import-entries", _file(tmp_path, text, "again.csv"), "--company", "acme",
                     stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_line_refused_by_the_posting_rules_names_its_csv_line(books, hooli, tmp_path):
    text = HEADER + "C1,2026-03-01,GEN,6100,,10.001,,,,,\nC1,2026-03-01,GEN,1400,,,10.001,,,,\n"
    _, err = _capture_errors(tmp_path, text)
    assert "line 2: debit: At most 2 decimals are allowed here; got '10.001'." in err


def test_a_closed_period_refuses_the_whole_file(books, hooli, tmp_path):
    Period.objects.filter(company=books, start=dt.date(2026, 3, 1)).update(status=PeriodStatus.CLOSED)
    _, err = _capture_errors(tmp_path, GOOD)
    assert "entry A1 (line 2): Period 2026-03 is closed" in err and "entry A2 (line 4)" in err
    assert not Entry.objects.filter(company=books).exists()


def test_dry_run_checks_everything_and_writes_nothing(books, hooli, tmp_path):
    activities = Activity.objects.filter(company=books).count()
    out, _ = _run("import-entries", _file(tmp_path, GOOD), "--company", "acme", "--dry-run")
    assert "2 entries (5 lines) are valid; nothing was written (--dry-run)" in out
    assert not Entry.objects.filter(company=books).exists()
    assert Activity.objects.filter(company=books).count() == activities
    with pytest.raises(CommandError):
        _run("import-entries", _file(tmp_path, GOOD + "X,2026-13-01,GEN,6100,,1,,,,,\n"), "--company", "acme",
             "--dry-run")


def test_import_refuses_a_file_without_the_columns_and_a_user_without_permission(books, clerk, tmp_path):
    with pytest.raises(CommandError, match="lacks the columns: journal"):
        _run("import-entries", _file(tmp_path, "entry,date,account,label,debit,credit\n"), "--company", "acme")
    with pytest.raises(CommandError, match="does not allow 'ledger.post'"):
        _run("import-entries", _file(tmp_path, GOOD), "--company", "acme", "--user", clerk.username)
    assert not Entry.objects.filter(company=books).exists()


def test_foreign_currency_lines_import(books, tmp_path):
    text = ("entry,date,journal,account,label,debit,credit,currency,amount_currency,rate\n"
            "F1,2026-03-01,GEN,6100,,110.00,,USD,100.00,1.1\n"
            "F1,2026-03-01,GEN,1400,,,110.00,USD,-100.00,1.1\n")
    _run("import-entries", _file(tmp_path, text), "--company", "acme")
    line = Line.objects.get(company=books, account__code="6100")
    assert line.currency_id == "USD" and line.amount_currency == Decimal("100.00") and line.debit == Decimal("110.00")


def test_imported_tax_lines_reach_the_return_by_role(books, tmp_path):
    from keel.ledger.tax_reports import get_tax_return

    text = ("entry,date,journal,account,label,debit,credit,tax,tax_role\n"
            "T1,2026-03-02,SAL,1210,,120.00,,,\n"
            "T1,2026-03-02,SAL,4000,,,100.00,S20,\n"
            "T1,2026-03-02,SAL,2200,,,20.00,S20,TAX\n")
    out, _ = _run("import-entries", _file(tmp_path, text), "--company", "acme")
    assert "1 entries (3 lines) posted" in out or "1 entry (3 lines) posted" in out
    roles = dict(Line.objects.filter(company=books).values_list("account__code", "tax_role"))
    assert roles == {"1210": "", "4000": "base", "2200": "tax"}
    report = get_tax_return(books, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert (report.box("6"), report.box("1")) == (Decimal("100.00"), Decimal("20.00"))


def test_a_bad_tax_role_is_reported_with_its_line_and_nothing_is_written(books, tmp_path):
    text = ("entry,date,journal,account,label,debit,credit,tax,tax_role\n"
            "T1,2026-03-02,SAL,1200,,10.00,,,base\n"
            "T1,2026-03-02,SAL,4000,,,10.00,S20,vat\n")
    _, err = _capture_errors(tmp_path, text)
    assert "line 2: tax_role needs the tax column" in err
    assert "line 3: tax_role 'vat' is not base or tax" in err
    assert not Entry.objects.filter(company=books).exists()


def test_trial_balance_formats(books):
    post_sale(books, amount="100.00")
    out, _ = _run("trial-balance", "--company", "acme", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["code", "name", "type", "opening", "debit", "credit", "closing"]
    assert ["1200", "Trade receivables", "asset", "0.00", "100.00", "0.00", "100.00"] in rows
    assert rows[-1] == ["", "Total", "", "0.00", "100.00", "100.00", "0.00"]
    out, _ = _run("trial-balance", "--company", "acme", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json")
    document = json.loads(out)
    assert document["is_balanced"] and document["total_credit"] == "100.00" and document["company"] == "acme"
    out, _ = _run("trial-balance", "--company", "acme", "--from", "2026-03-01", "--to", "2026-03-31")
    assert "Trade receivables" in out and "100.00" in out and "Total" in out
    with pytest.raises(CommandError, match="not a date"):
        _run("trial-balance", "--company", "acme", "--from", "March")


def test_close_and_reopen_period_and_close_year(books, accountant):
    _run("close-period", "--company", "acme", "--period", "2026-03", "--user", accountant.username)
    period = Period.objects.get(company=books, start=dt.date(2026, 3, 1))
    assert period.status == PeriodStatus.CLOSED
    with pytest.raises(CommandError):
        _run("reopen-period", "--company", "acme", "--period", "2026-03", "--reason", " ")
    out, _ = _run("reopen-period", "--company", "acme", "--period", "2026-03", "--reason", "Late bill")
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN and "open again" in out
    post_sale(books, amount="250.00", day=dt.date(2025, 4, 1))
    out, _ = _run("close-year", "--company", "acme", "--year", "2025")
    assert "fiscal year 2025 is closed; result 250.00" in out and "OPN/2025/" in out
    assert FiscalYear.objects.get(company=books, year=2025).status == PeriodStatus.CLOSED
    with pytest.raises(CommandError, match="already closed"):
        _run("close-year", "--company", "acme", "--year", "2025")


def test_help_lists_the_actions():
    result = subprocess.run([sys.executable, "-m", "keel.cli", "ledger", "--help"], capture_output=True, text=True,
                            check=True)
    for action in ("verify", "import-entries", "trial-balance", "close-period", "reopen-period", "close-year"):
        assert action in result.stdout
