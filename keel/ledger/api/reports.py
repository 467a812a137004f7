"""The ledger API: reports."""

from ninja import Router

router = Router()
