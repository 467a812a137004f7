"""One amount parser and one limit everywhere (issue 11 §6): every door an amount comes in
through refuses 100,000,000,000 (one more digit than SQLite stores exactly) with the code
money.too_large naming the field, and writes nothing; the largest storable amount,
99,999,999,999.99 in EUR, goes through and comes back exactly.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.exceptions import ValidationFailed
from keel.core.models import Party
from keel.core.services.currencies import set_rate
from keel.insights.models import KpiTarget
from keel.insights.services import set_target
from keel.ledger.models import Account, Entry, Journal, Line
from keel.ledger.models.bank import BankStatement
from keel.ledger.models.budgets import BudgetLine
from keel.ledger.services import LineInput, post_entry
from keel.ledger.services.bank import import_statement
from keel.ledger.services.budgets import BudgetRowInput, create_budget, set_budget_rows
from keel.ledger.services.revaluation import post_realized_difference
from keel.ledger.services.taxes import compute_taxes
from keel.ledger.tests.bank_helpers import CSV_MAPPING, bank_account, sample
from keel.ledger.tests.factories import DAY, party_for

pytestmark = pytest.mark.django_db

D = Decimal
TOO_LARGE = "100000000000"
LARGEST = "99999999999.99"


def too_large(call, field: str):
    with pytest.raises(ValidationFailed) as refused:
        call()
    assert refused.value.code == "money.too_large"
    assert field in refused.value.fields, refused.value.fields
    assert "99,999,999,999.9999" in refused.value.message
    return refused.value


def nothing_posted(company):
    assert not Entry.objects.filter(company=company).exists() and not Line.objects.filter(company=company).exists()


# -- the posting service ------------------------------------------------------------------------


@pytest.mark.parametrize("value", [TOO_LARGE, D(TOO_LARGE), int(TOO_LARGE), "100,000,000,000.00", D("1E+30")])
def test_the_posting_service_refuses_a_too_large_amount_naming_the_line(books, value):
    too_large(lambda: post_entry(actor=None, company=books, journal="GEN", date=DAY, check_permission=False,
                                 lines=[LineInput(account="6100", debit=D("1")),
                                        LineInput(account="1400", credit=value)]), "lines[1].credit")
    nothing_posted(books)


def test_the_largest_amount_is_posted_and_read_back_exactly(books):
    entry = post_entry(actor=None, company=books, journal="GEN", date=DAY, check_permission=False,
                       lines=[LineInput(account="6100", debit=LARGEST), LineInput(account="1400", credit=D(LARGEST))])
    assert sorted(Line.objects.filter(entry=entry).values_list("debit", "credit")) == [
        (D(0), D(LARGEST)), (D(LARGEST), D(0))]


def test_a_foreign_amount_whose_conversion_is_too_large_is_refused(books, owner):
    set_rate(actor=owner, company=books, currency="USD", on_date=dt.date(2026, 3, 1), rate="2")
    too_large(lambda: post_entry(actor=None, company=books, journal="SAL", date=DAY, check_permission=False, lines=[
        LineInput(account="1200", party=party_for(books, "1200"), currency="USD", amount_currency=D("60000000000.00")),
        LineInput(account="4000", currency="USD", amount_currency=D("-60000000000.00"))]), "lines[0].amount_currency")
    nothing_posted(books)


# -- the API and the entry page -----------------------------------------------------------------


def test_the_entries_api_refuses_a_too_large_amount(books, accountant):
    api = ApiClient(accountant, books)
    body = assert_error(api.post("/api/ledger/entries", {"journal": "GEN", "date": "2026-03-15", "post": True,
                                                         "lines": [{"account": "6100", "debit": TOO_LARGE},
                                                                   {"account": "1400", "credit": TOO_LARGE}]}),
                        400, "money.too_large")
    assert body["errors"][0]["field"] == "lines[0].debit"
    nothing_posted(books)


def test_the_entry_page_refuses_a_too_large_amount_on_its_row(books, accountant, client_for):
    accounts = dict(Account.objects.filter(company=books, code__in=["6100", "1400"]).values_list("code", "pk"))
    journal = Journal.objects.get(company=books, code="GEN")
    data = {"journal": journal.pk, "date": "2026-03-15", "reference": "", "description": "", "action": "post",
            "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "500", "lines-0-account": accounts["6100"], "lines-0-debit": TOO_LARGE,
            "lines-1-account": accounts["1400"], "lines-1-credit": TOO_LARGE}
    response = client_for(accountant).post("/ledger/entries/new/", data)
    assert response.status_code == 200
    row = response.context["formset"].forms[0]
    assert [error.code for error in row.errors.as_data()["debit"]] == ["money.too_large"]
    assert "is too large" in response.content.decode()
    nothing_posted(books)


def test_the_entry_page_reads_thousands_separators(books, accountant, client_for):
    accounts = dict(Account.objects.filter(company=books, code__in=["6100", "1400"]).values_list("code", "pk"))
    journal = Journal.objects.get(company=books, code="GEN")
    data = {"journal": journal.pk, "date": "2026-03-15", "reference": "", "description": "", "action": "post",
            "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "500", "lines-0-account": accounts["6100"], "lines-0-debit": "1,234.50",
            "lines-1-account": accounts["1400"], "lines-1-credit": "1234.5"}
    assert client_for(accountant).post("/ledger/entries/new/", data).status_code == 302
    assert Line.objects.get(company=books, account_id=accounts["6100"]).debit == D("1234.50")


# -- taxes, budgets, settlements ----------------------------------------------------------------


def test_tax_computation_refuses_a_too_large_amount_or_product(books):
    too_large(lambda: compute_taxes(company=books, kind="sales", lines=[{"amount": TOO_LARGE, "tax_codes": ["S20"]}]),
              "lines[0].amount")
    too_large(lambda: compute_taxes(company=books, kind="sales", lines=[{"quantity": "1000", "unit_price": "100000000",
                                                           "tax_codes": ["S20"]}]), "lines[0].amount")


def test_the_tax_api_refuses_a_too_large_amount(books, accountant):
    api = ApiClient(accountant, books)
    assert_error(api.post("/api/ledger/taxes/compute", {"kind": "sales", "lines": [{"amount": TOO_LARGE, "tax_codes": ["S20"]}]}),
                 400, "money.too_large")


def test_budgets_refuse_a_too_large_amount_and_keep_their_rows(books, accountant):
    budget = create_budget(actor=accountant, company=books, name="Plan", fiscal_year=2026)
    set_budget_rows(actor=accountant, budget=budget, rows=[BudgetRowInput(account="6100", annual="1200")])
    before = sorted(BudgetLine.objects.filter(budget=budget).values_list("period_id", "amount"))
    too_large(lambda: set_budget_rows(actor=accountant, budget=budget, replace=True,
                                      rows=[BudgetRowInput(account="6100", annual=TOO_LARGE)]), "rows[0].annual")
    too_large(lambda: set_budget_rows(actor=accountant, budget=budget, replace=True,
                                      rows=[BudgetRowInput(account="6100", months=["1"] * 11 + [TOO_LARGE])]),
              "rows[0].months[11]")
    assert sorted(BudgetLine.objects.filter(budget=budget).values_list("period_id", "amount")) == before
    api = ApiClient(accountant, books)
    assert_error(api.post(f"/api/ledger/budgets/{budget.pk}/lines",
                          {"rows": [{"account": "6100", "annual": TOO_LARGE}]}), 400, "money.too_large")
    assert sorted(BudgetLine.objects.filter(budget=budget).values_list("period_id", "amount")) == before


def test_a_realized_difference_refuses_a_too_large_amount(books, owner):
    set_rate(actor=owner, company=books, currency="USD", on_date=dt.date(2026, 1, 1), rate="0.9")
    party = Party.objects.create(company=books, name="Yankee Inc")
    too_large(lambda: post_realized_difference(
        actor=owner, company=books, account="1200", party=party, currency="USD", amount_currency=TOO_LARGE,
        booked_amount="90.00", settled_amount_currency="50.00", rate="1", date=dt.date(2026, 1, 20)),
        "amount_currency")
    nothing_posted(books)


# -- bank statement upload: API and page --------------------------------------------------------


def test_the_statement_upload_api_refuses_a_too_large_opening_balance(books, owner):
    bank = bank_account(books)
    api = ApiClient(owner, books)
    response = api.client.post(f"/api/ledger/bank-accounts/{bank.pk}/statements", headers=api.headers, data={
        "format": "csv", "file": SimpleUploadedFile("march.csv", sample("csv")), "opening_balance": TOO_LARGE,
        "mapping": __import__("json").dumps(CSV_MAPPING)})
    body = assert_error(response, 400, "money.too_large")
    assert body["errors"][0]["field"] == "opening_balance"
    assert not BankStatement.objects.exists()


def test_the_statement_import_page_refuses_a_too_large_opening_balance(books, accountant, client_for):
    bank = bank_account(books)
    data = {"bank_account": str(bank.pk), "file_format": "csv", "opening_balance": TOO_LARGE,
            "file": SimpleUploadedFile("march.csv", sample("csv"), "text/csv"),
            **{f"csv_{key}": str(value) for key, value in CSV_MAPPING.items()}}
    response = client_for(accountant).post("/ledger/bank/statements/import/", data)
    assert response.status_code in (200, 400)
    assert [error.code for error in response.context["form"].errors.as_data()["opening_balance"]] == [
        "money.too_large"]
    assert not BankStatement.objects.exists()


def test_the_statement_import_refuses_a_too_large_balance_or_transaction(books):
    bank = bank_account(books)

    def imported(data: bytes, opening):
        return lambda: import_statement(actor=None, bank_account=bank, file_format="csv", data=data,
                                        file_name="march.csv", mapping=CSV_MAPPING, opening_balance=opening,
                                        check_permission=False)

    too_large(imported(sample("csv"), D(TOO_LARGE)), "file")
    huge = sample("csv").replace(b";;250,00;", b";;100000000000,00;")
    assert huge != sample("csv")
    # An amount in the file is refused by the parser naming its line (a malformed file).
    with pytest.raises(ValidationFailed) as refused:
        imported(huge, D("1000.00"))()
    assert refused.value.code == "statement.malformed"
    assert "is too large" in refused.value.message and "99,999,999,999.9999" in refused.value.message
    assert not BankStatement.objects.exists()


# -- KPI targets ---------------------------------------------------------------------------------


def test_a_kpi_target_refuses_a_too_large_amount(books, owner, client_for):
    too_large(lambda: set_target(actor=owner, company=books, kpi_code="core.activity_volume", target=TOO_LARGE),
              "target")
    response = client_for(owner).post("/insights/targets/", {"kpi_code": "core.activity_volume", "target": TOO_LARGE})
    assert response.status_code == 400 and b"is too large" in response.content
    assert not KpiTarget.objects.exists()
