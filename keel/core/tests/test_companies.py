"""Companies, memberships and roles."""

from __future__ import annotations

import pytest

from keel.core.access import get_company_for, has_permission
from keel.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from keel.core.models import Activity, Company, Membership, NumberSequence, Role
from keel.core.permissions import DEFAULT_ROLES
from keel.core.services.companies import create_company, update_company
from keel.core.services.memberships import add_member, change_membership, set_role_permissions
from keel.core.tests.factories import UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(username="ops@keel.test", is_staff=True)


def test_creating_a_company_sets_up_roles_numbering_and_owner(staff):
    company = create_company(
        actor=staff, code="Bluth Co", legal_name="Bluth Company Ltd", country="gb", base_currency="gbp",
        tax_id="GB980780684", fiscal_year_start_month=4,
    )
    assert company.code == "bluth-co" and company.country == "GB" and company.base_currency_id == "GBP"
    assert set(Role.objects.filter(company=company).values_list("code", flat=True)) == set(DEFAULT_ROLES)
    assert NumberSequence.objects.filter(company=company, code="invoice").exists()
    assert Membership.objects.get(company=company, user=staff).role.code == "owner"
    assert Activity.objects.get(company=company).verb == "core.company_created"


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"country": "ZZ"}, "country", "country.unknown"),
        ({"base_currency": "XYZ"}, "base_currency", "currency.unknown"),
        ({"tax_id": "GB123"}, "tax_id", "tax_id.invalid"),
        ({"country": "DE", "registration_number": "not a register"}, "registration_number", "registration_number.invalid"),
        ({"legal_name": ""}, "legal_name", "company.invalid"),
        ({"fiscal_year_start_month": 13}, "fiscal_year_start_month", "company.invalid"),
        ({"code": "!!!"}, "code", "company.invalid"),
    ],
)
def test_bad_company_settings_name_the_field_and_write_nothing(staff, changes, field, code):
    values = {"code": "ok", "legal_name": "Ok Ltd", "country": "GB", "base_currency": "GBP", **changes}
    with pytest.raises(ValidationFailed) as exc:
        create_company(actor=staff, **values)
    assert exc.value.code == code and field in exc.value.fields
    assert not Company.objects.exists() and not Role.objects.exists()


def test_company_codes_are_unique(staff):
    create_company(actor=staff, code="acme", legal_name="Acme", country="GB", base_currency="GBP")
    with pytest.raises(Conflict):
        create_company(actor=staff, code="ACME", legal_name="Acme 2", country="GB", base_currency="GBP")
    assert Company.objects.count() == 1


def test_only_staff_create_companies():
    with pytest.raises(PermissionDenied):
        create_company(actor=UserFactory(), code="x", legal_name="X", country="GB", base_currency="GBP")


def test_settings_change_is_recorded_with_before_and_after(company, owner):
    update_company(actor=owner, company=company, city="Leeds", tax_id="GB980780684")
    activity = Activity.objects.get(company=company, verb="core.company_updated")
    assert activity.data["changed"]["city"] == ["", "Leeds"]


def test_an_accountant_cannot_change_company_settings(company):
    accountant = member(company, "accountant")
    with pytest.raises(PermissionDenied):
        update_company(actor=accountant, company=company, city="Leeds")


def test_members_get_the_permissions_of_their_role(company, owner):
    membership = add_member(actor=owner, company=company, email="Clerk@Acme.test", role="billing_clerk", password="long-enough-pass")
    clerk = membership.user
    assert clerk.username == "clerk@acme.test"
    assert has_permission(clerk, company, "billing.post") and has_permission(clerk, company, "party.manage")
    assert not has_permission(clerk, company, "ledger.post")
    auditor = member(company, "auditor")
    assert has_permission(auditor, company, "ledger.view") and not has_permission(auditor, company, "party.manage")


def test_a_company_keeps_its_last_owner(company, owner):
    membership = Membership.objects.get(company=company, user=owner)
    with pytest.raises(Conflict):
        change_membership(actor=owner, membership=membership, role="employee")
    with pytest.raises(Conflict):
        change_membership(actor=owner, membership=membership, is_active=False)
    membership.refresh_from_db()
    assert membership.role.code == "owner" and membership.is_active


def test_role_permissions_are_data_an_administrator_adjusts(company, owner):
    clerk = member(company, "employee")
    role = Role.objects.get(company=company, code="employee")
    set_role_permissions(actor=owner, role=role, permissions=["task.*", "party.view"])
    clerk = type(clerk).objects.get(pk=clerk.pk)
    assert has_permission(clerk, company, "party.view")
    with pytest.raises(ValidationFailed):
        set_role_permissions(actor=owner, role=role, permissions=["DROP TABLE"])


def test_a_user_in_several_companies_sees_each_with_its_role(company, other_company):
    user = member(company, "accountant")
    member(other_company, "auditor", user=user)
    assert get_company_for(user, "acme") == company
    assert get_company_for(user, other_company.pk) == other_company
    assert has_permission(user, company, "ledger.post") and not has_permission(user, other_company, "ledger.post")
    with pytest.raises(NotFound):
        get_company_for(UserFactory(), "acme")
