"""The ledger pages: books."""

urlpatterns: list = []
