"""The ledger pages: reports."""

urlpatterns: list = []
