"""The kind of a taxed document (sales or purchase) is explicit: it decides the side of every
base line, untaxed ones included, and which codes a document may name. Properties over sales,
purchase and mixed documents (taxed, untaxed and group lines, credit notes, both kinds in one
period): the entry balances, each base and tax lands on its kind's side and in its boxes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.core.exceptions import ValidationFailed
from keel.ledger.models import Entry, Line, TaxCode, TaxCodeComponent
from keel.ledger.services.posting import post_entry
from keel.ledger.services.taxes import DocumentLine, compute_taxes, tax_line_inputs
from keel.ledger.tax_reports import get_tax_return
from keel.ledger.tests.factories import party_for

pytestmark = pytest.mark.django_db

D = Decimal
ZERO = D(0)
MARCH_1 = dt.date(2026, 3, 1)
# Where each kind's base lines go and what balances them.
ACCOUNTS = {"sales": ("4000", "1200", "SAL"), "purchase": ("6200", "2100", "PUR")}


def post_document(company, kind: str, lines: list[DocumentLine], *, rounding: str = "line") -> Entry:
    account, counterpart, journal = ACCOUNTS[kind]
    computation = compute_taxes(company=company, kind=kind, lines=lines, rounding=rounding)
    return post_entry(actor=None, company=company, journal=journal, date=MARCH_1, check_permission=False,
                      lines=tax_line_inputs(computation, accounts=account, counterpart=counterpart,
                                            party=party_for(company, counterpart)))


def test_an_untaxed_line_of_a_bill_posts_as_a_purchase(books):
    # The example: a bill of 100 + 20 % plus an untaxed 50 (freight without VAT).
    entry = post_document(books, "purchase", [DocumentLine(amount="100.00", tax_codes=["P20"]),
                                              DocumentLine(amount="50.00", label="Freight")])
    lines = sorted((line.account.code, line.tax_role, line.debit, line.credit)
                   for line in entry.lines.select_related("account"))
    assert lines == [
        ("1300", "tax", D("20.00"), ZERO),
        ("2100", "", ZERO, D("170.00")),
        ("6200", "", D("50.00"), ZERO),  # debited, as an expense: before, it was credited as a sale
        ("6200", "base", D("100.00"), ZERO),
    ]
    report = get_tax_return(books, MARCH_1, MARCH_1)
    assert (report.box("7"), report.box("4"), report.box("6"), report.box("1")) == (D("100.00"), D("20.00"), 0, 0)


def test_an_untaxed_line_of_an_invoice_posts_as_a_sale(books):
    entry = post_document(books, "sales", [DocumentLine(amount="100.00", tax_codes=["S20"]),
                                           DocumentLine(amount="-30.00", label="Discount")])
    lines = sorted((line.account.code, line.tax_role, line.debit, line.credit)
                   for line in entry.lines.select_related("account"))
    assert lines == [("1200", "", D("90.00"), ZERO), ("2200", "tax", ZERO, D("20.00")),
                     ("4000", "", D("30.00"), ZERO), ("4000", "base", ZERO, D("100.00"))]


@pytest.mark.parametrize(("kind", "code"), [("sales", "P20"), ("purchase", "S20")])
def test_a_code_of_the_other_kind_is_refused_and_nothing_posts(books, kind, code):
    with pytest.raises(ValidationFailed) as refused:
        compute_taxes(company=books, kind=kind, lines=[DocumentLine(amount="10.00"),
                                                       DocumentLine(amount="10.00", tax_codes=[code])])
    assert refused.value.code == "tax.kind_mismatch" and "lines[1].tax_codes[0]" in refused.value.fields
    assert not Line.objects.for_company(books).exists()


def test_the_kind_is_one_of_sales_or_purchase(books):
    with pytest.raises(ValidationFailed) as refused:
        compute_taxes(company=books, kind="", lines=[DocumentLine(amount="10.00")])
    assert refused.value.code == "tax.invalid_kind" and "kind" in refused.value.fields


def test_the_api_takes_the_kind_of_the_document(books, accountant):
    from keel.api.tests.conftest import ApiClient, assert_error

    api = ApiClient(accountant, books)
    bill = api.post("/api/ledger/taxes/compute", {"kind": "purchase", "lines": [
        {"amount": "100.00", "tax_codes": ["P20"]}, {"amount": "50.00"}]})
    assert bill.status_code == 200, bill.content
    assert (bill.json()["kind"], bill.json()["gross_total"]) == ("purchase", "170.00")
    assert_error(api.post("/api/ledger/taxes/compute", {"kind": "purchase", "lines": [
        {"amount": "1", "tax_codes": ["S20"]}]}), 400, "tax.kind_mismatch")
    assert api.post("/api/ledger/taxes/compute", {"lines": [{"amount": "1"}]}).status_code in (400, 422)


# -- properties ----------------------------------------------------------------------------
# Per kind: two plain codes with their own boxes and a group of both. Sales: XA (base 6, tax 1),
# XB (base 8, tax 2), XAB = XA + XB. Purchases: YC (base 7, tax 4), YD (base 9, tax 4), YCD.

CODES = {
    "sales": {"XA": ("6", "1", "20"), "XB": ("8", "2", "5")},
    "purchase": {"YC": ("7", "4", "20"), "YD": ("9", "4", "7.5")},
}
GROUPS = {"sales": ("XAB", ["XA", "XB"]), "purchase": ("YCD", ["YC", "YD"])}
BOXES = ["1", "2", "4", "6", "7", "8", "9"]

amounts = st.decimals(min_value=D("-9999.99"), max_value=D("9999.99"), places=2, allow_nan=False,
                      allow_infinity=False)
choices = st.sampled_from([None, 0, 1, "group"])  # untaxed, a plain code, the other, the group
document_lines = st.lists(st.tuples(amounts, choices), min_size=1, max_size=8)
documents = st.lists(st.tuples(st.sampled_from(["sales", "purchase"]), document_lines,
                               st.sampled_from(["line", "document"])), min_size=1, max_size=4)

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _set_up_codes(company) -> None:
    for kind, codes in CODES.items():
        for code, (base_box, tax_box, rate) in codes.items():
            TaxCode.objects.update_or_create(company=company, code=code, defaults={
                "name": code, "kind": kind, "rate": D(rate), "base_box": base_box, "tax_box": tax_box})
        group_code, parts = GROUPS[kind]
        group = TaxCode.objects.update_or_create(company=company, code=group_code, defaults={
            "name": group_code, "kind": kind, "rate": 0, "is_group": True})[0]
        for position, part in enumerate(parts):
            TaxCodeComponent.objects.get_or_create(company=company, group=group, component=TaxCode.objects.get(
                company=company, code=part), defaults={"position": position})


def _named(kind: str, choice) -> list[str]:
    if choice is None:
        return []
    if choice == "group":
        return [GROUPS[kind][0]]
    return [list(CODES[kind])[choice]]


def _levied(kind: str, choice) -> list[str]:
    return GROUPS[kind][1] if choice == "group" else _named(kind, choice)


@SETTINGS
@given(documents=documents)
def test_sales_purchase_and_mixed_documents_post_each_kind_to_its_side_and_boxes(books, documents):
    _set_up_codes(books)
    expected = dict.fromkeys(BOXES, ZERO)
    expected_payable = ZERO
    with transaction.atomic():
        for kind, lines, rounding in documents:
            computation = compute_taxes(company=books, kind=kind, rounding=rounding, lines=[
                DocumentLine(amount=amount, tax_codes=_named(kind, choice)) for amount, choice in lines])
            account, counterpart, journal = ACCOUNTS[kind]
            inputs = tax_line_inputs(computation, accounts=account, counterpart=counterpart,
                                     party=party_for(books, counterpart))
            assert sum((i.debit for i in inputs), ZERO) == sum((i.credit for i in inputs), ZERO)
            # Every base line, taxed or not, is on its kind's side: a sale credits (a positive
            # amount), a purchase debits; a negative line (a credit note) the other way.
            base_inputs = [i for i in inputs if i.account == account]
            nets = [line.net for line in computation.lines if line.net]
            assert len(base_inputs) == len(nets)
            for line_input, net in zip(base_inputs, nets, strict=True):
                signed = line_input.credit - line_input.debit if kind == "sales" else line_input.debit - line_input.credit
                assert signed == net
            for line, (_amount, choice) in zip(computation.lines, lines, strict=True):
                for box in dict.fromkeys(CODES[kind][code][0] for code in _levied(kind, choice)):
                    expected[box] += line.net  # a group's base once per box
            for total in computation.totals:
                expected[CODES[kind][total.tax_code.code][1]] += total.tax
                expected_payable += total.tax if kind == "sales" else -total.tax
            if inputs:
                entry = post_entry(actor=None, company=books, journal=journal, date=MARCH_1, lines=inputs,
                                   check_permission=False)
                assert sum((x.debit - x.credit for x in entry.lines.all()), ZERO) == 0
        report = get_tax_return(books, MARCH_1, MARCH_1)
        transaction.set_rollback(True)  # each example starts from empty books
    assert {box: report.box(box) for box in BOXES} == expected
    assert report.net_payable == expected_payable
