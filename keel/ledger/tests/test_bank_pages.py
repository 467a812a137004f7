"""Bank pages: accounts, statement import, statements, reconciliation and the unreconciled report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from keel.core.models import SubmissionCount
from keel.ledger.models import Entry
from keel.ledger.models.bank import (
    BankAccount,
    BankReconciliation,
    BankStatement,
    BankStatementLine,
)
from keel.ledger.services import LineInput, post_entry
from keel.ledger.services.reconciliation import reconcile_statement_line
from keel.ledger.tests.bank_helpers import (
    CSV_MAPPING,
    IBAN,
    bank_account,
    bank_line,
    import_sample,
    receipt,
    sample,
)
from keel.ledger.tests.factories import set_up_books
from keel.web.links import record_url
from keel.web.tests.pages import Page, page_tests

pytestmark = pytest.mark.django_db


def an_account(company, owner):
    set_up_books(company)
    return {"pk": bank_account(company).pk}


def a_statement(company, owner):
    set_up_books(company)
    statement = import_sample(bank_account(company), "camt053")
    receipt(company)
    return {"pk": statement.pk}


(test_page_renders, test_page_needs_permission, test_page_of_other_company_is_404, test_page_needs_login) = page_tests([
    Page("ledger:bank_account_list"),
    Page("ledger:bank_account_list", query="?q=main"),
    Page("ledger:bank_account_create", denied_role="auditor"),
    Page("ledger:bank_account_detail", make=an_account),
    Page("ledger:bank_account_edit", make=an_account, denied_role="auditor"),
    Page("ledger:bank_statement_list"),
    Page("ledger:bank_statement_list", query="?bank_account=1&page=2"),
    Page("ledger:bank_statement_import", denied_role="auditor"),
    Page("ledger:bank_statement_detail", make=a_statement),
    Page("ledger:bank_statement_reconcile", make=a_statement, denied_role="auditor"),
    Page("ledger:bank_unreconciled"),
    Page("ledger:bank_unreconciled", query="?bank_account=x&ledger_page=9"),
    Page("ledger:bank_matching_rules"),
])


@pytest.fixture
def bank(books):
    return bank_account(books)


def _opening(company, amount="1000.00"):
    post_entry(actor=None, company=company, journal="OPN", date=dt.date(2026, 1, 1), check_permission=False,
               lines=[LineInput(account="1400", debit=Decimal(amount)), LineInput(account="3000", credit=Decimal(amount))])


def _csv_form(bank, data=None, **extra):
    fields = {f"csv_{key}": str(value) for key, value in CSV_MAPPING.items()}
    return {"bank_account": str(bank.pk), "file_format": "csv", "opening_balance": "1000.00",
            "file": SimpleUploadedFile("bank_march.csv", data if data is not None else sample("csv"), "text/csv"),
            **fields, **extra}


def _errors(response, field=None) -> str:
    """The form's error messages as text (of one field, or all)."""
    errors = response.context["form"].errors
    return " ".join(message for name, messages in errors.items() if field in (None, name) for message in messages)


# -- bank accounts ----------------------------------------------------------------------------


def test_the_list_shows_the_ledger_balance_and_says_when_empty(books, accountant, client_for):
    client = client_for(accountant)
    assert b"No bank accounts yet." in client.get("/ledger/bank/accounts/").content
    bank = bank_account(books)
    _opening(books)
    receipt(books)
    page = client.get("/ledger/bank/accounts/").content.decode()
    assert "Main account" in page and "1,250.00 EUR" in page, page[page.find("<tbody>"):page.find("</tbody>")]
    assert b"No bank account matches" in client.get("/ledger/bank/accounts/?q=nothing").content
    assert bank.name in client.get("/ledger/bank/accounts/?q=GB29").content.decode()


def test_creating_editing_and_deactivating_a_bank_account(books, accountant, client_for):
    client = client_for(accountant)
    response = client.post("/ledger/bank/accounts/new/", {
        "name": "Savings", "account": "1410", "iban": "GB29 NWBK 6016 1331 9268 19", "bic": "NWBKGB2L",
        "currency": "EUR", "journal": "BNK"})
    bank = BankAccount.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/ledger/bank/accounts/{bank.pk}/"
    assert (bank.iban, bank.account.code) == (IBAN, "1410")
    response = client.post(f"/ledger/bank/accounts/{bank.pk}/edit/", {
        "name": "Savings account", "account": "1410", "iban": IBAN, "bic": "", "currency": "EUR", "journal": "BNK"})
    bank.refresh_from_db()
    assert response.status_code == 302 and (bank.name, bank.bic) == ("Savings account", "")
    client.post(f"/ledger/bank/accounts/{bank.pk}/active/", {"is_active": "0"})
    bank.refresh_from_db()
    assert not bank.is_active
    detail = client.get(f"/ledger/bank/accounts/{bank.pk}/").content.decode()
    assert "Inactive: no more imports" in detail and "Reactivate" in detail
    assert record_url("ledger.bankaccount", bank.pk) == f"/ledger/bank/accounts/{bank.pk}/"


def test_a_bad_iban_is_shown_on_its_field_and_nothing_is_written(books, accountant, client_for):
    response = client_for(accountant).post("/ledger/bank/accounts/new/", {
        "name": "Savings", "account": "1410", "iban": "GB00 0000", "bic": "", "currency": "EUR", "journal": "BNK"})
    assert response.status_code == 200 and "is not a valid IBAN" in _errors(response, "iban")
    assert not BankAccount.objects.exists()
    assert SubmissionCount.objects.get(company=books, document_type="ledger.bankaccount").rejected == 1


def test_an_auditor_sees_the_accounts_but_may_not_change_them(bank, client_for):
    from keel.core.tests.factories import member

    client = client_for(member(bank.company, "auditor"))
    assert client.get(f"/ledger/bank/accounts/{bank.pk}/").status_code == 200
    assert client.post(f"/ledger/bank/accounts/{bank.pk}/active/", {"is_active": "0"}).status_code == 403
    bank.refresh_from_db()
    assert bank.is_active


# -- import -----------------------------------------------------------------------------------


def test_the_import_form_starts_from_the_saved_csv_mapping(bank, accountant, client_for):
    bank.csv_mapping = CSV_MAPPING
    bank.save()
    response = client_for(accountant).get(f"/ledger/bank/statements/import/?bank_account={bank.pk}")
    form = response.context["form"]
    assert form["csv_date_column"].value() == "Booking date" and form["csv_debit_column"].value() == "Debit"
    assert form["file_format"].value() == "csv"


def test_a_bad_upload_shows_the_error_and_writes_nothing(bank, accountant, client_for, books):
    client = client_for(accountant)
    broken = _csv_form(bank, data=b"Export\nBooking date;Counterparty;IBAN;Text;Debit;Credit;Ref\n31.02.2026;X;;y;;1,00;R\n")
    response = client.post("/ledger/bank/statements/import/", broken)
    assert response.status_code == 200
    assert "'31.02.2026' in column 'Booking date' is not a date" in _errors(response, "file")
    not_xml = {"bank_account": str(bank.pk), "file_format": "camt053",
               "file": SimpleUploadedFile("march.xml", b"<Document><oops>", "text/xml")}
    response = client.post("/ledger/bank/statements/import/", not_xml)
    assert "not well-formed XML" in _errors(response, "file")
    response = client.post("/ledger/bank/statements/import/", _csv_form(bank, csv_date_column="Datum"))
    assert "no column 'Datum'" in _errors(response)
    assert not BankStatement.objects.exists() and not BankStatementLine.objects.exists()
    bank.refresh_from_db()
    assert bank.csv_mapping == {}
    assert SubmissionCount.objects.get(company=books, document_type="ledger.bankstatement").rejected == 3


def test_a_file_imported_twice_is_refused_on_the_form(bank, accountant, client_for):
    client = client_for(accountant)
    assert client.post("/ledger/bank/statements/import/", _csv_form(bank)).status_code == 302
    response = client.post("/ledger/bank/statements/import/", _csv_form(bank))
    assert "was imported already" in _errors(response, "file")
    assert BankStatement.objects.count() == 1


def test_the_statements_list_filters_by_bank_account(books, accountant, client_for):
    first = bank_account(books)
    second = bank_account(books, name="Savings", account="1410", iban="")
    import_sample(first, "camt053")
    import_sample(second, "csv")
    client = client_for(accountant)
    assert client.get("/ledger/bank/statements/").context["page_obj"].paginator.count == 2
    shown = client.get(f"/ledger/bank/statements/?bank_account={second.pk}").context["page_obj"]
    assert [s.bank_account_id for s in shown] == [second.pk]
    assert b"No statements of Main account" not in client.get(f"/ledger/bank/statements/?bank_account={first.pk}").content


# -- the whole flow on the pages --------------------------------------------------------------


def test_import_reconcile_write_off_and_undo_on_the_pages(bank, books, accountant, client_for):
    _opening(books)
    match = bank_line(receipt(books))
    client = client_for(accountant)

    response = client.post("/ledger/bank/statements/import/", _csv_form(bank))
    statement = BankStatement.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/ledger/bank/statements/{statement.pk}/"
    bank.refresh_from_db()
    assert bank.csv_mapping["date_column"] == "Booking date"  # saved for next time

    detail = client.get(f"/ledger/bank/statements/{statement.pk}/")
    summary = detail.context["summary"]
    assert (summary.closing_balance, summary.ledger_balance, summary.difference) == (
        Decimal("1237.50"), Decimal("1250.00"), Decimal("-12.50"))
    assert b'id="statement-difference">-12.50<' in detail.content and b"Hooli Ltd" in detail.content

    received, fees = statement.lines.order_by("position")
    page = client.get(f"/ledger/bank/statements/{statement.pk}/reconcile/")
    (proposal, ledger_line), = page.context["open_lines"][0].proposals
    assert ledger_line.pk == match.pk and b"Accept" in page.content

    reconcile_url = f"/ledger/bank/statements/{statement.pk}/reconcile/"
    response = client.post(f"/ledger/bank/lines/{received.pk}/reconcile/", {"line_ids": [match.pk], "next": reconcile_url})
    assert response.status_code == 302 and response["Location"] == reconcile_url
    received.refresh_from_db()
    assert received.is_reconciled

    response = client.post(f"/ledger/bank/lines/{fees.pk}/reconcile/",
                           {"write_off_account": "6800", "write_off_label": "Bank fees March"}, follow=True)
    assert b"reconciled; entry" in response.content
    fees.refresh_from_db()
    assert fees.is_reconciled
    detail = client.get(f"/ledger/bank/statements/{statement.pk}/")
    assert detail.context["summary"].difference == 0 and b"The statement agrees with the ledger" in detail.content
    assert detail.context["summary"].reconciled == 2

    entry = BankReconciliation.objects.get(statement_line=fees).entry
    client.post(f"/ledger/bank/lines/{fees.pk}/unreconcile/")
    fees.refresh_from_db()
    entry.refresh_from_db()
    assert not fees.is_reconciled and entry.status == "reversed"
    assert client.get(f"/ledger/bank/statements/{statement.pk}/").context["summary"].difference == Decimal("-12.50")
    assert record_url("ledger.bankstatement", statement.pk) == f"/ledger/bank/statements/{statement.pk}/"


def test_a_split_and_a_refusal_are_shown_as_messages_never_a_500(bank, books, accountant, client_for):
    statement = import_sample(bank, "camt053")
    first, second = bank_line(receipt(books, "200.00")), bank_line(receipt(books, "40.00", reference="INV-2"))
    received, _fees = statement.lines.order_by("position")
    client = client_for(accountant)
    page = client.get(f"/ledger/bank/statements/{statement.pk}/reconcile/")
    assert {c.pk for c in page.context["open_lines"][0].candidates} == {first.pk, second.pk}

    response = client.post(f"/ledger/bank/lines/{received.pk}/reconcile/", {"line_ids": [first.pk, second.pk]},
                           follow=True)
    assert b"difference 10.00" in response.content
    assert not BankReconciliation.objects.exists()

    response = client.post(f"/ledger/bank/lines/{received.pk}/reconcile/",
                           {"line_ids": [first.pk, second.pk], "write_off_account": "9999"}, follow=True)
    assert b"There is no account &#x27;9999&#x27;" in response.content

    client.post(f"/ledger/bank/lines/{received.pk}/reconcile/",
                {"line_ids": [first.pk, second.pk], "write_off_account": "7000", "write_off_label": "Exchange"})
    received.refresh_from_db()
    assert received.is_reconciled and BankReconciliation.objects.get().matches.count() == 3

    # Someone else reconciled it meanwhile: the second click gets a message.
    response = client.post(f"/ledger/bank/lines/{received.pk}/reconcile/", {"write_off_account": "6800"}, follow=True)
    assert response.status_code == 200 and b"reconciled already by accountant@acme.test" in response.content
    response = client.post(f"/ledger/bank/lines/{received.pk}/reconcile/", {"line_ids": ["abc"]}, follow=True)
    assert response.status_code == 200 and b"abc" in response.content
    assert BankReconciliation.objects.count() == 1


def test_undo_of_a_line_not_reconciled_is_a_message(bank, accountant, client_for):
    statement = import_sample(bank, "camt053")
    line = statement.lines.first()
    response = client_for(accountant).post(f"/ledger/bank/lines/{line.pk}/unreconcile/", follow=True)
    assert response.status_code == 200 and b"is not reconciled" in response.content


def test_a_line_of_another_company_is_404_and_a_clerk_is_403(bank, other_books, accountant, clerk, client_for, outsider):
    statement = import_sample(bank, "camt053")
    line = statement.lines.first()
    assert client_for(outsider).post(f"/ledger/bank/lines/{line.pk}/reconcile/",
                                     {"write_off_account": "6800"}).status_code == 404
    assert client_for(clerk).post(f"/ledger/bank/lines/{line.pk}/reconcile/",
                                  {"write_off_account": "6800"}).status_code == 403
    assert not BankReconciliation.objects.exists()


def test_the_unreconciled_report_shows_both_sides(bank, books, accountant, client_for):
    statement = import_sample(bank, "camt053")
    match = bank_line(receipt(books))
    stray = bank_line(receipt(books, "99.00", reference="OTHER"))
    received, fees = statement.lines.order_by("position")
    client = client_for(accountant)
    report = client.get("/ledger/bank/unreconciled/")
    assert [line.pk for line in report.context["page_obj"]] == [received.pk, fees.pk]
    assert {line.pk for line in report.context["ledger_page"]} == {match.pk, stray.pk}
    reconcile_statement_line(actor=accountant, statement_line=received, line_ids=[match.pk])
    report = client.get(f"/ledger/bank/unreconciled/?bank_account={bank.pk}")
    assert [line.pk for line in report.context["page_obj"]] == [fees.pk]
    assert [line.pk for line in report.context["ledger_page"]] == [stray.pk]
    assert report.context["statement_total"] == Decimal("-12.50") and report.context["ledger_total"] == Decimal("99.00")
    assert Entry.objects.filter(status="posted").count() == 2


def test_an_accountant_changes_the_matching_rules_and_a_clerk_may_only_read_them(books, accountant, client_for):
    from keel.core.models import Activity
    from keel.core.tests.factories import member
    from keel.ledger.services.bank import get_matching_rules

    web = client_for(accountant)
    page = web.get("/ledger/bank/matching-rules/")
    assert page.status_code == 200 and "Save rules" in page.content.decode()
    response = web.post("/ledger/bank/matching-rules/", {"require_equal_amount": "on", "date_window_days": "3",
                                                         "match_party": "on"})
    assert response.status_code == 302
    rules = get_matching_rules(books)
    assert (rules.require_equal_amount, rules.date_window_days, rules.match_reference, rules.match_party) == (
        True, 3, False, True)
    assert Activity.objects.filter(company=books, verb="ledger.bank_rules_changed").count() == 1

    refused = web.post("/ledger/bank/matching-rules/", {"date_window_days": "120"})
    assert refused.status_code == 200 and "90" in refused.content.decode()
    assert get_matching_rules(books).date_window_days == 3

    auditor = client_for(member(books, "auditor", username="auditor@acme.test"))
    assert "Save rules" not in auditor.get("/ledger/bank/matching-rules/").content.decode()
    assert auditor.post("/ledger/bank/matching-rules/", {"date_window_days": "1"}).status_code == 403
    assert get_matching_rules(books).date_window_days == 3
