"""What the books depend on does not move: the base currency and the fiscal-year start month
are fixed once a fiscal year or an entry exists (the ledger tells core through a registered
check), and change freely before."""

from __future__ import annotations

import datetime as dt

import pytest

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.exceptions import ValidationFailed
from keel.core.models import Activity, Company
from keel.core.services.companies import books_started, update_company
from keel.core.tests.test_views_companies import settings_form
from keel.ledger.models import FiscalYear, Period
from keel.ledger.services.chart import apply_chart_template
from keel.ledger.services.posting import create_draft_entry
from keel.ledger.tests.factories import lines

pytestmark = pytest.mark.django_db


def _settings(company):
    company = Company.objects.get(pk=company.pk)
    return (company.base_currency_id, company.fiscal_year_start_month,
            Activity.objects.filter(company=company, verb="core.company_updated").count())


def test_before_the_books_start_both_settings_change(company, owner, client_for):
    assert books_started(company) is None
    update_company(actor=owner, company=company, base_currency="JPY", fiscal_year_start_month=4)
    assert _settings(company)[:2] == ("JPY", 4)
    response = ApiClient(owner).patch(f"/api/companies/{company.pk}", {"base_currency": "USD"})
    assert response.status_code == 200 and response.json()["base_currency"] == "USD"
    assert client_for(owner).post(f"/companies/{company.pk}/edit/",
                                  settings_form(company, base_currency="GBP", fiscal_year_start_month=7)).status_code == 302
    assert _settings(company)[:2] == ("GBP", 7)


@pytest.mark.parametrize(("changes", "field"), [({"base_currency": "JPY"}, "base_currency"),
                                                ({"fiscal_year_start_month": 4}, "fiscal_year_start_month")])
def test_once_a_fiscal_year_exists_they_are_refused_by_service_api_and_page(books, owner, client_for, changes, field):
    before = _settings(books)
    with pytest.raises(ValidationFailed) as refused:
        update_company(actor=owner, company=books, **changes)
    assert refused.value.code == "company.books_started" and list(refused.value.fields) == [field]
    assert "FY2025 exists" in refused.value.message
    body = assert_error(ApiClient(owner).patch(f"/api/companies/{books.pk}", changes), 400, "company.books_started")
    assert body["errors"][0]["field"] == field
    response = client_for(owner).post(f"/companies/{books.pk}/edit/", settings_form(books, city="Leeds", **changes))
    assert response.status_code == 200 and field in response.context["form"].errors
    assert _settings(books) == before
    assert Company.objects.get(pk=books.pk).city == ""  # the whole save was refused


def test_other_settings_still_change_and_the_same_values_pass(books, owner, client_for):
    assert client_for(owner).post(f"/companies/{books.pk}/edit/", settings_form(books, city="Leeds")).status_code == 302
    update_company(actor=owner, company=books, base_currency=books.base_currency_id,
                   fiscal_year_start_month=books.fiscal_year_start_month, legal_name="Acme Holdings Ltd")
    company = Company.objects.get(pk=books.pk)
    assert (company.city, company.legal_name) == ("Leeds", "Acme Holdings Ltd")


def test_an_entry_without_a_fiscal_year_starts_the_books_too(company, owner):
    apply_chart_template(company=company, actor=None, check_permission=False)
    # The chart set-up opens the current year: take it away to see an entry alone count.
    Period.objects.filter(company=company).delete()
    FiscalYear.objects.filter(company=company).delete()
    create_draft_entry(actor=None, company=company, journal="GEN", date=dt.date(2026, 3, 1),
                       lines=lines(("6100", "5.00", "0"), ("1400", "0", "5.00")), check_permission=False)
    before = _settings(company)
    with pytest.raises(ValidationFailed) as refused:
        update_company(actor=owner, company=company, base_currency="JPY")
    assert refused.value.code == "company.books_started" and "entries exist" in refused.value.message
    assert _settings(company) == before
