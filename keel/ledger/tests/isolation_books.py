"""Isolation entries of the books API (see keel/api/tests/test_isolation.py)."""

from __future__ import annotations

import datetime as dt

from keel.api.tests.isolation_kinds import ByHeader, ById

ENTRY = {"journal": "GEN", "date": "2026-03-15", "lines": [{"account": "1200", "debit": "10"},
                                                          {"account": "4000", "credit": "10"}]}
# A fiscal year that only acme has (the walk closes it by year in the path).
ISOLATED_YEAR = 2031

ISOLATION = {
    ("GET", "/api/ledger/entries"): ByHeader(),
    ("POST", "/api/ledger/entries"): ByHeader(ENTRY),
    ("GET", "/api/ledger/entries/{entry_id}"): ById(),
    ("PATCH", "/api/ledger/entries/{entry_id}"): ById({"reference": "stolen"}),
    ("DELETE", "/api/ledger/entries/{entry_id}"): ById(),
    ("POST", "/api/ledger/entries/{entry_id}/post"): ById(),
    ("POST", "/api/ledger/entries/{entry_id}/reverse"): ById({"date": "2026-03-20"}),
    ("GET", "/api/ledger/accounts"): ByHeader(),
    ("POST", "/api/ledger/accounts"): ByHeader({"code": "9999", "name": "Spy", "account_type": "asset"}),
    ("PATCH", "/api/ledger/accounts/{account_id}"): ById({"name": "Stolen", "is_active": False}),
    ("GET", "/api/ledger/account-groups"): ByHeader(),
    ("PATCH", "/api/ledger/account-groups/{group_id}"): ById({"name": "Stolen", "cash_flow": "investing"}),
    ("GET", "/api/ledger/journals"): ByHeader(),
    ("GET", "/api/ledger/cost-centres"): ByHeader(),
    ("POST", "/api/ledger/cost-centres"): ByHeader({"code": "SPY", "name": "Spy"}),
    ("PATCH", "/api/ledger/cost-centres/{cost_centre_id}"): ById({"is_active": False}),
    ("GET", "/api/ledger/periods"): ByHeader(),
    ("POST", "/api/ledger/periods/{period_id}/close"): ById(),
    ("POST", "/api/ledger/periods/{period_id}/reopen"): ById({"reason": "spying"}),
    ("POST", "/api/ledger/periods/{period_id}/lock"): ById(),
    ("GET", "/api/ledger/fiscal-years"): ByHeader(),
    ("POST", "/api/ledger/fiscal-years"): ByHeader({"year": 2030}),
    ("POST", "/api/ledger/fiscal-years/{fiscal_year}/close"): ById(),
    ("GET", "/api/ledger/fiscal-years/{fiscal_year}/close-preview"): ById(),
    ("POST", "/api/ledger/fiscal-years/{fiscal_year}/reopen"): ById({"reason": "spying"}),
    ("GET", "/api/ledger/trial-balance"): ByHeader(query="?date_from=2026-01-01&date_to=2026-12-31"),
}


def path_ids(company, owner) -> dict:
    """acme's draft entry, an account, a group, a period and a fiscal year named by the templates above."""
    from keel.ledger.models import Account, AccountGroup, Period
    from keel.ledger.services.chart import create_cost_centre
    from keel.ledger.services.periods import ensure_fiscal_year
    from keel.ledger.services.posting import LineInput, create_draft_entry
    from keel.ledger.tests.factories import set_up_books

    set_up_books(company)
    ensure_fiscal_year(company=company, fiscal_year=ISOLATED_YEAR)
    draft = create_draft_entry(actor=owner, company=company, journal="GEN", date=dt.date(2026, 3, 15),
                               lines=[LineInput(account="1200", debit=10), LineInput(account="4000", credit=10)],
                               check_permission=False)
    return {
        "entry_id": draft.pk,
        "account_id": Account.objects.for_company(company).get(code="1200").pk,
        "group_id": AccountGroup.objects.for_company(company).get(code="11").pk,
        "period_id": Period.objects.for_company(company).get(start=dt.date(2026, 3, 1)).pk,
        "fiscal_year": ISOLATED_YEAR,
        "cost_centre_id": create_cost_centre(actor=None, company=company, code="OPS", name="Operations",
                                             check_permission=False).pk,
    }
