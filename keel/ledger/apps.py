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
                "books.reopen": "Reopen closed periods, with a recorded reason",
                "budget.manage": "Create, edit, import and delete draft budgets",
                "budget.approve": "Approve budgets and return approved ones to draft",
                "tax.view": "See tax codes and tax returns",
                "tax.manage": "Create, change and deactivate tax codes",
                "bank.manage": "Create, change and deactivate bank accounts and their matching rules",
                "bank.import": "Import bank statements",
                "bank.reconcile": "Reconcile bank statement lines with the ledger, and undo it",
            }
        )
        guard.install()
