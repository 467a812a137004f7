"""The request's company and the submission count of write endpoints.

Company-scoped endpoints name their company in the `X-Keel-Company` header (code or id).
A missing header is a 400 `company.required`; a company the caller does not belong to is a
404, like any record of another company.

Every write endpoint is named `<document_type>_<verb>` (`party_create`,
`party_address_create`, `task_complete`): `track(request, company)` wraps the service call
and counts the submission under that document type, and the validation-error handler counts
a schema rejection of the same endpoint under the same type, so both doors of the data-entry
error rate agree by construction.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from functools import wraps
from typing import Annotated

from django.http import HttpRequest
from ninja import Header

from keel.core import submissions
from keel.core.access import get_company_for, memberships
from keel.core.exceptions import ValidationFailed
from keel.core.models import Company

COMPANY_HEADER = "X-Keel-Company"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# The header as an operation parameter, so the OpenAPI document shows it.
CompanyRef = Annotated[
    str | None,
    Header(None, alias=COMPANY_HEADER, max_length=64, description="The company's code or id."),
]


def company_for(request: HttpRequest, reference: str | None, permission: str) -> Company:
    """The company named by the header, if the caller is in it and their role allows `permission`."""
    if reference is None or not reference.strip():
        raise ValidationFailed(
            f"Name the company in the {COMPANY_HEADER} header (its code or id).",
            code="company.required", field=COMPANY_HEADER,
        )
    return get_company_for(request.auth, reference.strip(), permission)


def optional_company_for(request: HttpRequest, reference: str | None, permission: str) -> Company | None:
    """For endpoints that span companies: the header narrows to one company when given."""
    if reference is None or not reference.strip():
        return None
    return get_company_for(request.auth, reference.strip(), permission)


def remember_operation(run):
    """API-wide 'view' decorator: lets handlers know which operation a request reached."""
    operation = getattr(run, "__self__", None)

    @wraps(run)
    def wrapper(request: HttpRequest, *args, **kwargs):
        request.keel_operation = operation
        return run(request, *args, **kwargs)

    return wrapper


def document_type(request: HttpRequest) -> str | None:
    """`party_create` -> `party`: the document type of a write endpoint, None for reads."""
    if request.method not in WRITE_METHODS:
        return None
    name = getattr(getattr(request, "keel_operation", None), "url_name", None)
    if not name or "_" not in name:
        return None
    return name.rsplit("_", 1)[0]


def track(request: HttpRequest, company: Company | int | None) -> AbstractContextManager:
    """Wrap a write's service call: one submission, rejected when the service refuses."""
    kind = document_type(request)
    if kind is None or company is None:
        return nullcontext()
    return submissions.track(company, kind)


def count_rejected_write(request: HttpRequest) -> None:
    """Count a schema rejection of a write endpoint, when the header names the caller's company."""
    kind = document_type(request)
    reference = request.headers.get(COMPANY_HEADER, "").strip()
    user = getattr(request, "auth", None)
    if kind is None or not reference or user is None:
        return
    for membership in memberships(user).values():
        if reference in (str(membership.company_id), membership.company.code):
            submissions.count(membership.company_id, kind, rejected=True)
            return
