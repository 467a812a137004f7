"""The trial balance as a full report: comparison columns, cost-centre filter (not claimed to
balance), XLSX and PDF exports, figures linking to the account's general ledger, date bounds
on the page, the API and the CLI, a pinned query count, and no journal line read without a
cost centre.

The story is test_reports.post_story (FY2026, EUR): March against February is
- 1400 bank: opening 15,700.00, credit 2,300.00, closing 13,400.00 (February: opening
  15,000.00, debit 700.00, closing 15,700.00);
- 1010 equipment: debit 2,000.00 in March, nothing in February;
- 4000 sales: opening -1,000.00 in March (since the fiscal year's start), credit 1,000.00 in February.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from pypdf import PdfReader

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.db_money import MoneySum
from keel.ledger.exports import render
from keel.ledger.models import CostCentre, Line
from keel.ledger.reports import report_range
from keel.ledger.reports.trial_balance import trial_balance_report
from keel.ledger.selectors import trial_balance
from keel.ledger.services.chart import create_cost_centre
from keel.ledger.tests.test_reports import post, post_story

pytestmark = pytest.mark.django_db

D = Decimal
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
FEBRUARY = (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
PAGE = "/ledger/trial-balance/"
COMPARED = "?date_from=2026-03-01&date_to=2026-03-31&compare=on&compare_from=2026-02-01&compare_to=2026-02-28"
API = "/api/ledger/trial-balance"


@pytest.fixture
def story(books):
    return post_story(books)


@pytest.fixture
def web(story, accountant, client_for):
    return client_for(accountant)


def compared(company, **extra):
    return report_range(company, date_from=MARCH[0], date_to=MARCH[1], compare_from=FEBRUARY[0],
                        compare_to=FEBRUARY[1], **extra)


def by_code(report) -> dict:
    return {row.code: row for row in report.rows}


def figures(row) -> tuple:
    return (row.opening, row.debit, row.credit, row.closing, row.compare_opening, row.compare_debit,
            row.compare_credit, row.compare_closing, row.variance)


# -- comparison ---------------------------------------------------------------------------------


def test_the_comparison_columns_hold_the_comparison_ranges_figures(story):
    report = trial_balance_report(story, compared(story))
    rows = by_code(report)
    assert figures(rows["1400"]) == (D("15700.00"), D("0.00"), D("2300.00"), D("13400.00"),
                                     D("15000.00"), D("700.00"), D("0.00"), D("15700.00"), D("-2300.00"))
    # An account moving only in March shows zeros for February.
    assert figures(rows["1010"]) == (D("0.00"), D("2000.00"), D("0.00"), D("2000.00"),
                                     D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("2000.00"))
    # Income opens with the fiscal year to date: nothing before February, January-February before March.
    assert figures(rows["4000"]) == (D("-1000.00"), D("0.00"), D("0.00"), D("-1000.00"),
                                     D("0.00"), D("0.00"), D("1000.00"), D("-1000.00"), D("0.00"))
    assert (report.total_debit, report.total_credit) == (D("2450.00"), D("2450.00"))
    assert (report.compare_total_debit, report.compare_total_credit) == (D("1900.00"), D("1900.00"))
    assert report.is_balanced is True and report.compare_is_balanced is True
    assert [row.code for row in report.rows] == sorted(rows)


def test_each_column_equals_the_trial_balance_of_its_own_range(story):
    report = trial_balance_report(story, compared(story))
    march = {r.code: (r.opening, r.debit, r.credit) for r in trial_balance(story, *MARCH).rows}
    february = {r.code: (r.opening, r.debit, r.credit) for r in trial_balance(story, *FEBRUARY).rows}
    for row in report.rows:
        assert (row.opening, row.debit, row.credit) == march.get(row.code, (0, 0, 0))
        assert (row.compare_opening, row.compare_debit, row.compare_credit) == february.get(row.code, (0, 0, 0))


def test_without_a_comparison_there_are_no_comparison_figures(story):
    report = trial_balance_report(story, report_range(story, date_from=MARCH[0], date_to=MARCH[1]))
    row = by_code(report)["1400"]
    assert (row.compare_opening, row.compare_closing, row.variance) == (None, None, None)
    assert report.compare_total_debit is None and report.compare_label == "" and not report.has_comparison


# -- cost centre --------------------------------------------------------------------------------


def _centre_sums(company, code, start, end) -> dict[str, tuple[Decimal, Decimal]]:
    lines = (Line.objects.posted().filter(company=company, cost_centre__code=code, date__gte=start, date__lte=end)
             .values("account__code").annotate(d=MoneySum("debit"), c=MoneySum("credit")).order_by())
    return {row["account__code"]: (row["d"], row["c"]) for row in lines}


def test_a_cost_centre_counts_only_its_lines_and_is_not_claimed_to_balance(story):
    post(story, dt.date(2026, 3, 20), ("6100", "40", "0", "ADMIN"), ("1400", "0", "40", "ADMIN"))
    period = report_range(story, date_from=dt.date(2026, 1, 1), date_to=MARCH[1], cost_centre="ADMIN")
    report = trial_balance_report(story, period)
    sums = _centre_sums(story, "ADMIN", dt.date(2026, 1, 1), MARCH[1])
    assert {row.code: (row.debit, row.credit) for row in report.rows} == sums
    assert {row.code: (row.debit, row.credit) for row in report.rows} == {
        "1400": (D("0.00"), D("40.00")), "6100": (D("340.00"), D("0.00"))}
    assert (report.total_debit, report.total_credit) == (D("340.00"), D("40.00"))
    # A slice by cost centre cuts entries in half (the rent's bank line has no centre): not checked.
    assert report.is_balanced is None
    assert trial_balance(story, dt.date(2026, 1, 1), MARCH[1], cost_centre=period.cost_centre).is_balanced is None


def test_a_cost_centre_opens_with_its_own_earlier_lines(story):
    period = report_range(story, date_from=dt.date(2026, 3, 15), date_to=MARCH[1], cost_centre="ADMIN",
                          compare_from=FEBRUARY[0], compare_to=FEBRUARY[1])
    rows = by_code(trial_balance_report(story, period))
    assert list(rows) == ["6100"]
    assert figures(rows["6100"]) == (D("300.00"), D("0.00"), D("0.00"), D("300.00"),
                                     D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("300.00"))


def test_a_cost_centre_slice_that_happens_to_balance_is_still_not_called_balanced(story, web):
    create_cost_centre(actor=None, company=story, code="PROJ", name="Project", check_permission=False)
    post(story, dt.date(2026, 3, 5), ("6100", "25", "0", "PROJ"), ("1400", "0", "25", "PROJ"))
    report = trial_balance_report(story, report_range(story, date_from=MARCH[0], date_to=MARCH[1], cost_centre="PROJ"))
    assert report.total_debit == report.total_credit == D("25.00") and report.is_balanced is None
    content = web.get(PAGE + "?date_from=2026-03-01&date_to=2026-03-31&cost_centre=PROJ").content.decode()
    assert "not checked" in content and "need not balance" in content and "balanced" not in content
    unfiltered = web.get(PAGE + "?date_from=2026-03-01&date_to=2026-03-31").content.decode()
    assert '<span class="badge ok">balanced</span>' in unfiltered


# -- the page: comparison, cost centre, drill-down, exports, bounds, queries ------------------------


def test_the_page_shows_the_comparison_columns(story, web):
    response = web.get(PAGE + COMPARED)
    content = response.content.decode()
    assert response.status_code == 200
    assert "2026-03-01 – 2026-03-31" in content and "2026-02-01 – 2026-02-28" in content
    assert "Variance" in content and "13,400.00" in content and "15,700.00" in content and "-2,300.00" in content
    plain = web.get(PAGE + "?date_from=2026-03-01&date_to=2026-03-31").content.decode()
    assert "Variance" not in plain


def test_every_figure_links_to_the_accounts_general_ledger_for_its_range(story, web):
    content = web.get(PAGE + COMPARED).content.decode()
    current = "/ledger/reports/general-ledger/?account=1400&amp;date_from=2026-03-01&amp;date_to=2026-03-31"
    previous = "/ledger/reports/general-ledger/?account=1400&amp;date_from=2026-02-01&amp;date_to=2026-02-28"
    # Opening, debit, credit and closing of each range.
    assert content.count(f'href="{current}"') == 4 and content.count(f'href="{previous}"') == 4
    assert "/ledger/entries/?account=" not in content


@pytest.mark.parametrize("query", [
    "?date_from=2026-03-01&date_to=2026-03-31",
    "?date_from=2026-03-15&date_to=2026-03-31&cost_centre=ADMIN",
])
def test_the_general_ledger_behind_each_row_has_the_rows_figures(story, web, query):
    response = web.get(PAGE + query)
    rows = response.context["rows"]
    assert rows
    for item in rows:
        row = item["row"]
        ledger = web.get(item["link"]).context["ledger"]
        assert (ledger.account.code, ledger.opening, ledger.total_debit, ledger.total_credit, ledger.closing) == (
            row.code, row.opening, row.debit, row.credit, row.closing)


def test_the_links_of_a_cost_centre_report_keep_the_cost_centre(story, web):
    content = web.get(PAGE + "?date_from=2026-01-01&date_to=2026-03-31&cost_centre=ADMIN").content.decode()
    assert ('href="/ledger/reports/general-ledger/?account=6100&amp;date_from=2026-01-01&amp;date_to=2026-03-31'
            '&amp;cost_centre=ADMIN"') in content
    assert "cost centre ADMIN Administration" in content and "Sales of goods" not in content


def test_the_page_exports_xlsx_with_numeric_cells(story, web):
    response = web.get(PAGE + COMPARED + "&format=xlsx")
    assert response["Content-Disposition"] == 'attachment; filename="trial-balance-acme-2026-03-01-2026-03-31.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Trial balance",) + (None,) * 11
    assert rows[2] == ("code", "name", "type", "opening", "debit", "credit", "closing", "compare opening",
                       "compare debit", "compare credit", "compare closing", "variance")
    [bank] = [row for row in rows if row[0] == "1400"]
    assert bank[3:] == (15700, 0, 2300, 13400, 15000, 700, 0, 15700, -2300)
    assert all(isinstance(value, int | float) for value in bank[3:])
    [total] = [row for row in rows if row[1] == "Total"]
    assert (total[4], total[5], total[8], total[9]) == (2450, 2450, 1900, 1900)
    [bank_cells] = [cells for cells in sheet.iter_rows() if cells[0].value == "1400"]
    assert bank_cells[6].number_format == "#,##0.00" and bank_cells[6].data_type == "n"


def test_the_page_exports_pdf(story, web):
    response = web.get(PAGE + COMPARED + "&format=pdf")
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Trial balance" in text and "compared with 2026-02-01 – 2026-02-28" in text
    assert "13,400.00" in text and "15,700.00" in text and "-2,300.00" in text and "2,450.00" in text


def test_the_csv_export_keeps_its_columns_and_adds_the_comparison(story, web):
    plain = web.get(PAGE + "?date_from=2026-03-01&date_to=2026-03-31&format=csv").content.decode("utf-8-sig")
    lines = plain.splitlines()
    assert lines[2] == "code,name,type,opening,debit,credit,closing"
    assert "1400,Bank,asset,15700.00,0.00,2300.00,13400.00" in lines
    assert lines[-1] == ",Total,,0.00,2450.00,2450.00,0.00"
    both = web.get(PAGE + COMPARED + "&format=csv").content.decode("utf-8-sig").splitlines()
    assert both[2].endswith(",compare opening,compare debit,compare credit,compare closing,variance")
    assert "1400,Bank,asset,15700.00,0.00,2300.00,13400.00,15000.00,700.00,0.00,15700.00,-2300.00" in both
    assert both[-1] == ",Total,,0.00,2450.00,2450.00,0.00,0.00,1900.00,1900.00,0.00,"


def test_the_export_of_a_cost_centre_says_so(story):
    period = report_range(story, date_from=dt.date(2026, 1, 1), date_to=MARCH[1], cost_centre="ADMIN")
    content, content_type, filename = render(trial_balance_report(story, period), "csv")
    lines = content.decode("utf-8-sig").splitlines()
    assert "cost centre ADMIN (its lines only: totals need not balance)" in lines[1]
    assert lines[3:] == ["6100,Rent,expense,0.00,300.00,0.00,300.00", ",Total,,0.00,300.00,0.00,300.00"]
    assert filename == "trial-balance-acme-2026-01-01-2026-03-31.csv" and content_type.startswith("text/csv")


@pytest.mark.parametrize("query", [
    "?date_from=0001-01-01&date_to=0001-02-01",
    "?date_from=2026-01-01&date_to=9999-12-31",
    "?date_from=2026-03-01&date_to=2026-03-31&compare=on&compare_from=0001-01-01&compare_to=0001-02-01",
    "?date_from=0001-01-01&date_to=0001-02-01&format=csv",
])
def test_dates_out_of_bounds_are_a_form_error_never_a_500(story, web, query):
    response = web.get(PAGE + query)
    assert response.status_code == 200
    assert b"Dates must be between 1900-01-01 and 9998-12-31." in response.content
    assert response["Content-Type"].startswith("text/html") and response.context["report"] is None


def test_a_range_ending_before_it_starts_and_an_unknown_cost_centre_are_form_errors(story, web):
    response = web.get(PAGE + "?date_from=2026-04-01&date_to=2026-03-01")
    assert response.status_code == 200 and b"The range ends before it starts." in response.content
    response = web.get(PAGE + "?date_from=2026-03-01&date_to=2026-03-31&cost_centre=NOPE")
    assert response.status_code == 200 and b"Select a valid choice" in response.content


def test_the_page_costs_a_pinned_number_of_queries(story, web, django_assert_max_num_queries):
    # Per range: (periods + balances) for the range, the opening and the year's opening, and the accounts;
    # a month cut by a range adds its day balances; a cost centre reads one grouped query of lines instead.
    web.get(PAGE + COMPARED)
    with django_assert_max_num_queries(18):
        assert web.get(PAGE + COMPARED).status_code == 200
    with django_assert_max_num_queries(23):
        assert web.get(PAGE + "?date_from=2026-03-15&date_to=2026-04-20&compare=on").status_code == 200
    with django_assert_max_num_queries(12):
        assert web.get(PAGE + COMPARED + "&cost_centre=ADMIN").status_code == 200
    # More lines and accounts cost no more queries.
    for day in range(1, 28):
        post(story, dt.date(2026, 3, day), ("6200", "1", "0"), ("2100", "0", "1"))
        post(story, dt.date(2026, 2, day), ("1200", "2", "0"), ("4900", "0", "2"))
    with django_assert_max_num_queries(18):
        assert web.get(PAGE + COMPARED).status_code == 200


# -- performance: running balances only, unless a cost centre asks for lines -------------------------


def test_without_a_cost_centre_no_journal_line_is_read(story):
    with CaptureQueriesContext(connection) as queries:
        trial_balance_report(story, compared(story))
    tables = " ".join(query["sql"] for query in queries.captured_queries)
    assert '"ledger_line"' not in tables and '"ledger_balance"' in tables
    with CaptureQueriesContext(connection) as queries:
        trial_balance_report(story, compared(story, cost_centre="ADMIN"))
    assert any('"ledger_line"' in query["sql"] for query in queries.captured_queries)


# -- API -------------------------------------------------------------------------------------------


def test_the_api_takes_a_comparison_range(story, accountant):
    api = ApiClient(accountant, story)
    response = api.get(API + "?date_from=2026-03-01&date_to=2026-03-31&compare_from=2026-02-01&compare_to=2026-02-28")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["compare_from"], body["compare_to"], body["cost_centre"]) == ("2026-02-01", "2026-02-28", None)
    rows = {row["code"]: row for row in body["rows"]}
    bank = rows["1400"]
    assert [bank[key] for key in ("opening", "debit", "credit", "closing", "compare_opening", "compare_debit",
                                  "compare_credit", "compare_closing", "variance")] == [
        "15700.00", "0.00", "2300.00", "13400.00", "15000.00", "700.00", "0.00", "15700.00", "-2300.00"]
    assert (body["total_debit"], body["compare_total_debit"], body["is_balanced"], body["compare_is_balanced"]) == (
        "2450.00", "1900.00", True, True)


def test_the_api_without_a_comparison_keeps_its_shape(story, accountant):
    body = ApiClient(accountant, story).get(API + "?date_from=2026-03-01&date_to=2026-03-31").json()
    bank = {row["code"]: row for row in body["rows"]}["1400"]
    assert (bank["closing"], bank["compare_closing"], bank["variance"]) == ("13400.00", None, None)
    assert (body["is_balanced"], body["compare_total_debit"], body["compare_from"]) == (True, None, None)


def test_the_api_filters_by_cost_centre(story, accountant):
    centre = CostCentre.objects.get(company=story, code="SALES")
    api = ApiClient(accountant, story)
    for reference in ("SALES", str(centre.pk)):
        body = api.get(API + f"?date_from=2026-01-01&date_to=2026-03-31&cost_centre={reference}").json()
        assert body["cost_centre"] == "SALES" and body["is_balanced"] is None
        assert [(r["code"], r["debit"], r["credit"]) for r in body["rows"]] == [("4000", "0.00", "1000.00")]
        assert (body["total_debit"], body["total_credit"]) == ("0.00", "1000.00")


@pytest.mark.parametrize(("query", "code", "field"), [
    ("?date_from=2026-03-01&date_to=2026-03-31&compare_from=2026-02-01", "report.invalid_range", "compare_to"),
    ("?date_from=2026-03-01&date_to=2026-03-31&compare_from=2026-02-28&compare_to=2026-02-01",
     "report.invalid_range", "compare_to"),
    ("?date_from=2026-03-01&date_to=2026-03-31&cost_centre=NOPE", "report.unknown_cost_centre", "cost_centre"),
    ("?date_from=2026-01-01&date_to=9999-12-30", "report.invalid_range", "date_to"),
])
def test_the_api_refuses_bad_parameters_with_a_400_naming_the_field(story, accountant, query, code, field):
    body = assert_error(ApiClient(accountant, story).get(API + query), 400, code)
    assert field in [error["field"] for error in body["errors"]]


@pytest.mark.parametrize("query", [
    "?date_from=0001-01-01&date_to=0001-02-01",
    "?date_from=2026-03-01&date_to=2026-03-31&compare_from=0001-01-01&compare_to=0001-02-01",
])
def test_the_api_answers_year_one_with_a_400(story, accountant, query):
    assert_error(ApiClient(accountant, story).get(API + query), 400)


# -- CLI -------------------------------------------------------------------------------------------


def _cli(*args) -> str:
    out = io.StringIO()
    call_command("ledger", "trial-balance", "--company", "acme", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_cli_filters_by_cost_centre_without_claiming_a_balance(story):
    out = _cli("--from", "2026-01-01", "--to", "2026-03-31", "--cost-centre", "ADMIN", "--format", "csv")
    assert out.splitlines() == ["code,name,type,opening,debit,credit,closing",
                                "6100,Rent,expense,0.00,300.00,0.00,300.00", ",Total,,0.00,300.00,0.00,300.00"]
    document = json.loads(_cli("--from", "2026-01-01", "--to", "2026-03-31", "--cost-centre", "ADMIN",
                               "--format", "json"))
    assert document["cost_centre"] == "ADMIN" and document["is_balanced"] is None
    # The table does not fail on the unbalanced slice (it is not checked).
    table = _cli("--from", "2026-01-01", "--to", "2026-03-31", "--cost-centre", "ADMIN")
    assert "cost centre" in table and "ADMIN" in table and "Rent" in table and "300.00" in table


def test_the_cli_refuses_out_of_bounds_dates_and_unknown_cost_centres(story):
    with pytest.raises(CommandError, match="Dates must be between"):
        _cli("--from", "0001-01-01", "--to", "0001-02-01")
    with pytest.raises(CommandError, match="report.unknown_cost_centre"):
        _cli("--cost-centre", "NOPE")
