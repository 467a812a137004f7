"""The ledger's pages (namespace `ledger`), under /ledger/: each area's views module lists its own."""

from keel.ledger.views import aging, bank, books, budgets, reports, settlements, taxes

app_name = "ledger"

urlpatterns = [*books.urlpatterns, *reports.urlpatterns, *taxes.urlpatterns, *budgets.urlpatterns, *bank.urlpatterns,
               *settlements.urlpatterns, *aging.urlpatterns]
