"""Django admin for tasks (operators' fallback; people use the inbox pages)."""

from django.contrib import admin

from keel.inbox.models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "company", "assignee", "assignee_role", "due_date", "status", "source")
    list_filter = ("company", "status", "source")
    search_fields = ("title", "subject_repr")
    list_select_related = ("company", "assignee", "assignee_role")
    raw_id_fields = ("assignee", "created_by", "completed_by")
    readonly_fields = ("created_at", "completed_at")
