"""The books API: entries (draft, post, reverse), accounts, periods, fiscal years, trial balance."""

from __future__ import annotations

import datetime as dt

import pytest

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.models import SubmissionCount
from keel.core.services.parties import create_party
from keel.core.tests.factories import member
from keel.ledger.choices import EntryStatus, PeriodStatus
from keel.ledger.models import Account, Entry, FiscalYear, Line, Period
from keel.ledger.tests.factories import post_sale

pytestmark = pytest.mark.django_db

SALE = {"journal": "SAL", "date": "2026-03-15", "reference": "INV-1", "lines": [
    {"account": "1210", "debit": "120.00", "label": "Invoice 1", "due_date": "2026-04-14"},
    {"account": "4000", "credit": "100.00"},
    {"account": "2200", "credit": "20.00"},
]}


@pytest.fixture
def api(books, accountant):
    return ApiClient(accountant, books)


def test_posting_an_entry_directly(api, books):
    response = api.post("/api/ledger/entries", {**SALE, "post": True})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "posted" and body["number"].startswith("SAL/2026/") and body["period"] == "2026-03"
    assert body["total_debit"] == "120.00" and body["total_credit"] == "120.00"
    assert [(line["account"], line["debit"], line["credit"]) for line in body["lines"]] == [
        ("1210", "120.00", "0.00"), ("4000", "0.00", "100.00"), ("2200", "0.00", "20.00")]
    assert body["lines"][0]["due_date"] == "2026-04-14" and body["lines"][0]["rate"] == "1"
    assert api.get(f"/api/ledger/entries/{body['id']}").json() == body


def test_a_draft_is_changed_then_posted(api, books):
    draft = api.post("/api/ledger/entries", SALE).json()
    assert draft["status"] == "draft" and draft["number"] == ""
    changed = api.patch(f"/api/ledger/entries/{draft['id']}", {"reference": "INV-1b", "lines": [
        {"account": "1210", "debit": "50"}, {"account": "4000", "credit": "50"}]})
    assert changed.status_code == 200 and changed.json()["reference"] == "INV-1b"
    assert changed.json()["total_debit"] == "50.00"
    posted = api.post(f"/api/ledger/entries/{draft['id']}/post")
    assert posted.status_code == 200 and posted.json()["status"] == "posted"
    assert_error(api.patch(f"/api/ledger/entries/{draft['id']}", {"reference": "x"}), 400, "entry.not_draft")
    assert_error(api.delete(f"/api/ledger/entries/{draft['id']}"), 400, "entry.not_draft")


def test_a_draft_is_deleted(api, books):
    draft = api.post("/api/ledger/entries", SALE).json()
    assert api.delete(f"/api/ledger/entries/{draft['id']}").status_code == 204
    assert not Entry.objects.filter(pk=draft["id"]).exists()


def test_reversing_an_entry(api, books):
    entry = api.post("/api/ledger/entries", {**SALE, "post": True}).json()
    response = api.post(f"/api/ledger/entries/{entry['id']}/reverse", {"date": "2026-03-31", "description": "Void"})
    assert response.status_code == 201
    reversal = response.json()
    assert reversal["reversal_of"] == entry["id"] and reversal["description"] == "Void"
    assert reversal["lines"][0]["credit"] == "120.00"
    original = api.get(f"/api/ledger/entries/{entry['id']}").json()
    assert original["status"] == "reversed" and original["reversed_by"] == reversal["id"]
    assert_error(api.post(f"/api/ledger/entries/{entry['id']}/reverse", {"date": "2026-03-31"}), 400,
                 "entry.not_reversible")


@pytest.mark.parametrize(("change", "code", "field"), [
    ({"lines": [{"account": "1210", "debit": "10"}, {"account": "4000", "credit": "9"}]}, "entry.unbalanced", "lines"),
    ({"lines": [{"account": "1210", "debit": "10"}, {"account": "4000", "credit": "5"},
                {"account": "9999", "credit": "5"}]}, "account.not_found", "lines[2].account"),
    ({"lines": [{"account": "1210", "debit": "10.001"}, {"account": "4000", "credit": "10.001"}]},
     "money.too_many_decimals", "lines[0].debit"),
    ({"journal": "NOPE"}, "journal.not_found", "journal"),
    ({"date": "2040-01-01"}, "period.not_found", "date"),
    ({"lines": [{"account": "1210", "debit": "10", "party": 987654}, {"account": "4000", "credit": "10"}]},
     "party.not_found", "lines[0].party"),
])
def test_refusals_name_the_field_and_write_nothing(api, books, change, code, field):
    response = api.post("/api/ledger/entries", {**SALE, **change, "post": True})
    body = assert_error(response, 400, code)
    assert body["errors"][0]["field"] == field
    assert not Entry.objects.filter(company=books).exists() and not Line.objects.filter(company=books).exists()
    assert SubmissionCount.objects.get(company=books, document_type="ledger_entry").rejected == 1


def test_schema_errors_name_the_line_field(api, books):
    response = api.post("/api/ledger/entries", {**SALE, "lines": [{"account": "1210", "debit": 1.5}, {"credit": "1"}]})
    body = assert_error(response, 400, "request.invalid")
    assert {e["field"] for e in body["errors"]} >= {"lines.1.account"}


def test_a_clerk_may_read_nothing_and_an_auditor_may_read_but_not_post(books, clerk):
    post_sale(books)
    assert_error(ApiClient(clerk, books).get("/api/ledger/entries"), 403, "permission.denied")
    auditor = ApiClient(member(books, "auditor"), books)
    assert len(auditor.get("/api/ledger/entries").json()["items"]) == 1
    assert_error(auditor.post("/api/ledger/entries", {**SALE, "post": True}), 403, "permission.denied")
    assert Entry.objects.filter(company=books).count() == 1


def test_a_party_on_a_line(api, books, owner):
    party = create_party(actor=owner, company=books, name="Hooli Ltd", roles=["customer"])
    lines = [{"account": "1210", "debit": "10", "party": party.pk}, {"account": "4000", "credit": "10"}]
    body = api.post("/api/ledger/entries", {**SALE, "lines": lines, "post": True}).json()
    assert body["lines"][0]["party"] == party.pk


def test_listing_entries_with_filters_and_keyset_pages(api, books):
    for day in range(1, 6):
        post_sale(books, day=dt.date(2026, 3, day))
    post_sale(books, day=dt.date(2026, 5, 1), journal="GEN")
    page = api.get("/api/ledger/entries?limit=2&journal=SAL").json()
    assert [e["date"] for e in page["items"]] == ["2026-03-05", "2026-03-04"]
    seen = [e["id"] for e in page["items"]]
    while page["next_cursor"]:
        page = api.get(f"/api/ledger/entries?limit=2&journal=SAL&cursor={page['next_cursor']}").json()
        seen += [e["id"] for e in page["items"]]
    assert len(seen) == len(set(seen)) == 5
    assert len(api.get("/api/ledger/entries?date_from=2026-04-01").json()["items"]) == 1
    assert len(api.get("/api/ledger/entries?account=6100").json()["items"]) == 0
    assert len(api.get("/api/ledger/entries?status=draft").json()["items"]) == 0
    number = Entry.objects.filter(company=books).order_by("id").first().number
    assert [e["number"] for e in api.get(f"/api/ledger/entries?q={number}").json()["items"]] == [number]


def test_accounts_are_listed_created_and_changed(api, books):
    assets = api.get("/api/ledger/accounts?account_type=asset&limit=200").json()["items"]
    assert assets and {a["account_type"] for a in assets} == {"asset"}
    created = api.post("/api/ledger/accounts", {"code": "6998", "name": "Training", "account_type": "expense"})
    assert created.status_code == 201 and created.json()["is_active"] is True
    changed = api.patch(f"/api/ledger/accounts/{created.json()['id']}", {"name": "Staff training", "is_active": False})
    assert changed.json()["name"] == "Staff training" and changed.json()["is_active"] is False
    assert_error(api.post("/api/ledger/accounts", {"code": "6998", "name": "x", "account_type": "expense"}), 400,
                 "account.duplicate_code")
    assert_error(api.post("/api/ledger/accounts", {"code": "6997", "name": "x", "account_type": "cost"}), 400,
                 "request.invalid")


def test_journals_and_cost_centres(api, books):
    codes = [j["code"] for j in api.get("/api/ledger/journals").json()["items"]]
    assert {"SAL", "PUR", "BNK", "GEN", "OPN"} <= set(codes)
    assert api.post("/api/ledger/cost-centres", {"code": "OPS", "name": "Operations"}).status_code == 201
    assert [c["code"] for c in api.get("/api/ledger/cost-centres").json()["items"]] == ["OPS"]
    lines = [{"account": "6100", "debit": "10", "cost_centre": "OPS"}, {"account": "1210", "credit": "10"}]
    body = api.post("/api/ledger/entries", {**SALE, "journal": "GEN", "lines": lines, "post": True}).json()
    assert body["lines"][0]["cost_centre"] == "OPS"


def test_periods_close_reopen_lock(api, books):
    admin = ApiClient(member(books, "administrator"), books)  # reopening is for administrators
    periods = api.get("/api/ledger/periods?fiscal_year=2026&limit=20").json()["items"]
    march = next(p for p in periods if p["name"] == "2026-03")
    assert api.post(f"/api/ledger/periods/{march['id']}/close").json()["status"] == "closed"
    assert_error(api.post("/api/ledger/entries", {**SALE, "post": True}), 400, "period.closed")
    assert_error(admin.post(f"/api/ledger/periods/{march['id']}/reopen", {}), 400, "request.invalid")
    assert admin.post(f"/api/ledger/periods/{march['id']}/reopen", {"reason": "Late invoice"}).json()["status"] == "open"
    api.post(f"/api/ledger/periods/{march['id']}/close")
    assert api.post(f"/api/ledger/periods/{march['id']}/lock").json()["status"] == "locked"
    assert_error(admin.post(f"/api/ledger/periods/{march['id']}/reopen", {"reason": "x"}), 409,
                 "period.illegal_transition")


def test_reopening_needs_the_close_permission(books):
    payroll = ApiClient(member(books, "payroll_officer"), books)
    period = Period.objects.get(company=books, start=dt.date(2026, 3, 1))
    assert_error(payroll.post(f"/api/ledger/periods/{period.pk}/close"), 403, "permission.denied")
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN


def test_fiscal_years_open_and_close(api, books, owner):
    opened = api.post("/api/ledger/fiscal-years", {"year": 2028})
    assert opened.status_code == 201 and opened.json()["start"] == "2028-01-01"
    post_sale(books, amount="300.00", day=dt.date(2025, 6, 1))
    # The accountant opens years; closing one is for owners and administrators.
    assert_error(api.post("/api/ledger/fiscal-years/2025/close"), 403, "permission.denied")
    assert FiscalYear.objects.get(company=books, year=2025).status == "open"
    api = ApiClient(owner, books)
    response = api.post("/api/ledger/fiscal-years/2025/close")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["result"] == "300.00" and body["periods_closed"] == 12 and body["entry"]["number"].startswith("OPN/2025/")
    assert FiscalYear.objects.get(company=books, year=2025).status == "closed"
    assert_error(api.post("/api/ledger/fiscal-years/2025/close"), 400, "fiscal_year.already_closed")
    assert_error(api.post("/api/ledger/fiscal-years/1999/close"), 404, "record.not_found")


def test_the_trial_balance(api, books):
    post_sale(books, amount="100.00")
    body = api.get("/api/ledger/trial-balance?date_from=2026-03-01&date_to=2026-03-31").json()
    assert body["is_balanced"] and body["total_debit"] == "100.00"
    rows = {row["code"]: row for row in body["rows"]}
    assert rows["1200"]["closing"] == "100.00" and rows["4000"]["closing"] == "-100.00"
    assert_error(api.get("/api/ledger/trial-balance?date_from=2026-04-01&date_to=2026-03-01"), 400,
                 "report.invalid_range")
    assert_error(api.get("/api/ledger/trial-balance"), 400, "request.invalid")


def test_entry_status_is_a_posted_snapshot(api, books):
    entry = api.post("/api/ledger/entries", {**SALE, "post": True}).json()
    assert Entry.objects.get(pk=entry["id"]).status == EntryStatus.POSTED
    assert Account.objects.get(company=books, code="1210").is_active
