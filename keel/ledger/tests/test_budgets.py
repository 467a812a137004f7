"""Budgets: spreading, editing lines, CSV import, approval, budget versus actual, and their refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keel.core.exceptions import Conflict, IllegalTransition, PermissionDenied, ValidationFailed
from keel.core.models import Activity
from keel.ledger.models.budgets import Budget, BudgetLine
from keel.ledger.reports import budget_range, budget_versus_actual
from keel.ledger.services.budgets import (
    BudgetRowInput,
    approve_budget,
    budget_grid,
    create_budget,
    delete_budget,
    export_budget_csv,
    import_budget_csv,
    reopen_budget,
    set_budget_rows,
    spread_annual,
    update_budget,
)
from keel.ledger.tests.test_reports import post_story

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def budget(books, accountant):
    return create_budget(actor=accountant, company=books, name="Plan 2026", fiscal_year=2026)


def grid(budget):
    return {(row["account"].code, row["cost_centre"].code if row["cost_centre"] else None): row["amounts"]
            for row in budget_grid(budget)}


def test_an_annual_amount_is_spread_exactly_over_twelve_months():
    parts = spread_annual(D("1000"))
    assert parts[:11] == [D("83.33")] * 11 and parts[11] == D("83.37") and sum(parts) == D("1000")
    assert spread_annual(D("-120"), months=12, decimals=0) == [D("-10")] * 12


def test_creating_a_budget_records_it(budget, accountant):
    assert (budget.status, budget.fiscal_year.year, budget.created_by) == ("draft", 2026, accountant)
    assert Activity.objects.filter(verb="ledger.budget_changed", subject_id=str(budget.pk)).exists()


@pytest.mark.parametrize(("values", "field"), [
    ({"name": "", "fiscal_year": 2026}, "name"),
    ({"name": "x" * 101, "fiscal_year": 2026}, "name"),
    ({"name": "Plan", "fiscal_year": 1999}, "fiscal_year"),
])
def test_bad_budgets_are_refused(books, accountant, values, field):
    with pytest.raises(ValidationFailed) as refused:
        create_budget(actor=accountant, company=books, **values)
    assert field in refused.value.fields and not Budget.objects.exists()


def test_a_budget_name_is_unique_per_year(budget, accountant, books):
    with pytest.raises(ValidationFailed) as refused:
        create_budget(actor=accountant, company=books, name="Plan 2026", fiscal_year=2026)
    assert refused.value.code == "budget.duplicate_name"
    assert create_budget(actor=accountant, company=books, name="Plan 2026", fiscal_year=2027).pk


def test_setting_rows_by_month_and_by_annual_amount(budget, accountant, books):
    from keel.ledger.services.chart import create_cost_centre

    create_cost_centre(actor=None, company=books, code="ADMIN", name="Admin", check_permission=False)
    months = [D(i * 10) for i in range(1, 13)]
    set_budget_rows(actor=accountant, budget=budget, rows=[
        BudgetRowInput(account="4000", months=months),
        BudgetRowInput(account="6100", annual="3600", cost_centre="ADMIN"),
    ])
    assert grid(budget) == {("4000", None): [m.quantize(D("0.01")) for m in months],
                            ("6100", "ADMIN"): [D("300.00")] * 12}
    # A row replaces only its own account's amounts.
    set_budget_rows(actor=accountant, budget=budget, rows=[BudgetRowInput(account="4000", annual="120")])
    assert grid(budget)[("4000", None)] == [D("10.00")] * 12 and ("6100", "ADMIN") in grid(budget)


@pytest.mark.parametrize(("row", "field"), [
    (BudgetRowInput(account="9999", annual="1"), "rows[0].account"),
    (BudgetRowInput(account="4000", cost_centre="NOPE", annual="1"), "rows[0].cost_centre"),
    (BudgetRowInput(account="4000", months=["1"] * 11), "rows[0].months"),
    (BudgetRowInput(account="4000", months=["1"] * 11 + ["abc"]), "rows[0].months[11]"),
    (BudgetRowInput(account="4000", annual="1.001"), "rows[0].annual"),
    (BudgetRowInput(account="4000", annual="1", months=["1"] * 12), "rows[0].months"),
])
def test_bad_rows_are_refused_and_nothing_is_written(budget, accountant, row, field):
    set_budget_rows(actor=accountant, budget=budget, rows=[BudgetRowInput(account="6100", annual="12")])
    with pytest.raises(ValidationFailed) as refused:
        set_budget_rows(actor=accountant, budget=budget, rows=[row], replace=True)
    assert field in refused.value.fields
    assert list(grid(budget)) == [("6100", None)]


def test_an_account_of_another_company_is_unknown(budget, accountant, other_books):
    from keel.ledger.models import Account

    theirs = Account.objects.get(company=other_books, code="6100")
    with pytest.raises(ValidationFailed):
        set_budget_rows(actor=accountant, budget=budget, rows=[BudgetRowInput(account=theirs, annual="1")])


def test_csv_import_by_month_columns_and_annual(budget, accountant):
    text = ("account,cost_centre,annual,2026-01,2026-02,3\n"
            "4000,,,100,200,300\n"
            "6100,,1200,,,\n")
    assert import_budget_csv(actor=accountant, budget=budget, file=text.encode()) == 2
    rows = grid(budget)
    assert rows[("4000", None)][:4] == [D("100.00"), D("200.00"), D("300.00"), D("0.00")]
    assert rows[("6100", None)] == [D("100.00")] * 12
    assert Activity.objects.filter(verb="ledger.budget_imported").count() == 1
    # The export reads back in the import format.
    exported = export_budget_csv(budget=budget)
    assert exported.splitlines()[0].startswith("account,cost_centre,2026-01,2026-02")
    assert "6100,,100.00,100.00" in exported


@pytest.mark.parametrize(("text", "message"), [
    ("code,annual\n4000,1\n", "'account' column"),
    ("account,foo\n4000,1\n", "'annual' column"),
    ("account,annual\n4000,1\n9999,2\n", "Row 3"),
    ("account,annual\n4000,abc\n", "Row 2"),
    ("account,annual\n4000,1\n4000,2\n", "twice"),
    ("account,annual\n", "no budget rows"),
])
def test_bad_csv_files_are_refused_naming_the_row(budget, accountant, text, message):
    with pytest.raises(ValidationFailed) as refused:
        import_budget_csv(actor=accountant, budget=budget, file=text)
    assert message in refused.value.message and "file" in refused.value.fields
    assert not BudgetLine.objects.exists()


def test_approval_freezes_the_budget_until_it_is_reopened(budget, accountant):
    set_budget_rows(actor=accountant, budget=budget, rows=[BudgetRowInput(account="6100", annual="12")])
    approve_budget(actor=accountant, budget=budget)
    budget.refresh_from_db()
    assert budget.status == "approved" and budget.approved_by == accountant and budget.approved_at
    with pytest.raises(Conflict):
        set_budget_rows(actor=accountant, budget=budget, rows=[BudgetRowInput(account="6100", annual="24")])
    with pytest.raises(Conflict):
        update_budget(actor=accountant, budget=budget, name="Other")
    with pytest.raises(Conflict):
        delete_budget(actor=accountant, budget=budget)
    with pytest.raises(IllegalTransition):
        approve_budget(actor=accountant, budget=budget)
    assert grid(budget)[("6100", None)] == [D("1.00")] * 12
    reopen_budget(actor=accountant, budget=budget)
    update_budget(actor=accountant, budget=budget, name="Plan B")
    budget.refresh_from_db()
    assert (budget.status, budget.name, budget.approved_by) == ("draft", "Plan B", None)
    delete_budget(actor=accountant, budget=budget)
    assert not Budget.objects.exists() and not BudgetLine.objects.exists()


def test_a_role_without_budget_rights_cannot_change_budgets(budget, books):
    from keel.core.tests.factories import member

    auditor = member(books, "auditor")
    with pytest.raises(PermissionDenied):
        set_budget_rows(actor=auditor, budget=budget, rows=[BudgetRowInput(account="6100", annual="12")])
    with pytest.raises(PermissionDenied):
        approve_budget(actor=auditor, budget=budget)
    with pytest.raises(PermissionDenied):
        create_budget(actor=auditor, company=books, name="Mine", fiscal_year=2026)
    assert not BudgetLine.objects.exists()


def test_budget_versus_actual_per_account_with_variance(budget, accountant, books):
    post_story(books)
    set_budget_rows(actor=accountant, budget=budget, rows=[
        BudgetRowInput(account="4000", annual="12000"),  # 1,000 a month
        BudgetRowInput(account="6100", annual="2400"),   # 200 a month
        BudgetRowInput(account="6600", annual="1200"),   # marketing, nothing spent
    ])
    report = budget_versus_actual(budget, budget_range(budget, dt.date(2026, 1, 15), dt.date(2026, 3, 10)))
    assert (report.range.date_from, report.range.date_to) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    rows = {row.code: row for row in report.rows if row.kind == "account"}
    sales, rent, marketing = rows["4000"], rows["6100"], rows["6600"]
    assert (sales.amount, sales.compare, sales.variance, sales.variance_percent) == (
        D("1000.00"), D("3000.00"), D("-2000.00"), D("-66.7"))
    assert (rent.amount, rent.compare, rent.variance, rent.variance_percent) == (
        D("300.00"), D("600.00"), D("-300.00"), D("-50.0"))
    assert (marketing.amount, marketing.compare, marketing.variance_percent) == (D("0.00"), D("300.00"), D("-100.0"))
    # Accounts with actuals but no budget show with a zero budget (no percentage).
    assert rows["6700"].compare == D("0.00") and rows["6700"].variance_percent is None
    assert report.summary["actual_net_result"] == D("550.00")
    assert report.summary["budget_net_result"] == D("2100.00")  # 3000 - 600 - 300


def test_budget_versus_actual_by_cost_centre(budget, accountant, books):
    post_story(books)
    set_budget_rows(actor=accountant, budget=budget, rows=[
        BudgetRowInput(account="6100", cost_centre="ADMIN", annual="1200"),
        BudgetRowInput(account="6100", annual="9600"),
    ])
    period = budget_range(budget, None, None, "ADMIN")
    rows = {row.code: row for row in budget_versus_actual(budget, period).rows if row.kind == "account"}
    assert set(rows) == {"6100"} and (rows["6100"].amount, rows["6100"].compare) == (D("300.00"), D("1200.00"))


def test_a_range_outside_the_budget_year_is_refused(budget):
    with pytest.raises(ValidationFailed) as refused:
        budget_range(budget, dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert refused.value.code == "report.invalid_range"
    with pytest.raises(ValidationFailed):
        budget_range(budget, dt.date(2026, 3, 1), dt.date(2026, 2, 1))
