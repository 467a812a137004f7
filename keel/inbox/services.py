"""The task inbox's verbs: any department creates tasks; people complete them."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from keel.core.access import memberships, require_permission
from keel.core.activity import record, subject_label
from keel.core.exceptions import PermissionDenied, ValidationFailed
from keel.core.models import Company, Membership, Role
from keel.core.transitions import apply_transition
from keel.inbox.choices import TaskStatus
from keel.inbox.events import (
    TASK_ASSIGNED,
    TASK_CANCELLED,
    TASK_COMPLETED,
    TASK_CREATED,
    TASK_REOPENED,
)
from keel.inbox.models import Task
from keel.inbox.transitions import TASK_TRANSITIONS


def _check_assignee(company: Company, assignee, assignee_role: Role | None) -> None:
    if assignee is None and assignee_role is None:
        raise ValidationFailed("A task is assigned to a user or a role.", code="task.invalid", field="assignee")
    if assignee is not None and not Membership.objects.for_company(company).filter(user=assignee, is_active=True).exists():
        raise ValidationFailed(f"{assignee} is not a member of {company.code}.", code="task.invalid", field="assignee")
    if assignee_role is not None and assignee_role.company_id != company.pk:
        raise ValidationFailed("That role belongs to another company.", code="task.invalid", field="assignee_role")


def create_task(
    *,
    actor,
    company: Company,
    title: str,
    assignee=None,
    assignee_role: Role | None = None,
    due_date: dt.date | None = None,
    description: str = "",
    subject=None,
    source: str = "",
    check_permission: bool = True,
) -> Task:
    """Create a task; departments' handlers pass check_permission=False (the system acts)."""
    if check_permission:
        require_permission(actor, company, "task.manage")
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("A task needs a title.", code="task.invalid", field="title")
    if len(title) > 200:
        raise ValidationFailed("The title is longer than 200 characters.", code="task.invalid", field="title")
    if len(description or "") > 5000:
        raise ValidationFailed("The description is longer than 5000 characters.", code="task.invalid", field="description")
    _check_assignee(company, assignee, assignee_role)
    with transaction.atomic():
        task = Task.objects.create(
            company=company, title=title, description=description or "", assignee=assignee, assignee_role=assignee_role,
            due_date=due_date, source=source[:100], created_by=actor if getattr(actor, "pk", None) else None,
            subject_type=subject_label(subject) if subject is not None else "",
            subject_id=str(subject.pk) if subject is not None else "",
            subject_repr=str(subject)[:200] if subject is not None else "",
        )
        record(company=company, actor=actor, verb=TASK_CREATED.name, subject=task,
               data={"title": title, "assignee": getattr(assignee, "username", None),
                     "role": getattr(assignee_role, "code", None), "due_date": due_date, "source": source})
    return task


def can_work_on(user, task: Task) -> bool:
    """The assignee, a holder of the assigned role, the task's creator, or a supervisor of the
    company's tasks (`task.supervise`)."""
    membership = memberships(user).get(task.company_id)
    if membership is None or not membership.role.allows("task.view"):
        return False
    if task.assignee_id == user.pk or task.created_by_id == user.pk or (
            task.assignee_role_id and membership.role_id == task.assignee_role_id):
        return True
    return membership.role.allows("task.supervise")


def _require_work(actor, task: Task) -> None:
    require_permission(actor, task.company_id, "task.view")
    if not can_work_on(actor, task):
        raise PermissionDenied("This task is assigned to someone else.", code="task.not_yours")


def complete_task(*, actor, task: Task) -> Task:
    _require_work(actor, task)
    with transaction.atomic():
        apply_transition(task, transitions=TASK_TRANSITIONS, to=TaskStatus.DONE, code="task.illegal",
                         completed_by=actor, completed_at=timezone.now())
        record(company=task.company, actor=actor, verb=TASK_COMPLETED.name, subject=task, data={"title": task.title})
    return task


def cancel_task(*, actor, task: Task) -> Task:
    _require_work(actor, task)
    with transaction.atomic():
        apply_transition(task, transitions=TASK_TRANSITIONS, to=TaskStatus.CANCELLED, code="task.illegal")
        record(company=task.company, actor=actor, verb=TASK_CANCELLED.name, subject=task, data={"title": task.title})
    return task


def reopen_task(*, actor, task: Task) -> Task:
    _require_work(actor, task)
    with transaction.atomic():
        apply_transition(task, transitions=TASK_TRANSITIONS, to=TaskStatus.OPEN, code="task.illegal",
                         completed_by=None, completed_at=None)
        record(company=task.company, actor=actor, verb=TASK_REOPENED.name, subject=task, data={"title": task.title})
    return task


def assign_task(*, actor, task: Task, assignee=None, assignee_role: Role | None = None) -> Task:
    """Hand an open task to another member or role: a supervisor any task, others their own."""
    require_permission(actor, task.company_id, "task.manage")
    _require_work(actor, task)
    _check_assignee(task.company, assignee, assignee_role)
    with transaction.atomic():
        updated = Task.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(assignee=assignee, assignee_role=assignee_role)
        if not updated:
            raise ValidationFailed("Only open tasks can be reassigned.", code="task.not_open")
        task.assignee, task.assignee_role = assignee, assignee_role
        record(company=task.company, actor=actor, verb=TASK_ASSIGNED.name, subject=task,
               data={"assignee": getattr(assignee, "username", None), "role": getattr(assignee_role, "code", None)})
    return task


def user_by_username(company: Company, username: str):
    User = get_user_model()
    return User.objects.filter(username=username, memberships__company=company, memberships__is_active=True).first()
