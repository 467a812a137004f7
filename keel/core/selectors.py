"""The core's reads: querysets over a company's records, always taking the company."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from keel.core.models import Company, Party


def search_parties(company: Company | int, text: str = "") -> QuerySet[Party]:
    """The company's parties whose name, tax ID or email contains `text` (any case), by name.

    The party list, the API's `q` and the party search-select of the forms all search this way.
    """
    parties = Party.objects.for_company(company)
    term = (text or "").strip()
    if term:
        parties = parties.filter(Q(name__icontains=term) | Q(tax_id__icontains=term) | Q(email__icontains=term))
    return parties.order_by("name", "id")


def suggest_parties(company: Company | int, text: str, *, limit: int) -> list[Party]:
    """At most `limit` + 1 active parties matching `text` for a search-as-you-type field, names
    starting with it first (the extra one tells the caller that more match)."""
    term = (text or "").strip()
    if not term:
        return []
    starts = Case(When(name__istartswith=term, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(search_parties(company, term).filter(is_active=True).order_by(starts, "name", "id")
                .only("pk", "name", "tax_id")[: limit + 1])
