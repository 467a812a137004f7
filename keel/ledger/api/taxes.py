"""The ledger API: taxes."""

from ninja import Router

router = Router()
