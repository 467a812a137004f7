"""Year-end closing: the result moves to retained earnings, the year and its periods close."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keel.core.exceptions import PermissionDenied, ValidationFailed
from keel.core.models import Activity
from keel.core.tests.factories import member
from keel.ledger.choices import PeriodStatus
from keel.ledger.models import Entry, FiscalYear, Line, Period
from keel.ledger.selectors import trial_balance
from keel.ledger.services.closing import close_fiscal_year
from keel.ledger.services.periods import close_period, reopen_period
from keel.ledger.services.posting import LineInput, create_draft_entry, post_entry
from keel.ledger.tests.factories import lines, post_sale

pytestmark = pytest.mark.django_db

YEAR_END = dt.date(2025, 12, 31)


def _a_year(company):
    post_sale(company, amount="1000.00", day=dt.date(2025, 2, 10))
    post_sale(company, amount="500.00", day=dt.date(2025, 11, 3), journal="GEN")
    post_entry(actor=None, company=company, journal="PUR", date=dt.date(2025, 5, 5), check_permission=False,
               lines=lines(("6100", "300.00", "0"), ("1400", "0", "300.00")))
    post_entry(actor=None, company=company, journal="GEN", date=dt.date(2025, 7, 1), check_permission=False,
               lines=lines(("1400", "1000.00", "0"), ("3000", "0", "1000.00")))  # capital: not P&L


def _closing(report, code):
    return next((row.closing for row in report.rows if row.code == code), Decimal(0))


def test_closing_moves_the_result_to_retained_earnings(books, owner):
    _a_year(books)
    result = close_fiscal_year(actor=owner, company=books, fiscal_year=2025)
    assert result.result == Decimal("1200.00") and result.periods_closed == 12
    entry = result.entry
    assert entry.date == YEAR_END and entry.journal.code == "OPN" and entry.source_type == "ledger.fiscal_year"
    assert sorted((line.account.code, line.debit, line.credit) for line in entry.lines.select_related("account")) == [
        ("3100", Decimal(0), Decimal("1200.00")), ("4000", Decimal("1500.00"), Decimal(0)),
        ("6100", Decimal(0), Decimal("300.00")),
    ]
    report = trial_balance(books, dt.date(2025, 1, 1), YEAR_END)
    assert report.is_balanced
    for code in ("4000", "6100"):
        assert _closing(report, code) == 0
    assert _closing(report, "3100") == Decimal("-1200.00")
    assert _closing(report, "3000") == Decimal("-1000.00")  # balance-sheet accounts are untouched
    assert FiscalYear.objects.get(company=books, year=2025).status == PeriodStatus.CLOSED
    assert set(Period.objects.filter(company=books, fiscal_year__year=2025).values_list("status", flat=True)) == {"closed"}
    # The next year opens with retained earnings carried and the P&L at zero.
    next_year = trial_balance(books, dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert _closing(next_year, "3100") == Decimal("-1200.00") and _closing(next_year, "4000") == 0
    activity = Activity.objects.get(company=books, verb="ledger.fiscal_year_closed")
    assert activity.data["result"] == "1200.00" and activity.actor == owner


def test_a_loss_is_debited_to_retained_earnings(books):
    post_entry(actor=None, company=books, journal="GEN", date=dt.date(2025, 3, 1), check_permission=False,
               lines=lines(("6100", "80.00", "0"), ("1400", "0", "80.00")))
    result = close_fiscal_year(actor=None, company=books, fiscal_year=2025, check_permission=False)
    assert result.result == Decimal("-80.00")
    assert _closing(trial_balance(books, dt.date(2025, 1, 1), YEAR_END), "3100") == Decimal("80.00")


def test_a_year_without_income_or_expense_closes_without_an_entry(books):
    result = close_fiscal_year(actor=None, company=books, fiscal_year=2025, check_permission=False)
    assert result.entry is None and result.result == 0 and result.periods_closed == 12


def test_closing_twice_is_refused(books):
    _a_year(books)
    close_fiscal_year(actor=None, company=books, fiscal_year=2025, check_permission=False)
    entries = Entry.objects.filter(company=books).count()
    with pytest.raises(ValidationFailed) as refused:
        close_fiscal_year(actor=None, company=books, fiscal_year=2025, check_permission=False)
    assert refused.value.code == "fiscal_year.already_closed"
    assert Entry.objects.filter(company=books).count() == entries


def test_drafts_in_the_year_block_the_close(books):
    _a_year(books)
    create_draft_entry(actor=None, company=books, journal="GEN", date=dt.date(2025, 8, 1), check_permission=False,
                       lines=[LineInput(account="6100", debit=1), LineInput(account="1400", credit=1)])
    lines_before = Line.objects.filter(company=books).count()
    with pytest.raises(ValidationFailed) as refused:
        close_fiscal_year(actor=None, company=books, fiscal_year=2025, check_permission=False)
    assert refused.value.code == "fiscal_year.has_drafts" and refused.value.extra["drafts"] == 1
    assert Line.objects.filter(company=books).count() == lines_before
    assert FiscalYear.objects.get(company=books, year=2025).status == PeriodStatus.OPEN
    assert not Period.objects.filter(company=books, fiscal_year__year=2025, status="closed").exists()


def test_a_closed_last_period_must_be_reopened_first(books):
    _a_year(books)
    december = Period.objects.get(company=books, start=dt.date(2025, 12, 1))
    close_period(actor=None, period=december, check_permission=False)
    with pytest.raises(ValidationFailed) as refused:
        close_fiscal_year(actor=None, company=books, fiscal_year=2025, check_permission=False)
    assert refused.value.code == "fiscal_year.last_period_closed"
    reopen_period(actor=None, period=december, reason="Year-end close", check_permission=False)
    assert close_fiscal_year(actor=None, company=books, fiscal_year=2025, check_permission=False).result == Decimal("1200.00")


def test_only_owners_and_administrators_may_close_the_year(books, accountant):
    _a_year(books)
    for role in ("payroll_officer", "accountant", "auditor"):
        someone = accountant if role == "accountant" else member(books, role)
        with pytest.raises(PermissionDenied):
            close_fiscal_year(actor=someone, company=books, fiscal_year=2025)
    assert FiscalYear.objects.get(company=books, year=2025).status == PeriodStatus.OPEN
    assert not Entry.objects.filter(company=books, source_type="ledger.fiscal_year").exists()
    administrator = member(books, "administrator")
    assert close_fiscal_year(actor=administrator, company=books, fiscal_year=2025).result == Decimal("1200.00")


def test_the_closed_year_refuses_postings(books):
    close_fiscal_year(actor=None, company=books, fiscal_year=2025, check_permission=False)
    with pytest.raises(ValidationFailed) as refused:
        post_sale(books, day=dt.date(2025, 6, 1))
    assert refused.value.code == "period.closed"


def test_an_expense_account_deactivated_during_the_year_is_closed_and_stays_inactive(books):
    from keel.ledger.models import Account
    from keel.ledger.services.chart import set_account_active

    _a_year(books)
    account = Account.objects.get(company=books, code="6100")
    set_account_active(actor=None, account=account, is_active=False, check_permission=False)
    result = close_fiscal_year(actor=None, company=books, fiscal_year=2025, check_permission=False)
    assert result.result == Decimal("1200.00")
    assert _closing(trial_balance(books, dt.date(2025, 1, 1), YEAR_END), "6100") == 0
    account.refresh_from_db()
    assert account.is_active is False
    with pytest.raises(ValidationFailed) as refused:  # other postings are still refused on it
        post_entry(actor=None, company=books, journal="GEN", date=dt.date(2026, 1, 5), check_permission=False,
                   lines=lines(("6100", "1.00", "0"), ("1400", "0", "1.00")))
    assert refused.value.code == "account.inactive"


def test_the_profit_and_loss_of_a_closed_year_still_shows_what_it_earned(books, owner):
    from keel.ledger.reports import cash_flow, profit_and_loss, report_range

    _a_year(books)
    year = report_range(books, date_from=dt.date(2025, 1, 1), date_to=YEAR_END)
    before = profit_and_loss(books, year).summary
    close_fiscal_year(actor=owner, company=books, fiscal_year=2025)
    after = profit_and_loss(books, year).summary
    assert before == after
    assert (after["total_income"], after["total_expenses"], after["net_result"]) == (
        Decimal("1500.00"), Decimal("300.00"), Decimal("1200.00"))
    december = profit_and_loss(books, report_range(books, date_from=dt.date(2025, 12, 1), date_to=YEAR_END)).summary
    assert december["net_result"] == Decimal(0)  # nothing earned in December; the closing entry is not income
    flow = cash_flow(books, year).summary
    assert flow["net_result"] == Decimal("1200.00") and flow["reconciles"]
    # The trial balance is the ledger's: after closing, the P&L accounts are at zero.
    assert _closing(trial_balance(books, dt.date(2025, 1, 1), YEAR_END), "4000") == 0


def test_the_closing_entry_links_to_the_fiscal_years_page(books, owner, accountant, client_for):
    _a_year(books)
    entry = close_fiscal_year(actor=owner, company=books, fiscal_year=2025).entry
    response = client_for(accountant).get(f"/ledger/entries/{entry.pk}/")
    assert response.context["source_url"] == "/ledger/periods/"
    assert f'<a href="/ledger/periods/">ledger.fiscal_year {entry.source_id}</a>' in response.content.decode()


def test_the_closing_entries_are_found_by_their_source_index(books, owner):
    """A year's P&L reads its closing entries by source: not by walking the year's entries."""
    from django.db import connection

    from keel.ledger.reports._common import closing_entries

    _a_year(books)
    close_fiscal_year(actor=owner, company=books, fiscal_year=2025)
    found = closing_entries(books, dt.date(2025, 1, 1), YEAR_END)
    assert [entry.source_type for entry in found] == ["ledger.fiscal_year"]
    if connection.vendor != "sqlite":
        return  # PostgreSQL plans by its statistics (on a few test rows, any index will do)
    sql, params = found.values_list("pk", "date").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "ledger_entry_source" in plan  # SQLite keeps no statistics: the query must leave it no other choice


def test_the_general_ledger_marks_the_closing_line_the_profit_and_loss_leaves_out(books, owner, accountant,
                                                                                   client_for):
    _a_year(books)
    close_fiscal_year(actor=owner, company=books, fiscal_year=2025)
    page = client_for(accountant).get("/ledger/reports/general-ledger/?account=4000&date_from=2025-01-01"
                                      "&date_to=2025-12-31").content.decode()
    assert page.count("(year-end close: the profit and loss leaves it out)") == 1
    assert "Year-end close FY2025" in page
