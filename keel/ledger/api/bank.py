"""The ledger API: bank."""

from ninja import Router

router = Router()
