"""The core's reads: querysets over a company's records, always taking the company."""

from __future__ import annotations

from django.db.models import Q, QuerySet

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
