"""The ledger's financial reports (reads only): general ledger, profit and loss, balance sheet,
cash flow, budget versus actual. Each takes a company and a validated ReportRange
(`report_range`) and returns a Report (rows with an optional comparison column) that the
pages, the API and the exports (keel.ledger.exports) all render.
"""

from keel.ledger.reports._common import (
    Report,
    ReportRange,
    ReportRow,
    get_cost_centre,
    report_range,
)
from keel.ledger.reports.budgets import budget_range, budget_versus_actual
from keel.ledger.reports.general_ledger import (
    GeneralLedger,
    LedgerLine,
    general_ledger,
    get_account,
    iter_ledger_lines,
)
from keel.ledger.reports.statements import (
    balance_sheet,
    cash_flow,
    cash_flow_category,
    profit_and_loss,
)

STATEMENTS = {
    "profit-and-loss": profit_and_loss,
    "balance-sheet": balance_sheet,
    "cash-flow": cash_flow,
}

__all__ = [
    "STATEMENTS", "GeneralLedger", "LedgerLine", "Report", "ReportRange", "ReportRow", "balance_sheet",
    "budget_range", "budget_versus_actual", "cash_flow", "cash_flow_category", "general_ledger", "get_account",
    "get_cost_centre", "iter_ledger_lines", "profit_and_loss", "report_range",
]
