"""The ledger's panel on a party's page (keel.core.party_panels): its balance per receivable
and payable account, its aging today, its oldest open items and the statement PDF."""

from __future__ import annotations

from django.utils import timezone

from keel.core.party_panels import register_party_panel
from keel.ledger.reports.aging import (
    BUCKET_KEYS,
    BUCKET_LABELS,
    KINDS,
    get_aging,
    party_balances,
    party_open_item_lines,
    party_open_lines,
)

SHOWN = 20


def party_ledger(*, request, party) -> dict:
    company, as_of = request.company, timezone.localdate()
    items = party_open_lines(company, party.pk, as_of, limit=SHOWN)
    count = len(items) if len(items) < SHOWN else party_open_item_lines(company, party.pk, as_of).count()
    return {
        "as_of": as_of, "currency": company.base_currency_id, "balances": party_balances(company, party.pk),
        "aging": [get_aging(company, kind=kind, as_of=as_of, party_id=party.pk) for kind in KINDS],
        "labels": [BUCKET_LABELS[key] for key in BUCKET_KEYS],
        "open_items": items, "count": count, "shown": SHOWN, "more": count > len(items),
    }


register_party_panel("ledger.accounts", template="ledger/parties/party_panel.html", context=party_ledger,
                     permission="ledger.view", order=20)
