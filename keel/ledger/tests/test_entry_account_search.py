"""The account of an entry line is chosen by searching its code or name, not from a <select>
of the whole chart on every row: the search answers the active company's active accounts,
codes first; the form refuses another company's account on its row and writes nothing."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keel.core.tests.factories import member
from keel.ledger.models import Account, Entry, Journal, Line
from keel.ledger.services.chart import create_account, set_account_active
from keel.ledger.services.posting import LineInput, create_draft_entry
from keel.ledger.tests.factories import party_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(books, accountant, client_for):
    return client_for(accountant)


def _options(response) -> list[str]:
    return re.findall(r'role="option" aria-selected="false" data-value="\d+" data-label="([^"]*)"',
                      response.content.decode())


def _entry_post(company, lines):
    journal = Journal.objects.get(company=company, code="SAL")
    data = {"journal": journal.pk, "date": "2026-03-15", "reference": "INV-7", "action": "post",
            "lines-TOTAL_FORMS": str(len(lines)), "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "500"}
    for index, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{index}-{key}"] = value
    return data


def _pk(company, code) -> int:
    return Account.objects.get(company=company, code=code).pk


def test_the_search_offers_codes_starting_with_the_text_first_then_names(books, other_books, web):
    response = web.get("/ledger/search/accounts/?q=12")
    offered = _options(response)
    assert response.status_code == 200 and offered
    assert all(label.startswith("12") for label in offered)
    by_name = _options(web.get("/ledger/search/accounts/?q=receivable"))
    assert by_name and all("receivable" in label.lower() for label in by_name)
    assert len(by_name) == len(set(by_name))  # the other company's chart is not offered


def test_the_search_leaves_out_inactive_accounts_and_other_companies(books, other_books, accountant, web):
    create_account(actor=None, company=other_books, code="9990", name="Zeppelin hangar", account_type="asset",
                   check_permission=False)
    mine = create_account(actor=None, company=books, code="9991", name="Zeppelin fund", account_type="asset",
                          check_permission=False)
    assert _options(web.get("/ledger/search/accounts/?q=zeppelin")) == ["9991 Zeppelin fund"]
    set_account_active(actor=None, account=mine, is_active=False, check_permission=False)
    page = web.get("/ledger/search/accounts/?q=zeppelin").content.decode()
    assert _options(web.get("/ledger/search/accounts/?q=zeppelin")) == []
    assert "No active account matches &#x27;zeppelin&#x27;." in page


def test_the_search_answers_at_most_twenty_and_says_more_match(books, web):
    for n in range(25):
        create_account(actor=None, company=books, code=f"77{n:02}", name=f"Project {n:02}", account_type="expense",
                       check_permission=False)
    response = web.get("/ledger/search/accounts/?q=77")
    assert _options(response) == [f"77{n:02} Project {n:02}" for n in range(20)]
    assert b"More than 20 accounts match" in response.content


def test_odd_search_text_is_harmless_and_the_search_needs_ledger_view(books, web, client_for):
    for query in ("a%00b", "%25", "_", "x" * 500, ""):
        assert web.get(f"/ledger/search/accounts/?q={query}").status_code == 200
    assert client_for(member(books, "employee")).get("/ledger/search/accounts/?q=12").status_code == 403


def test_an_entry_is_posted_with_accounts_chosen_through_the_search(books, web):
    response = web.post("/ledger/entries/new/", _entry_post(books, [
        {"account": _pk(books, "1210"), "account_search": "1210 Other receivables", "debit": "120.00"},
        {"account": _pk(books, "4000"), "account_search": "4000 Sales", "credit": "120.00"},
    ]))
    entry = Entry.objects.get(company=books)
    assert response.status_code == 302
    assert sorted(Line.objects.filter(entry=entry).values_list("account__code", flat=True)) == ["1210", "4000"]


def test_another_companys_account_is_refused_on_its_row_and_nothing_is_written(books, other_books, web):
    foreign = Account.objects.get(company=other_books, code="4000")
    response = web.post("/ledger/entries/new/", _entry_post(books, [
        {"account": _pk(books, "1200"), "debit": "120.00"}, {"account": foreign.pk, "credit": "120.00"}]))
    assert response.status_code == 200
    assert response.context["formset"].forms[1].errors == {
        "account": ["That account is not in this company's chart: search and choose one."]}
    assert not Entry.objects.filter(company=books).exists() and not Line.objects.filter(company=books).exists()


def test_a_code_typed_but_not_picked_is_refused(books, web):
    response = web.post("/ledger/entries/new/", _entry_post(books, [
        {"account": "", "account_search": "12", "debit": "120.00"}, {"account": _pk(books, "4000"), "credit": "120.00"}]))
    assert response.context["formset"].forms[0].errors == {
        "account": ["'12' was typed but not picked: choose an account from the search results."]}
    assert not Entry.objects.filter(company=books).exists()


def test_an_inactive_account_is_refused_by_posting_with_its_own_message(books, web):
    old = create_account(actor=None, company=books, code="4999", name="Old sales", account_type="income",
                         check_permission=False)
    set_account_active(actor=None, account=old, is_active=False, check_permission=False)
    response = web.post("/ledger/entries/new/", _entry_post(books, [
        {"account": _pk(books, "1210"), "debit": "10.00"}, {"account": old.pk, "credit": "10.00"}]))
    assert response.context["formset"].forms[1].errors == {"account": ["Account 4999 is inactive."]}
    assert not Entry.objects.filter(company=books).exists()


def test_the_form_does_not_list_the_chart_and_a_draft_shows_its_accounts_read_in_one_query(books, web):
    draft = create_draft_entry(actor=None, company=books, journal="GEN", date=dt.date(2026, 3, 10), check_permission=False,
                               lines=[LineInput(account="6100", debit=Decimal(50)), LineInput(account="1200", party=party_for(books, "1200"), credit=Decimal(50))])
    new_page = web.get("/ledger/entries/new/").content.decode()
    assert "<option" not in new_page.split('id="id_lines-0-account')[1].split("</td>")[0]
    assert "/ledger/search/accounts/" in new_page
    with CaptureQueriesContext(connection) as captured:
        page = web.get(f"/ledger/entries/{draft.pk}/edit/").content.decode()
    name_6100 = Account.objects.get(company=books, code="6100").name
    assert f'value="6100 {name_6100}"' in page
    assert len([q for q in captured.captured_queries if 'FROM "ledger_account"' in q["sql"]]) == 1
