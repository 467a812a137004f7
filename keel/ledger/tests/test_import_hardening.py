"""Hardening of the journal import and of account deletion: amounts are read exactly or
refused (no guessing at commas, no underscores), a malformed or non-UTF-8 file is a coded
refusal rather than a crash, and an account that something still refers to is refused
cleanly. Every refusal writes nothing: no entries, lines or activities."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from keel.core.exceptions import ValidationFailed
from keel.core.models import Activity
from keel.ledger.exceptions import AccountInUse
from keel.ledger.models import Account, Entry, Line, TaxCode
from keel.ledger.services.budgets import BudgetRowInput, create_budget, set_budget_rows
from keel.ledger.services.chart import delete_account
from keel.ledger.services.importing import import_entries
from keel.ledger.services.taxes import update_tax_code
from keel.ledger.tests.bank_helpers import bank_account

pytestmark = pytest.mark.django_db

HEADER = "entry,date,journal,account,label,debit,credit\n"
GOOD = HEADER + "A1,2026-03-01,GEN,6100,Rent,1500.00,\nA1,2026-03-01,GEN,1400,,,1500.00\n"
COMMA_HINT = "use a decimal point, and commas only between groups of three digits (1,234.56)"


def _import(company, actor, text, **kwargs):
    return import_entries(actor=actor, company=company, text=text, **kwargs)


def _nothing_written(company, activities_before):
    return (not Entry.objects.filter(company=company).exists()
            and not Line.objects.filter(company=company).exists()
            and Activity.objects.filter(company=company).count() == activities_before)


def _cli(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("ledger", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def web(books, accountant, client_for):
    return client_for(accountant)


# -- amounts --------------------------------------------------------------------------------


def test_commas_between_groups_of_three_digits_are_thousands_separators(books, accountant):
    # Given amounts written with thousands separators and a decimal point
    text = HEADER + (
        "A1,2026-03-01,GEN,6100,,\"1,234.56\",\n"
        "A1,2026-03-01,GEN,1400,,,1234.56\n"
        "A2,2026-03-02,GEN,6100,,\"12,345,678\",\n"
        "A2,2026-03-02,GEN,1400,,,\"12,345,678.00\"\n"
    )
    # When the file is imported
    result = _import(books, accountant, text)
    # Then each amount is read exactly
    assert result.errors == [] and result.posted
    debits = sorted(Line.objects.filter(company=books, account__code="6100").values_list("debit", flat=True))
    credits = sorted(Line.objects.filter(company=books, account__code="1400").values_list("credit", flat=True))
    assert debits == [Decimal("1234.56"), Decimal("12345678.00")]
    assert credits == [Decimal("1234.56"), Decimal("12345678.00")]


@pytest.mark.parametrize(("raw", "credit", "message"), [
    ("1,5", "15", "The debit '1,5' is not a number; use a decimal point (1.5)."),
    ("-1,5", "-15", "The debit '-1,5' is not a number; use a decimal point (-1.5)."),
    ("1,005", "1005", "The debit '1,005' is ambiguous (a decimal comma or a thousands separator?); "
                      "write 1.005 or 1005."),
    ("1,23,456", "123456", f"The debit '1,23,456' is not a number; {COMMA_HINT}."),
    (",5", "5", f"The debit ',5' is not a number; {COMMA_HINT}."),
    ("1,", "1", f"The debit '1,' is not a number; {COMMA_HINT}."),
    ("1_000", "1000", "The debit '1_000' is not a number; write it without underscores."),
    ("1e3", "1000", "The debit '1e3' is not a number."),
    ("\uff11\uff10", "10", "The debit '\uff11\uff10' is not a number."),  # fullwidth digits
    ("NaN", "1", "The debit 'NaN' is not a number."),
])
def test_an_amount_that_is_not_a_plain_decimal_number_is_refused(books, accountant, raw, credit, message):
    # Given a row whose debit the old reading would have turned into the credit's amount
    activities = Activity.objects.filter(company=books).count()
    text = HEADER + f'A1,2026-03-01,GEN,6100,,"{raw}",\nA1,2026-03-01,GEN,1400,,,{credit}\n'
    # When the file is imported
    result = _import(books, accountant, text)
    # Then that row is refused with its line number (a negative credit on line 3 is named too), and
    # nothing is written
    assert [str(problem) for problem in result.errors if problem.line == 2] == [f"line 2: {message}"]
    assert not result.posted and result.first_number == "" and result.import_id is None
    assert _nothing_written(books, activities)


def test_the_foreign_currency_columns_follow_the_same_rule(books, accountant):
    # Given a rate and a foreign amount written with decimal commas
    activities = Activity.objects.filter(company=books).count()
    text = ("entry,date,journal,account,label,debit,credit,currency,amount_currency,rate\n"
            "F1,2026-03-01,GEN,6100,,110.00,,USD,\"100,00\",\"1,1\"\n"
            "F1,2026-03-01,GEN,1400,,,110.00,USD,-100.00,1.1\n")
    # When the file is imported
    result = _import(books, accountant, text)
    # Then both are refused on their line, and nothing is written
    assert [str(problem) for problem in result.errors] == [
        "line 2: The amount_currency '100,00' is not a number; use a decimal point (100.00).",
        "line 2: The rate '1,1' is not a number; use a decimal point (1.1).",
    ]
    assert _nothing_written(books, activities)


def test_the_cli_names_a_decimal_comma_and_imports_nothing(books, tmp_path):
    # Given a file with a decimal comma
    path = tmp_path / "comma.csv"
    path.write_text(HEADER + 'A1,2026-03-01,GEN,6100,,"1,5",\nA1,2026-03-01,GEN,1400,,,15\n', encoding="utf-8")
    activities = Activity.objects.filter(company=books).count()
    err = io.StringIO()
    # When it is imported from the command line
    with pytest.raises(CommandError) as failed:
        call_command("ledger", "import-entries", str(path), "--company", "acme", stdout=io.StringIO(), stderr=err)
    # Then the row is reported and nothing was imported
    assert str(failed.value) == "1 problem(s) in comma.csv; nothing was imported."
    assert err.getvalue() == "comma.csv: line 2: The debit '1,5' is not a number; use a decimal point (1.5).\n"
    assert _nothing_written(books, activities)


# -- malformed files ------------------------------------------------------------------------

LIMIT = csv.field_size_limit()
HUGE = GOOD + f"A2,2026-03-02,GEN,6100,{'x' * (LIMIT + 1)},1.00,\n"  # the long field is on line 4
HUGE_MESSAGE = (f"The file is not readable CSV at line 4: a field is longer than {LIMIT:,} characters "
                "(is a quote left open?).")
NUL = GOOD + "A2,2026-03-02,GEN,6100,a\x00b,1.00,\nA2,2026-03-02,GEN,1400,,,1.00\n"  # NUL on line 4
NUL_MESSAGE = "The file is not readable CSV at line 4: it contains a NUL character (save the file as UTF-8 CSV)."


@pytest.mark.parametrize(("text", "message"), [(HUGE, HUGE_MESSAGE), (NUL, NUL_MESSAGE)], ids=["huge", "nul"])
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_malformed_file_is_refused_with_the_line_where_reading_stopped(books, accountant, text, message, dry_run):
    activities = Activity.objects.filter(company=books).count()
    # When a file the csv reader cannot take is imported
    with pytest.raises(ValidationFailed) as refused:
        _import(books, accountant, text, dry_run=dry_run)
    # Then it is a coded refusal on the file, and nothing is written
    assert refused.value.code == "import.malformed"
    assert refused.value.message == message and refused.value.fields == {"file": [message]}
    assert _nothing_written(books, activities)


def test_a_file_with_old_mac_line_ends_is_read(books, accountant):
    # Given a file whose lines end with a bare carriage return
    text = GOOD.replace("\n", "\r")
    # When it is imported
    result = _import(books, accountant, text)
    # Then it is read as the same rows
    assert result.errors == [] and result.posted and result.lines == 2
    assert Line.objects.get(company=books, account__code="6100").debit == Decimal("1500.00")


@pytest.mark.parametrize(("text", "message"), [(HUGE, HUGE_MESSAGE), (NUL, NUL_MESSAGE)], ids=["huge", "nul"])
def test_the_cli_reports_a_malformed_file_instead_of_a_traceback(books, tmp_path, text, message):
    # Given a malformed file
    path = tmp_path / "big.csv"
    path.write_text(text, encoding="utf-8")
    activities = Activity.objects.filter(company=books).count()
    # When it is checked from the command line
    with pytest.raises(CommandError) as failed:
        _cli("import-entries", str(path), "--company", "acme", "--dry-run")
    # Then the command fails with the coded message
    assert str(failed.value) == f"{message} [import.malformed]"
    assert _nothing_written(books, activities)


def test_the_cli_refuses_a_file_that_is_not_utf8(books, tmp_path):
    # Given a latin-1 file
    data = (HEADER + "A1,2026-03-01,GEN,6100,Caf\u00e9,1.00,\nA1,2026-03-01,GEN,1400,,,1.00\n").encode("latin-1")
    path = tmp_path / "latin1.csv"
    path.write_bytes(data)
    activities = Activity.objects.filter(company=books).count()
    # When it is imported from the command line
    with pytest.raises(CommandError) as failed:
        _cli("import-entries", str(path), "--company", "acme")
    # Then the command names the line it could not decode
    assert str(failed.value) == "The file is not UTF-8 text (line 2): save it as UTF-8 CSV. [import.encoding]"
    assert _nothing_written(books, activities)


@pytest.mark.parametrize(("data", "message"), [
    (HUGE.encode(), HUGE_MESSAGE),
    (NUL.encode(), NUL_MESSAGE),
    ((HEADER + "A1,2026-03-01,GEN,6100,Caf\u00e9,1.00,\n").encode("latin-1"),
     "The file is not UTF-8 text (line 2): save it as UTF-8 CSV."),
], ids=["huge", "nul", "latin-1"])
def test_the_import_page_shows_a_bad_file_as_an_error_on_the_file(books, web, data, message):
    activities = Activity.objects.filter(company=books).count()
    # When a bad file is uploaded on the import page
    response = web.post("/ledger/entries/import/", {"file": SimpleUploadedFile("e.csv", data)})
    # Then the page comes back with the message on the file field, and nothing is written
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": [message]}
    assert message.replace("'", "&#x27;").encode() in response.content
    assert _nothing_written(books, activities)


# -- deleting an account that something refers to ------------------------------------------


def _use_as_tax_account(company, tax_code: str, account: str) -> None:
    update_tax_code(actor=None, tax_code=TaxCode.objects.get(company=company, code=tax_code), account=account,
                    check_permission=False)


def _refused_delete(account, actor):
    activities = Activity.objects.filter(company=account.company).count()
    with pytest.raises(AccountInUse) as refused:
        delete_account(actor=actor, account=account)
    assert Account.objects.filter(pk=account.pk).exists()
    assert Activity.objects.filter(company=account.company).count() == activities
    assert refused.value.code == "account.in_use"
    assert refused.value.fields == {"account": [refused.value.message]}
    return refused.value.message


def test_an_account_used_by_a_tax_code_is_not_deleted(books, accountant):
    # Given an account that a tax code posts its tax to
    _use_as_tax_account(books, "S20", "2200")
    account = Account.objects.get(company=books, code="2200")
    # When it is deleted, then the refusal names the tax code and nothing changes
    assert _refused_delete(account, accountant) == (
        "Account 2200 is used by tax code S20; change that first or deactivate the account.")


def test_the_refusal_names_every_kind_of_user_and_each_by_its_code_or_name(books, accountant):
    # Given an account kept by a bank account and used by two tax codes
    bank_account(books, account="1400")
    _use_as_tax_account(books, "S20", "1400")
    _use_as_tax_account(books, "S5", "1400")
    account = Account.objects.get(company=books, code="1400")
    # When it is deleted, then each is named, grouped by kind
    assert _refused_delete(account, accountant) == (
        "Account 1400 is used by bank account Main account and tax codes S20, S5; change that first or "
        "deactivate the account.")


def test_an_account_in_a_budget_is_not_deleted(books, accountant):
    # Given an account planned in a budget
    budget = create_budget(actor=accountant, company=books, name="Plan 2026", fiscal_year=2026)
    set_budget_rows(actor=accountant, budget=budget, rows=[BudgetRowInput(account="6100", annual="1200")])
    account = Account.objects.get(company=books, code="6100")
    # When it is deleted, then the budget (not its twelve monthly lines) is named
    assert _refused_delete(account, accountant) == (
        "Account 6100 is used by budget Plan 2026 (FY2026); change that first or deactivate the account.")


def test_the_delete_button_shows_the_refusal_instead_of_failing(books, web):
    # Given an account used as a tax code's account
    _use_as_tax_account(books, "S20", "2200")
    account = Account.objects.get(company=books, code="2200")
    activities = Activity.objects.filter(company=books).count()
    # When the accountant deletes it from its page
    response = web.post(f"/ledger/accounts/{account.pk}/delete/", follow=True)
    # Then they are back on the account with the reason, and the account is kept
    assert response.status_code == 200
    assert response.redirect_chain == [(f"/ledger/accounts/{account.pk}/edit/", 302)]
    assert b"Account 2200 is used by tax code S20; change that first or deactivate the account." in response.content
    assert Account.objects.filter(pk=account.pk).exists()
    assert Activity.objects.filter(company=books).count() == activities
