"""The ledger over HTTP, under /api/ledger/: one router per area."""

from ninja import Router

from keel.ledger.api import aging, bank, books, budgets, imports, reports, settlements, taxes

router = Router()
for _area in (books, imports, reports, taxes, budgets, bank, settlements, aging):
    router.add_router("", _area.router)
