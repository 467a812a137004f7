"""The web's own menu entries (the user's account pages are in the header)."""

from keel.web.navigation import NavItem, add

add(NavItem("Overview", "Dashboard", "web:dashboard", "kpi.view", order=10))
