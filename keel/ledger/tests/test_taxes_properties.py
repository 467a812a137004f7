"""Invariants of the tax computation, for any amounts, rates and rounding modes."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.ledger.models import TaxCode
from keel.ledger.services.taxes import DocumentLine, compute_taxes

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
    computation = compute_taxes(company=books, lines=lines, rounding=rounding)
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
    by_document = compute_taxes(company=books, lines=lines, rounding="document")
    by_line = compute_taxes(company=books, lines=lines, rounding="line")
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
