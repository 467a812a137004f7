"""The ledger pages: taxes."""

urlpatterns: list = []
