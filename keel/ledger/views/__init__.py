"""The ledger's pages, one module per area; each has `urlpatterns` and registers its menu entries."""
