"""In a real Chromium: the party of an entry line is found by typing and picked with the keyboard."""

from __future__ import annotations

import pytest

from keel.core.services.parties import create_party
from keel.core.tests.factories import member
from keel.ledger.models import Account, Entry, Journal, Line
from keel.ledger.tests.factories import set_up_books
from keel.web.tests.browser import log_in, pick

pytestmark = pytest.mark.browser


def test_a_party_is_searched_and_picked_with_the_keyboard(transactional_db, live_server, company, owner,
                                                          browser_page):
    set_up_books(company, years=(2026,))
    accountant = member(company, "accountant", username="accountant@acme.test")
    create_party(actor=owner, company=company, name="Big Hooligan Bikes")
    hooli = create_party(actor=owner, company=company, name="Hooli Ltd")
    receivable = Account.objects.get(company=company, code="1200")
    journal = Journal.objects.get(company=company, code="SAL")
    page, base = browser_page, live_server.url

    log_in(page, base, accountant)

    page.goto(f"{base}/ledger/entries/new/")
    page.select_option("#id_journal", str(journal.pk))
    page.fill("#id_date", "2026-03-15")
    page.fill("#id_reference", "PARTY-1")
    pick(page, "#id_lines-0-account", "1200")
    page.fill("#id_lines-0-debit", "99.00")
    pick(page, "#id_lines-1-account", "4000")
    page.fill("#id_lines-1-credit", "99.00")

    party_box = page.locator("#id_lines-0-party")
    party_box.press_sequentially("hool")
    options = page.locator("#id_lines-0-party_options [role=option]")
    options.first.wait_for(state="visible")
    assert options.all_inner_texts() == ["Hooli Ltd", "Big Hooligan Bikes"]
    assert party_box.get_attribute("aria-expanded") == "true"
    party_box.press("ArrowDown")
    assert party_box.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    party_box.press("Enter")  # picks: does not submit the form
    assert party_box.input_value() == "Hooli Ltd"
    assert page.locator("input[name='lines-0-party']").input_value() == str(hooli.pk)
    assert page.locator("#id_lines-0-party_options").is_hidden()

    page.click("button[name=action][value=post]")
    page.wait_for_url(f"{base}/ledger/entries/*/")
    entry = Entry.objects.get(company=company, reference="PARTY-1")
    assert Line.objects.get(entry=entry, account=receivable).party_id == hooli.pk
    assert "Hooli Ltd" in page.inner_text("main")
