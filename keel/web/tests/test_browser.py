"""One journey through a real Chromium (Debian's, driven by Playwright; nothing downloaded):
log in, switch company, create a party, find its activity in its history and in the
activity log, open the dashboard."""

from __future__ import annotations

import pytest

from keel.core.models import Activity, Party
from keel.core.tests.factories import member
from keel.web.tests.browser import log_in

pytestmark = pytest.mark.browser


def test_log_in_switch_company_create_a_party_and_see_it_everywhere(transactional_db, live_server, company, other_company, owner, browser_page):
    member(other_company, "owner", user=owner)
    page = browser_page
    base = live_server.url

    log_in(page, base, owner, landing="/")
    assert "Dashboard" in page.inner_text("h1")
    assert page.input_value("#company-switcher") == str(company.pk)

    page.select_option("#company-switcher", str(other_company.pk))
    page.click(".switcher button[type=submit]")
    page.wait_for_load_state()
    assert page.input_value("#company-switcher") == str(other_company.pk)
    assert "Globex Services GmbH" in page.inner_text(".messages")

    page.goto(f"{base}/parties/new/")
    page.fill("#id_name", "Browser Party Ltd")
    page.check("input[name=roles][value=customer]")
    page.fill("#id_email", "hello@browser-party.test")
    page.click("form.stacked button[type=submit]")
    page.wait_for_selector("text=Browser Party Ltd was created.")
    assert page.inner_text("h1").startswith("Browser Party Ltd")
    assert "core.party_created" in page.inner_text("section.history")
    party_url = page.url

    page.goto(f"{base}/activity/")
    row = page.locator("tr", has_text="core.party_created").first
    assert "Browser Party Ltd" in row.inner_text()
    row.locator("a", has_text="Browser Party Ltd").click()
    page.wait_for_url(party_url)

    page.goto(f"{base}/")
    assert page.locator(".kpi svg").count() >= 2
    assert "Activity volume" in page.inner_text("main")

    party = Party.objects.get(name="Browser Party Ltd")
    assert party.company == other_company
    assert Activity.objects.filter(company=other_company, verb="core.party_created", subject_id=str(party.pk)).exists()
