"""Gapless numbering: per company, per sequence, per fiscal year.

A number is taken when a document becomes official, inside that document's transaction:
the counter row is locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE
transactions serialise writers), so concurrent requests queue, and if the document's
transaction rolls back the number goes back with it. Numbers never skip or repeat.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from keel.core.exceptions import NotFound, ValidationFailed
from keel.core.models import Company, NumberSequence, SequenceCounter

DEFAULT_SEQUENCES = {
    "entry": ("Journal entries", "{code}-{year}-{number:06d}", "JE"),
    "invoice": ("Customer invoices", "{prefix}-{year}-{number:05d}", "INV"),
    "bill": ("Supplier bills", "{prefix}-{year}-{number:05d}", "BILL"),
    "order": ("Sales orders", "{prefix}-{year}-{number:05d}", "SO"),
    "purchase": ("Purchase orders", "{prefix}-{year}-{number:05d}", "PO"),
}


def ensure_default_sequences(company: Company) -> None:
    existing = set(NumberSequence.objects.for_company(company).values_list("code", flat=True))
    NumberSequence.objects.bulk_create(
        [
            NumberSequence(company=company, code=code, name=name, pattern=pattern, prefix=prefix)
            for code, (name, pattern, prefix) in DEFAULT_SEQUENCES.items()
            if code not in existing
        ]
    )


def validate_pattern(pattern: str) -> None:
    try:
        pattern.format(code="X", prefix="X", year=2026, number=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValidationFailed(f"The pattern '{pattern}' is not valid: {exc}.", code="sequence.bad_pattern", field="pattern")
    if "{number" not in pattern:
        raise ValidationFailed("The pattern must contain {number}.", code="sequence.bad_pattern", field="pattern")


def format_number(sequence: NumberSequence, fiscal_year: int, value: int) -> str:
    return sequence.pattern.format(
        code=sequence.code.upper(), prefix=sequence.prefix or sequence.code.upper(), year=fiscal_year, number=value
    )


def _locked_counter(company: Company, sequence: NumberSequence, fiscal_year: int) -> SequenceCounter:
    counter = SequenceCounter.objects.select_for_update().filter(
        company=company, sequence=sequence, fiscal_year=fiscal_year
    ).first()
    if counter is not None:
        return counter
    try:
        with transaction.atomic():
            SequenceCounter.objects.create(company=company, sequence=sequence, fiscal_year=fiscal_year)
    except IntegrityError:
        pass  # a concurrent request created it first; lock theirs
    return SequenceCounter.objects.select_for_update().get(company=company, sequence=sequence, fiscal_year=fiscal_year)


def next_number(*, company: Company, sequence_code: str, on_date: dt.date) -> str:
    """Take the next number of a sequence for the fiscal year of `on_date`."""
    return next_numbers(company=company, sequence_code=sequence_code, on_date=on_date, count=1)[0]


def next_numbers(*, company: Company, sequence_code: str, on_date: dt.date, count: int,
                 fiscal_year: int | None = None) -> list[str]:
    """Take `count` consecutive numbers in one lock (bulk posting, billing runs).

    `fiscal_year`: the year the caller's books file the document under (the ledger passes
    its fiscal-year row's); else the company's fiscal year of `on_date`.
    """
    if count < 1:
        return []
    sequence = NumberSequence.objects.for_company(company).filter(code=sequence_code).first()
    if sequence is None:
        raise NotFound(f"No number sequence '{sequence_code}' in {company.code}.", code="sequence.not_found")
    if not sequence.restart_each_fiscal_year:
        fiscal_year = 0
    elif fiscal_year is None:
        fiscal_year = company.fiscal_year_of(on_date)
    with transaction.atomic():
        counter = _locked_counter(company, sequence, fiscal_year)
        first = counter.last_value + 1
        counter.last_value += count
        SequenceCounter.objects.filter(pk=counter.pk).update(last_value=counter.last_value)
    return [format_number(sequence, fiscal_year, value) for value in range(first, first + count)]


def ensure_sequence(*, company: Company, code: str, name: str, pattern: str, prefix: str = "") -> NumberSequence:
    """The company's sequence `code`, created with this name, pattern and prefix if missing.

    For apps that need a series per record of theirs (the ledger: one per journal); an
    existing sequence is returned unchanged, so an administrator's edits to it are kept.
    """
    validate_pattern(pattern)
    sequence = NumberSequence.objects.for_company(company).filter(code=code).first()
    if sequence is not None:
        return sequence
    try:
        with transaction.atomic():
            return NumberSequence.objects.create(company=company, code=code, name=name, pattern=pattern, prefix=prefix)
    except IntegrityError:  # created concurrently
        return NumberSequence.objects.for_company(company).get(code=code)
