"""The ledger's models, one module per area (books, taxes, budgets, bank)."""

from keel.ledger.models.bank import *  # noqa: F403
from keel.ledger.models.books import (
    AMOUNT,
    LIVE_SOURCE_CONSTRAINT,
    RATE,
    Account,
    AccountGroup,
    Balance,
    CostCentre,
    DayBalance,
    Entry,
    FiscalYear,
    Journal,
    Line,
    Period,
    TaxCode,
)
from keel.ledger.models.budgets import *  # noqa: F403
from keel.ledger.models.imports import *  # noqa: F403
from keel.ledger.models.settlements import *  # noqa: F403
from keel.ledger.models.taxes import *  # noqa: F403

__all__ = [
    "AMOUNT", "LIVE_SOURCE_CONSTRAINT", "RATE", "Account", "AccountGroup", "Balance", "CostCentre", "DayBalance", "Entry", "FiscalYear", "Journal",
    "Line", "Period", "TaxCode",
]
