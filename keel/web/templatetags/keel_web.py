"""Shared components: `{% record_history obj %}`, `{% record_attachments obj %}`, links.

Any department's detail page shows a record's history and files with one line each:

    {% load keel_web %}
    {% record_history invoice %}
    {% record_attachments invoice %}
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone

from keel.core.access import has_permission
from keel.core.activity import subject_label
from keel.core.models import Activity, Attachment, Company
from keel.core.money import decimals_of, format_amount
from keel.web.links import record_url

register = template.Library()

HISTORY_LIMIT = 100


def _company_of(obj) -> Company:
    return obj if isinstance(obj, Company) else obj.company


@register.inclusion_tag("web/partials/record_history.html", takes_context=True)
def record_history(context, obj, limit: int = HISTORY_LIMIT):
    """The record's activities, newest first (the page has already checked who may see it)."""
    company = _company_of(obj)
    rows = list(
        Activity.objects.for_company(company)
        .filter(subject_type=subject_label(obj), subject_id=str(obj.pk))
        .select_related("actor")
        .order_by("-seq")[: limit + 1]
    )
    return {
        "activities": rows[:limit],
        "truncated": len(rows) > limit,
        "can_see_log": has_permission(context["request"].user, company, "activity.view"),
        "subject_type": subject_label(obj),
        "request": context["request"],
    }


@register.inclusion_tag("web/partials/attachments.html", takes_context=True)
def record_attachments(context, obj, form=None):
    """Files on the record, with upload and removal for those allowed to manage them."""
    from keel.web.attachment_forms import AttachmentForm

    request = context["request"]
    company = _company_of(obj)
    can_view = has_permission(request.user, company, "attachment.view")
    rows = []
    if can_view:
        rows = list(
            Attachment.objects.for_company(company)
            .filter(subject_type=subject_label(obj), subject_id=str(obj.pk))
            .select_related("uploaded_by")
        )
    return {
        "subject": obj,
        "subject_type": subject_label(obj),
        "attachments": rows,
        "can_view": can_view,
        "can_manage": has_permission(request.user, company, "attachment.manage"),
        "form": form or AttachmentForm(),
        "next": request.get_full_path(),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def record_link(subject_type: str, subject_id) -> str | None:
    """The URL of a record's page, or None when no page shows that kind of record."""
    return record_url(subject_type, subject_id)


@register.filter
def is_overdue(task) -> bool:
    return task.is_overdue(timezone.localdate())


@register.filter
def workable_by(task, user) -> bool:
    """Whether `user` may complete, cancel or reopen the task (shows its buttons)."""
    from keel.inbox.services import can_work_on

    return can_work_on(user, task)


@register.filter
def filesize(size) -> str:
    """A human size, in whole units with one decimal computed on integers."""
    size = int(size or 0)
    for power, unit in ((3, "GB"), (2, "MB"), (1, "KB")):
        scale = 1024**power
        if size >= scale:
            tenths = size * 10 // scale
            return f"{tenths // 10}.{tenths % 10} {unit}"
    return f"{size} bytes"


@register.filter
def money(value, decimals=None) -> str:
    """An amount as accountants read it: thousands separated, e.g. 1234567.5 -> 1,234,567.50
    with `money:2`, or in a currency's decimals with `money:statement.currency` (a Currency
    record or an ISO code: JPY 1,000, KWD 1,000.000); without an argument the amount keeps
    its own decimal places (reports round to the currency's). Anything that is not a number
    is shown as it is."""
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    if decimals is None or decimals == "":
        places = max(0, -number.as_tuple().exponent)
        return f"{number:,.{places}f}"
    places = decimals if isinstance(decimals, int) else (
        int(decimals) if str(decimals).isascii() and str(decimals).isdigit() else decimals_of(decimals))
    return format_amount(number, places)


@register.filter
def lockout_minutes(value) -> str:
    """A lockout's length (a timedelta) as "15 minutes"."""
    minutes = max(1, round(value.total_seconds() / 60)) if value else 0
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
