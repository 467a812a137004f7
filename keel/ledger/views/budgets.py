"""The ledger pages: budgets."""

urlpatterns: list = []
