"""Navigation shows only the departments that exist and the user may use."""

from __future__ import annotations

from keel.core.access import memberships
from keel.web.navigation import sections_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_sections": sections_for(request),
        "my_companies": [m.company for m in memberships(user).values()],
        "active_company": getattr(request, "company", None),
        "active_membership": getattr(request, "membership", None),
    }
