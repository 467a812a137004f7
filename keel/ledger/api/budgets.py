"""The ledger API: budgets."""

from ninja import Router

router = Router()
