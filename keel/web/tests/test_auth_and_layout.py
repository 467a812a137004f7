"""Logging in and out, the password, the company switcher, navigation, API tokens, layout."""

from __future__ import annotations

import pytest

from keel.api.models import ApiToken
from keel.api.tokens import authenticate_key
from keel.core.middleware import SESSION_KEY
from keel.core.tests.factories import DEFAULT_PASSWORD, member

pytestmark = pytest.mark.django_db


def test_login_leads_to_the_dashboard(company, owner, client):
    page = client.get("/login/")
    assert page.status_code == 200 and b'name="password"' in page.content
    response = client.post("/login/", {"username": owner.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_password_is_refused_with_a_message(company, owner, client):
    response = client.post("/login/", {"username": owner.username, "password": "wrong"})
    assert response.status_code == 200 and b"The email or the password is not right" in response.content


def test_logout_is_a_post(company, owner, client_for):
    client = client_for(owner)
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_the_password_is_changed(company, owner, client_for):
    client = client_for(owner)
    response = client.post("/password/", {"old_password": DEFAULT_PASSWORD, "new_password1": "another-long-secret-9",
                                          "new_password2": "another-long-secret-9"})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("another-long-secret-9")


def test_the_switcher_changes_the_active_company(company, other_company, owner, client_for):
    member(other_company, "accountant", user=owner)
    client = client_for(owner)
    assert client.get("/").context["active_company"] == company
    response = client.post("/switch-company/", {"company": other_company.pk, "next": "/parties/12/edit/"})
    assert response.status_code == 302 and response["Location"] == "/parties/"
    assert client.session[SESSION_KEY] == other_company.pk
    assert client.get("/").context["active_company"] == other_company


@pytest.mark.parametrize("value", [None, "abc", "99999999999999999999999"])
def test_the_switcher_refuses_companies_i_do_not_belong_to(company, other_company, owner, client_for, value):
    client = client_for(owner)
    response = client.post("/switch-company/", {"company": other_company.pk if value is None else value})
    assert response.status_code == 302 and client.session[SESSION_KEY] == company.pk


def test_the_switcher_ignores_foreign_next_urls(company, owner, client_for):
    response = client_for(owner).post("/switch-company/", {"company": company.pk, "next": "https://evil.test/"})
    assert response["Location"] == "/"


def test_navigation_shows_only_what_the_role_allows(company, owner, client_for):
    owner_nav = dict(client_for(owner).get("/tasks/mine/").context["nav_sections"])
    labels = {label for entries in owner_nav.values() for label, _url, _active in entries}
    assert {"Parties", "Members", "Activity log", "Event deliveries", "Dashboard", "My tasks"} <= labels
    assert "New company" not in labels  # staff only
    employee_nav = dict(client_for(member(company, "employee")).get("/tasks/mine/").context["nav_sections"])
    labels = {label for entries in employee_nav.values() for label, _url, _active in entries}
    assert "My tasks" in labels and "Parties" not in labels and "Activity log" not in labels


def test_pages_load_htmx_locally_and_send_the_csrf_header(company, owner, client_for):
    content = client_for(owner).get("/parties/").content.decode()
    assert '<script src="/static/django_htmx/htmx' in content
    assert 'hx-headers=\'{"X-CSRFToken": "' in content
    assert "https://" not in content.split("<body")[0]  # nothing fetched from elsewhere


def test_a_user_without_a_company_sees_why(db, client_for):
    from keel.core.tests.factories import UserFactory

    response = client_for(UserFactory()).get("/parties/")
    assert response.status_code == 403 and b"do not belong to a company" in response.content


def test_an_api_token_is_shown_once_and_revoked(company, owner, client_for):
    client = client_for(owner)
    response = client.post("/me/tokens/", {"name": "export"})
    key = response.context["new_key"]
    assert key.startswith("keel_") and key.encode() in response.content
    assert authenticate_key(key) == owner
    listing = client.get("/me/tokens/").content
    assert key.encode() not in listing and b"export" in listing
    token = ApiToken.objects.get(user=owner)
    assert client.post(f"/me/tokens/{token.pk}/revoke/").status_code == 302
    assert authenticate_key(key) is None


def test_tokens_of_others_cannot_be_revoked(company, owner, outsider, client_for):
    client_for(outsider).post("/me/tokens/", {"name": "theirs"})
    token = ApiToken.objects.get(user=outsider)
    assert client_for(owner).post(f"/me/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_an_over_long_token_name_is_refused(company, owner, client_for):
    response = client_for(owner).post("/me/tokens/", {"name": "n" * 101})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_navigation_marks_only_the_current_page_and_puts_overview_first(company, owner, client_for):
    sections = client_for(owner).get("/tasks/mine/").context["nav_sections"]
    assert sections[0][0] == "Overview"
    active = [label for _name, entries in sections for label, _url, is_active in entries if is_active]
    assert active == ["My tasks"]
