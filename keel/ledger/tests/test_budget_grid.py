"""The budget grid page: a realistic budget saves (one JSON field, whatever its size; the
cell-per-field post without the script), and a post that cannot be the whole grid is refused
without touching the budget (saving replaces the whole budget)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from keel.core.models import Activity, SubmissionCount
from keel.ledger.models import Account
from keel.ledger.models.budgets import BudgetLine
from keel.ledger.services.budgets import BudgetRowInput, budget_grid, create_budget, set_budget_rows
from keel.ledger.services.chart import create_cost_centre, load_chart

pytestmark = pytest.mark.django_db

CENTRES = ["C1", "C2", "C3", "C4", "C5"]


@pytest.fixture
def budget(books, accountant):
    for code in CENTRES:
        create_cost_centre(actor=None, company=books, code=code, name=f"Centre {code}", check_permission=False)
    return create_budget(actor=accountant, company=books, name="Plan 2026", fiscal_year=2026)


def _accounts(company, count: int) -> list[str]:
    codes = list(Account.objects.for_company(company).order_by("code").values_list("code", flat=True)[:count])
    assert len(codes) == count
    return codes


def _grid(company, rows: int) -> list[dict]:
    """`rows` rows: accounts x the five cost centres, month m of row r = r + m + 1 (in whole pounds)."""
    accounts = _accounts(company, rows // len(CENTRES))
    pairs = [(account, centre) for account in accounts for centre in CENTRES]
    return [{"account": account, "cost_centre": centre, "annual": "",
             "months": [f"{index + month + 1}.00" for month in range(12)]}
            for index, (account, centre) in enumerate(pairs)]


def _lines(budget) -> list[tuple]:
    return list(BudgetLine.objects.filter(budget=budget).order_by("id")
                .values_list("account__code", "cost_centre__code", "period__start", "amount"))


def test_a_grid_of_100_rows_saves_from_one_json_field(budget, books, accountant, client_for):
    grid = _grid(books, 100)
    response = client_for(accountant).post(f"/ledger/budgets/{budget.pk}/grid/", {"grid": json.dumps(grid)},
                                           follow=True)
    assert response.redirect_chain == [(f"/ledger/budgets/{budget.pk}/", 302)]
    assert "Budget saved: 100 rows." in response.content.decode()
    saved = budget_grid(budget)
    assert len(saved) == 100 and BudgetLine.objects.filter(budget=budget).count() == 1200
    first, last = saved[0], saved[-1]
    assert (first["account"].code, first["cost_centre"].code, first["amounts"][0], first["total"]) == (
        grid[0]["account"], "C1", Decimal("1.00"), Decimal("78.00"))
    assert (last["account"].code, last["cost_centre"].code, last["amounts"][11], last["total"]) == (
        grid[99]["account"], "C5", Decimal("111.00"), Decimal("1266.00"))


def test_a_chart_of_300_accounts_x_12_months_saves(budget, books, accountant, client_for):
    chart = "kind,code,name,type,role,parent\n" + "".join(
        f"account,8{number:03d},Cost line {number},expense,,6\n" for number in range(300))
    load_chart(actor=None, company=books, text=chart, check_permission=False)
    grid = [{"account": f"8{number:03d}", "cost_centre": "", "annual": "",
             "months": [f"{number}.{month:02d}" for month in range(1, 13)]} for number in range(300)]
    response = client_for(accountant).post(f"/ledger/budgets/{budget.pk}/grid/", {"grid": json.dumps(grid)})
    assert response.status_code == 302
    saved = budget_grid(budget)
    assert len(saved) == 300 and BudgetLine.objects.filter(budget=budget).count() == 3600
    assert [(row["account"].code, row["total"]) for row in (saved[0], saved[299])] == [
        ("8000", Decimal("0.78")), ("8299", Decimal("3588.78"))]


def test_json_rows_may_give_an_annual_amount_and_blank_rows_are_ignored(budget, accountant, client_for):
    grid = [{"account": "6100", "cost_centre": "", "annual": "1200", "months": [""] * 12},
            {"account": "", "cost_centre": "", "annual": "", "months": [""] * 12},
            {"account": "4000", "cost_centre": "C2", "annual": "", "months": ["10"] * 12}]
    response = client_for(accountant).post(f"/ledger/budgets/{budget.pk}/grid/", {"grid": json.dumps(grid)})
    assert response.status_code == 302
    assert [(row["account"].code, row["cost_centre"].code if row["cost_centre"] else None, row["total"])
            for row in budget_grid(budget)] == [("4000", "C2", Decimal("120.00")), ("6100", None, Decimal("1200.00"))]


def test_the_page_sends_the_grid_as_json_and_warns_when_it_is_too_big_to_send_without_script(
        budget, books, accountant, client_for):
    set_budget_rows(actor=accountant, budget=budget, replace=True, rows=[
        BudgetRowInput(account=row["account"], cost_centre=row["cost_centre"], months=row["months"])
        for row in _grid(books, 100)])
    page = client_for(accountant).get(f"/ledger/budgets/{budget.pk}/grid/").content.decode()
    assert '<input type="hidden" name="grid" value="" disabled data-grid-json>' in page
    assert page.count("<tr data-grid-row>") == 105  # 100 rows and 5 blank ones
    assert "JSON.stringify(rows)" in page
    # Django takes 1,000 fields a request: the CSRF token, the row count and 15 cells a row make 66 rows.
    assert ("Without JavaScript this page can save at most 66 rows at once (the browser sends every cell as a "
            "field of its own) and this grid has 105") in page


def test_a_small_budget_does_not_warn(budget, accountant, client_for):
    page = client_for(accountant).get(f"/ledger/budgets/{budget.pk}/grid/").content.decode()
    assert "<noscript>" not in page and page.count("<tr data-grid-row>") == 5


# -- refusals: the budget is replaced only by a whole grid ------------------------------------------


@pytest.fixture
def twelve_lines(budget, accountant):
    set_budget_rows(actor=accountant, budget=budget, rows=[BudgetRowInput(account="6100", annual="1200")])
    assert BudgetLine.objects.filter(budget=budget).count() == 12
    return budget


INCOMPLETE = "The grid arrived incomplete ({}), so nothing was saved. Reload the page and enter the amounts again."


@pytest.mark.parametrize(("data", "detail"), [
    ({}, "it has no rows field"),
    ({"row-0-account": "4000", "row-0-annual": "100"}, "it has no rows field"),
    ({"rows": "", "row-0-account": "4000"}, "its number of rows is not a number"),
    ({"rows": "two", "row-0-account": "4000"}, "its number of rows is not a number"),
    ({"rows": "-1"}, "its number of rows is not a number"),
    ({"rows": "1.5"}, "its number of rows is not a number"),
    ({"rows": "3", "row-0-account": "4000", "row-0-annual": "100"}, "it announces 3 rows but row 2 is missing"),
    ({"grid": "[{\"account\": \"4000\""}, "the grid field is not valid JSON"),
    ({"grid": ""}, "the grid field is not valid JSON"),
    ({"grid": "{\"account\": \"4000\"}"}, "the grid field is not a list of rows"),
    ({"grid": json.dumps([{"account": "4000", "annual": "", "months": ["1"] * 11}])}, "row 1 is not a row of 12 months"),
    ({"grid": json.dumps([{"account": "4000", "months": [""] * 12}, "4100"])}, "row 2 is not a row of 12 months"),
    ({"grid": json.dumps([{"account": 4000, "months": [""] * 12}])}, "row 1 is not a row of 12 months"),
    ({"grid": json.dumps([{"account": "4000", "months": [1] * 12}])}, "row 1 is not a row of 12 months"),
])
def test_a_post_that_is_not_a_whole_grid_is_refused_and_changes_nothing(twelve_lines, books, accountant, client_for,
                                                                         data, detail):
    budget = twelve_lines
    before, activities = _lines(budget), Activity.objects.filter(company=books).count()
    response = client_for(accountant).post(f"/ledger/budgets/{budget.pk}/grid/", data)
    assert response.status_code == 400
    assert response.context["error"].code == "budget.grid_incomplete"
    assert response.context["error"].message == INCOMPLETE.format(detail)
    # The form shows the budget as saved, not an empty grid.
    assert [row["account"] for row in response.context["rows"]] == ["6100", "", "", "", "", ""]
    assert _lines(budget) == before
    assert Activity.objects.filter(company=books).count() == activities
    assert SubmissionCount.objects.get(company=books, document_type="ledger.budget").rejected == 1


@pytest.mark.parametrize("data", [{"rows": "5001"}, {"grid": json.dumps([{"account": "", "months": [""] * 12}] * 5001)}])
def test_more_rows_than_a_grid_may_carry_are_refused_and_change_nothing(twelve_lines, accountant, client_for, data):
    budget = twelve_lines
    before = _lines(budget)
    response = client_for(accountant).post(f"/ledger/budgets/{budget.pk}/grid/", data)
    assert response.status_code == 400
    assert response.context["error"].message == "A budget grid has at most 5000 rows; import a CSV file instead."
    assert _lines(budget) == before


def test_the_cell_per_field_post_still_saves_and_an_explicitly_emptied_grid_is_saved_empty(
        twelve_lines, accountant, client_for):
    budget = twelve_lines
    response = client_for(accountant).post(f"/ledger/budgets/{budget.pk}/grid/", {
        "rows": "2", "row-0-account": "4000", "row-0-annual": "240", "row-1-account": "",
    })
    assert response.status_code == 302
    assert [(row["account"].code, row["total"]) for row in budget_grid(budget)] == [("4000", Decimal("240.00"))]
    # Every row sent, every account cleared: that is the user's own empty grid.
    response = client_for(accountant).post(f"/ledger/budgets/{budget.pk}/grid/", {"rows": "1", "row-0-account": ""})
    assert response.status_code == 302 and not BudgetLine.objects.filter(budget=budget).exists()


# -- in a browser: the script sends a grid far larger than Django's field limit --------------------


@pytest.mark.browser
def test_a_browser_saves_a_grid_of_100_rows(transactional_db, live_server, company, browser_page):
    from keel.core.tests.factories import member
    from keel.ledger.tests.factories import set_up_books
    from keel.web.tests.browser import log_in

    set_up_books(company, years=(2026,))
    accountant = member(company, "accountant", username="accountant@acme.test")
    for code in CENTRES:
        create_cost_centre(actor=None, company=company, code=code, name=f"Centre {code}", check_permission=False)
    budget = create_budget(actor=accountant, company=company, name="Plan 2026", fiscal_year=2026)
    grid = _grid(company, 100)
    set_budget_rows(actor=accountant, budget=budget, rows=[
        BudgetRowInput(account=row["account"], cost_centre=row["cost_centre"], months=row["months"]) for row in grid])
    page, base = browser_page, live_server.url
    log_in(page, base, accountant)

    page.goto(f"{base}/ledger/budgets/{budget.pk}/grid/")
    page.fill("input[name='row-0-m0']", "999.50")
    page.fill("input[name='row-100-account']", "6100")  # the first blank row
    page.fill("input[name='row-100-annual']", "1200")
    page.get_by_role("button", name="Save amounts").click()
    page.wait_for_url(f"{base}/ledger/budgets/{budget.pk}/")
    assert "Budget saved: 101 rows." in page.inner_text("main")
    saved = budget_grid(budget)
    assert len(saved) == 101 and BudgetLine.objects.filter(budget=budget).count() == 1212
    assert saved[0]["amounts"][0] == Decimal("999.50")
    assert [row["total"] for row in saved if row["account"].code == "6100" and row["cost_centre"] is None] == [
        Decimal("1200.00")]
