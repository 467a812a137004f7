"""In a browser: open the return of March, file it, and see a late sale as the difference to file."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from keel.core.tests.factories import member
from keel.ledger.models import TaxReturn
from keel.ledger.tests.factories import set_up_books
from keel.ledger.tests.test_tax_returns import BOX_1, buy, sell
from keel.web.tests.browser import log_in

pytestmark = pytest.mark.browser


def test_file_the_return_and_see_a_late_sale_as_the_difference(transactional_db, live_server, company, browser_page):
    set_up_books(company, years=(2026,))
    accountant = member(company, "accountant", username="accountant@acme.test")
    sell(company, "100.00")
    buy(company, "40.00")
    page, base = browser_page, live_server.url
    log_in(page, base, accountant)

    page.goto(f"{base}/ledger/tax-return/?date_from=2026-03-01&date_to=2026-03-31")
    assert page.get_by_role("cell", name=BOX_1).first.is_visible()
    assert "Net tax payable: 12.00" in page.inner_text("main")
    page.get_by_role("button", name="File this return").click()
    page.wait_for_url(f"{base}/ledger/tax-return/?date_from=2026-03-01&date_to=2026-03-31")
    assert TaxReturn.objects.filter(company=company).count() == 1
    sell(company, "50.00", day=dt.date(2026, 3, 31))
    page.reload()
    filed = page.get_by_role("region", name="Filed return")
    assert "Filed on" in filed.inner_text()
    row = filed.get_by_role("row").filter(has_text=BOX_1)
    assert row.get_by_role("cell").all_inner_texts()[2:] == ["20.00", "30.00", "10.00"]
    if os.environ.get("KEEL_SCREENSHOT"):
        page.screenshot(path=os.environ["KEEL_SCREENSHOT"], full_page=True)
