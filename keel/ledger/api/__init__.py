"""The ledger over HTTP, under /api/ledger/: one router per area."""

from ninja import Router

from keel.ledger.api import aging, bank, books, budgets, reports, settlements, taxes

router = Router()
for _area in (books, reports, taxes, budgets, bank, settlements, aging):
    router.add_router("", _area.router)
