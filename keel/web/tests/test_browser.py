"""One journey through a real Chromium (Debian's, driven by Playwright; nothing downloaded):
log in, switch company, create a party, find its activity in its history and in the
activity log, open the dashboard."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keel.core.models import Activity, Party
from keel.core.tests.factories import DEFAULT_PASSWORD, member

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_page(monkeypatch):
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run browser tests"
        if os.environ.get("CI"):
            pytest.fail(reason)
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous and made between browser steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setenv("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    # The live server answers each request in a thread of its own; with persistent
    # connections (CONN_MAX_AGE) those threads would keep PostgreSQL sessions open and the
    # test database could not be dropped afterwards.
    from django.db import connections

    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 0)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            browser.close()
            # ORM calls made while Playwright's sync API runs can leave a connection open
            # (seen on PostgreSQL: the test database then cannot be dropped): close them all.
            connections.close_all()


def test_log_in_switch_company_create_a_party_and_see_it_everywhere(transactional_db, live_server, company, other_company, owner, browser_page):
    member(other_company, "owner", user=owner)
    page = browser_page
    base = live_server.url

    page.goto(f"{base}/login/")
    page.fill("#id_username", owner.username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
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
