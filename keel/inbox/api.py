"""The task inbox over HTTP: my tasks across companies, a company's tasks, and their verbs."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from keel.api.auth import actor
from keel.api.context import CompanyRef, company_for, optional_company_for, track
from keel.api.pagination import Page, PageQuery, paginate
from keel.api.schemas import RecordId
from keel.core.exceptions import NotFound, ValidationFailed
from keel.core.models import Company, Role
from keel.core.subjects import resolve_subject
from keel.inbox import selectors, services
from keel.inbox.models import Task
from keel.inbox.schemas import TaskAssignIn, TaskCreateIn, TaskFilters, TaskOut

router = Router()


def _status(filters: TaskFilters) -> str | None:
    return None if filters.status == "any" else filters.status


def _task(request: HttpRequest, company: Company, task_id: int) -> Task:
    """A task the caller may see; another's task answers as an absent one does."""
    task = selectors.visible_tasks(actor(request), company=company).select_related(
        "company", "assignee", "assignee_role").filter(pk=task_id).first()
    if task is None:
        raise NotFound("No such task.", code="record.not_found")
    return task


def _assignee(company: Company, username: str | None):
    if username is None:
        return None
    user = services.user_by_username(company, username.strip().lower())
    if user is None:
        raise ValidationFailed(f"No member '{username}' in {company.code}.", code="task.invalid", field="assignee")
    return user


def _role(company: Company, code: str | None) -> Role | None:
    if code is None:
        return None
    role = Role.objects.for_company(company).filter(code=code.strip()).first()
    if role is None:
        raise ValidationFailed(f"No role '{code}' in {company.code}.", code="task.invalid", field="assignee_role")
    return role


@router.get("/mine", response=Page[TaskOut], url_name="task_mine")
def my_tasks(request: HttpRequest, company_ref: CompanyRef, filters: Query[TaskFilters], page: Query[PageQuery]):
    """The caller's tasks (theirs or their role's) in every company, or in the header's company."""
    company = optional_company_for(request, company_ref, "task.view")
    queryset = selectors.list_my_tasks(
        actor(request), status=_status(filters), company_ids=[company.pk] if company is not None else None
    )
    return paginate(queryset, page, ordering=("-id",))


@router.get("", response=Page[TaskOut], url_name="task_list")
def list_tasks(request: HttpRequest, company_ref: CompanyRef, filters: Query[TaskFilters], page: Query[PageQuery]):
    """The company's tasks the caller may see: every one for a supervisor (`task.supervise`),
    else theirs, their role's and the ones they created (status `open` by default; `any` for all)."""
    company = company_for(request, company_ref, "task.view")
    return paginate(selectors.list_company_tasks(company, actor(request), status=_status(filters)), page,
                    ordering=("-id",))


@router.post("", response={201: TaskOut}, url_name="task_create")
def create_task(request: HttpRequest, company_ref: CompanyRef, payload: TaskCreateIn):
    """Create a task for a member or a role, optionally about a record (subject_type + subject_id)."""
    company = company_for(request, company_ref, "task.view")
    with track(request, company):
        subject = None
        if payload.subject_type or payload.subject_id:
            if not (payload.subject_type and payload.subject_id):
                raise ValidationFailed("Give both subject_type and subject_id.", code="task.invalid", field="subject_id")
            subject = resolve_subject(actor(request), payload.subject_type, payload.subject_id)
            subject_company_id = subject.pk if isinstance(subject, Company) else subject.company_id
            if subject_company_id != company.pk:
                raise NotFound("No such record.", code="record.not_found")
        task = services.create_task(
            actor=actor(request), company=company, title=payload.title, description=payload.description,
            assignee=_assignee(company, payload.assignee), assignee_role=_role(company, payload.assignee_role),
            due_date=payload.due_date, subject=subject, source="api",
        )
    return Status(201, _task(request, company, task.pk))


@router.get("/{task_id}", response=TaskOut, url_name="task_detail")
def get_task(request: HttpRequest, company_ref: CompanyRef, task_id: RecordId):
    company = company_for(request, company_ref, "task.view")
    return _task(request, company, task_id)


@router.post("/{task_id}/complete", response=TaskOut, url_name="task_complete")
def complete_task(request: HttpRequest, company_ref: CompanyRef, task_id: RecordId):
    company = company_for(request, company_ref, "task.view")
    task = _task(request, company, task_id)
    with track(request, company):
        return services.complete_task(actor=actor(request), task=task)


@router.post("/{task_id}/cancel", response=TaskOut, url_name="task_cancel")
def cancel_task(request: HttpRequest, company_ref: CompanyRef, task_id: RecordId):
    company = company_for(request, company_ref, "task.view")
    task = _task(request, company, task_id)
    with track(request, company):
        return services.cancel_task(actor=actor(request), task=task)


@router.post("/{task_id}/reopen", response=TaskOut, url_name="task_reopen")
def reopen_task(request: HttpRequest, company_ref: CompanyRef, task_id: RecordId):
    company = company_for(request, company_ref, "task.view")
    task = _task(request, company, task_id)
    with track(request, company):
        return services.reopen_task(actor=actor(request), task=task)


@router.post("/{task_id}/assign", response=TaskOut, url_name="task_assign")
def assign_task(request: HttpRequest, company_ref: CompanyRef, task_id: RecordId, payload: TaskAssignIn):
    """Give an open task to another member or role."""
    company = company_for(request, company_ref, "task.view")
    task = _task(request, company, task_id)
    with track(request, company):
        return services.assign_task(
            actor=actor(request), task=task, assignee=_assignee(company, payload.assignee),
            assignee_role=_role(company, payload.assignee_role),
        )
