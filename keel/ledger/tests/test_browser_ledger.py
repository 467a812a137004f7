"""An accountant's journey through a real Chromium: post an entry on the entry form, open
the profit and loss, and drill down from its figure to the general ledger and to the entry."""

from __future__ import annotations

from decimal import Decimal

import pytest

from keel.core.tests.factories import member
from keel.ledger.models import Entry, Journal, Line
from keel.ledger.tests.factories import set_up_books
from keel.web.tests.browser import log_in, pick

pytestmark = pytest.mark.browser


def test_post_an_entry_and_drill_down_from_the_profit_and_loss_to_it(transactional_db, live_server, company,
                                                                      browser_page):
    set_up_books(company, years=(2026,))
    accountant = member(company, "accountant", username="accountant@acme.test")
    journal = Journal.objects.get(company=company, code="SAL")
    page, base = browser_page, live_server.url

    log_in(page, base, accountant)

    page.goto(f"{base}/ledger/entries/new/")
    page.select_option("#id_journal", str(journal.pk))
    page.fill("#id_date", "2026-03-15")
    page.fill("#id_reference", "BROWSER-1")
    pick(page, "#id_lines-0-account", "1210")
    page.fill("#id_lines-0-debit", "1234.56")
    page.fill("#id_lines-0-label", "Consulting for Hooli")
    pick(page, "#id_lines-1-account", "4000")
    page.fill("#id_lines-1-credit", "1234.56")
    page.click("button[name=action][value=post]")
    page.wait_for_url(f"{base}/ledger/entries/*/")
    entry = Entry.objects.get(company=company, reference="BROWSER-1")
    assert entry.status == "posted"
    assert sorted(Line.objects.filter(entry=entry).values_list("account__code", "debit")) == [
        ("1210", Decimal("1234.56")), ("4000", Decimal(0))]
    entry_url = page.url
    assert entry.number in page.inner_text("main")

    page.goto(f"{base}/ledger/reports/profit-and-loss/?date_from=2026-03-01&date_to=2026-03-31")
    page.locator("main a[title='General ledger of 4000']", has_text="1,234.56").click()
    page.wait_for_url(f"{base}/ledger/reports/general-ledger/**")
    assert "4000" in page.inner_text("main")
    page.locator("main a", has_text=entry.number).first.click()
    page.wait_for_url(entry_url)
    assert "Consulting for Hooli" in page.inner_text("main")
