"""The ledger's verbs. Import from here: `from keel.ledger.services import post_entry`.

The posting verbs (posting.py) are the only code that writes journal lines.
"""

from keel.ledger.services.balances import verify_balances
from keel.ledger.services.chart import (
    apply_chart_template,
    create_account,
    create_cost_centre,
    delete_account,
    export_chart_csv,
    import_chart_csv,
    set_account_active,
)
from keel.ledger.services.journals import create_journal, ensure_default_journals
from keel.ledger.services.periods import (
    close_period,
    ensure_fiscal_year,
    get_period,
    lock_period,
    open_fiscal_year,
    reopen_period,
)
from keel.ledger.services.posting import (
    BulkPostResult,
    EntryInput,
    LineInput,
    create_draft_entry,
    delete_draft_entry,
    post_draft_entry,
    post_entries_bulk,
    post_entry,
    reverse_entry,
    update_draft_entry,
)

__all__ = [
    "BulkPostResult", "EntryInput", "LineInput", "apply_chart_template", "close_period", "create_account",
    "create_cost_centre", "create_draft_entry", "create_journal", "delete_account", "delete_draft_entry",
    "ensure_default_journals", "ensure_fiscal_year", "export_chart_csv", "get_period", "import_chart_csv",
    "lock_period", "open_fiscal_year", "post_draft_entry", "post_entries_bulk", "post_entry", "reopen_period",
    "reverse_entry", "set_account_active", "update_draft_entry", "verify_balances",
]
