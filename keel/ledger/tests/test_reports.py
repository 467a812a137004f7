"""Financial reports: figures after known postings, comparison columns, cost-centre filter,
the balance sheet balancing, the cash flow reconciling, the general ledger's running balance.

The story (FY2026, EUR), all posted through the posting service:
- 10 Jan: share capital paid into the bank, 10,000
- 15 Jan: a bank loan, 5,000
- 05 Feb: a sale on credit, 1,000 + 200 VAT (cost centre SALES)
- 20 Feb: the customer pays 700
- 03 Mar: rent paid from the bank, 300 (cost centre ADMIN)
- 10 Mar: equipment bought from the bank, 2,000
- 15 Mar: a supplier bill for office supplies, 50
- 31 Mar: depreciation, 100
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keel.core.exceptions import ValidationFailed
from keel.ledger.reports import (
    balance_sheet,
    cash_flow,
    general_ledger,
    get_account,
    profit_and_loss,
    report_range,
)
from keel.ledger.services import LineInput, post_entry
from keel.ledger.services.chart import create_cost_centre
from keel.ledger.tests.factories import party_for

pytestmark = pytest.mark.django_db

D = Decimal
Q1 = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))


def post(company, day, *pairs, journal="GEN"):
    lines = [LineInput(account=code, debit=D(debit), credit=D(credit), cost_centre=centre,
                       party=party_for(company, code))
             for code, debit, credit, centre in ((*p, None) if len(p) == 3 else p for p in pairs)]
    return post_entry(actor=None, company=company, journal=journal, date=day, lines=lines, check_permission=False)


def post_story(company):
    create_cost_centre(actor=None, company=company, code="SALES", name="Sales team", check_permission=False)
    create_cost_centre(actor=None, company=company, code="ADMIN", name="Administration", check_permission=False)
    post(company, dt.date(2026, 1, 10), ("1400", "10000", "0"), ("3000", "0", "10000"))
    post(company, dt.date(2026, 1, 15), ("1400", "5000", "0"), ("2000", "0", "5000"))
    post(company, dt.date(2026, 2, 5), ("1200", "1200", "0"), ("4000", "0", "1000", "SALES"), ("2200", "0", "200"),
         journal="SAL")
    post(company, dt.date(2026, 2, 20), ("1400", "700", "0"), ("1200", "0", "700"))
    post(company, dt.date(2026, 3, 3), ("6100", "300", "0", "ADMIN"), ("1400", "0", "300"))
    post(company, dt.date(2026, 3, 10), ("1010", "2000", "0"), ("1400", "0", "2000"))
    post(company, dt.date(2026, 3, 15), ("6200", "50", "0"), ("2100", "0", "50"))
    post(company, dt.date(2026, 3, 31), ("6700", "100", "0"), ("1090", "0", "100"))
    return company


@pytest.fixture
def story(books):
    return post_story(books)


def rng(company, date_from=Q1[0], date_to=Q1[1], **extra):
    return report_range(company, date_from=date_from, date_to=date_to, **extra)


def by_code(report) -> dict[str, tuple]:
    return {row.code: (row.amount, row.compare) for row in report.rows if row.kind == "account"}


def row(report, label):
    [found] = [r for r in report.rows if r.label == label]
    return found


def test_profit_and_loss_of_the_quarter(story):
    report = profit_and_loss(story, rng(story))
    assert by_code(report) == {"4000": (D("1000.00"), None), "6100": (D("300.00"), None),
                               "6200": (D("50.00"), None), "6700": (D("100.00"), None)}
    assert report.summary == {"total_income": D("1000.00"), "total_expenses": D("450.00"), "net_result": D("550.00")}
    assert row(report, "Total operating expenses").amount == D("450.00")
    assert row(report, "Net result").amount == D("550.00")
    # Headings by account group, in chart order: income first, then expenses.
    headings = [r.label for r in report.rows if r.kind == "heading"]
    assert headings == ["Income", "Income", "Expenses", "Operating expenses"]


def test_profit_and_loss_with_a_comparison_column_and_variance(story):
    report = profit_and_loss(story, rng(story, dt.date(2026, 3, 1), dt.date(2026, 3, 31),
                                        compare_from=dt.date(2026, 2, 1), compare_to=dt.date(2026, 2, 28)))
    net = row(report, "Net result")
    assert (net.amount, net.compare, net.variance) == (D("-450.00"), D("1000.00"), D("-1450.00"))
    assert net.variance_percent == D("-145.0")
    sales = [r for r in report.rows if r.code == "4000"][0]
    assert (sales.amount, sales.compare, sales.variance_percent) == (D("0.00"), D("1000.00"), D("-100.0"))
    rent = [r for r in report.rows if r.code == "6100"][0]
    assert (rent.amount, rent.compare, rent.variance_percent) == (D("300.00"), D("0.00"), None)
    assert report.compare_summary["net_result"] == D("1000.00")


def test_a_range_cut_inside_months_reads_the_lines_of_those_days(story):
    report = profit_and_loss(story, rng(story, dt.date(2026, 2, 10), dt.date(2026, 3, 12)))
    assert by_code(report) == {"6100": (D("300.00"), None)}
    assert report.summary["net_result"] == D("-300.00")


def test_the_cost_centre_filter_keeps_only_its_lines(story):
    sales = profit_and_loss(story, rng(story, cost_centre="SALES"))
    admin = profit_and_loss(story, rng(story, cost_centre="ADMIN"))
    assert by_code(sales) == {"4000": (D("1000.00"), None)}
    assert by_code(admin) == {"6100": (D("300.00"), None)}
    assert admin.summary["net_result"] == D("-300.00")


def test_the_balance_sheet_balances_and_carries_the_year_result(story):
    report = balance_sheet(story, report_range(story, date_from=None, date_to=dt.date(2026, 3, 31), as_of=True))
    assert by_code(report) == {
        "1010": (D("2000.00"), None), "1090": (D("-100.00"), None), "1200": (D("500.00"), None),
        "1400": (D("13400.00"), None), "2000": (D("5000.00"), None), "2100": (D("50.00"), None),
        "2200": (D("200.00"), None), "3000": (D("10000.00"), None),
    }
    assert report.summary["total_assets"] == D("15800.00")
    assert report.summary["total_liabilities"] == D("5250.00")
    assert report.summary["total_equity"] == D("10550.00")
    assert report.summary["current_year_result"] == D("550.00")
    assert report.summary["is_balanced"] is True
    assert row(report, "Total liabilities and equity").amount == row(report, "Total assets").amount


def test_the_balance_sheet_compares_two_dates_and_both_balance(story):
    report = balance_sheet(story, report_range(story, date_from=None, date_to=dt.date(2026, 3, 31),
                                               compare_to=dt.date(2026, 1, 31), as_of=True))
    assert report.summary["is_balanced"] and report.compare_summary["is_balanced"]
    assert report.compare_summary["total_assets"] == D("15000.00")
    bank = [r for r in report.rows if r.code == "1400"][0]
    assert (bank.amount, bank.compare, bank.variance) == (D("13400.00"), D("15000.00"), D("-1600.00"))


def test_the_balance_sheet_of_a_new_year_shows_last_years_unclosed_result(story):
    post(story, dt.date(2027, 1, 5), ("1400", "40", "0"), ("4900", "0", "40"))
    report = balance_sheet(story, report_range(story, date_from=None, date_to=dt.date(2027, 1, 31), as_of=True))
    assert report.summary["current_year_result"] == D("40.00")
    assert row(report, "Results of earlier years not yet closed").amount == D("550.00")
    assert report.summary["is_balanced"] is True


def test_the_cash_flow_statement_reconciles(story):
    report = cash_flow(story, rng(story))
    summary = report.summary
    assert summary["net_result"] == D("550.00")
    assert summary["operating"] == D("400.00")  # 550 + 100 depreciation - 500 receivables + 50 payables + 200 VAT
    assert summary["investing"] == D("-2000.00")
    assert summary["financing"] == D("15000.00")
    assert (summary["opening_cash"], summary["closing_cash"]) == (D("0.00"), D("13400.00"))
    assert summary["net_change"] == summary["closing_cash"] - summary["opening_cash"]
    assert summary["reconciles"] is True
    accounts = by_code(report)
    assert accounts["1090"] == (D("100.00"), None) and accounts["1200"] == (D("-500.00"), None)
    labels = [r.label for r in report.rows if r.kind == "heading"]
    assert labels == ["Operating activities", "Adjustments for non-cash items", "Changes in working capital",
                      "Investing activities", "Financing activities"]


def test_the_cash_flow_of_a_later_month_starts_from_the_cash_before_it_and_compares(story):
    report = cash_flow(story, rng(story, dt.date(2026, 3, 1), dt.date(2026, 3, 31),
                                  compare_from=dt.date(2026, 2, 1), compare_to=dt.date(2026, 2, 28)))
    assert (report.summary["opening_cash"], report.summary["closing_cash"]) == (D("15700.00"), D("13400.00"))
    assert report.summary["net_change"] == D("-2300.00") and report.summary["reconciles"]
    assert report.compare_summary["net_change"] == D("700.00") and report.compare_summary["reconciles"]


def test_the_general_ledger_has_opening_running_and_closing_balances(story):
    bank = get_account(story, "1400")
    ledger = general_ledger(story, bank, rng(story, dt.date(2026, 2, 1), dt.date(2026, 3, 31)))
    assert ledger.opening == D("15000.00")
    assert [(line.date, line.debit, line.credit, line.balance) for line in ledger.lines] == [
        (dt.date(2026, 2, 20), D("700.00"), D("0.00"), D("15700.00")),
        (dt.date(2026, 3, 3), D("0.00"), D("300.00"), D("15400.00")),
        (dt.date(2026, 3, 10), D("0.00"), D("2000.00"), D("13400.00")),
    ]
    assert (ledger.total_debit, ledger.total_credit, ledger.closing) == (D("700.00"), D("2300.00"), D("13400.00"))
    assert ledger.lines[0].number and ledger.lines[0].journal == "GEN"


def test_the_general_ledger_pages_by_key_and_carries_the_balance(story):
    bank = get_account(story, "1400")
    period = rng(story)
    first = general_ledger(story, bank, period, size=2)
    assert [line.balance for line in first.lines] == [D("10000.00"), D("15000.00")] and first.next_cursor
    second = general_ledger(story, bank, period, cursor=first.next_cursor, size=2)
    assert second.page_opening == D("15000.00") and not second.is_first_page
    assert [line.balance for line in second.lines] == [D("15700.00"), D("15400.00")]
    third = general_ledger(story, bank, period, cursor=second.next_cursor, size=2)
    assert [line.balance for line in third.lines] == [D("13400.00")] and third.next_cursor is None


def test_an_income_account_opens_with_its_fiscal_year_only(story):
    post(story, dt.date(2027, 1, 5), ("1200", "40", "0"), ("4000", "0", "40"))
    sales = get_account(story, "4000")
    ledger = general_ledger(story, sales, rng(story, dt.date(2027, 1, 1), dt.date(2027, 1, 31)))
    assert ledger.opening == D("0.00") and ledger.closing == D("-40.00")
    ledger = general_ledger(story, sales, rng(story, dt.date(2026, 3, 1), dt.date(2026, 3, 31)))
    assert ledger.opening == D("-1000.00")


@pytest.mark.parametrize(("params", "field"), [
    ({"date_from": dt.date(2026, 3, 1), "date_to": dt.date(2026, 2, 1)}, "date_to"),
    ({"date_from": None, "date_to": dt.date(2026, 2, 1)}, "date_from"),
    ({"date_from": dt.date(2026, 3, 1), "date_to": dt.date(2026, 3, 2), "compare_from": dt.date(2026, 1, 1)},
     "compare_to"),
    ({"date_from": dt.date(2026, 3, 1), "date_to": dt.date(2026, 3, 2), "compare_from": dt.date(2026, 2, 1),
      "compare_to": dt.date(2026, 1, 1)}, "compare_to"),
    ({"date_from": dt.date(2026, 3, 1), "date_to": dt.date(2026, 3, 2), "cost_centre": "NOPE"}, "cost_centre"),
])
def test_bad_report_parameters_are_refused_naming_the_field(story, params, field):
    with pytest.raises(ValidationFailed) as refused:
        report_range(story, **params)
    assert field in refused.value.fields


def test_an_unknown_account_or_another_companys_is_refused(story, other_books):
    with pytest.raises(ValidationFailed) as refused:
        get_account(story, "9999")
    assert refused.value.code == "report.unknown_account"
    theirs = get_account(other_books, "1400")
    with pytest.raises(ValidationFailed):
        get_account(story, theirs.pk)
    with pytest.raises(ValidationFailed):
        get_account(story, theirs)


def test_reports_of_another_company_see_nothing_of_this_one(story, other_books):
    report = profit_and_loss(other_books, rng(other_books))
    assert report.summary["net_result"] == D("0.00") and not by_code(report)


def test_reports_cost_a_fixed_number_of_queries_whatever_the_lines(story, django_assert_max_num_queries):
    period = rng(story, compare_from=dt.date(2025, 1, 1), compare_to=dt.date(2025, 3, 31))
    for _ in range(20):
        post(story, dt.date(2026, 2, 11), ("1400", "1", "0"), ("4900", "0", "1"))
    for build in (profit_and_loss, cash_flow):
        with django_assert_max_num_queries(10):
            build(story, period)
    with django_assert_max_num_queries(12):
        balance_sheet(story, report_range(story, date_from=None, date_to=dt.date(2026, 3, 31),
                                          compare_to=dt.date(2025, 12, 31), as_of=True))
