"""Bank accounts and statement import: every format, duplicates, malformed files, balances."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keel.core.exceptions import PermissionDenied, ValidationFailed
from keel.core.models import Activity
from keel.ledger.models.bank import BankAccount, BankStatement, BankStatementLine
from keel.ledger.services.bank import (
    create_bank_account,
    import_statement,
    set_bank_account_active,
    update_bank_account,
)
from keel.ledger.tests.bank_helpers import (
    CSV_MAPPING,
    IBAN,
    SAMPLES,
    bank_account,
    import_sample,
    sample,
)

pytestmark = pytest.mark.django_db


def test_a_bank_account_is_kept_on_a_bank_ledger_account_and_the_bank_journal(books, accountant):
    bank = create_bank_account(actor=accountant, company=books, name="Main account", account="1400",
                               iban="gb29 nwbk 6016 1331 9268 19", bic="NWBKGB2L")
    assert (bank.iban, bank.bic, bank.currency_id, bank.account.code, bank.journal.code) == (
        IBAN, "NWBKGB2L", "EUR", "1400", "BNK")
    assert Activity.objects.filter(company=books, verb="ledger.bank_account_changed").count() == 1


@pytest.mark.parametrize(("field", "values", "code"), [
    ("iban", {"iban": "GB00NWBK60161331926819"}, "bank_account.invalid_iban"),
    ("bic", {"bic": "NOTABIC!"}, "bank_account.invalid_bic"),
    ("account", {"account": "4000"}, "bank_account.invalid_account"),
    ("journal", {"journal": "SAL"}, "bank_account.invalid_journal"),
    ("currency", {"currency": "XXQ"}, "bank_account.invalid_currency"),
    ("name", {"name": " "}, "bank_account.invalid_name"),
])
def test_bad_bank_account_values_are_refused_naming_the_field(books, accountant, field, values, code):
    arguments = {"name": "Main", "account": "1400", "iban": IBAN, "bic": "NWBKGB2L", **values}
    with pytest.raises(ValidationFailed) as refused:
        create_bank_account(actor=accountant, company=books, **arguments)
    assert refused.value.code == code and field in refused.value.fields
    assert not BankAccount.objects.for_company(books).exists()


def test_one_ledger_account_per_bank_account(books):
    bank_account(books)
    with pytest.raises(ValidationFailed) as refused:
        bank_account(books, name="Second", iban="")
    assert refused.value.code == "bank_account.account_taken"


def test_edit_and_deactivate(books, accountant):
    bank = bank_account(books)
    update_bank_account(actor=accountant, bank_account=bank, name="Current account", bic="")
    bank.refresh_from_db()
    assert (bank.name, bank.bic, bank.iban) == ("Current account", "", IBAN)
    set_bank_account_active(actor=accountant, bank_account=bank, is_active=False)
    with pytest.raises(ValidationFailed) as refused:
        import_sample(bank)
    assert refused.value.code == "statement.inactive_account"


def test_a_clerk_may_not_manage_bank_accounts(books, clerk):
    with pytest.raises(PermissionDenied):
        create_bank_account(actor=clerk, company=books, name="Main", account="1400")


@pytest.mark.parametrize("file_format", sorted(SAMPLES))
def test_each_format_imports_its_lines_and_balances(books, file_format):
    bank = bank_account(books)
    statement = import_sample(bank, file_format)
    assert (statement.opening_balance, statement.closing_balance) == (Decimal("1000.00"), Decimal("1237.50"))
    assert (statement.date_from, statement.date_to) == (dt.date(2026, 3, 1) if file_format != "csv" else dt.date(2026, 3, 16),
                                                        dt.date(2026, 3, 31))
    lines = list(statement.lines.order_by("position"))
    assert [(line.date, line.amount) for line in lines] == [
        (dt.date(2026, 3, 16), Decimal("250.00")), (dt.date(2026, 3, 31), Decimal("-12.50"))]
    received = lines[0]
    assert received.counterparty_name == "Hooli Ltd"
    assert "INV-2026-001" in f"{received.reference} {received.description}"
    assert received.transaction_id == "BANK-TX-1"
    if file_format in ("camt053", "mt940", "csv"):
        assert received.counterparty_iban == "DE89370400440532013000"
    assert "Bank fees March" in lines[1].description


def test_the_csv_mapping_is_saved_for_the_next_import(books):
    bank = bank_account(books)
    import_sample(bank, "csv")
    bank.refresh_from_db()
    assert bank.csv_mapping["date_column"] == "Booking date" and bank.csv_mapping["decimal_separator"] == ","


@pytest.mark.parametrize("file_format", ["camt053", "mt940"])
def test_the_same_file_twice_is_refused(books, file_format):
    bank = bank_account(books)
    import_sample(bank, file_format)
    with pytest.raises(ValidationFailed) as refused:
        import_sample(bank, file_format)
    assert refused.value.code == "statement.duplicate" and "imported already" in refused.value.message
    assert BankStatement.objects.for_company(books).count() == 1


def test_the_same_statement_id_in_another_file_is_refused(books):
    bank = bank_account(books)
    import_sample(bank, "camt053")
    changed = sample("camt053").replace(b"<GrpHdr><MsgId>MSG-1", b"<GrpHdr><MsgId>MSG-2")
    with pytest.raises(ValidationFailed) as refused:
        import_statement(actor=None, bank_account=bank, file_format="camt053", data=changed, check_permission=False)
    assert refused.value.code == "statement.duplicate" and "CAMT-2026-03" in refused.value.message


@pytest.mark.parametrize(("file_format", "data", "words"), [
    ("camt053", b"<Document><BkToCstmrStmt><Stmt>", "Line 1"),
    ("camt053", sample("camt053").replace(b"<Amt Ccy=\"EUR\">250.00</Amt>", b"<Amt Ccy=\"EUR\">2x0</Amt>"), "Line 12"),
    ("camt053", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "DTD"),
    ("mt940", sample("mt940").replace(b":61:2603310331D12,50", b":61:26033X0331D12,50"), "Line 7"),
    ("mt940", b"hello world", "not an MT940"),
    ("ofx", b"OFXHEADER:100\n<OFX><nonsense>", "OFX"),
    ("csv", sample("csv").replace(b"31.03.2026", b"31/03/2026"), "Line 4"),
    ("csv", sample("csv").replace(b"12,50", b"twelve"), "Line 4"),
])
def test_a_malformed_file_is_refused_naming_the_problem_and_nothing_is_written(books, file_format, data, words):
    bank = bank_account(books)
    with pytest.raises(ValidationFailed) as refused:
        import_statement(actor=None, bank_account=bank, file_format=file_format, data=data,
                         mapping=CSV_MAPPING if file_format == "csv" else None,
                         check_permission=False)
    assert refused.value.code == "statement.malformed" and "file" in refused.value.fields
    assert words in refused.value.message
    assert not BankStatement.objects.exists() and not BankStatementLine.objects.exists()


def test_balances_that_do_not_add_up_are_refused(books):
    bank = bank_account(books)
    data = sample("camt053").replace(b"1237.50", b"1300.00")
    with pytest.raises(ValidationFailed) as refused:
        import_statement(actor=None, bank_account=bank, file_format="camt053", data=data, check_permission=False)
    assert "do not add up" in refused.value.message
    assert not BankStatement.objects.exists()


def test_a_statement_for_another_iban_is_refused(books):
    bank = bank_account(books, iban="DE89370400440532013000")
    with pytest.raises(ValidationFailed) as refused:
        import_sample(bank, "camt053")
    assert refused.value.code == "statement.wrong_account"


def _april(opening: str) -> bytes:
    return (sample("camt053").replace(b"CAMT-2026-03", b"CAMT-2026-04").replace(b"2026-03-31", b"2026-04-30").replace(b"2026-03", b"2026-04")
            .replace(b">1237.50<", f">{Decimal(opening) + Decimal('237.50')}<".encode())
            .replace(b">1000.00<", f">{opening}<".encode()))


def test_the_opening_balance_continues_the_previous_closing(books):
    bank = bank_account(books)
    import_sample(bank, "camt053")
    april = import_statement(actor=None, bank_account=bank, file_format="camt053", data=_april("1237.50"),
                             check_permission=False)
    assert april.opening_balance == Decimal("1237.50") and april.balance_gap == 0


def test_a_gap_between_statements_is_refused_unless_accepted(books):
    bank = bank_account(books)
    import_sample(bank, "camt053")
    with pytest.raises(ValidationFailed) as refused:
        import_statement(actor=None, bank_account=bank, file_format="camt053", data=_april("1200.00"),
                         check_permission=False)
    assert refused.value.code == "statement.balance_gap" and "difference -37.50" in refused.value.message
    assert BankStatement.objects.count() == 1
    april = import_statement(actor=None, bank_account=bank, file_format="camt053", data=_april("1200.00"),
                             accept_balance_gap=True, check_permission=False)
    assert april.balance_gap == Decimal("-37.50")


def test_a_clerk_may_not_import(books, clerk):
    bank = bank_account(books)
    with pytest.raises(PermissionDenied):
        import_statement(actor=clerk, bank_account=bank, file_format="mt940", data=sample("mt940"))


def test_an_accountant_imports(books, accountant):
    bank = bank_account(books)
    statement = import_statement(actor=accountant, bank_account=bank, file_format="mt940", data=sample("mt940"))
    assert statement.imported_by == accountant and statement.reference == "00042/001"
