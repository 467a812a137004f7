"""Statement rules of issue 11 §5, with exact figures on the story of test_reports (FY2026,
EUR: a result of 550.00 = sales 1,000 - rent 300 - supplies 50 - depreciation 100; the sale
carries cost centre SALES, the rent ADMIN).

- A trial balance of a year after years not yet closed shows their result in a row of its
  own, so its opening and closing columns add up to zero; once the year is closed the row
  is gone and retained earnings opens with the result instead.
- A cost-centre balance sheet (and trial balance) shows no "results of earlier years" for
  closed years: their closing entry carries no cost centre.
- Retained earnings never appear under changes in working capital.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command

from keel.api.tests.conftest import ApiClient
from keel.ledger.reports import balance_sheet, cash_flow, report_range
from keel.ledger.reports.trial_balance import EARLIER_RESULTS_LABEL, trial_balance_report
from keel.ledger.services.chart import update_account, update_account_group
from keel.ledger.services.closing import close_fiscal_year
from keel.ledger.tests.test_cash_flow_classification import (
    account,
    assert_reconciles,
    group,
    section_of,
)
from keel.ledger.tests.test_reports import post, post_story

pytestmark = pytest.mark.django_db

D = Decimal
JANUARY_2027 = (dt.date(2027, 1, 1), dt.date(2027, 1, 31))
EARLIER = "Results of earlier years not yet closed"


@pytest.fixture
def story(books):
    company = post_story(books)
    post(company, dt.date(2027, 1, 5), ("1400", "40", "0"), ("4900", "0", "40"))
    return company


def close_2026(company):
    # A year is closed from its last day on: these stories close 2026 as if on 2027-01-05.
    with mock.patch("keel.ledger.services.closing.timezone.localdate", return_value=dt.date(2027, 1, 5)):
        close_fiscal_year(actor=None, company=company, fiscal_year=2026, check_permission=False)


def earlier_rows(report) -> list:
    return [row for row in report.rows if row.account_id is None]


def january(company, **extra):
    return report_range(company, date_from=JANUARY_2027[0], date_to=JANUARY_2027[1], **extra)


# -- trial balance after a year not yet closed ---------------------------------------------------


def test_the_trial_balance_after_an_unclosed_year_shows_its_result_and_its_columns_add_up(story):
    report = trial_balance_report(story, january(story))
    [earlier] = earlier_rows(report)
    assert (earlier.name, earlier.code, earlier.account_type) == (EARLIER_RESULTS_LABEL, "", "equity")
    # The 2026 profit of 550.00 is a credit balance, after the accounts.
    assert (earlier.opening, earlier.debit, earlier.credit, earlier.closing) == (
        D("-550.00"), D("0.00"), D("0.00"), D("-550.00"))
    assert report.rows[-1] is earlier
    # Income accounts open with the new year only: 4000 (1,000 of 2026 sales) is not listed.
    assert "4000" not in {row.code for row in report.rows}
    assert (report.total_opening, report.total_closing) == (D("0.00"), D("0.00"))
    assert (report.total_debit, report.total_credit) == (D("40.00"), D("40.00"))
    assert report.is_balanced is True


def test_once_the_year_is_closed_retained_earnings_opens_with_its_result_instead(story):
    close_2026(story)
    report = trial_balance_report(story, january(story))
    assert earlier_rows(report) == []
    retained = next(row for row in report.rows if row.code == "3100")
    assert (retained.opening, retained.closing) == (D("-550.00"), D("-550.00"))
    assert (report.total_opening, report.total_closing) == (D("0.00"), D("0.00"))
    assert report.is_balanced is True


def test_the_comparison_column_has_its_own_earlier_result(story):
    # January 2027 against March 2026: FY2025 (before March 2026) had nothing, so 0.00 there.
    period = report_range(story, date_from=JANUARY_2027[0], date_to=JANUARY_2027[1],
                          compare_from=dt.date(2026, 3, 1), compare_to=dt.date(2026, 3, 31))
    report = trial_balance_report(story, period)
    [earlier] = earlier_rows(report)
    assert (earlier.opening, earlier.compare_opening, earlier.compare_closing, earlier.variance) == (
        D("-550.00"), D("0.00"), D("0.00"), D("-550.00"))
    assert (report.compare_total_opening, report.compare_total_closing) == (D("0.00"), D("0.00"))
    assert report.is_balanced is True and report.compare_is_balanced is True


def test_the_api_page_and_cli_show_the_earlier_result_and_zero_totals(story, accountant, client_for):
    response = ApiClient(accountant, story).get(
        "/api/ledger/trial-balance?date_from=2027-01-01&date_to=2027-01-31")
    assert response.status_code == 200
    body = response.json()
    [earlier] = [row for row in body["rows"] if row["account_id"] is None]
    assert (earlier["name"], earlier["opening"], earlier["closing"]) == (EARLIER, "-550.00", "-550.00")
    assert (body["total_opening"], body["total_closing"], body["is_balanced"]) == ("0.00", "0.00", True)

    page = client_for(accountant).get("/ledger/trial-balance/?date_from=2027-01-01&date_to=2027-01-31")
    html = page.content.decode()
    assert page.status_code == 200 and EARLIER in html and "-550.00" in html
    # The row is no account's: it links to no general ledger.
    row_html = html[html.index(EARLIER):].split("</tr>")[0]
    assert "<a " not in row_html

    out = io.StringIO()
    call_command("ledger", "trial-balance", "--company", story.code, "--from", "2027-01-01",
                 "--to", "2027-01-31", "--format", "csv", stdout=out)
    lines = out.getvalue().splitlines()
    assert f",{EARLIER},equity,-550.00,0.00,0.00,-550.00" in lines
    assert lines[-1] == ",Total,,0.00,40.00,40.00,0.00"
    out = io.StringIO()
    call_command("ledger", "trial-balance", "--company", story.code, "--from", "2027-01-01",
                 "--to", "2027-01-31", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["total_opening"] == "0.00"


# -- cost centres and closed years ---------------------------------------------------------------


def test_a_cost_centre_balance_sheet_shows_an_unclosed_years_result_for_its_lines(story):
    report = balance_sheet(story, report_range(story, date_from=None, date_to=JANUARY_2027[1], as_of=True,
                                               cost_centre="SALES"))
    [earlier] = [row for row in report.rows if row.label == EARLIER]
    assert earlier.amount == D("1000.00")  # the SALES line of the 2026 sale


def test_a_cost_centre_balance_sheet_shows_no_earlier_result_for_a_closed_year(story):
    close_2026(story)
    for centre in ("SALES", "ADMIN"):
        report = balance_sheet(story, report_range(story, date_from=None, date_to=JANUARY_2027[1], as_of=True,
                                                   cost_centre=centre))
        assert EARLIER not in [row.label for row in report.rows], centre
    # Without a cost centre the closed result sits in retained earnings (3100), balanced.
    report = balance_sheet(story, report_range(story, date_from=None, date_to=JANUARY_2027[1], as_of=True))
    assert EARLIER not in [row.label for row in report.rows]
    assert next(r.amount for r in report.rows if r.code == "3100") == D("550.00")
    assert report.summary["is_balanced"] is True


def test_only_the_closed_years_are_left_out_of_a_cost_centres_earlier_result(story):
    # FY2025 stays open with 200.00 of SALES income; FY2026 (1,000.00 of SALES income) is closed.
    post(story, dt.date(2025, 6, 1), ("1400", "200", "0"), ("4000", "0", "200", "SALES"))
    close_2026(story)
    report = balance_sheet(story, report_range(story, date_from=None, date_to=JANUARY_2027[1], as_of=True,
                                               cost_centre="SALES"))
    assert [row.amount for row in report.rows if row.label == EARLIER] == [D("200.00")]
    trial = trial_balance_report(story, january(story, cost_centre="SALES"))
    assert [row.opening for row in earlier_rows(trial)] == [D("-200.00")]
    # The whole company: FY2025's 200.00 is still not closed, FY2026's went to retained earnings.
    report = balance_sheet(story, report_range(story, date_from=None, date_to=JANUARY_2027[1], as_of=True))
    assert [row.amount for row in report.rows if row.label == EARLIER] == [D("200.00")]
    assert report.summary["is_balanced"] is True


def test_a_cost_centre_trial_balance_shows_no_earlier_result_for_a_closed_year(story):
    assert [row.opening for row in earlier_rows(trial_balance_report(story, january(story, cost_centre="ADMIN")))] \
        == [D("300.00")]  # the ADMIN rent of 2026, a debit, while 2026 is open
    close_2026(story)
    assert earlier_rows(trial_balance_report(story, january(story, cost_centre="ADMIN"))) == []


# -- retained earnings in the cash flow ----------------------------------------------------------


def dividend_statement(company):
    post(company, dt.date(2026, 3, 20), ("3100", "500", "0"), ("1400", "0", "500"))
    return cash_flow(company, report_range(company, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 3, 31)))


def test_retained_earnings_are_financing_not_working_capital(story):
    report = dividend_statement(story)
    assert section_of(report, "3100") == "Financing activities"
    assert next(row.amount for row in report.rows if row.code == "3100") == D("-500.00")
    # 15,000 of capital and loan less the 500 dividend; operating keeps its 400.
    assert (report.summary["operating"], report.summary["financing"]) == (D("400.00"), D("14500.00"))
    assert_reconciles(report)


def test_retained_earnings_marked_operating_still_stay_out_of_working_capital(story):
    update_account(actor=None, account=account(story, "3100"), cash_flow="operating", check_permission=False)
    update_account_group(actor=None, group=group(story, "3"), cash_flow="operating", check_permission=False)
    report = dividend_statement(story)
    assert section_of(report, "3100") == "Financing activities"
    assert section_of(report, "3000") == "Changes in working capital"  # its group's section, as set
    assert_reconciles(report)


def test_retained_earnings_follow_an_investing_or_non_cash_section_they_are_given(story):
    update_account(actor=None, account=account(story, "3100"), cash_flow="non_cash", check_permission=False)
    assert section_of(dividend_statement(story), "3100") == "Adjustments for non-cash items"


def test_the_closing_entry_does_not_reach_the_cash_flow_of_the_closed_year(story):
    close_2026(story)
    report = cash_flow(story, report_range(story, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31)))
    assert "3100" not in {row.code for row in report.rows if row.kind == "account"}
    assert report.summary["net_result"] == D("550.00")
    assert_reconciles(report)
