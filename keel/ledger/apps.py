from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "keel.ledger"
    label = "ledger"
    verbose_name = "General ledger"

    def ready(self) -> None:
        from keel.core.permissions import register_permissions
        from keel.ledger import demo, events, guard, handlers, panels  # noqa: F401  (events, handlers, the demo step, party panel)

        register_permissions(
            {
                "ledger.view": "See the chart of accounts, journals, entries and ledger reports",
                "ledger.post": "Create draft entries, post and reverse entries",
                "ledger.manage": "Change the chart of accounts, journals, cost centres and fiscal years",
                "ledger.close": "Close and lock periods, close fiscal years",
                # Outside `ledger.` on purpose: the accountant's `ledger.*` must not match it,
                # and stored roles keep their patterns (only `*` holders get it).
                "books.reopen": "Reopen closed periods and closed fiscal years, with a recorded reason",
                "books.close_year": "Close a fiscal year: post its closing entry and close its periods",
                "budget.manage": "Create, edit, import and delete draft budgets",
                "budget.approve": "Approve budgets and return approved ones to draft",
                "tax.view": "See tax codes and tax returns",
                "tax.manage": "Create, change and deactivate tax codes; name the return's boxes, set the filing frequency",
                "tax.file": "File tax returns",
                "bank.manage": "Create, change and deactivate bank accounts and their matching rules",
                "bank.import": "Import bank statements",
                # The accountant has it through `bank.*`, owner and administrator through `*`;
                # a role given only bank.import does not.
                "bank.import_unbalanced": "Import a statement whose balances do not add up, flagged with the difference",
                "bank.reconcile": "Reconcile bank statement lines with the ledger, and undo it",
            }
        )
        guard.install()
        _register_entry_sources()
        _register_books_started()


def _register_entry_sources() -> None:
    """The ledger's own processes own the entries they post (keel.ledger.sources)."""
    from keel.ledger.choices import CLOSING_SOURCE_TYPE
    from keel.ledger.sources import register_entry_source

    register_entry_source(
        CLOSING_SOURCE_TYPE, document="fiscal year", undo="Reopen the fiscal year",
        undo_service="keel.ledger.services.closing.reopen_fiscal_year", page="ledger:fiscal_year_reopen",
        purposes={"close": "the year's result moved to retained earnings"},
    )
    register_entry_source(
        "ledger.revaluation", document="revaluation", undo="Undo the revaluation",
        undo_service="keel.ledger.services.revaluation.undo_revaluation", page="ledger:revaluation_page",
        page_takes_id=False,
        purposes={"revaluation": "the unrealized differences at a period end (reversed the next day)",
                  "revaluation_undo": "the counter entry of an undone revaluation"},
    )
    register_entry_source(
        "ledger.settlement", document="settlement", undo="Undo the settlement",
        undo_service="keel.ledger.services.settlements.undo_settlement", page="ledger:settlement_detail",
        purposes={"settlement": "the realized exchange difference"},
    )
    register_entry_source(
        "ledger.bankstatementline", document="bank statement line", undo="Undo the reconciliation",
        undo_service="keel.ledger.services.reconciliation.unreconcile_statement_line",
        page="ledger:bank_statement_line_detail",
        purposes={"reconciliation": "the difference booked when reconciling"},
    )


def _register_books_started() -> None:
    """The company's base currency and fiscal-year start are fixed once its books started."""
    from keel.core.services.companies import register_books_started_check
    from keel.ledger.selectors import books_started

    register_books_started_check(books_started)
