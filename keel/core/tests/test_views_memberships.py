"""Members and roles: add (creating the user), change role, deactivate, edit permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from keel.core.models import Membership, Role
from keel.core.tests.factories import member

pytestmark = pytest.mark.django_db


def test_the_list_shows_members_with_roles(company, owner, client_for):
    member(company, "accountant", username="books@acme.test")
    content = client_for(owner).get("/members/").content
    assert b"books@acme.test" in content and b"Accountant" in content and b"owner@acme.test" in content


def test_adding_a_new_user_creates_the_login_with_the_password(company, owner, client_for):
    response = client_for(owner).post("/members/new/", {"email": "New@Acme.test", "role": "billing_clerk",
                                                        "first_name": "Nia", "password": "a-long-enough-secret"})
    membership = Membership.objects.get(company=company, user__username="new@acme.test")
    assert response.status_code == 302 and membership.role.code == "billing_clerk"
    assert membership.user.check_password("a-long-enough-secret")


def test_adding_with_a_weak_password_or_twice_is_refused(company, owner, client_for):
    client = client_for(owner)
    response = client.post("/members/new/", {"email": "new@acme.test", "role": "employee", "password": "123"})
    assert response.status_code == 200 and "password" in response.context["form"].errors
    assert not get_user_model().objects.filter(username="new@acme.test").exists()
    response = client.post("/members/new/", {"email": "owner@acme.test", "role": "employee"})
    assert response.status_code == 200 and "email" in response.context["form"].errors
    assert Membership.objects.filter(company=company).count() == 1


def test_changing_role_and_deactivating(company, owner, client_for):
    clerk = member(company, "billing_clerk")
    membership = Membership.objects.get(company=company, user=clerk)
    client = client_for(owner)
    response = client.post(f"/members/{membership.pk}/edit/", {"role": "accountant", "is_active": "on"})
    membership.refresh_from_db()
    assert response.status_code == 302 and membership.role.code == "accountant"
    assert client.post(f"/members/{membership.pk}/deactivate/").status_code == 302
    membership.refresh_from_db()
    assert membership.is_active is False
    assert b"core.member_changed" in client.get(f"/members/{membership.pk}/").content


def test_the_last_owner_cannot_be_demoted(company, owner, client_for):
    membership = Membership.objects.get(company=company, user=owner)
    response = client_for(owner).post(f"/members/{membership.pk}/edit/", {"role": "employee", "is_active": "on"})
    assert response.status_code == 200 and "role" in response.context["form"].errors
    membership.refresh_from_db()
    assert membership.role.code == "owner"


def test_an_employee_cannot_see_or_change_members(company, owner, client_for):
    membership = Membership.objects.get(company=company, user=owner)
    client = client_for(member(company, "employee"))
    assert client.get("/members/").status_code == 403
    assert client.post(f"/members/{membership.pk}/deactivate/").status_code == 403
    assert client.post("/members/new/", {"email": "x@acme.test", "role": "owner"}).status_code == 403
    membership.refresh_from_db()
    assert membership.is_active and Membership.objects.filter(company=company).count() == 2


def test_a_membership_of_another_company_is_404(company, owner, outsider, other_company, client_for):
    theirs = Membership.objects.get(company=other_company, user=outsider)
    client = client_for(owner)
    assert client.get(f"/members/{theirs.pk}/").status_code == 404
    assert client.post(f"/members/{theirs.pk}/deactivate/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active


def test_editing_a_role_shows_the_catalogue_and_saves_patterns(company, owner, client_for):
    role = Role.objects.get(company=company, code="employee")
    client = client_for(owner)
    page = client.get(f"/roles/{role.pk}/edit/").content
    assert b"party.manage" in page and b"Create and edit parties" in page
    response = client.post(f"/roles/{role.pk}/edit/", {"name": "Staff", "permissions": ["party.view", "task.view"],
                                                       "patterns": "ledger.*\n*.view"})
    role.refresh_from_db()
    assert response.status_code == 302
    assert role.name == "Staff" and role.permissions == ["*.view", "ledger.*", "party.view", "task.view"]


def test_a_bad_permission_pattern_is_refused(company, owner, client_for):
    role = Role.objects.get(company=company, code="employee")
    before = list(role.permissions)
    response = client_for(owner).post(f"/roles/{role.pk}/edit/", {"name": "Employee", "patterns": "DROP TABLE"})
    assert response.status_code == 200 and b"Not a permission pattern" in response.content
    role.refresh_from_db()
    assert role.permissions == before
