"""Every page: renders for the owner, 403 without the permission, 404 across companies,
login required. A new page is one more line here (or in its app's tests with page_tests)."""

from __future__ import annotations

import pytest

from keel.core.tests.factories import member
from keel.web.tests.builders import (
    a_failed_delivery,
    a_party,
    a_task,
    an_attachment,
    owner_membership,
    role,
)
from keel.web.tests.pages import Page, page_tests

pytestmark = pytest.mark.django_db

PAGES = [
    Page("web:dashboard", denied_role=None),  # home: roles without kpi.view go to their tasks
    Page("web:password_change", denied_role=None),
    Page("web:apitoken_list", denied_role=None),
    Page("core:company_list", denied_role=None),
    Page("core:company_detail", make=lambda c, o: {"pk": c.pk}, denied_role=None),
    Page("core:company_edit", make=lambda c, o: {"pk": c.pk}),
    Page("core:company_create", staff=True),  # staff only: no role grants it
    Page("core:membership_list"),
    Page("core:membership_create", denied_role="accountant"),  # accountant sees members, cannot add
    Page("core:membership_detail", make=lambda c, o: {"pk": owner_membership(c, o).pk}),
    Page("core:membership_edit", make=lambda c, o: {"pk": owner_membership(c, o).pk}, denied_role="accountant"),
    Page("core:role_list"),
    Page("core:role_detail", make=lambda c, o: {"pk": role(c).pk}),
    Page("core:role_edit", make=lambda c, o: {"pk": role(c).pk}, denied_role="hr_manager"),
    Page("core:party_list"),
    Page("core:party_list", query="?q=hoo&role=customer&kind=organisation&active=all&page=9"),
    Page("core:party_create", denied_role="auditor"),
    Page("core:party_detail", make=lambda c, o: {"pk": a_party(c, o).pk}),
    Page("core:party_edit", make=lambda c, o: {"pk": a_party(c, o).pk}, denied_role="auditor"),
    Page("web:party_search"),
    Page("web:party_search", query="?q=hoo"),
    Page("core:address_create", make=lambda c, o: {"pk": a_party(c, o).pk}, denied_role="auditor"),
    Page("core:contactpoint_create", make=lambda c, o: {"pk": a_party(c, o).pk}, denied_role="auditor"),
    Page("core:exchangerate_list"),
    Page("core:exchangerate_create", denied_role="billing_clerk"),
    Page("core:activity_list"),
    Page("core:activity_list", query="?verb=core.party_created&date_from=2020-01-01&before=999"),
    Page("core:eventdelivery_list", make=None),
    Page("core:attachment_download", make=lambda c, o: {"pk": an_attachment(c, o).pk}),
    Page("inbox:task_inbox", denied_role=None),
    Page("inbox:task_list", denied_role=None),
    Page("inbox:task_create", denied_role="auditor"),
    Page("inbox:task_detail", make=lambda c, o: {"pk": a_task(c, o).pk}, denied_role=None),
    Page("insights:dashboard"),
]

(
    test_page_renders,
    test_page_needs_permission,
    test_page_of_other_company_is_404,
    test_page_needs_login,
) = page_tests(PAGES)


def test_event_delivery_list_shows_the_failure(company, owner, client_for):
    a_failed_delivery(company, owner, error="ZeroDivisionError: boom")
    response = client_for(owner).get("/events/")
    assert response.status_code == 200 and b"ZeroDivisionError: boom" in response.content


def test_home_sends_roles_without_kpis_to_their_tasks(company, client_for):
    response = client_for(member(company, "employee")).get("/")
    assert response.status_code == 302 and response["Location"] == "/tasks/mine/"


@pytest.mark.parametrize("path", ["/parties/99999999999999999999/", "/tasks/99999999999999999999/",
                                  "/companies/99999999999999999999/", "/members/99999999999999999999/",
                                  "/attachments/99999999999999999999/", "/roles/0/"])
def test_impossible_ids_are_404_not_500(company, owner, client_for, path):
    assert client_for(owner).get(path).status_code == 404


@pytest.mark.parametrize("query", ["q=a%00b", "verb=a%00b", "currency=%00", "status=%00"])
def test_nul_characters_in_filters_are_harmless(company, owner, client_for, query):
    client = client_for(owner)
    for path in ("/parties/", "/activity/", "/exchange-rates/", "/tasks/", "/events/"):
        assert client.get(f"{path}?{query}").status_code == 200


def test_nul_characters_in_a_form_are_refused(company, owner, client_for):
    from keel.core.models import Party

    response = client_for(owner).post("/parties/new/", {"name": "Bad\x00name", "kind": "organisation"})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    assert not Party.objects.exists()
