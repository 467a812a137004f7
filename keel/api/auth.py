"""Who is calling: a personal API token, or the browser's Django session (with CSRF).

Token first: `Authorization: Bearer keel_<prefix>_<secret>`. Without one, a logged-in
session is accepted, and then unsafe methods must carry the CSRF token, exactly as the
web pages do; an anonymous request gets 401, never a CSRF complaint.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from keel.api.tokens import authenticate_key


class TokenAuth(HttpBearer):
    """A personal API token (see keel.api.tokens); only its hash is stored."""

    def authenticate(self, request: HttpRequest, token: str):
        if not token or len(token) > 200:
            return None
        return authenticate_key(token)


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; unsafe methods need the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, "CSRF check failed")
        return user

    def authenticate(self, request: HttpRequest, key: str | None):  # pragma: no cover - __call__ decides
        return None


def actor(request: HttpRequest):
    """The authenticated user of an API request (whichever way they authenticated)."""
    return request.auth
