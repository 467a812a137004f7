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


def visible_tasks(user, *, company=None) -> QuerySet[Task]:
    """The tasks `user` may see, in `company` or in every company they belong to: all of a
    company's where their role holds `task.supervise`; elsewhere (with `task.view`) the ones
    assigned to them or their role, or created by them."""
    mine = memberships(user)
    if company is not None:
        mine = {company.pk: mine[company.pk]} if company.pk in mine else {}
    supervised = [cid for cid, m in mine.items() if m.role.allows("task.supervise")]
    viewing = {cid: m.role_id for cid, m in mine.items() if cid not in supervised and m.role.allows("task.view")}
    if not supervised and not viewing:
        return Task.objects.none()
    condition = Q(company_id__in=supervised)
    if viewing:
        # A role belongs to one company, so its id alone names "this company's role".
        own = Q(assignee=user) | Q(created_by=user) | Q(assignee_role_id__in=list(viewing.values()))
        condition |= Q(company_id__in=list(viewing)) & own
    return Task.objects.filter(condition)


def list_company_tasks(company, user, *, status: str | None = None) -> QuerySet[Task]:
    """The company's tasks that `user` may see (every one for a supervisor)."""
    qs = visible_tasks(user, company=company).select_related("assignee", "assignee_role", "company")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def list_tasks_for_subject(company, user, subject_type: str, subject_id: str) -> QuerySet[Task]:
    """The tasks about one record that `user` may see."""
    return visible_tasks(user, company=company).filter(
        subject_type=subject_type, subject_id=str(subject_id)).order_by("-id")
