"""The party of an entry line is chosen by searching, not from a <select> of every party:
the search page answers the active company's matches (at most 20), the form takes the chosen
id, refuses another company's party on its line, and shows the chosen party by name again."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keel.core.models import Party
from keel.core.services.parties import create_party, update_party
from keel.ledger.models import Account, Entry, Journal, Line
from keel.ledger.services.posting import LineInput, create_draft_entry
from keel.web.search_select import SEARCH_LIMIT

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(books, accountant, client_for):
    return client_for(accountant)


@pytest.fixture
def hooli(books, owner):
    return create_party(actor=owner, company=books, name="Hooli Ltd", tax_id="DE136695976")


def _options(response) -> list[str]:
    """The names the search offered, in order."""
    return re.findall(r'role="option" aria-selected="false" data-value="\d+" data-label="([^"]*)"',
                      response.content.decode())


def _entry_post(company, lines, action="post"):
    journal = Journal.objects.get(company=company, code="SAL")
    data = {"journal": journal.pk, "date": "2026-03-15", "reference": "INV-7", "description": "Sale", "action": action,
            "lines-TOTAL_FORMS": str(len(lines)), "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "500"}
    for index, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{index}-{key}"] = value
    return data


def _sale_lines(company, party_fields: dict, amount="120.00"):
    receivable = Account.objects.get(company=company, code="1200").pk
    sales = Account.objects.get(company=company, code="4000").pk
    return [{"account": receivable, "debit": amount, **party_fields}, {"account": sales, "credit": "120.00"}]


# -- the search page ----------------------------------------------------------------------------


def test_the_search_offers_only_the_active_companys_active_matching_parties(books, other_books, owner, outsider,
                                                                             hooli, web):
    create_party(actor=owner, company=books, name="Big Hooligan Bikes")
    create_party(actor=owner, company=books, name="Pied Piper")
    gone = create_party(actor=owner, company=books, name="Hooli Archive")
    update_party(actor=owner, party=gone, is_active=False)
    create_party(actor=outsider, company=other_books, name="Hooli GmbH")

    response = web.get("/search/parties/?q=hooli")

    assert response.status_code == 200
    assert _options(response) == ["Hooli Ltd", "Big Hooligan Bikes"]  # names starting with the text first


def test_the_search_finds_a_party_by_its_tax_id(books, hooli, web):
    response = web.get("/search/parties/?q=1366959")
    assert _options(response) == ["Hooli Ltd"]
    assert b"DE136695976" in response.content


def test_the_search_answers_at_most_twenty_and_says_more_match(books, web):
    Party.objects.bulk_create([Party(company=books, name=f"Client {n:02}", normalized_name=f"client {n:02}")
                               for n in range(1, 26)])
    response = web.get("/search/parties/?q=client")
    assert _options(response) == [f"Client {n:02}" for n in range(1, SEARCH_LIMIT + 1)]
    assert b"More than 20 parties match: type more of the name." in response.content


def test_the_search_says_when_nothing_matches_and_offers_nothing_for_no_text(books, hooli, web):
    assert b"No active party matches &#x27;zzz&#x27;." in web.get("/search/parties/?q=zzz").content
    assert _options(web.get("/search/parties/?q=")) == []


def test_odd_search_text_is_harmless(books, hooli, web):
    for query in ("a%00b", "%25", "_", "x" * 500):
        assert web.get(f"/search/parties/?q={query}").status_code == 200


def test_the_search_needs_the_permission_to_see_parties(books, client_for):
    from keel.core.tests.factories import member

    assert client_for(member(books, "employee")).get("/search/parties/?q=hoo").status_code == 403


# -- the entry form -----------------------------------------------------------------------------


def test_an_entry_is_posted_with_the_party_chosen_through_the_search(books, hooli, web):
    response = web.post("/ledger/entries/new/", _entry_post(books, _sale_lines(
        books, {"party": str(hooli.pk), "party_search": "Hooli Ltd", "label": "Invoice 7"})))

    entry = Entry.objects.get(company=books)
    assert response.status_code == 302 and response["Location"] == f"/ledger/entries/{entry.pk}/"
    assert Line.objects.get(entry=entry, label="Invoice 7").party == hooli
    assert "Hooli Ltd" in web.get(f"/ledger/entries/{entry.pk}/").content.decode()


def test_another_companys_party_is_refused_on_its_line_and_nothing_is_written(books, other_books, outsider, web):
    foreign = create_party(actor=outsider, company=other_books, name="Umbrella Secret Corp")

    response = web.post("/ledger/entries/new/", _entry_post(books, _sale_lines(
        books, {"party": str(foreign.pk), "party_search": "Hooli Ltd"})))

    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors == {
        "party": ["That party is not one of this company's parties: search and choose one."]}
    assert "Umbrella Secret Corp" not in response.content.decode()  # never shown by name
    assert not Entry.objects.filter(company=books).exists()
    assert not Line.objects.filter(company=books).exists()


def test_a_name_typed_but_not_picked_is_refused_and_nothing_is_written(books, hooli, web):
    response = web.post("/ledger/entries/new/", _entry_post(books, _sale_lines(books, {"party": "", "party_search": "Hool"})))

    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors == {
        "party": ["'Hool' was typed but not picked: choose a party from the search results."]}
    assert 'value="Hool"' in response.content.decode()  # what was typed stays in the box
    assert not Entry.objects.filter(company=books).exists()


def test_an_emptied_search_box_means_no_party(books, hooli, web):
    response = web.post("/ledger/entries/new/", _entry_post(books, _sale_lines(
        books, {"party": str(hooli.pk), "party_search": " "})))
    # No party, so the receivable line is refused on its row, naming what it needs.
    assert "it needs a party" in response.content.decode()
    assert not Line.objects.filter(company=books).exists() and not Entry.objects.filter(company=books).exists()


def test_after_a_refusal_the_chosen_party_is_shown_by_name_again(books, hooli, web):
    response = web.post("/ledger/entries/new/", _entry_post(books, _sale_lines(
        books, {"party": str(hooli.pk), "party_search": "Hooli Ltd"}, amount="100.00")))

    page = response.content.decode()
    assert response.status_code == 200 and "does not balance" in page
    assert f'name="lines-0-party" value="{hooli.pk}"' in page
    assert 'name="lines-0-party_search" value="Hooli Ltd"' in page
    assert not Entry.objects.filter(company=books).exists()


def test_editing_a_draft_shows_its_parties_by_name_read_in_one_query(books, owner, web):
    names = ["Ada", "Bletchley", "Colossus", "Dijkstra", "Euler", "Fermat", "Gauss", "Hopper"]
    parties = [create_party(actor=owner, company=books, name=name) for name in names]
    lines = [LineInput(account="1200", debit=Decimal(10), party=party.pk) for party in parties]
    draft = create_draft_entry(actor=None, company=books, journal="GEN", date=dt.date(2026, 3, 10),
                               lines=[*lines, LineInput(account="4000", credit=Decimal(80))], check_permission=False)

    with CaptureQueriesContext(connection) as captured:
        page = web.get(f"/ledger/entries/{draft.pk}/edit/").content.decode()

    assert all(f'value="{name}"' in page for name in names)
    assert len([q for q in captured.captured_queries if '"core_party"' in q["sql"]]) == 1


def test_the_form_does_not_list_the_companys_parties(books, web):
    Party.objects.bulk_create([Party(company=books, name=f"Customer {n:03}", normalized_name=f"customer {n:03}")
                               for n in range(300)])

    page = web.get("/ledger/entries/new/").content.decode()

    assert sum(f"Customer {n:03}" in page for n in range(300)) == 0
    assert 'role="combobox"' in page and "/search/parties/" in page and "web/search_select.js" in page
