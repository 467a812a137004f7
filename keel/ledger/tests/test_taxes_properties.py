"""Invariants of the tax computation, for any amounts, rates and rounding modes, with plain codes
and tax groups; a taxed document posts balanced and the return reads back what was computed."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.ledger.models import TaxCode, TaxCodeComponent
from keel.ledger.services.posting import post_entry
from keel.ledger.services.taxes import DocumentLine, compute_taxes, tax_line_inputs
from keel.ledger.tax_reports import get_tax_return
from keel.ledger.tests.factories import party_for

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")
amounts = st.decimals(min_value=Decimal("-99999.99"), max_value=Decimal("99999.99"), places=2,
                      allow_nan=False, allow_infinity=False)
rates = st.sampled_from(["0", "5", "7.7", "12.5", "19", "20", "21", "33.333333"])
documents = st.lists(st.tuples(amounts, st.integers(0, 2)), min_size=1, max_size=12)

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _codes(company, rate: str, included: bool) -> list[TaxCode]:
    prefix = "G" if included else "N"
    return [
        TaxCode.objects.update_or_create(company=company, code=f"{prefix}{index}", defaults={
            "name": f"Rate {index}", "rate": Decimal(rate) + index, "price_included": included})[0]
        for index in range(3)
    ]


@SETTINGS
@given(document=documents, rate=rates, included=st.booleans(), rounding=st.sampled_from(["line", "document"]))
def test_every_line_and_the_document_add_up(books, document, rate, included, rounding):
    codes = _codes(books, rate, included)
    lines = [DocumentLine(amount=amount, tax_codes=[codes[which].code]) for amount, which in document]
    computation = compute_taxes(kind="sales", company=books, lines=lines, rounding=rounding)
    for line, (amount, _which) in zip(computation.lines, document, strict=True):
        assert line.net + line.tax == line.gross
        assert (line.gross if included else line.net) == amount  # the amount given is kept as given
        assert line.tax == line.tax.quantize(CENT) and line.net == line.net.quantize(CENT)
    assert computation.net_total + computation.tax_total == computation.gross_total
    assert computation.tax_total == sum((t.tax for t in computation.totals), Decimal(0))
    assert computation.net_total == sum((t.base for t in computation.totals), Decimal(0))


@SETTINGS
@given(document=documents, rate=rates, included=st.booleans())
def test_document_rounding_rounds_each_codes_exact_sum_once(books, document, rate, included):
    codes = _codes(books, rate, included)
    lines = [DocumentLine(amount=amount, tax_codes=[codes[which].code]) for amount, which in document]
    by_document = compute_taxes(kind="sales", company=books, lines=lines, rounding="document")
    by_line = compute_taxes(kind="sales", company=books, lines=lines, rounding="line")
    for total in by_document.totals:
        rate_fraction = total.tax_code.rate / 100
        given_amounts = [amount for amount, which in document if codes[which].pk == total.tax_code.pk]
        exact = sum((a * rate_fraction / (1 + rate_fraction) if included else a * rate_fraction
                     for a in given_amounts), Decimal(0))
        assert total.tax == exact.quantize(CENT, rounding=ROUND_HALF_UP)
    # Per line, each line's tax is its exact tax rounded: within half a cent.
    for line, (amount, which) in zip(by_line.lines, document, strict=True):
        rate_fraction = codes[which].rate / 100
        exact = amount * rate_fraction / (1 + rate_fraction) if included else amount * rate_fraction
        assert abs(line.tax - exact) <= Decimal("0.005")


# -- tax groups ----------------------------------------------------------------------------
# N0, N1, N2 are plain codes; NG is the group of N1 and N2. N0 and N1 report their base in
# box 6, N2 in box 8 (so NG's base fills box 6 once, and box 8); their taxes go to boxes 1, 1, 2.

BOXES = {0: ("6", "1"), 1: ("6", "1"), 2: ("8", "2")}
group_documents = st.lists(st.tuples(amounts, st.sampled_from(["N0", "N1", "N2", "NG"])), min_size=1, max_size=12)


def _group(company, rate: str, included: bool) -> dict[str, TaxCode]:
    codes = {
        f"N{index}": TaxCode.objects.update_or_create(company=company, code=f"N{index}", defaults={
            "name": f"Rate {index}", "rate": Decimal(rate) + index, "price_included": included,
            "base_box": BOXES[index][0], "tax_box": BOXES[index][1]})[0]
        for index in range(3)
    }
    group = TaxCode.objects.update_or_create(company=company, code="NG", defaults={
        "name": "N1 and N2", "rate": 0, "is_group": True, "price_included": included})[0]
    for position, component in enumerate((codes["N1"], codes["N2"])):
        TaxCodeComponent.objects.get_or_create(company=company, group=group, component=component,
                                               defaults={"position": position})
    return {**codes, "NG": group}


def _levied(code: str) -> list[str]:
    return ["N1", "N2"] if code == "NG" else [code]


@SETTINGS
@given(document=group_documents, rate=rates, included=st.booleans(), rounding=st.sampled_from(["line", "document"]))
def test_a_group_is_its_components_on_the_same_base(books, document, rate, included, rounding):
    codes = _group(books, rate, included)
    lines = [DocumentLine(amount=amount, tax_codes=[code]) for amount, code in document]
    computation = compute_taxes(kind="sales", company=books, lines=lines, rounding=rounding)
    for line, (amount, code) in zip(computation.lines, document, strict=True):
        assert line.net + line.tax == line.gross and (line.gross if included else line.net) == amount
        assert [t.tax_code.code for t in line.taxes] == _levied(code)
        assert line.tax == sum((t.tax for t in line.taxes), Decimal(0))
        # Each component's exact tax is on the line's exact base, whatever else the line levies.
        total_rate = sum((codes[c].rate for c in _levied(code)), Decimal(0)) / 100
        exact_base = amount / (1 + total_rate) if included else amount
        if rounding == "line":
            for tax in line.taxes:
                exact = exact_base * tax.tax_code.rate / 100
                assert tax.tax == exact.quantize(CENT, rounding=ROUND_HALF_UP)
    assert computation.net_total + computation.tax_total == computation.gross_total
    for total in computation.totals:  # a component's base: every line that levies it, through the group or not
        name = total.tax_code.code
        assert total.base == sum((line.net for line, (_a, code) in zip(computation.lines, document, strict=True)
                                  if name in _levied(code)), Decimal(0))
        if rounding == "document":
            exact = Decimal(0)
            for amount, code in document:
                if name in _levied(code):
                    total_rate = sum((codes[c].rate for c in _levied(code)), Decimal(0)) / 100
                    exact += (amount / (1 + total_rate) if included else amount) * total.tax_code.rate / 100
            assert total.tax == exact.quantize(CENT, rounding=ROUND_HALF_UP)


@SETTINGS
@given(document=group_documents, rate=rates, included=st.booleans(), rounding=st.sampled_from(["line", "document"]))
def test_a_posted_group_document_balances_and_fills_the_return(books, document, rate, included, rounding):
    _group(books, rate, included)
    lines = [DocumentLine(amount=amount, tax_codes=[code]) for amount, code in document]
    computation = compute_taxes(kind="sales", company=books, lines=lines, rounding=rounding)
    inputs = tax_line_inputs(computation, accounts="4000", counterpart="1200", party=party_for(books, "1200"))
    assert sum((i.debit for i in inputs), Decimal(0)) == sum((i.credit for i in inputs), Decimal(0))
    day = dt.date(2026, 3, 1)
    with transaction.atomic():
        if inputs:
            post_entry(actor=None, company=books, journal="SAL", date=day, lines=inputs, check_permission=False)
        report = get_tax_return(books, day, day)
        transaction.set_rollback(True)  # each example starts from empty books
    expected = {"1": Decimal(0), "2": Decimal(0), "6": Decimal(0), "8": Decimal(0)}
    for line, (_amount, code) in zip(computation.lines, document, strict=True):
        for box in {BOXES[int(c[1])][0] for c in _levied(code)}:  # a base counts once per box
            expected[box] += line.net
    for total in computation.totals:
        expected[BOXES[int(total.tax_code.code[1])][1]] += total.tax
    assert {box.box: box.amount for box in report.boxes if box.box in expected} == expected
    assert {f.tax_code.code: (f.base, f.tax) for f in report.codes} == {
        t.tax_code.code: (t.base, t.tax) for t in computation.totals if t.base or t.tax}
