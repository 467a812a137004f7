"""Signing in: the sign-in throttle and lockout (django-axes), and what they key on.

Failures are counted per account (the email signed in with) and per address. From the
`KEEL_LOGIN_SLOWDOWN_AFTER`-th failure each further try must wait twice as long as the one
before (1 s, 2 s, 4 s, ... at most 60 s), without holding a server thread; at
`AXES_FAILURE_LIMIT` failures django-axes locks the account and the address for
`AXES_COOLOFF_TIME` and answers every try, right password or not, with the "locked" page.
A successful sign-in forgets the account's failures.
"""

from __future__ import annotations

import datetime as dt
import math

from axes.backends import AxesStandaloneBackend
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Q, Sum
from django.utils import timezone

MAX_DELAY_SECONDS = 60


def login_name(request, credentials) -> str:
    """The account a sign-in names: emails are logins, compared in lower case."""
    raw = (credentials or {}).get("username") or ""
    if not raw and request is not None:
        raw = request.POST.get("username", "")
    return raw.strip().lower()


def client_address(request) -> str:
    """The caller's address: the proxy's X-Forwarded-For (first hop) only when trusted."""
    if getattr(settings, "KEEL_TRUST_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def wait_before_next_try(request, username: str) -> int:
    """Seconds this account or address must still wait before its next try (0: may try)."""
    attempts = AccessAttempt.objects.filter(Q(username=username) | Q(ip_address=client_address(request)))
    by_account = attempts.filter(username=username).aggregate(n=Sum("failures_since_start"))["n"] or 0
    by_address = (
        attempts.filter(ip_address=client_address(request)).aggregate(n=Sum("failures_since_start"))["n"] or 0
    )
    failures = max(by_account, by_address)
    if failures < settings.KEEL_LOGIN_SLOWDOWN_AFTER or failures >= settings.AXES_FAILURE_LIMIT:
        return 0  # not yet slowed, or locked (axes answers that)
    delay = min(2 ** (failures - settings.KEEL_LOGIN_SLOWDOWN_AFTER), MAX_DELAY_SECONDS)
    last = attempts.aggregate(last=Max("attempt_time"))["last"]
    if last is None:
        return 0
    remaining = (last + dt.timedelta(seconds=delay) - timezone.now()).total_seconds()
    return max(0, math.ceil(remaining))


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, for sign-ins that come with a request (the login pages).

    Code that authenticates without a request (the test client's `login`, scripts) has no
    address to count against, and passes to the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
