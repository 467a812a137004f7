"""The unreconciled report narrowed by a date range and a search (page and API, a page at a
time), and the statement list searched; their queries do not grow with the rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keel.api.tests.conftest import ApiClient, assert_error
from keel.ledger.services import LineInput, post_entry
from keel.ledger.services.bank import import_statement
from keel.ledger.tests.bank_helpers import (
    CSV_MAPPING,
    bank_account,
    bank_line,
    hooli,
    import_sample,
    receipt,
)

pytestmark = pytest.mark.django_db

HEADER = "Export\nBooking date;Counterparty;IBAN;Text;Debit;Credit;Ref\n"


@pytest.fixture
def report(books, accountant):
    """March on a statement (Hooli's 250.00, fees -12.50); in the ledger an opening balance
    of January (before any statement), Hooli's receipt and a stray one."""
    bank = bank_account(books)
    statement = import_sample(bank, "camt053")
    opening = bank_line(post_entry(
        actor=None, company=books, journal="OPN", date=dt.date(2026, 1, 1), check_permission=False, reference="OPENING",
        lines=[LineInput(account="1400", debit=Decimal("1000.00"), label="Opening"),
               LineInput(account="3000", credit=Decimal("1000.00"))]))
    received, fees = statement.lines.order_by("position")
    paid = bank_line(receipt(books, party=hooli(books, accountant)))
    stray = bank_line(receipt(books, "99.00", day=dt.date(2026, 3, 25), reference="OTHER"))
    return {"bank": bank, "statement": statement, "received": received, "fees": fees, "paid": paid, "stray": stray,
            "opening": opening}


def _shown(response) -> tuple[list[int], list[int]]:
    return ([line.pk for line in response.context["page_obj"]], [line.pk for line in response.context["ledger_page"]])


def test_a_date_range_leaves_out_the_ledger_lines_before_the_first_statement(report, accountant, client_for):
    client = client_for(accountant)
    everything = client.get("/ledger/bank/unreconciled/")
    assert _shown(everything)[1] == [report["opening"].pk, report["paid"].pk, report["stray"].pk]
    march = client.get("/ledger/bank/unreconciled/?date_from=2026-03-01&date_to=2026-03-31")
    assert _shown(march) == ([report["received"].pk, report["fees"].pk], [report["paid"].pk, report["stray"].pk])
    assert march.context["ledger_total"] == Decimal("349.00") and march.context["statement_total"] == Decimal("237.50")
    assert _shown(client.get("/ledger/bank/unreconciled/?date_to=2026-03-20")) == (
        [report["received"].pk], [report["opening"].pk, report["paid"].pk])


@pytest.mark.parametrize(("query", "statement_lines", "ledger_lines"), [
    ("hooli", ["received"], ["paid"]),  # a counterparty, a party
    ("INV-2026-001", ["received"], ["paid"]),  # a reference, an entry's reference
    ("fees", ["fees"], []),  # a text
    ("other", [], ["stray"]),
    ("12.50", ["fees"], []),  # an amount, either sign
    ("99", [], ["stray"]),
])
def test_a_search_finds_label_reference_party_or_amount(report, accountant, client_for, query, statement_lines,
                                                        ledger_lines):
    response = client_for(accountant).get(f"/ledger/bank/unreconciled/?q={query}&date_from=2026-03-01")
    assert _shown(response) == ([report[name].pk for name in statement_lines], [report[name].pk for name in ledger_lines])


def test_bad_filters_are_shown_never_a_500(report, accountant, client_for):
    client = client_for(accountant)
    reversed_range = client.get("/ledger/bank/unreconciled/?date_from=2026-03-31&date_to=2026-03-01")
    assert reversed_range.status_code == 200 and b"The range ends before it starts." in reversed_range.content
    assert _shown(reversed_range) == ([], [])
    assert b"No unreconciled statement line in this range or search." in reversed_range.content
    bad_date = client.get("/ledger/bank/unreconciled/?date_from=31.02.2026&q=hooli")
    assert bad_date.status_code == 200 and _shown(bad_date) == ([report["received"].pk], [report["paid"].pk])


def _many_lines(bank, count: int, day: dt.date = dt.date(2026, 5, 1)):
    rows = "".join(f"{day + dt.timedelta(days=n % 28):%d.%m.%Y};Party {n};;Invoice {n};;{n + 1},00;X{n}\n"
                   for n in range(count))
    return import_statement(actor=None, bank_account=bank, file_format="csv", data=(HEADER + rows).encode(),
                            mapping=CSV_MAPPING, accept_balance_gap=True, check_permission=False)


def test_the_report_is_paginated_and_keeps_its_filters(report, accountant, client_for):
    _many_lines(report["bank"], 60)
    client = client_for(accountant)
    first = client.get("/ledger/bank/unreconciled/?date_from=2026-05-01&q=party")
    assert (first.context["page_obj"].paginator.count, len(first.context["page_obj"])) == (60, 50)
    assert b"?date_from=2026-05-01&amp;q=party&amp;page=2" in first.content
    second = client.get("/ledger/bank/unreconciled/?date_from=2026-05-01&q=party&page=2")
    assert len(second.context["page_obj"]) == 10


def _page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_report_and_the_statement_list_take_the_same_queries_for_more_rows(report, books, accountant, client_for):
    client = client_for(accountant)
    report_url = "/ledger/bank/unreconciled/?date_from=2026-01-01&date_to=2026-12-31&q=i"
    list_url = "/ledger/bank/statements/?q=i"
    client.get(list_url)  # the session's first save is not the page's
    few = (_page_queries(client, report_url), _page_queries(client, list_url))
    _many_lines(report["bank"], 40)
    for n in range(5):
        receipt(books, "10.00", day=dt.date(2026, 5, 2 + n), reference=f"Batch {n}")
    assert (_page_queries(client, report_url), _page_queries(client, list_url)) == few == (PINNED_REPORT, PINNED_LIST)


# Session, user, membership (with company and role), bank accounts; then the report: per side
# a count, a total and one page of rows; the list: a count and one page (counts annotated).
PINNED_REPORT = 10
PINNED_LIST = 6


# -- the statement list -----------------------------------------------------------------------


def test_the_statement_list_is_searched_by_id_file_or_transaction(report, accountant, client_for):
    client = client_for(accountant)
    april = _many_lines(report["bank"], 3)
    statement = report["statement"]

    def found(query):
        return [s.pk for s in client.get(f"/ledger/bank/statements/?q={query}").context["page_obj"]]

    assert found("CAMT-2026-03") == [statement.pk]
    assert found("hooli") == [statement.pk]  # a line's counterparty
    assert found("X2") == [april.pk]  # a line's transaction id
    assert found("bank_march") == [statement.pk]  # the file name
    response = client.get("/ledger/bank/statements/?q=nothing-like-it")
    assert b"No statement matches" in response.content and found("nothing-like-it") == []


# -- the API ----------------------------------------------------------------------------------


@pytest.fixture
def api(report, books, accountant):
    return ApiClient(accountant, books)


def _walk(api, path: str, limit: int) -> list[dict]:
    seen, cursor = [], None
    for _ in range(50):
        body = api.get(f"{path}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")).json()
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("pagination did not end")


def test_the_api_pages_through_each_side_with_the_filters(api, report):
    _many_lines(report["bank"], 12)
    lines = _walk(api, "/api/ledger/bank/unreconciled/statement-lines?date_from=2026-05-01&q=party", limit=5)
    assert len(lines) == 12 and len({line["id"] for line in lines}) == 12
    assert [line["date"] for line in lines] == sorted(line["date"] for line in lines)
    assert set(lines[0]) >= {"statement_id", "statement", "amount", "counterparty_name"}
    ledger = _walk(api, "/api/ledger/bank/unreconciled/ledger-lines?date_from=2026-03-01&date_to=2026-03-31", limit=1)
    assert [(line["id"], line["amount"], line["currency"]) for line in ledger] == [
        (report["paid"].pk, "250.00", "EUR"), (report["stray"].pk, "99.00", "EUR")]
    assert [line["id"] for line in _walk(api, "/api/ledger/bank/unreconciled/ledger-lines?q=hooli", limit=10)] == [
        report["paid"].pk]


def test_the_combined_endpoint_takes_the_filters_too(api, report):
    body = api.get("/api/ledger/bank/unreconciled?date_from=2026-03-01&q=fees").json()
    assert ([line["id"] for line in body["statement_lines"]], body["ledger_lines"]) == ([report["fees"].pk], [])
    assert_error(api.get("/api/ledger/bank/unreconciled/ledger-lines?date_from=2026-03-31&date_to=2026-03-01"),
                 400, "request.invalid")


def test_the_api_statement_list_is_searched(api, report):
    april = _many_lines(report["bank"], 3)
    assert [s["id"] for s in api.get("/api/ledger/bank-statements?q=hooli").json()["items"]] == [report["statement"].pk]
    assert [s["id"] for s in api.get("/api/ledger/bank-statements?q=X1").json()["items"]] == [april.pk]
