"""Shared page checks: a new page is covered by adding one `Page(...)` line.

    from keel.web.tests.pages import Page, page_tests

    PAGES = [Page("billing:invoice_detail", make=lambda company, owner: {"pk": an_invoice(company).pk})]
    test_page_renders, test_page_needs_permission, test_page_of_other_company_is_404, test_page_needs_login = page_tests(PAGES)

For each page: the owner gets 200; a member whose role lacks the page's permission
(`denied_role`) gets 403; a page showing a record by id answers 404 to the owner of another
company (isolation); an anonymous visitor is sent to the login page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse

from keel.core.tests.factories import member


@dataclass(frozen=True)
class Page:
    url_name: str
    # Builds what the page shows in `company` (acting as its owner); returns the URL kwargs.
    make: Callable | None = None
    # A role of the default set that lacks the page's permission (403); None: any member may.
    denied_role: str | None = "employee"
    query: str = ""
    # The page is for Keel administrators: the owner is made staff for the "renders" check.
    staff: bool = False

    def __str__(self) -> str:
        return self.url_name

    def url(self, company, owner) -> str:
        kwargs = self.make(company, owner) if self.make else {}
        return reverse(self.url_name, kwargs=kwargs) + self.query


def _ids(pages):
    return [str(p) for p in pages]


def page_tests(pages: list[Page]):
    """The four standard tests over `pages`, to assign to module-level test_* names."""
    by_id = [p for p in pages if p.make is not None]
    guarded = [p for p in pages if p.denied_role]

    @pytest.mark.parametrize("page", pages, ids=_ids(pages))
    def test_page_renders(page, company, owner, client_for):
        if page.staff:
            owner.is_staff = True
            owner.save(update_fields=["is_staff"])
        response = client_for(owner).get(page.url(company, owner))
        response.close()  # a streamed file (a download) is closed, as the server would
        assert response.status_code == 200, response.content[:2000] if not response.streaming else page

    @pytest.mark.parametrize("page", guarded, ids=_ids(guarded))
    def test_page_needs_permission(page, company, owner, client_for):
        url = page.url(company, owner)
        response = client_for(member(company, page.denied_role)).get(url)
        assert response.status_code == 403

    @pytest.mark.parametrize("page", by_id, ids=_ids(by_id))
    def test_page_of_other_company_is_404(page, company, owner, outsider, client_for):
        url = page.url(company, owner)
        response = client_for(outsider).get(url)
        assert response.status_code == 404

    @pytest.mark.parametrize("page", pages, ids=_ids(pages))
    def test_page_needs_login(page, company, owner, client):
        url = page.url(company, owner)
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("web:login"))

    return test_page_renders, test_page_needs_permission, test_page_of_other_company_is_404, test_page_needs_login
