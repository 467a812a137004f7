"""The web's active company: chosen with the company switcher, kept in the session."""

from __future__ import annotations

from keel.core.access import memberships

SESSION_KEY = "keel_company_id"


class ActiveCompanyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.company = None
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            mine = memberships(user)
            wanted = request.session.get(SESSION_KEY)
            membership = mine.get(wanted) if wanted else None
            if membership is None and mine:
                membership = next(iter(mine.values()))
                request.session[SESSION_KEY] = membership.company_id
            if membership is not None:
                request.company = membership.company
                request.membership = membership
        return self.get_response(request)
