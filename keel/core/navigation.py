"""The core's menu entries and record pages."""

from keel.web.links import register_record_url
from keel.web.navigation import NavItem, add

add(NavItem("Records", "Parties", "core:party_list", "party.view", order=10))
add(NavItem("Records", "Exchange rates", "core:exchangerate_list", "currency.view", order=20))
add(NavItem("Company", "Companies", "core:company_list", None, order=10))
add(NavItem("Company", "Members", "core:membership_list", "membership.view", order=20))
add(NavItem("Company", "Roles", "core:role_list", "membership.view", order=30))
add(NavItem("Company", "Activity log", "core:activity_list", "activity.view", order=40))
add(NavItem("Company", "Event deliveries", "core:eventdelivery_list", "event.view", order=50))
add(NavItem("Company", "New company", "core:company_create", "staff", order=60))

register_record_url("core.company", "core:company_detail")
register_record_url("core.party", "core:party_detail")
register_record_url("core.membership", "core:membership_detail")
register_record_url("core.role", "core:role_detail")
register_record_url("core.exchangerate", "core:exchangerate_list", with_id=False)
