"""Taxes, split by what they do:

- `codes`: tax codes and groups (create, change, deactivate, the defaults);
- `computation`: a sales or purchase document's taxes and the ledger lines it posts as;
- `returns`: the return boxes' names, the filing frequency, and filed tax returns.

Callers import from here (`from keel.ledger.services.taxes import compute_taxes`).
"""

from keel.ledger.services.taxes.codes import (
    DEFAULT_TAX_BOXES,
    DEFAULT_TAX_CODES,
    MAX_COMPONENTS,
    MAX_RATE,
    ROLE_OF_KIND,
    create_tax_code,
    ensure_default_tax_codes,
    set_tax_code_active,
    tax_account_for,
    update_tax_code,
)
from keel.ledger.services.taxes.computation import (
    MAX_LINES,
    ComputedLine,
    DocumentLine,
    LineTax,
    TaxComputation,
    TaxTotal,
    compute_taxes,
    tax_line_inputs,
)
from keel.ledger.services.taxes.returns import (
    BoxComparison,
    ReturnComparison,
    compare_with_ledger,
    file_tax_return,
    filing_period,
    find_tax_return,
    get_filing_frequency,
    list_tax_returns,
    period_to_file,
    set_filing_frequency,
    set_tax_box,
)

__all__ = [
    "DEFAULT_TAX_BOXES", "DEFAULT_TAX_CODES", "MAX_COMPONENTS", "MAX_LINES", "MAX_RATE", "ROLE_OF_KIND", "ComputedLine", "DocumentLine",
    "LineTax", "TaxComputation", "TaxTotal", "compute_taxes", "create_tax_code", "ensure_default_tax_codes",
    "set_tax_code_active", "tax_account_for", "tax_line_inputs", "update_tax_code",
    "BoxComparison", "ReturnComparison", "compare_with_ledger", "file_tax_return", "filing_period", "find_tax_return",
    "get_filing_frequency", "list_tax_returns", "period_to_file", "set_filing_frequency", "set_tax_box",
]
