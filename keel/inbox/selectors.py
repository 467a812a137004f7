"""Reads of the task inbox."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from keel.core.access import memberships
from keel.inbox.choices import TaskStatus
from keel.inbox.models import Task


def list_my_tasks(user, *, status: str | None = TaskStatus.OPEN, company_ids: list[int] | None = None) -> QuerySet[Task]:
    """Tasks for the user across every company they belong to: theirs, or their role's there."""
    mine = memberships(user)
    if company_ids is not None:
        mine = {cid: m for cid, m in mine.items() if cid in company_ids}
    if not mine:
        return Task.objects.none()
    role_ids = [m.role_id for m in mine.values()]
    qs = Task.objects.filter(company_id__in=list(mine)).filter(Q(assignee=user) | Q(assignee_role_id__in=role_ids))
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("company", "assignee", "assignee_role").order_by("due_date", "id")


def list_company_tasks(company, *, status: str | None = None) -> QuerySet[Task]:
    qs = Task.objects.for_company(company).select_related("assignee", "assignee_role", "company")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def list_tasks_for_subject(company, subject_type: str, subject_id: str) -> QuerySet[Task]:
    return Task.objects.for_company(company).filter(subject_type=subject_type, subject_id=str(subject_id)).order_by("-id")
