"""Report pages and the reports API: figures, comparison toggle, cost centre, drill-down, exports, refusals."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.tests.factories import member
from keel.ledger.models import Account, Entry
from keel.ledger.tests.test_reports import post_story
from keel.web.tests.pages import Page, page_tests

pytestmark = pytest.mark.django_db

RANGE = "?date_from=2026-01-01&date_to=2026-03-31"


(test_page_renders, test_page_needs_permission, test_page_of_other_company_is_404, test_page_needs_login) = page_tests([
    Page("ledger:report_profit_and_loss", query=RANGE),
    Page("ledger:report_balance_sheet", query="?date_to=2026-03-31&compare=on&compare_to=2025-12-31"),
    Page("ledger:report_cash_flow", query=RANGE + "&compare=on"),
    Page("ledger:report_general_ledger", query=RANGE),
    Page("ledger:report_profit_and_loss", query=RANGE + "&format=pdf"),
])


@pytest.fixture
def story(books):
    return post_story(books)


def test_profit_and_loss_page_shows_figures_and_links_each_to_the_general_ledger(story, accountant, client_for):
    response = client_for(accountant).get("/ledger/reports/profit-and-loss/" + RANGE)
    content = response.content.decode()
    assert response.status_code == 200
    assert "Sales of goods" in content and "1,000.00" in content and "550.00" in content
    assert "/ledger/reports/general-ledger/?account=4000&amp;date_from=2026-01-01&amp;date_to=2026-03-31" in content
    for fmt in ("csv", "xlsx", "pdf"):
        assert f"format={fmt}" in content


def test_the_comparison_toggle_adds_columns(story, accountant, client_for):
    client = client_for(accountant)
    plain = client.get("/ledger/reports/profit-and-loss/" + RANGE).content.decode()
    assert "Variance" not in plain
    compared = client.get("/ledger/reports/profit-and-loss/?date_from=2026-03-01&date_to=2026-03-31&compare=on"
                          "&compare_from=2026-02-01&compare_to=2026-02-28").content.decode()
    assert "Variance %" in compared and "-1,450.00" in compared and "-145.0 %" in compared


def test_the_cost_centre_filter_on_the_page(story, accountant, client_for):
    content = client_for(accountant).get("/ledger/reports/profit-and-loss/" + RANGE + "&cost_centre=ADMIN").content.decode()
    assert "Rent" in content and "Sales of goods" not in content and "cost centre ADMIN" in content


def test_balance_sheet_page_says_it_balances(story, accountant, client_for):
    content = client_for(accountant).get("/ledger/reports/balance-sheet/?date_to=2026-03-31").content.decode()
    assert "15,800.00" in content and "Assets equal liabilities and equity." in content


def test_cash_flow_page_reconciles(story, accountant, client_for):
    content = client_for(accountant).get("/ledger/reports/cash-flow/" + RANGE).content.decode()
    assert "13,400.00" in content and "equals the net change in cash" in content


def test_a_bad_range_shows_the_error_on_the_form(story, accountant, client_for):
    response = client_for(accountant).get("/ledger/reports/profit-and-loss/?date_from=2026-03-31&date_to=2026-01-01")
    assert response.status_code == 200 and b"The range ends before it starts." in response.content
    response = client_for(accountant).get("/ledger/reports/profit-and-loss/?date_from=2026-13-01&date_to=x")
    assert response.status_code == 200 and b"Enter a valid date" in response.content
    response = client_for(accountant).get("/ledger/reports/profit-and-loss/" + RANGE + "&cost_centre=NOPE")
    assert response.status_code == 200 and b"Select a valid choice" in response.content


def test_general_ledger_page_links_lines_to_entries_and_pages(story, accountant, client_for):
    client = client_for(accountant)
    bank = Account.objects.get(company=story, code="1400")
    content = client.get(f"/ledger/reports/general-ledger/{RANGE}&account=1400").content.decode()
    entry = Entry.objects.filter(company=story, lines__account=bank).order_by("date").first()
    assert f'href="/ledger/entries/{entry.pk}/"' in content
    assert "15,400.00" in content and "13,400.00" in content
    by_id = client.get(f"/ledger/reports/general-ledger/{RANGE}&account={bank.pk}").content.decode()
    assert "13,400.00" in by_id
    unknown = client.get(f"/ledger/reports/general-ledger/{RANGE}&account=9999")
    assert unknown.status_code == 200 and b"Select a valid choice" in unknown.content


def test_general_ledger_page_pages_through_many_lines(story, accountant, client_for):
    import datetime as dt

    from keel.ledger.tests.test_reports import post

    for day in range(1, 120):
        post(story, dt.date(2026, 1, 1) + dt.timedelta(days=day % 80), ("1400", "1", "0"), ("4900", "0", "1"))
    client = client_for(accountant)
    first = client.get(f"/ledger/reports/general-ledger/{RANGE}&account=1400")
    assert first.context["next_url"]
    second = client.get(first.context["next_url"])
    assert second.status_code == 200 and second.context["ledger"].page_opening == first.context["lines"][-1]["line"].balance
    assert second.context["first_url"]


def test_a_source_document_is_linked_from_its_line(story, accountant, client_for, owner):
    from keel.core.services.parties import create_party
    from keel.ledger.services import post_entry
    from keel.ledger.tests.factories import sale

    party = create_party(actor=owner, company=story, name="Hooli")
    import datetime as dt

    post_entry(actor=None, company=story, journal="SAL", date=dt.date(2026, 3, 20), lines=sale("10", company=story),
               source_type="core.party", source_id=str(party.pk), check_permission=False)
    content = client_for(accountant).get(f"/ledger/reports/general-ledger/{RANGE}&account=4000").content.decode()
    assert f'href="/parties/{party.pk}/"' in content


def test_exports_from_the_pages(story, accountant, client_for):
    client = client_for(accountant)
    response = client.get("/ledger/reports/balance-sheet/?date_to=2026-03-31&format=xlsx")
    assert response["Content-Disposition"] == 'attachment; filename="balance-sheet-2026-03-31.xlsx"'
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert any(row[1] == "Total assets" and Decimal(str(row[2])) == Decimal("15800") for row in rows)
    pdf = client.get(f"/ledger/reports/general-ledger/{RANGE}&account=1400&format=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    csv = client.get("/ledger/reports/cash-flow/" + RANGE + "&format=csv")
    assert b"Net change in cash,13400.00" in csv.content


def test_report_pages_cost_few_queries(story, accountant, client_for, django_assert_max_num_queries):
    client = client_for(accountant)
    client.get("/ledger/reports/profit-and-loss/" + RANGE)
    with django_assert_max_num_queries(20):
        assert client.get("/ledger/reports/profit-and-loss/" + RANGE + "&compare=on").status_code == 200


# -- API ---------------------------------------------------------------------------------------


def test_api_profit_and_loss_with_comparison(story, accountant):
    api = ApiClient(accountant, story)
    response = api.get("/api/ledger/reports/profit-and-loss?date_from=2026-03-01&date_to=2026-03-31"
                       "&compare_from=2026-02-01&compare_to=2026-02-28")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["summary"]["net_result"] == "-450.00" and body["compare_summary"]["net_result"] == "1000.00"
    net = [row for row in body["rows"] if row["label"] == "Net result"][0]
    assert (net["amount"], net["compare"], net["variance"], net["variance_percent"]) == (
        "-450.00", "1000.00", "-1450.00", "-145.0")


def test_api_balance_sheet_and_cash_flow(story, accountant):
    api = ApiClient(accountant, story)
    sheet = api.get("/api/ledger/reports/balance-sheet?date_to=2026-03-31&compare_to=2026-01-31").json()
    assert sheet["summary"]["is_balanced"] is True and sheet["summary"]["total_assets"] == "15800.00"
    assert sheet["compare_summary"]["total_assets"] == "15000.00"
    flow = api.get("/api/ledger/reports/cash-flow" + RANGE + "&cost_centre=ADMIN").json()
    assert flow["cost_centre"] == "ADMIN" and flow["summary"]["net_result"] == "-300.00"
    flow = api.get("/api/ledger/reports/cash-flow" + RANGE).json()
    assert flow["summary"]["reconciles"] is True and flow["summary"]["closing_cash"] == "13400.00"


def test_api_general_ledger_pages(story, accountant):
    api = ApiClient(accountant, story)
    first = api.get("/api/ledger/reports/general-ledger" + RANGE + "&account=1400&limit=2").json()
    assert first["opening"] == "0.00" and first["closing"] == "13400.00"
    assert [line["balance"] for line in first["lines"]] == ["10000.00", "15000.00"]
    rest = api.get("/api/ledger/reports/general-ledger" + RANGE + f"&account=1400&limit=10&cursor={first['next_cursor']}")
    assert [line["balance"] for line in rest.json()["lines"]] == ["15700.00", "15400.00", "13400.00"]
    assert rest.json()["page_opening"] == "15000.00" and rest.json()["next_cursor"] is None


@pytest.mark.parametrize(("query", "code", "field"), [
    ("?date_from=2026-03-31&date_to=2026-01-01&account=1400", "report.invalid_range", "date_to"),
    (RANGE + "&account=9999", "report.unknown_account", "account"),
    (RANGE, "report.unknown_account", "account"),
    (RANGE + "&account=1400&cost_centre=NOPE", "report.unknown_cost_centre", "cost_centre"),
    (RANGE + "&account=1400&cursor=garbage", "cursor.invalid", "cursor"),
])
def test_api_bad_input_is_a_400_naming_the_field(story, accountant, query, code, field):
    body = assert_error(ApiClient(accountant, story).get("/api/ledger/reports/general-ledger" + query), 400, code)
    assert field in [error["field"] for error in body["errors"]]


def test_api_bad_dates_are_400(story, accountant):
    api = ApiClient(accountant, story)
    assert_error(api.get("/api/ledger/reports/profit-and-loss?date_from=2026-02-30&date_to=2026-03-01"), 400)
    assert_error(api.get("/api/ledger/reports/profit-and-loss?date_from=2026-03-01"), 400, "report.invalid_range")
    assert_error(api.get("/api/ledger/reports/profit-and-loss" + RANGE + "&compare_from=2025-01-01"), 400,
                 "report.invalid_range")


def test_api_needs_ledger_view(story):
    employee = member(story, "employee")
    for name in ("profit-and-loss", "balance-sheet", "cash-flow", "general-ledger"):
        assert_error(ApiClient(employee, story).get(f"/api/ledger/reports/{name}{RANGE}&account=1400"), 403)


@pytest.mark.parametrize("query", [
    "?date_from=1900-01-01&date_to=9999-12-30",
    "?date_to=9999-12-30&compare_to=9999-12-30",
    "?date_from=1900-01-01&date_to=1900-01-01&compare_from=1900-01-01&compare_to=1900-01-01",
])
def test_api_extreme_dates_are_answered_or_refused_never_500(story, accountant, query):
    api = ApiClient(accountant, story)
    for name in ("profit-and-loss", "balance-sheet", "cash-flow", "general-ledger"):
        response = api.get(f"/api/ledger/reports/{name}{query}&account=1400")
        assert response.status_code in (200, 400), (name, response.content[:300])


def test_pages_with_extreme_dates_are_answered(story, accountant, client_for):
    client = client_for(accountant)
    for name in ("profit-and-loss", "balance-sheet", "cash-flow"):
        response = client.get(f"/ledger/reports/{name}/?date_from=0001-01-01&date_to=9999-12-31&compare=on"
                              "&compare_from=0001-01-01&compare_to=9999-12-31")
        assert response.status_code == 200 and b"Dates must be between" in response.content


def test_the_comparison_defaults_to_the_same_range_a_year_earlier(story, accountant, client_for):
    client = client_for(accountant)
    response = client.get("/ledger/reports/cash-flow/" + RANGE + "&compare=on")
    assert response.context["report"].compare_label == "2025-01-01 – 2025-03-31"
    response = client.get("/ledger/reports/balance-sheet/?date_to=2026-03-31&compare=on")
    assert response.context["report"].compare_label == "As of 2025-03-31"
