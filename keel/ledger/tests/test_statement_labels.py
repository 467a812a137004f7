"""Totals on the profit and loss and the balance sheet: no label stands for two figures.

The small-business chart has a group "Income" among the income (interest and exchange gains
sit in "Financial and other results") and a group "Equity" in equity (which also takes the
year's result): their subtotals used to read "Total income" and "Total equity", like the
section totals under them, with other figures.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest

from keel.ledger.exports import render
from keel.ledger.models import AccountGroup
from keel.ledger.reports import balance_sheet, profit_and_loss, report_range
from keel.ledger.services.chart import create_account, update_account_group
from keel.ledger.tests.test_reports import post

pytestmark = pytest.mark.django_db

D = Decimal
Q1 = {"date_from": dt.date(2026, 1, 1), "date_to": dt.date(2026, 3, 31)}


@pytest.fixture
def quarter(books):
    post(books, dt.date(2026, 1, 10), ("1400", "10000", "0"), ("3000", "0", "10000"))
    post(books, dt.date(2026, 2, 5), ("1200", "1000", "0"), ("4000", "0", "1000"), journal="SAL")
    post(books, dt.date(2026, 2, 28), ("1400", "12.50", "0"), ("7100", "0", "12.50"))
    post(books, dt.date(2026, 3, 3), ("6100", "300", "0"), ("1400", "0", "300"))
    return books


def totals(report) -> list[tuple[str, str, Decimal]]:
    """(kind, label, figure) of every row that is not an account."""
    return [(row.kind, row.label, row.amount) for row in report.rows if row.kind in ("subtotal", "total", "info")]


def assert_one_figure_per_label(report) -> None:
    repeated = [label for label, count in Counter(label for _kind, label, _amount in totals(report)).items()
                if count > 1]
    assert repeated == []


def test_the_income_group_subtotal_is_not_labelled_like_all_income(quarter):
    report = profit_and_loss(quarter, report_range(quarter, **Q1))
    assert totals(report) == [
        ("subtotal", "Total income (group)", D("1000.00")),
        ("subtotal", "Total financial and other results", D("12.50")),
        ("total", "Total income", D("1012.50")),
        ("subtotal", "Total operating expenses", D("300.00")),
        ("total", "Total expenses", D("300.00")),
        ("total", "Net result", D("712.50")),
    ]
    assert report.summary["total_income"] == D("1012.50")
    assert_one_figure_per_label(report)


def test_the_equity_group_subtotal_is_not_labelled_like_all_equity(quarter):
    report = balance_sheet(quarter, report_range(quarter, date_from=None, date_to=Q1["date_to"], as_of=True))
    assert totals(report) == [
        ("subtotal", "Total current assets", D("1000.00")),
        ("subtotal", "Total cash and bank", D("9712.50")),
        ("total", "Total assets", D("10712.50")),
        ("total", "Total liabilities", D("0.00")),
        ("subtotal", "Total equity (group)", D("10000.00")),
        ("info", "Result of the current fiscal year (unallocated)", D("712.50")),
        ("total", "Total equity", D("10712.50")),
        ("total", "Total liabilities and equity", D("10712.50")),
    ]
    assert_one_figure_per_label(report)


def test_with_a_comparison_column_the_labels_are_the_same(quarter):
    period = report_range(quarter, **Q1, compare_from=dt.date(2025, 1, 1), compare_to=dt.date(2025, 3, 31))
    report = profit_and_loss(quarter, period)
    assert [(row.label, row.amount, row.compare) for row in report.rows if row.kind in ("subtotal", "total")][:3] == [
        ("Total income (group)", D("1000.00"), D("0.00")),
        ("Total financial and other results", D("12.50"), D("0.00")),
        ("Total income", D("1012.50"), D("0.00")),
    ]


def test_two_groups_of_one_name_get_their_codes(quarter):
    update_account_group(actor=None, group=AccountGroup.objects.get(company=quarter, code="6"), name="Income",
                         check_permission=False)
    report = profit_and_loss(quarter, report_range(quarter, **Q1))
    assert [label for _kind, label, _amount in totals(report)] == [
        "Total income (group)", "Total financial and other results", "Total income",
        "Total income (group 6)", "Total expenses", "Net result",
    ]
    assert_one_figure_per_label(report)


def test_accounts_without_a_group_in_two_sections_are_told_apart(quarter):
    create_account(actor=None, company=quarter, code="4950", name="Sundry income", account_type="income",
                   check_permission=False)
    create_account(actor=None, company=quarter, code="6950", name="Sundry costs", account_type="expense",
                   check_permission=False)
    post(quarter, dt.date(2026, 3, 20), ("1400", "40", "0"), ("4950", "0", "40"))
    post(quarter, dt.date(2026, 3, 21), ("6950", "15", "0"), ("1400", "0", "15"))
    report = profit_and_loss(quarter, report_range(quarter, **Q1))
    assert totals(report) == [
        ("subtotal", "Total income (group)", D("1000.00")),
        ("subtotal", "Total financial and other results", D("12.50")),
        ("subtotal", "Total other accounts", D("40.00")),
        ("total", "Total income", D("1052.50")),
        ("subtotal", "Total operating expenses", D("300.00")),
        ("subtotal", "Total other accounts (expenses)", D("15.00")),
        ("total", "Total expenses", D("315.00")),
        ("total", "Net result", D("737.50")),
    ]


def test_exports_and_the_page_carry_the_distinct_labels(quarter, accountant, client_for):
    content, _type, _name = render(profit_and_loss(quarter, report_range(quarter, **Q1)), "csv")
    text = content.decode("utf-8-sig")
    assert ",  Total income (group),1000.00\r\n" in text and ",Total income,1012.50\r\n" in text
    assert text.count("Total income") == 2
    page = client_for(accountant).get("/ledger/reports/balance-sheet/?date_to=2026-03-31").content.decode()
    assert page.count("Total equity (group)") == 1 and page.count("Total equity<") == 1


# -- budget versus actual: its columns say "Actual" and "Budget", the subtitle says of which months ---------


@pytest.fixture
def budget_page(books, accountant):
    from keel.ledger.services.budgets import BudgetRowInput, create_budget, set_budget_rows
    from keel.ledger.services.chart import create_cost_centre
    from keel.ledger.tests.test_reports import post_story

    post_story(books)  # creates the cost centres SALES and ADMIN
    create_cost_centre(actor=None, company=books, code="OPS", name="Operations", check_permission=False)
    budget = create_budget(actor=accountant, company=books, name="Plan 2026", fiscal_year=2026)
    set_budget_rows(actor=accountant, budget=budget, rows=[BudgetRowInput(account="6100", cost_centre="ADMIN",
                                                                          annual="2400")])
    return f"/ledger/budgets/{budget.pk}/versus-actual/"


def test_budget_versus_actual_exports_say_which_months_they_cover(budget_page, accountant, client_for):
    from keel.ledger.tests.test_exports import pdf_text, sheet_rows

    client = client_for(accountant)
    query = "?date_from=2026-01-15&date_to=2026-03-10"  # whole months: January to March
    csv_lines = client.get(budget_page + query + "&format=csv").content.decode("utf-8-sig").splitlines()
    assert csv_lines[:3] == ["Budget versus actual: Plan 2026",
                             "Acme Trading Ltd · EUR · 2026-01-01 – 2026-03-31 (3 months)",
                             "Code,Account,Actual,Budget,Variance,Variance %"]
    rows = sheet_rows(client.get(budget_page + query + "&format=xlsx").content)
    assert rows[1][0] == "Acme Trading Ltd · EUR · 2026-01-01 – 2026-03-31 (3 months)"
    text = pdf_text(client.get(budget_page + query + "&format=pdf").content)
    assert "Acme Trading Ltd · EUR · 2026-01-01 – 2026-03-31 (3 months)" in text
    whole_year = client.get(budget_page + "?format=csv").content.decode("utf-8-sig").splitlines()
    assert whole_year[1] == "Acme Trading Ltd · EUR · 2026-01-01 – 2026-12-31 (12 months)"


def test_budget_versus_actual_exports_name_the_cost_centre(budget_page, accountant, client_for):
    csv_lines = client_for(accountant).get(
        budget_page + "?date_from=2026-03-01&date_to=2026-03-31&cost_centre=ADMIN&format=csv",
    ).content.decode("utf-8-sig").splitlines()
    assert csv_lines[1] == "Acme Trading Ltd · EUR · 2026-03-01 – 2026-03-31 (1 month) · cost centre ADMIN"
    assert csv_lines[3:] == [
        ",Expenses,,,,", "6100,  Rent,300.00,200.00,100.00,50.0", ",Total expenses,300.00,200.00,100.00,50.0",
        ",Net result,-300.00,-200.00,-100.00,-50.0"]
