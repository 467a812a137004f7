"""The ledger pages: bank."""

urlpatterns: list = []
