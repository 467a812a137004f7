"""Budget pages and the budgets API: list, create, grid, import, approve, versus actual, permissions."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.models import SubmissionCount
from keel.core.tests.factories import member
from keel.ledger.models.budgets import Budget, BudgetLine
from keel.ledger.services.budgets import BudgetRowInput, budget_grid, create_budget, set_budget_rows
from keel.ledger.tests.factories import set_up_books
from keel.ledger.tests.test_reports import post_story
from keel.web.tests.pages import Page, page_tests

pytestmark = pytest.mark.django_db


def a_budget(company, owner):
    set_up_books(company)
    budget = create_budget(actor=owner, company=company, name="Plan", fiscal_year=2026)
    set_budget_rows(actor=owner, budget=budget, rows=[BudgetRowInput(account="6100", annual="1200")])
    return {"pk": budget.pk}


(test_page_renders, test_page_needs_permission, test_page_of_other_company_is_404, test_page_needs_login) = page_tests([
    Page("ledger:budget_list"),
    Page("ledger:budget_create"),
    Page("ledger:budget_detail", make=a_budget),
    Page("ledger:budget_detail", make=a_budget, query="?format=csv"),
    Page("ledger:budget_edit", make=a_budget, denied_role="auditor"),
    Page("ledger:budget_grid", make=a_budget, denied_role="auditor"),
    Page("ledger:budget_import", make=a_budget, denied_role="auditor"),
    Page("ledger:budget_versus_actual", make=a_budget),
    Page("ledger:budget_versus_actual", make=a_budget, query="?date_from=2026-01-01&date_to=2026-03-31&format=xlsx"),
])


@pytest.fixture
def budget(books, accountant):
    return create_budget(actor=accountant, company=books, name="Plan 2026", fiscal_year=2026)


def test_the_list_shows_budgets_searches_and_says_when_empty(books, accountant, client_for):
    client = client_for(accountant)
    assert b"No budgets yet." in client.get("/ledger/budgets/").content
    create_budget(actor=accountant, company=books, name="Plan 2026", fiscal_year=2026)
    assert b"Plan 2026" in client.get("/ledger/budgets/").content
    assert b"No budget matches" in client.get("/ledger/budgets/?q=nothing").content


def test_creating_a_budget_on_the_page(books, accountant, client_for):
    response = client_for(accountant).post("/ledger/budgets/new/", {"name": "Plan", "fiscal_year": "2026"})
    budget = Budget.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/ledger/budgets/{budget.pk}/grid/"


def test_a_duplicate_name_is_shown_on_the_form_and_counted(budget, accountant, client_for, books):
    response = client_for(accountant).post("/ledger/budgets/new/", {"name": "Plan 2026", "fiscal_year": "2026"})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    assert Budget.objects.count() == 1
    assert SubmissionCount.objects.get(company=books, document_type="ledger.budget").rejected == 1


def test_editing_the_grid_replaces_the_amounts(budget, accountant, client_for):
    data = {"rows": "2", "row-0-account": "4000", "row-0-annual": "1200",
            "row-1-account": "6100", **{f"row-1-m{m}": "50" for m in range(12)}}
    response = client_for(accountant).post(f"/ledger/budgets/{budget.pk}/grid/", data)
    assert response.status_code == 302
    rows = {row["account"].code: row["total"] for row in budget_grid(budget)}
    assert rows == {"4000": Decimal("1200.00"), "6100": Decimal("600.00")}
    page = client_for(accountant).get(f"/ledger/budgets/{budget.pk}/grid/").content.decode()
    assert 'value="4000"' in page and 'value="50.00"' in page


def test_a_bad_grid_keeps_what_was_typed_and_writes_nothing(budget, accountant, client_for):
    set_budget_rows(actor=accountant, budget=budget, rows=[BudgetRowInput(account="6100", annual="12")])
    data = {"rows": "1", "row-0-account": "9999", "row-0-annual": "5"}
    response = client_for(accountant).post(f"/ledger/budgets/{budget.pk}/grid/", data)
    assert response.status_code == 400 and b"No account &#x27;9999&#x27;" in response.content
    assert b'value="9999"' in response.content
    assert [row["account"].code for row in budget_grid(budget)] == ["6100"]


def test_importing_a_csv_on_the_page(budget, accountant, client_for):
    upload = SimpleUploadedFile("plan.csv", b"account,annual\n4000,2400\n6100,1200\n", content_type="text/csv")
    response = client_for(accountant).post(f"/ledger/budgets/{budget.pk}/import/", {"file": upload})
    assert response.status_code == 302
    assert BudgetLine.objects.filter(budget=budget).count() == 24
    bad = SimpleUploadedFile("plan.csv", b"account,annual\n9999,1\n", content_type="text/csv")
    response = client_for(accountant).post(f"/ledger/budgets/{budget.pk}/import/", {"file": bad})
    assert response.status_code == 200 and "Row 2" in str(response.context["form"].errors)


def test_approve_and_reopen_from_the_page(budget, accountant, client_for):
    client = client_for(accountant)
    assert client.post(f"/ledger/budgets/{budget.pk}/approve/").status_code == 302
    budget.refresh_from_db()
    assert budget.status == "approved"
    detail = client.get(f"/ledger/budgets/{budget.pk}/").content.decode()
    assert "Return to draft" in detail and "Edit amounts" not in detail
    response = client.post(f"/ledger/budgets/{budget.pk}/approve/", follow=True)
    assert b"cannot go from" in response.content
    client.post(f"/ledger/budgets/{budget.pk}/reopen/")
    budget.refresh_from_db()
    assert budget.status == "draft"


def test_deleting_a_draft_budget(budget, accountant, client_for):
    response = client_for(accountant).post(f"/ledger/budgets/{budget.pk}/delete/")
    assert response.status_code == 302 and not Budget.objects.exists()


def test_a_clerk_cannot_see_or_change_budgets(budget, clerk, client_for):
    client = client_for(clerk)
    assert client.get(f"/ledger/budgets/{budget.pk}/").status_code == 403
    assert client.post(f"/ledger/budgets/{budget.pk}/approve/").status_code == 403
    assert client.post(f"/ledger/budgets/{budget.pk}/delete/").status_code == 403
    assert Budget.objects.get().status == "draft"


def test_another_companys_budget_is_404_for_every_action(budget, outsider, client_for):
    client = client_for(outsider)
    for action in ("approve", "reopen", "delete"):
        assert client.post(f"/ledger/budgets/{budget.pk}/{action}/").status_code == 404
    assert Budget.objects.get().status == "draft"


def test_versus_actual_page_and_export(budget, accountant, client_for, books):
    post_story(books)
    set_budget_rows(actor=accountant, budget=budget, rows=[BudgetRowInput(account="6100", annual="2400")])
    client = client_for(accountant)
    url = f"/ledger/budgets/{budget.pk}/versus-actual/?date_from=2026-01-01&date_to=2026-03-31"
    content = client.get(url).content.decode()
    assert "600.00" in content and "-300.00" in content and "-50.0 %" in content
    assert "/ledger/reports/general-ledger/?account=6100&amp;date_from=2026-01-01&amp;date_to=2026-03-31" in content
    rows = list(load_workbook(io.BytesIO(client.get(url + "&format=xlsx").content)).active.iter_rows(values_only=True))
    assert rows[2] == ("Code", "Account", "Actual", "Budget", "Variance", "Variance %")
    rent = [row for row in rows if row[0] == "6100"][0]
    assert [Decimal(str(v)) for v in rent[2:]] == [Decimal("300"), Decimal("600"), Decimal("-300"), Decimal("-50")]
    bad = client.get(f"/ledger/budgets/{budget.pk}/versus-actual/?date_from=2025-01-01&date_to=2025-02-01")
    assert bad.status_code == 200 and b"outside the budget" in bad.content


# -- API ---------------------------------------------------------------------------------------


def test_api_budget_lifecycle(books, accountant):
    api = ApiClient(accountant, books)
    created = api.post("/api/ledger/budgets", {"name": "Plan", "fiscal_year": 2026})
    assert created.status_code == 201, created.content
    budget_id = created.json()["id"]
    lines = api.post(f"/api/ledger/budgets/{budget_id}/lines", {"rows": [
        {"account": "4000", "annual": "12000"}, {"account": "6100", "months": ["100"] * 12}]})
    assert lines.status_code == 200, lines.content
    body = lines.json()
    assert body["periods"][0] == "2026-01" and [row["total"] for row in body["rows"]] == ["12000.00", "1200.00"]
    imported = api.post(f"/api/ledger/budgets/{budget_id}/import", {"csv": "account,annual\n6200,600\n"})
    assert [row["account"] for row in imported.json()["rows"]] == ["4000", "6100", "6200"]
    assert api.patch(f"/api/ledger/budgets/{budget_id}", {"name": "Plan A"}).json()["name"] == "Plan A"
    assert api.get("/api/ledger/budgets?status=draft").json()["items"][0]["id"] == budget_id
    approved = api.post(f"/api/ledger/budgets/{budget_id}/approve")
    assert approved.json()["status"] == "approved" and approved.json()["approved_by"] == accountant.username
    assert_error(api.post(f"/api/ledger/budgets/{budget_id}/lines", {"rows": [{"account": "4000", "annual": "1"}]}),
                 409, "budget.not_draft")
    assert_error(api.delete(f"/api/ledger/budgets/{budget_id}"), 409, "budget.not_draft")
    assert api.post(f"/api/ledger/budgets/{budget_id}/reopen").json()["status"] == "draft"
    assert api.delete(f"/api/ledger/budgets/{budget_id}").status_code == 204
    assert not Budget.objects.exists()


def test_api_versus_actual(budget, accountant, books):
    post_story(books)
    set_budget_rows(actor=accountant, budget=budget, rows=[BudgetRowInput(account="4000", annual="12000")])
    body = ApiClient(accountant, books).get(
        f"/api/ledger/budgets/{budget.pk}/versus-actual?date_from=2026-02-01&date_to=2026-02-28").json()
    sales = [row for row in body["rows"] if row["code"] == "4000"][0]
    assert (sales["amount"], sales["compare"], sales["variance"], sales["variance_percent"]) == (
        "1000.00", "1000.00", "0.00", "0.0")
    assert body["date_from"] == "2026-02-01" and body["date_to"] == "2026-02-28"


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"rows": [{"account": "9999", "annual": "1"}]}, "budget.unknown_account", "rows[0].account"),
    ({"rows": [{"account": "4000", "months": ["1"] * 3}]}, "budget.invalid", "rows[0].months"),
    ({"rows": [{"account": "4000", "annual": "1"}, {"account": "4000", "annual": "2"}]}, "budget.duplicate_row",
     "rows[1].account"),
])
def test_api_bad_lines_are_400_and_write_nothing(budget, accountant, books, body, code, field):
    response = ApiClient(accountant, books).post(f"/api/ledger/budgets/{budget.pk}/lines", body)
    assert field in [error["field"] for error in assert_error(response, 400, code)["errors"]]
    assert not BudgetLine.objects.exists()


def test_api_refusals(budget, books, accountant):
    api = ApiClient(accountant, books)
    assert_error(api.post("/api/ledger/budgets", {"name": "X", "fiscal_year": 1990}), 400, "budget.unknown_fiscal_year")
    assert_error(api.post(f"/api/ledger/budgets/{budget.pk}/import", {"csv": "nope"}), 400, "budget.invalid_file")
    assert_error(api.get(f"/api/ledger/budgets/{budget.pk}/versus-actual?date_from=2026-03-01&date_to=2026-01-01"),
                 400, "report.invalid_range")
    assert_error(api.get("/api/ledger/budgets/987654321"), 404, "record.not_found")


def test_api_permissions(budget, books):
    auditor, employee = member(books, "auditor"), member(books, "employee")
    assert ApiClient(auditor, books).get(f"/api/ledger/budgets/{budget.pk}").status_code == 200
    assert_error(ApiClient(auditor, books).post(f"/api/ledger/budgets/{budget.pk}/approve"), 403)
    assert_error(ApiClient(auditor, books).post("/api/ledger/budgets", {"name": "X", "fiscal_year": 2026}), 403)
    assert_error(ApiClient(employee, books).get("/api/ledger/budgets"), 403)
    assert Budget.objects.get().status == "draft" and Budget.objects.count() == 1
