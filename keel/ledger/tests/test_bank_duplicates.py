"""A statement whose lines were imported already is refused, whatever its bytes or header.

The file hash only catches the same bytes: a CSV saved again with CRLF line endings or one
more blank line, a CAMT/MT940/OFX statement re-exported under another id, or the same month
in another format repeats lines of the bank account; refused unless the user confirms
(`accept_repeated_lines`), with nothing written.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.exceptions import KeelError, ValidationFailed
from keel.core.models import Activity
from keel.ledger.bank import ParsedLine
from keel.ledger.models import Entry
from keel.ledger.models.bank import BankStatement, BankStatementLine
from keel.ledger.services.bank import find_repeated_lines, import_statement
from keel.ledger.tests.bank_helpers import CSV_MAPPING, bank_account, import_sample, sample
from keel.ledger.tests.factories import set_up_books

pytestmark = pytest.mark.django_db

HEADER = "Export of account GB29NWBK60161331926819\nBooking date;Counterparty;IBAN;Text;Debit;Credit;Ref\n"
TWO_ROWS = HEADER + "04.03.2026;Acme Ltd;;Invoice 7;;995,00;T1\n05.03.2026;Bank;;Fees March;3,00;;T2\n"
NO_ID_MAPPING = {key: value for key, value in CSV_MAPPING.items() if key != "transaction_id_column"}
REFUSAL_END = "Import a statement of the new transactions only, or confirm that these are new transactions."


def _csv(bank, text: str, *, mapping=CSV_MAPPING, **kwargs):
    return import_statement(actor=None, bank_account=bank, file_format="csv", data=text.encode(), mapping=mapping,
                            file_name="march.csv", check_permission=False, **kwargs)


def _written(company) -> tuple[int, int, int, int]:
    """Statements, statement lines, entries and activities of `company`."""
    return (BankStatement.objects.for_company(company).count(), BankStatementLine.objects.for_company(company).count(),
            Entry.objects.for_company(company).count(), Activity.objects.filter(company=company).count())


def _refused(company, call) -> ValidationFailed:
    before = _written(company)
    with pytest.raises(ValidationFailed) as refused:
        call()
    assert _written(company) == before
    return refused.value


@pytest.mark.parametrize("variant", [
    TWO_ROWS.replace("\n", "\r\n"),
    TWO_ROWS + "\n",
    TWO_ROWS.replace("Invoice 7", "Invoice 7 ").replace("Fees March", "fees  march"),
], ids=["crlf", "blank-line", "other-spacing"])
def test_the_same_csv_rows_in_other_bytes_are_refused_naming_the_first_repeat(books, variant):
    bank = bank_account(books)
    first = _csv(bank, TWO_ROWS, opening_balance=Decimal("1000.00"))
    refusal = _refused(books, lambda: _csv(bank, variant))
    assert refusal.code == "statement.repeated_lines" and "file" in refusal.fields
    assert refusal.message == (f"2 of these 2 lines were imported already (first: 2026-03-04 995.00 'Invoice 7', "
                               f"statement {first.reference} line 1). {REFUSAL_END}")
    bank.refresh_from_db()
    assert BankStatement.objects.get().closing_balance == Decimal("1992.00")


def test_without_a_transaction_id_the_repeat_is_found_by_day_amount_text_and_party(books):
    bank = bank_account(books)
    first = _csv(bank, TWO_ROWS, mapping=NO_ID_MAPPING, opening_balance=Decimal("1000.00"))
    assert list(first.lines.values_list("transaction_id", flat=True)) == ["", ""]
    refusal = _refused(books, lambda: _csv(bank, TWO_ROWS.replace("\n", "\r\n"), mapping=NO_ID_MAPPING))
    assert refusal.code == "statement.repeated_lines"
    assert refusal.message.startswith("2 of these 2 lines were imported already (first: 2026-03-04 995.00 'Invoice 7'")


def test_a_statement_that_repeats_some_lines_is_refused_naming_how_many(books):
    bank = bank_account(books)
    first = _csv(bank, TWO_ROWS, opening_balance=Decimal("1000.00"))
    overlap = HEADER + "05.03.2026;Bank;;Fees March;3,00;;T2\n06.03.2026;Initech;;Invoice 8;;40,00;T3\n"
    refusal = _refused(books, lambda: _csv(bank, overlap))
    assert refusal.message == (f"1 of these 2 lines was imported already (first: 2026-03-05 -3.00 'Fees March', "
                               f"statement {first.reference} line 2). {REFUSAL_END}")


def test_confirmed_repeats_are_imported_and_the_activity_says_so(books):
    bank = bank_account(books)
    _csv(bank, TWO_ROWS, opening_balance=Decimal("1000.00"))
    second = _csv(bank, TWO_ROWS + "\n", accept_repeated_lines=True)
    assert (second.opening_balance, second.closing_balance, second.lines.count()) == (
        Decimal("1992.00"), Decimal("2984.00"), 2)
    activity = Activity.objects.get(company=books, verb="ledger.bank_statement_imported", subject_id=str(second.pk))
    assert activity.data["repeated_lines_accepted"] == 2


def test_new_transactions_are_not_repeats(books):
    bank = bank_account(books)
    _csv(bank, TWO_ROWS, opening_balance=Decimal("1000.00"))
    # Same day, amount, text and party as T1, but the bank says it is another transaction (T9).
    april = HEADER + "04.03.2026;Acme Ltd;;Invoice 7;;995,00;T9\n07.04.2026;Bank;;Fees April;3,00;;T2\n"
    second = _csv(bank, april)
    assert second.lines.count() == 2 and BankStatement.objects.count() == 2


def test_two_equal_movements_on_a_day_are_two_and_one_of_them_is_new(books):
    bank = bank_account(books)
    coffee = "09.03.2026;Cafe;;Coffee;3,50;;\n"
    first = _csv(bank, HEADER + coffee, mapping=NO_ID_MAPPING, opening_balance=Decimal("100.00"))
    refusal = _refused(books, lambda: _csv(bank, HEADER + coffee + coffee, mapping=NO_ID_MAPPING))
    assert refusal.message == (f"1 of these 2 lines was imported already (first: 2026-03-09 -3.50 'Coffee', "
                               f"statement {first.reference} line 1). {REFUSAL_END}")


def test_a_statement_of_one_line_imported_already_says_so(books):
    bank = bank_account(books)
    first = _csv(bank, HEADER + "09.03.2026;Cafe;;Coffee;3,50;;C1\n", opening_balance=Decimal("100.00"))
    refusal = _refused(books, lambda: _csv(bank, HEADER + "09.03.2026;Cafe;;Coffee;3,50;;C1\r\n"))
    assert refusal.message == (f"The statement's one line was imported already (2026-03-09 -3.50 'Coffee', "
                               f"statement {first.reference} line 1). {REFUSAL_END}")


def test_lines_of_another_bank_account_or_company_do_not_count(books, other_books):
    main = bank_account(books)
    savings = bank_account(books, name="Savings", account="1410", iban="")
    _csv(main, TWO_ROWS, opening_balance=Decimal("1000.00"))
    assert _csv(savings, TWO_ROWS.replace("\n", "\r\n")).lines.count() == 2
    assert _csv(bank_account(other_books), TWO_ROWS.replace("\n", "\r\n")).lines.count() == 2


def _camt_reexported() -> bytes:
    return (sample("camt053").replace(b"<MsgId>MSG-1", b"<MsgId>MSG-7")
            .replace(b"<Id>CAMT-2026-03</Id>", b"<Id>CAMT-2026-03-R</Id>"))


def _mt940_reexported() -> bytes:
    return sample("mt940").replace(b":20:STMT0001", b":20:STMT0099").replace(b":28C:00042/001", b":28C:00042/002")


def _ofx_reexported() -> bytes:
    # Another period start: another statement id, the same transactions (FITID).
    return sample("ofx").replace(b"<DTSTART>20260301", b"<DTSTART>20260302")


@pytest.mark.parametrize(("file_format", "data"), [
    ("camt053", _camt_reexported()), ("mt940", _mt940_reexported()), ("ofx", _ofx_reexported()),
])
def test_a_statement_re_exported_under_another_id_is_refused_by_the_bank_transaction_ids(books, file_format, data):
    bank = bank_account(books)
    first = import_sample(bank, file_format)
    refusal = _refused(books, lambda: import_statement(actor=None, bank_account=bank, file_format=file_format,
                                                       data=data, check_permission=False))
    assert refusal.code == "statement.repeated_lines"
    assert refusal.message.startswith("2 of these 2 lines were imported already (first: 2026-03-16 250.00 ")
    assert f"statement {first.reference} line 1)" in refusal.message


@pytest.mark.parametrize(("first_format", "second_format"), [("camt053", "mt940"), ("mt940", "csv"), ("ofx", "camt053")])
def test_the_same_month_in_another_format_is_refused(books, first_format, second_format):
    bank = bank_account(books)
    import_sample(bank, first_format)
    refusal = _refused(books, lambda: import_sample(bank, second_format))
    assert refusal.code == "statement.repeated_lines" and refusal.message.startswith("2 of these 2 lines")


def test_the_lookup_is_one_query_whatever_the_number_of_lines(books):
    bank = bank_account(books)
    rows = "".join(f"{day:02d}.03.2026;Party {day};;Invoice {day};;{day},00;T{day}\n" for day in range(1, 29))
    _csv(bank, HEADER + rows, opening_balance=Decimal("0"))
    few = [ParsedLine(date=dt.date(2026, 3, 1), amount=Decimal("1.00"), transaction_id="T1")]
    many = [ParsedLine(date=dt.date(2026, 3, day), amount=Decimal(day), transaction_id=f"T{day}") for day in range(1, 29)]
    for lines, count in ((few, 1), (many, 28)):
        with CaptureQueriesContext(connection) as queries:
            repeated = find_repeated_lines(bank, lines)
        assert (len(queries), repeated.count) == (1, count)


# -- the page and the endpoint ----------------------------------------------------------------


def _form(bank, text: str, **extra):
    fields = {f"csv_{key}": str(value) for key, value in CSV_MAPPING.items()}
    return {"bank_account": str(bank.pk), "file_format": "csv", "opening_balance": "",
            "file": SimpleUploadedFile("march.csv", text.encode(), "text/csv"), **fields, **extra}


def test_the_import_page_shows_the_refusal_and_imports_when_confirmed(books, accountant, client_for):
    bank = bank_account(books)
    first = _csv(bank, TWO_ROWS, opening_balance=Decimal("1000.00"))
    client = client_for(accountant)
    before = _written(books)
    response = client.post("/ledger/bank/statements/import/", _form(bank, TWO_ROWS.replace("\n", "\r\n")))
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        f"2 of these 2 lines were imported already (first: 2026-03-04 995.00 'Invoice 7', statement "
        f"{first.reference} line 1). {REFUSAL_END}"]
    assert b"Import lines that were imported already" in response.content
    assert _written(books) == before
    response = client.post("/ledger/bank/statements/import/",
                           _form(bank, TWO_ROWS.replace("\n", "\r\n"), accept_repeated_lines="on"))
    assert response.status_code == 302 and BankStatement.objects.count() == 2


def test_the_endpoint_refuses_repeats_unless_confirmed(company, owner):
    set_up_books(company)
    api = ApiClient(owner, company)
    bank = bank_account(company)
    _csv(bank, TWO_ROWS, opening_balance=Decimal("1000.00"))
    url = f"/api/ledger/bank-accounts/{bank.pk}/statements"

    def upload(**extra):
        return api.client.post(url, headers=api.headers, data={
            "format": "csv", "file": SimpleUploadedFile("march.csv", TWO_ROWS.replace("\n", "\r\n").encode()), **extra})

    before = _written(company)
    body = assert_error(upload(), 400, "statement.repeated_lines")
    assert body["errors"][0]["field"] == "file" and body["message"].startswith("2 of these 2 lines were imported")
    assert _written(company) == before
    assert upload(accept_repeated_lines="true").status_code == 201


# -- two uploads at once ----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_uploads_of_one_statement_at_once_let_exactly_one_through(company):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and real parallel writers")
    set_up_books(company)
    bank = bank_account(company)
    variants = [TWO_ROWS, TWO_ROWS.replace("\n", "\r\n"), TWO_ROWS + "\n", TWO_ROWS + "\n\n"]
    barrier = threading.Barrier(len(variants))
    outcomes: list[str] = []

    def upload(text):
        try:
            barrier.wait()
            _csv(bank, text, opening_balance=Decimal("1000.00"))
            outcomes.append("imported")
        except KeelError as exc:
            outcomes.append(exc.code)
        except BaseException as exc:  # noqa: BLE001 - an unexpected error fails the test below
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=upload, args=(text,)) for text in variants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["imported"] + ["statement.repeated_lines"] * (len(variants) - 1)
    assert BankStatement.objects.filter(company=company).count() == 1
    assert BankStatementLine.objects.filter(company=company).count() == 2
