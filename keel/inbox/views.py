"""The task inbox's pages: my tasks (every company), the company's tasks, create, act."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from keel.core.access import has_permission
from keel.core.exceptions import NotFound
from keel.core.models import Role
from keel.core.subjects import resolve_subject
from keel.core.transitions import allowed_targets
from keel.inbox.choices import TaskStatus
from keel.inbox.forms import TaskFilterForm, TaskForm
from keel.inbox.models import Task
from keel.inbox.selectors import list_company_tasks, list_my_tasks, visible_tasks
from keel.inbox.services import can_work_on, cancel_task, complete_task, create_task, reopen_task
from keel.inbox.transitions import TASK_TRANSITIONS
from keel.web.decorators import company_page, user_page
from keel.web.forms import run, submit
from keel.web.pagination import page_of
from keel.web.views import safe_next

DOCUMENT = "inbox.task"


def _status(request, default: str | None) -> str | None:
    form = TaskFilterForm(request.GET)
    if "status" not in request.GET:
        return default
    return (form.cleaned_data.get("status") if form.is_valid() else default) or None


@user_page(methods=["GET"])
def task_inbox(request):
    """Tasks for me or my roles, in every company I belong to."""
    status = _status(request, TaskStatus.OPEN)
    tasks = list_my_tasks(request.user, status=status)
    return render(request, "inbox/task_inbox.html", {
        "page_obj": page_of(tasks, request), "filter_form": TaskFilterForm(initial={"status": status or ""}),
        "today": timezone.localdate(),
    })


@company_page("task.view", methods=["GET"])
def task_list(request):
    status = _status(request, TaskStatus.OPEN)
    tasks = list_company_tasks(request.company, request.user, status=status)
    return render(request, "inbox/task_list.html", {
        "page_obj": page_of(tasks, request), "filter_form": TaskFilterForm(initial={"status": status or ""}),
        "can_manage": has_permission(request.user, request.company, "task.manage"),
    })


@company_page("task.manage")
def task_create(request):
    company = request.company
    initial = {k: request.GET.get(k, "")[:100] for k in ("subject_type", "subject_id")}
    subject = None
    if initial["subject_type"] and initial["subject_id"]:
        subject = resolve_subject(request.user, initial["subject_type"], initial["subject_id"])
    form = TaskForm(company=company, initial=initial)
    if request.method == "POST":
        form = TaskForm(request.POST, company=company)

        def call(data):
            about = None
            if data["subject_type"] and data["subject_id"]:
                about = resolve_subject(request.user, data["subject_type"], data["subject_id"])
            return create_task(
                actor=request.user, company=company, title=data["title"], description=data["description"],
                assignee=get_user_model().objects.filter(pk=data["assignee"]).first() if data["assignee"] else None,
                assignee_role=Role.objects.for_company(company).filter(pk=data["assignee_role"]).first()
                if data["assignee_role"] else None,
                due_date=data["due_date"], subject=about, source="web",
            )

        outcome = submit(form, company=company, document_type=DOCUMENT, call=call)
        if outcome.ok:
            messages.success(request, f"Task '{outcome.result.title}' created.")
            return redirect("inbox:task_detail", pk=outcome.result.pk)
    return render(request, "inbox/task_form.html", {
        "form": form, "subject": subject, "title": "New task", "submit_label": "Create task",
        "cancel_url": reverse("inbox:task_list"),
    })


def _task(request, pk: int) -> Task:
    # A task is reachable from "My tasks" in any of the user's companies, so it is looked up
    # among every task the user may see there (others give 404, as absent ones do).
    tasks = visible_tasks(request.user).select_related(
        "company", "assignee", "assignee_role", "created_by", "completed_by")
    task = tasks.filter(pk=pk).first()
    if task is None:
        raise NotFound("No such task.", code="record.not_found")
    return task


@user_page(methods=["GET"])
def task_detail(request, pk: int):
    task = _task(request, pk)
    return render(request, "inbox/task_detail.html", {
        "task": task, "today": timezone.localdate(),
        "can_work": can_work_on(request.user, task),
        "next_statuses": allowed_targets(TASK_TRANSITIONS, task.status),
    })


def _act(request, pk: int, service, done_message: str):
    task = _task(request, pk)
    outcome = run(task.company, DOCUMENT, lambda: service(actor=request.user, task=task))
    if outcome.ok:
        messages.success(request, done_message.format(title=task.title))
    else:
        messages.error(request, outcome.error.message)
    return redirect(safe_next(request, reverse("inbox:task_detail", kwargs={"pk": task.pk})))


@user_page(methods=["POST"])
def task_complete(request, pk: int):
    return _act(request, pk, complete_task, "'{title}' is done.")


@user_page(methods=["POST"])
def task_cancel(request, pk: int):
    return _act(request, pk, cancel_task, "'{title}' was cancelled.")


@user_page(methods=["POST"])
def task_reopen(request, pk: int):
    return _act(request, pk, reopen_task, "'{title}' is open again.")
