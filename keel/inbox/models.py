from __future__ import annotations

from django.conf import settings
from django.db import models

from keel.core.models import CompanyOwned
from keel.inbox.choices import TaskStatus


class Task(CompanyOwned):
    """Something a person or a role has to do, often about a record: approvals, checklists.

    Any department creates tasks through `keel.inbox.services.create_task`.
    """

    view_permission = "task.view"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    subject_type = models.CharField(max_length=100, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    subject_repr = models.CharField(max_length=200, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="keel_tasks"
    )
    assignee_role = models.ForeignKey("core.Role", null=True, blank=True, on_delete=models.PROTECT, related_name="tasks")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    source = models.CharField(max_length=100, blank=True, help_text="What created it, e.g. hr.onboarding")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(assignee__isnull=False) | models.Q(assignee_role__isnull=False),
                name="inbox_task_has_assignee",
            )
        ]
        indexes = [
            models.Index(fields=["company", "status", "due_date"], name="inbox_task_status_due"),
            models.Index(fields=["assignee", "status", "due_date"], name="inbox_task_assignee"),
            models.Index(fields=["assignee_role", "status", "due_date"], name="inbox_task_role"),
            models.Index(fields=["company", "subject_type", "subject_id"], name="inbox_task_subject"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today) -> bool:
        return self.status == TaskStatus.OPEN and self.due_date is not None and self.due_date < today
