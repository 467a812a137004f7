"""The `browser_page` fixture: a page of Debian's Chromium driven by Playwright (nothing
downloaded). Loaded for every test by the root conftest (pytest_plugins); use it with
`live_server` and `transactional_db`. Outside CI it skips with a printed reason when Chromium
is missing; in CI it fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def log_in(page, base: str, user, *, landing: str = "/**") -> None:
    """Log `user` (made by keel.core.tests.factories, with its default password) in on the
    login page and wait for the page the login leads to."""
    from keel.core.tests.factories import DEFAULT_PASSWORD

    page.goto(f"{base}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{landing}")


def pick(page, box: str, text: str, choice: str | None = None) -> None:
    """Type `text` into the search-select box `box` (a CSS selector of its text input) and
    pick the option that reads `choice` (by default the first) with the mouse."""
    page.locator(box).press_sequentially(text)
    options = page.locator(f"{box}_options [role=option]")
    options.first.wait_for(state="visible")
    (options.filter(has_text=choice).first if choice else options.first).click()


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
