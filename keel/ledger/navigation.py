"""The books pages' menu entries ("Accounting") and the record pages activity links lead to."""

from keel.web.links import register_record_url
from keel.web.navigation import NavItem, add

add(NavItem("Accounting", "Entries", "ledger:entry_list", "ledger.view", order=10))
add(NavItem("Accounting", "New entry", "ledger:entry_create", "ledger.post", order=12))
add(NavItem("Accounting", "Import entries", "ledger:entry_import", "ledger.post", order=14))
add(NavItem("Financial reports", "Trial balance", "ledger:trial_balance", "ledger.view", order=10))
add(NavItem("Ledger setup", "Chart of accounts", "ledger:account_list", "ledger.view", order=10))
add(NavItem("Ledger setup", "Account groups", "ledger:account_group_list", "ledger.view", order=12))
add(NavItem("Ledger setup", "Journals", "ledger:journal_list", "ledger.view", order=14))
add(NavItem("Ledger setup", "Cost centres", "ledger:cost_centre_list", "ledger.view", order=16))
add(NavItem("Ledger setup", "Fiscal years & periods", "ledger:period_list", "ledger.view", order=18))

register_record_url("ledger.entry", "ledger:entry_detail")
register_record_url("ledger.import", "ledger:entry_import_detail")
register_record_url("ledger.account", "ledger:account_edit")
register_record_url("ledger.accountgroup", "ledger:account_group_list", with_id=False)
register_record_url("ledger.period", "ledger:period_list", with_id=False)
register_record_url("ledger.fiscalyear", "ledger:period_list", with_id=False)
# Entries the ledger posts itself name what made them: a revaluation, a year-end close.
register_record_url("ledger.revaluation", "ledger:revaluation_page", with_id=False)
register_record_url("ledger.fiscal_year", "ledger:period_list", with_id=False)
