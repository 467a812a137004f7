"""Aging on 2026-06-30: invoices due 0, 1, 30, 31, 60, 61, 90 and 91 days before fall in
current, 1-30, 1-30, 31-60, 31-60, 61-90, 61-90 and over 90; the page, API, exports, the
party page and the statement PDF show the same figures."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keel.api.tests.conftest import ApiClient
from keel.core.exceptions import ValidationFailed
from keel.core.models import Party
from keel.core.tests.factories import member
from keel.ledger.reports.aging import BUCKET_KEYS, bucket_of, get_aging, party_open_lines
from keel.ledger.services.posting import LineInput, post_entry
from keel.ledger.services.settlements import Allocation, settle_open_items, undo_settlement
from keel.ledger.tests.test_open_items import invoice, payment
from keel.web.tests.pages import Page, page_tests

pytestmark = pytest.mark.django_db

D = Decimal
AS_OF = dt.date(2026, 6, 30)
EDGES = [0, 1, 30, 31, 60, 61, 90, 91]
EXPECTED = {"current": D("1.00"), "days_1_30": D("12.00"), "days_31_60": D("120.00"), "days_61_90": D("1200.00"),
            "over_90": D("10000.00")}


def _edges(company, party):
    """One invoice per edge, due that many days before AS_OF, for amounts that tell the buckets apart:
    0 -> 1.00; 1 -> 2.00 and 30 -> 10.00; 31 -> 20.00 and 60 -> 100.00; 61 -> 200.00 and 90 -> 1000.00; 91 -> 10000.00."""
    amounts = dict(zip(EDGES, ["1.00", "2.00", "10.00", "20.00", "100.00", "200.00", "1000.00", "10000.00"], strict=True))
    for days, amount in amounts.items():
        invoice(company, party, amount, day=dt.date(2026, 1, 5), due=AS_OF - dt.timedelta(days=days))


def bill(company, party, amount, day=dt.date(2026, 3, 1), due=None):
    return post_entry(actor=None, company=company, journal="PUR", date=day, check_permission=False, lines=[
        LineInput(account="6100", debit=D(amount)), LineInput(account="2100", credit=D(amount), party=party.pk,
                                                              due_date=due)])


@pytest.fixture
def customer(books):
    return Party.objects.create(company=books, name="Customer Ltd")


@pytest.mark.parametrize(("days", "bucket"), [
    (-5, "current"), (0, "current"), (1, "days_1_30"), (30, "days_1_30"), (31, "days_31_60"), (60, "days_31_60"),
    (61, "days_61_90"), (90, "days_61_90"), (91, "over_90"), (400, "over_90")])
def test_the_bucket_of_a_number_of_days_overdue(days, bucket):
    assert bucket_of(days) == bucket


def test_invoices_at_the_bucket_edges_fall_in_their_buckets(books, customer):
    _edges(books, customer)
    report = get_aging(books, kind="receivable", as_of=AS_OF)
    [row] = report.rows
    assert row.party_id == customer.pk and row.buckets == EXPECTED
    assert row.total == report.total == D("11333.00")
    # The same items by their due date, one day later: each moves on by a day.
    later = get_aging(books, kind="receivable", as_of=AS_OF + dt.timedelta(days=1)).rows[0].buckets
    assert later == {"current": D(0), "days_1_30": D("3.00"), "days_31_60": D("30.00"), "days_61_90": D("300.00"),
                     "over_90": D("11000.00")}


def test_an_item_without_a_due_date_ages_from_its_entry_date_and_later_items_are_left_out(books, customer):
    invoice(books, customer, "50.00", day=AS_OF - dt.timedelta(days=31))
    invoice(books, customer, "7.00", day=AS_OF + dt.timedelta(days=1))  # after the date: not yet there
    [row] = get_aging(books, kind="receivable", as_of=AS_OF).rows
    assert row.buckets == {**dict.fromkeys(BUCKET_KEYS, D(0)), "days_31_60": D("50.00")}


def test_settlements_reduce_the_aging_from_their_date_and_undo_restores_it(books, accountant, customer):
    sale = invoice(books, customer, "100.00", day=dt.date(2026, 3, 1))  # 121 days old
    paid = payment(books, customer, "60.00", day=dt.date(2026, 6, 1))
    before = get_aging(books, kind="receivable", as_of=AS_OF).rows[0].buckets
    assert (before["over_90"], before["days_1_30"]) == (D("100.00"), D("-60.00"))  # an unapplied payment
    settlement = settle_open_items(actor=accountant, company=books, allocations=[Allocation(sale.pk, "60"), paid.pk],
                                   date=dt.date(2026, 6, 15))
    after = get_aging(books, kind="receivable", as_of=AS_OF).rows[0]
    assert after.buckets == {**dict.fromkeys(BUCKET_KEYS, D(0)), "over_90": D("40.00")}
    # On a date before the settlement, both lines were still wholly open.
    assert get_aging(books, kind="receivable", as_of=dt.date(2026, 6, 10)).rows[0].total == D("40.00")
    assert get_aging(books, kind="receivable", as_of=dt.date(2026, 6, 10)).rows[0].buckets["over_90"] == D("100.00")
    [open_line] = party_open_lines(books, customer.pk, AS_OF)
    assert (open_line.line.pk, open_line.open_amount, open_line.days_overdue, open_line.bucket) == (
        sale.pk, D("40.00"), 121, "over_90")
    undo_settlement(actor=accountant, settlement=settlement)
    assert get_aging(books, kind="receivable", as_of=AS_OF).rows[0].buckets == before


def test_payables_age_what_is_owed_to_suppliers_as_positive_amounts(books, customer):
    supplier = Party.objects.create(company=books, name="Supplier GmbH")
    bill(books, supplier, "80.00", due=AS_OF - dt.timedelta(days=45))
    invoice(books, customer, "5.00")
    payables = get_aging(books, kind="payable", as_of=AS_OF)
    assert [(row.party_name, row.buckets["days_31_60"], row.total) for row in payables.rows] == [
        ("Supplier GmbH", D("80.00"), D("80.00"))]
    assert [row.party_name for row in get_aging(books, kind="receivable", as_of=AS_OF).rows] == ["Customer Ltd"]
    with pytest.raises(ValidationFailed) as refused:
        get_aging(books, kind="expense", as_of=AS_OF)
    assert refused.value.code == "aging.invalid_kind"


def test_the_aging_costs_the_same_queries_for_two_parties_or_twelve(books):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            report = get_aging(books, kind="receivable", as_of=AS_OF)
        return len(captured.captured_queries), len(report.rows)

    for number in range(2):
        invoice(books, Party.objects.create(company=books, name=f"Party {number}"), "10.00")
    few = queries()
    for number in range(2, 12):
        customer = Party.objects.create(company=books, name=f"Party {number}")
        invoice(books, customer, "10.00")
        invoice(books, customer, "5.00", due=dt.date(2026, 1, 31))
    many = queries()
    assert few == (3, 2) and many == (3, 12)  # lines, allocations, names: grouped, never per party


# -- API, pages, exports ----------------------------------------------------------------------------


def test_the_aging_api_gives_the_buckets_per_party_and_in_total(books, accountant, customer):
    _edges(books, customer)
    api = ApiClient(accountant, books)
    body = api.get("/api/ledger/aging?kind=receivable&as_of=2026-06-30").json()
    assert (body["kind"], body["as_of"], body["currency"]) == ("receivable", "2026-06-30", "EUR")
    [row] = body["rows"]
    assert row["party"] == customer.pk and {key: D(row[key]) for key in BUCKET_KEYS} == EXPECTED
    assert D(body["totals"]["total"]) == D("11333.00")
    assert api.get("/api/ledger/aging?kind=payable&as_of=2026-06-30").json()["rows"] == []
    assert api.get("/api/ledger/aging?kind=other").status_code in (400, 422)


def test_the_party_open_items_api_lists_what_is_open_on_a_date(books, accountant, customer, other_books):
    _edges(books, customer)
    api = ApiClient(accountant, books)
    items = api.get(f"/api/ledger/parties/{customer.pk}/open-items?as_of=2026-06-30&limit=3").json()
    assert len(items["items"]) == 3 and items["next_cursor"]
    everything = api.get(f"/api/ledger/parties/{customer.pk}/open-items?as_of=2026-06-30&limit=100").json()["items"]
    assert sorted((row["days_overdue"], row["bucket"], D(row["open_amount"])) for row in everything) == [
        (0, "current", D("1.00")), (1, "days_1_30", D("2.00")), (30, "days_1_30", D("10.00")),
        (31, "days_31_60", D("20.00")), (60, "days_31_60", D("100.00")), (61, "days_61_90", D("200.00")),
        (90, "days_61_90", D("1000.00")), (91, "over_90", D("10000.00"))]
    stranger = Party.objects.create(company=other_books, name="Not yours")
    assert api.get(f"/api/ledger/parties/{stranger.pk}/open-items").status_code == 404


def test_the_aging_page_shows_totals_and_drills_down_to_a_bucket(books, accountant, customer, client_for):
    _edges(books, customer)
    web = client_for(accountant)
    page = web.get("/ledger/aging/?kind=receivable&as_of=2026-06-30").content.decode()
    for figure in ("1.00", "12.00", "120.00", "1,200.00", "10,000.00", "11,333.00", "Customer Ltd"):
        assert figure in page
    drill = f"/ledger/aging/party/{customer.pk}/?kind=receivable&amp;as_of=2026-06-30&amp;bucket=days_31_60"
    assert drill in page
    detail = web.get(drill.replace("&amp;", "&")).content.decode()
    assert "100.00" in detail and "20.00" in detail and "10,000.00</td>" not in detail.split("Open items on")[1]


def test_the_aging_exports_open_with_the_page_figures(books, accountant, customer, client_for):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    _edges(books, customer)
    web = client_for(accountant)
    query = "/ledger/aging/?kind=receivable&as_of=2026-06-30&format="
    rows = list(csv.reader(io.StringIO(web.get(query + "csv").content.decode("utf-8-sig"))))
    assert rows[2] == ["Party", "Current", "1-30 days", "31-60 days", "61-90 days", "Over 90 days", "Total"]
    assert rows[3] == ["Customer Ltd", "1.00", "12.00", "120.00", "1200.00", "10000.00", "11333.00"]
    assert rows[4][0] == "Total" and rows[4][-1] == "11333.00"
    sheet = load_workbook(io.BytesIO(web.get(query + "xlsx").content)).active
    assert [cell.value for cell in sheet[4]] == ["Customer Ltd", 1, 12, 120, 1200, 10000, 11333]
    response = web.get(query + "pdf")
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Aged receivables" in text and "Customer Ltd" in text and "11,333.00" in text


def test_the_statement_pdf_lists_the_open_items_and_the_aging(books, accountant, customer, client_for):
    from pypdf import PdfReader

    _edges(books, customer)
    response = client_for(accountant).get(f"/ledger/parties/{customer.pk}/statement/?as_of=2026-06-30")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f"statement-{books.code}-{customer.pk}-2026-06-30.pdf" in response["Content-Disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Statement of account: Customer Ltd" in text and "Aged receivables" in text
    assert "10,000.00" in text and "11,333.00" in text


# -- the party page ---------------------------------------------------------------------------------


def test_the_party_page_shows_the_ledger_panel_to_those_who_see_the_ledger(books, accountant, customer, client_for):
    invoice(books, customer, "250.00", due=dt.date(2026, 1, 31))
    page = client_for(accountant).get(f"/parties/{customer.pk}/").content.decode()
    assert 'id="party-ledger"' in page and "250.00" in page and f"/ledger/parties/{customer.pk}/statement/" in page
    assert 'id="party-tasks"' in page  # the inbox's panel, through the same registry
    support = client_for(member(books, "support_agent"))  # party.view and task.*, no ledger.view
    hidden = support.get(f"/parties/{customer.pk}/").content.decode()
    assert 'id="party-ledger"' not in hidden and "250.00" not in hidden and 'id="party-tasks"' in hidden
    assert support.get(f"/ledger/parties/{customer.pk}/statement/").status_code == 403


def test_core_imports_no_department():
    """The party page meets departments through its panel registry: core imports none of them
    (the demo, which loads every department's demo data, aside)."""
    from pathlib import Path

    import keel.core

    root = Path(keel.core.__file__).parent
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if "tests" not in path.parts and path.name != "demo.py" and "management" not in path.parts
                 and any(name in path.read_text() for name in ("keel.inbox", "keel.ledger"))]
    assert offenders == []


def _party(company, owner):
    return {"pk": Party.objects.create(company=company, name="Aged Ltd").pk}


(test_page_renders, test_page_needs_permission, test_page_of_other_company_is_404, test_page_needs_login) = page_tests([
    Page("ledger:aging"),
    Page("ledger:aging", query="?kind=payable&as_of=2026-06-30"),
    Page("ledger:aging_party", make=_party),
    Page("ledger:party_statement", make=_party),
])
