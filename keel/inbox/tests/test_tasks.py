"""The task inbox: any department creates tasks; assignees and role holders complete them."""

from __future__ import annotations

import datetime as dt

import pytest

from keel.core.exceptions import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from keel.core.models import Role
from keel.core.tests.factories import member
from keel.inbox.choices import TaskStatus
from keel.inbox.models import Task
from keel.inbox.selectors import list_my_tasks, visible_tasks
from keel.inbox.services import assign_task, cancel_task, complete_task, create_task, reopen_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(company):
    return member(company, "billing_clerk")


def test_a_task_for_a_user_is_completed_by_them(company, owner, clerk):
    task = create_task(actor=owner, company=company, title="Approve invoice", assignee=clerk, due_date=dt.date(2026, 1, 5))
    complete_task(actor=clerk, task=task)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.completed_by == clerk and task.completed_at is not None


def test_a_task_for_a_role_is_in_the_inbox_of_everyone_holding_it(company, owner, clerk):
    role = Role.objects.get(company=company, code="billing_clerk")
    task = create_task(actor=owner, company=company, title="Chase overdue", assignee_role=role)
    assert list(list_my_tasks(clerk)) == [task]
    complete_task(actor=clerk, task=task)
    assert list(list_my_tasks(clerk)) == []


def test_my_tasks_span_every_company_i_work_for(company, other_company, owner, outsider):
    shared = member(company, "accountant")
    member(other_company, "accountant", user=shared)
    mine_here = create_task(actor=owner, company=company, title="Here", assignee=shared)
    mine_there = create_task(actor=outsider, company=other_company, title="There", assignee=shared)
    create_task(actor=owner, company=company, title="Not mine", assignee=owner)
    assert set(list_my_tasks(shared)) == {mine_here, mine_there}


def test_someone_else_cannot_complete_my_task(company, owner, clerk, outsider):
    task = create_task(actor=owner, company=company, title="Mine", assignee=clerk)
    other_clerk = member(company, "support_agent")
    with pytest.raises(PermissionDenied):
        complete_task(actor=other_clerk, task=task)
    with pytest.raises(NotFound):
        complete_task(actor=outsider, task=task)
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_a_task_cannot_be_done_twice(company, owner, clerk):
    task = create_task(actor=owner, company=company, title="Once", assignee=clerk)
    stale = Task.objects.get(pk=task.pk)
    complete_task(actor=clerk, task=task)
    with pytest.raises(IllegalTransition):
        complete_task(actor=clerk, task=stale)  # a second request that read it while open
    reopen_task(actor=clerk, task=task)
    cancel_task(actor=clerk, task=task)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.CANCELLED


@pytest.mark.parametrize(
    ("values", "field"),
    [({"title": ""}, "title"), ({"title": "x" * 201}, "title"), ({"assignee": None}, "assignee")],
)
def test_bad_tasks_are_refused(company, owner, values, field):
    args = {"title": "Fine", "assignee": owner, **values}
    with pytest.raises(ValidationFailed) as exc:
        create_task(actor=owner, company=company, **args)
    assert field in exc.value.fields
    assert not Task.objects.exists()


def test_tasks_cannot_be_given_to_outsiders(company, owner, outsider, other_company):
    with pytest.raises(ValidationFailed):
        create_task(actor=owner, company=company, title="x", assignee=outsider)
    foreign_role = Role.objects.get(company=other_company, code="owner")
    with pytest.raises(ValidationFailed):
        create_task(actor=owner, company=company, title="x", assignee_role=foreign_role)
    task = create_task(actor=owner, company=company, title="x", assignee=owner)
    with pytest.raises(ValidationFailed):
        assign_task(actor=owner, task=task, assignee=outsider)
    assert not Task.objects.filter(assignee=outsider).exists()


def test_overdue_is_open_and_past_due(company, owner):
    task = create_task(actor=owner, company=company, title="Late", assignee=owner, due_date=dt.date(2026, 1, 1))
    assert task.is_overdue(dt.date(2026, 1, 2)) and not task.is_overdue(dt.date(2026, 1, 1))


def test_an_employee_sees_and_works_only_their_own_tasks(company, owner):
    employee = member(company, "employee")
    others = create_task(actor=owner, company=company, title="Owner's", assignee=owner)
    theirs = create_task(actor=owner, company=company, title="Employee's", assignee=employee)
    asked = create_task(actor=employee, company=company, title="Asked", assignee=owner)
    assert set(visible_tasks(employee, company=company)) == {theirs, asked}
    assert set(visible_tasks(owner, company=company)) == {others, theirs, asked}
    with pytest.raises(PermissionDenied):
        complete_task(actor=employee, task=others)
    with pytest.raises(PermissionDenied):
        assign_task(actor=employee, task=others, assignee=employee)
    others.refresh_from_db()
    assert (others.status, others.assignee_id) == ("open", owner.pk)
    # Their own work they may hand on, and a task they asked for they may close.
    assign_task(actor=employee, task=theirs, assignee=owner)
    cancel_task(actor=employee, task=asked)
    theirs.refresh_from_db()
    asked.refresh_from_db()
    assert (theirs.assignee_id, asked.status) == (owner.pk, "cancelled")


def test_a_role_given_task_supervise_sees_and_reassigns_every_task(company, owner):
    lead = member(company, "employee")
    lead_role = Role.objects.for_company(company).get(memberships__user=lead)
    lead_role.permissions = [*lead_role.permissions, "task.supervise"]
    lead_role.save()
    task = create_task(actor=owner, company=company, title="Owner's", assignee=owner)
    assert list(visible_tasks(lead, company=company)) == [task]
    assign_task(actor=lead, task=task, assignee=lead)
    complete_task(actor=lead, task=task)
    task.refresh_from_db()
    assert (task.assignee_id, task.status) == (lead.pk, "done")


def test_shipped_roles_stored_with_task_wildcard_keep_only_their_own_tasks(company):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("keel.core.migrations.0004_own_tasks_for_shipped_roles")
    roles = Role.objects.for_company(company)
    roles.filter(code="employee").update(permissions=["task.*", "company.view"])
    roles.filter(code="owner").update(permissions=["*"])
    custom = Role.objects.create(company=company, code="lead", name="Lead", permissions=["task.*"])
    migration.own_tasks(apps, None)
    assert roles.get(code="employee").permissions == ["company.view", "task.manage", "task.view"]
    assert roles.get(code="owner").permissions == ["*"]
    custom.refresh_from_db()
    assert custom.permissions == ["task.*"]
