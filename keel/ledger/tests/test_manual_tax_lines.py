"""Entries typed by hand (form, API, import) with a tax code reach the tax return: a line on the
code's tax account is its tax, any other line the base; inactive codes and cost centres are
refused at posting, as the tax computation refuses them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keel.api.tests.conftest import ApiClient
from keel.core.exceptions import ValidationFailed
from keel.ledger.models import Entry, Line, TaxCode
from keel.ledger.services.chart import create_cost_centre, set_cost_centre_active
from keel.ledger.services.posting import (
    LineInput,
    create_draft_entry,
    post_draft_entry,
    post_entry,
    reverse_entry,
)
from keel.ledger.services.taxes import create_tax_code, set_tax_code_active
from keel.ledger.tax_reports import get_tax_return
from keel.ledger.tests.factories import party_for

pytestmark = pytest.mark.django_db

D = Decimal
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def _sale(company, *, tax_code="S20", **extra):
    return post_entry(actor=None, company=company, journal="SAL", date=dt.date(2026, 3, 10), check_permission=False,
                      lines=[LineInput(account="1200", party=party_for(company, "1200"), debit=D("120.00")),
                             LineInput(account="4000", credit=D("100.00"), tax_code=tax_code, **extra),
                             LineInput(account="2200", credit=D("20.00"), tax_code=tax_code)])


def test_a_hand_typed_sale_counts_its_base_and_tax_in_the_return(books):
    entry = _sale(books)
    roles = dict(Line.objects.filter(entry=entry).values_list("account__code", "tax_role"))
    assert roles == {"1200": "", "4000": "base", "2200": "tax"}
    report = get_tax_return(books, *MARCH)
    assert (report.box("6"), report.box("1")) == (D("100.00"), D("20.00"))


def test_a_reversal_takes_the_sale_out_of_the_return(books):
    entry = _sale(books)
    reverse_entry(actor=None, entry=entry, date=dt.date(2026, 3, 20), check_permission=False)
    report = get_tax_return(books, *MARCH)
    assert (report.box("6"), report.box("1")) == (D(0), D(0))


def test_a_code_with_its_own_account_is_the_tax_only_on_that_account(books):
    create_tax_code(actor=None, company=books, code="ECO", name="Eco tax", rate="2", account="2210",
                    base_box="30", tax_box="31", check_permission=False)
    entry = post_entry(actor=None, company=books, journal="SAL", date=dt.date(2026, 3, 10), check_permission=False,
                       lines=[LineInput(account="1200", party=party_for(books, "1200"), debit=D("102.00")),
                              LineInput(account="4000", credit=D("100.00"), tax_code="ECO"),
                              LineInput(account="2210", credit=D("2.00"), tax_code="ECO")])
    roles = dict(Line.objects.filter(entry=entry).values_list("account__code", "tax_role"))
    assert roles == {"1200": "", "4000": "base", "2210": "tax"}
    report = get_tax_return(books, *MARCH)
    assert (report.box("30"), report.box("31")) == (D("100.00"), D("2.00"))


def test_an_explicit_role_is_kept(books):
    entry = _sale(books, tax_role="tax")
    assert Line.objects.get(entry=entry, account__code="4000").tax_role == "tax"


def test_a_role_without_a_code_is_refused_and_nothing_is_written(books):
    with pytest.raises(ValidationFailed) as refused:
        post_entry(actor=None, company=books, journal="SAL", date=dt.date(2026, 3, 10), check_permission=False,
                   lines=[LineInput(account="1200", party=party_for(books, "1200"), debit=D(10)), LineInput(account="4000", credit=D(10), tax_role="base")])
    assert (refused.value.code, refused.value.fields) == ("line.tax_role_without_code",
                                                          {"lines[1].tax_code": [refused.value.message]})
    assert not Entry.objects.filter(company=books).exists()


def test_the_api_takes_a_tax_role_and_shows_it(books, accountant):
    api = ApiClient(accountant, books)
    response = api.post("/api/ledger/entries", {"journal": "SAL", "date": "2026-03-10", "post": True, "lines": [
        {"account": "1200", "debit": "120.00", "party": party_for(books, "1200")},
        {"account": "4000", "credit": "100.00", "tax_code": "S20"},
        {"account": "2200", "credit": "20.00", "tax_code": "S20", "tax_role": "tax"}]})
    assert response.status_code == 201, response.content
    roles = {line["account"]: line["tax_role"] for line in response.json()["lines"]}
    assert roles == {"1200": "", "4000": "base", "2200": "tax"}
    assert get_tax_return(books, *MARCH).box("1") == D("20.00")
    bad = api.post("/api/ledger/entries", {"journal": "SAL", "date": "2026-03-10", "post": True, "lines": [
        {"account": "1200", "debit": "1", "party": party_for(books, "1200")},
        {"account": "4000", "credit": "1", "tax_code": "S20", "tax_role": "vat"}]})
    assert bad.status_code in (400, 422)
    assert Entry.objects.filter(company=books).count() == 1


def test_an_inactive_tax_code_is_refused_at_posting_but_a_reversal_may_use_it(books):
    entry = _sale(books)
    set_tax_code_active(actor=None, tax_code=TaxCode.objects.get(company=books, code="S20"), is_active=False,
                        check_permission=False)
    with pytest.raises(ValidationFailed) as refused:
        _sale(books)
    assert (refused.value.code, refused.value.message) == ("tax_code.inactive", "Tax code S20 is inactive.")
    assert Entry.objects.filter(company=books).count() == 1
    reverse_entry(actor=None, entry=entry, date=dt.date(2026, 3, 20), check_permission=False)  # undoes history


def test_an_inactive_cost_centre_is_refused_at_posting_not_in_a_draft(books):
    centre = create_cost_centre(actor=None, company=books, code="OPS", name="Operations", check_permission=False)
    set_cost_centre_active(actor=None, cost_centre=centre, is_active=False, check_permission=False)
    lines = [LineInput(account="6100", debit=D(10), cost_centre="OPS"), LineInput(account="1200", party=party_for(books, "1200"), credit=D(10))]
    draft = create_draft_entry(actor=None, company=books, journal="GEN", date=dt.date(2026, 3, 10), lines=lines,
                               check_permission=False)
    with pytest.raises(ValidationFailed) as refused:
        post_draft_entry(actor=None, entry=draft, check_permission=False)
    assert (refused.value.code, refused.value.message) == ("cost_centre.inactive", "Cost centre OPS is inactive.")
    assert Entry.objects.get(pk=draft.pk).status == "draft"
