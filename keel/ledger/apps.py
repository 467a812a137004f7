from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "keel.ledger"
    label = "ledger"
    verbose_name = "General ledger"

    def ready(self) -> None:
        from keel.core.permissions import register_permissions
        from keel.ledger import events, guard, handlers  # noqa: F401  (declares events, subscribes handlers)

        register_permissions(
            {
                "ledger.view": "See the chart of accounts, journals, entries and ledger reports",
                "ledger.post": "Create draft entries, post and reverse entries",
                "ledger.manage": "Change the chart of accounts, journals, cost centres and fiscal years",
                "ledger.close": "Close, reopen and lock periods",
            }
        )
        guard.install()
