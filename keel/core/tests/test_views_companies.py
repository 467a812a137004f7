"""Company pages: my companies, settings, editing (with logo), creating (staff only)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from keel.core.middleware import SESSION_KEY
from keel.core.models import Activity, Company, Membership
from keel.core.tests.factories import member

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "navy").save(buffer, format="PNG")
    return buffer.getvalue()


def settings_form(company, **changes):
    data = {"legal_name": company.legal_name, "country": company.country, "base_currency": company.base_currency_id,
            "fiscal_year_start_month": company.fiscal_year_start_month, "registration_number": "", "tax_id": "",
            "street": "", "postal_code": "", "city": "", "region": ""}
    data.update(changes)
    return data


def test_my_companies_lists_only_mine(company, other_company, owner, client_for):
    content = client_for(owner).get("/companies/").content
    assert b"Acme Trading Ltd" in content and b"Globex" not in content


def test_editing_settings_saves_and_records_them(company, owner, client_for):
    response = client_for(owner).post(f"/companies/{company.pk}/edit/", settings_form(company, city="Leeds", fiscal_year_start_month=4))
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.city == "Leeds" and company.fiscal_year_start_month == 4
    assert Activity.objects.filter(company=company, verb="core.company_updated").exists()
    assert b"core.company_updated" in client_for(owner).get(f"/companies/{company.pk}/").content


def test_a_logo_is_uploaded_and_served_to_members_only(company, owner, outsider, client_for):
    upload = SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png")
    response = client_for(owner).post(f"/companies/{company.pk}/edit/", {**settings_form(company), "logo": upload})
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.logo.name.startswith("logos/")
    assert client_for(owner).get(f"/companies/{company.pk}/logo/").status_code == 200
    assert client_for(outsider).get(f"/companies/{company.pk}/logo/").status_code == 404


def test_a_logo_that_is_not_an_image_is_refused(company, owner, client_for):
    upload = SimpleUploadedFile("logo.png", b"not an image", content_type="image/png")
    response = client_for(owner).post(f"/companies/{company.pk}/edit/", {**settings_form(company, city="Leeds"), "logo": upload})
    assert response.status_code == 200 and "logo" in response.context["form"].errors
    company.refresh_from_db()
    assert not company.logo and company.city == ""


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"legal_name": "x" * 201}, "legal_name"), ({"tax_id": "DE123"}, "tax_id"), ({"country": "ZZ"}, "country"),
     ({"base_currency": "QQQ"}, "base_currency")],
)
def test_bad_settings_show_the_error_and_change_nothing(company, owner, client_for, changes, field):
    response = client_for(owner).post(f"/companies/{company.pk}/edit/", settings_form(company, city="Leeds", **changes))
    assert response.status_code == 200 and field in response.context["form"].errors
    company.refresh_from_db()
    assert company.city == "" and company.legal_name == "Acme Trading Ltd"


def test_an_employee_cannot_edit_and_an_outsider_gets_404(company, owner, outsider, client_for):
    assert client_for(member(company, "employee")).post(f"/companies/{company.pk}/edit/", settings_form(company, city="X")).status_code == 403
    assert client_for(outsider).post(f"/companies/{company.pk}/edit/", settings_form(company, city="X")).status_code == 404
    company.refresh_from_db()
    assert company.city == ""


def test_staff_create_a_company_and_become_its_owner(company, owner, client_for):
    owner.is_staff = True
    owner.save()
    client = client_for(owner)
    response = client.post("/companies/new/", {"code": "initech", "legal_name": "Initech LLC", "country": "US",
                                               "base_currency": "USD", "fiscal_year_start_month": 1})
    created = Company.objects.get(code="initech")
    assert response.status_code == 302
    assert Membership.objects.get(company=created, user=owner).role.code == "owner"
    assert client.session[SESSION_KEY] == created.pk


def test_a_duplicate_company_code_is_shown_on_the_field(company, owner, client_for):
    owner.is_staff = True
    owner.save()
    response = client_for(owner).post("/companies/new/", {"code": "acme", "legal_name": "Acme Again", "country": "GB",
                                                          "base_currency": "EUR", "fiscal_year_start_month": 1})
    assert response.status_code == 200 and "code" in response.context["form"].errors
    assert Company.objects.count() == 1


def test_non_staff_cannot_create_companies(company, owner, client_for):
    response = client_for(owner).post("/companies/new/", {"code": "x", "legal_name": "X", "country": "GB", "base_currency": "EUR",
                                                          "fiscal_year_start_month": 1})
    assert response.status_code == 403 and Company.objects.count() == 1
