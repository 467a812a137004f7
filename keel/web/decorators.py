"""View decorators: login, the active company, the permission a page needs.

Keel's coded errors become HTTP answers here, in one place: NotFound -> 404 (a record of
another company looks exactly like a missing one), PermissionDenied -> 403.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import render

from keel.core.access import has_permission
from keel.core.exceptions import NotFound
from keel.core.exceptions import PermissionDenied as KeelPermissionDenied


def translate_errors(view: Callable) -> Callable:
    """Turn Keel's NotFound / PermissionDenied raised by a view into 404 / 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)
        except KeelPermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message)

    return wrapper


def company_page(permission: str | None = None, *, methods: Iterable[str] = ("GET", "POST")) -> Callable:
    """A page of the active company: login required, a company chosen, `permission` held.

    `permission=None` lets in any member of the active company.
    """
    allowed = tuple(m.upper() for m in methods)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            if getattr(request, "company", None) is None:
                return render(request, "web/no_company.html", status=403)
            if permission and not has_permission(request.user, request.company, permission):
                role = request.membership.role.name if request.membership else "none"
                raise DjangoPermissionDenied(f"Your role '{role}' does not allow '{permission}'.")
            return view(request, *args, **kwargs)

        return login_required(translate_errors(wrapper))

    return decorate


def user_page(*, methods: Iterable[str] = ("GET", "POST")) -> Callable:
    """A page of the logged-in user that does not depend on the active company."""
    allowed = tuple(m.upper() for m in methods)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            return view(request, *args, **kwargs)

        return login_required(translate_errors(wrapper))

    return decorate
