"""The inbox's panel on a party's page: its open tasks (keel.core.party_panels)."""

from __future__ import annotations

from keel.core.access import has_permission
from keel.core.party_panels import register_party_panel
from keel.inbox.choices import TaskStatus
from keel.inbox.selectors import list_tasks_for_subject


def party_tasks(*, request, party) -> dict:
    tasks = (list_tasks_for_subject(request.company, request.user, "core.party", party.pk).filter(status=TaskStatus.OPEN)
             .select_related("assignee", "assignee_role"))
    return {"tasks": list(tasks), "can_add_task": has_permission(request.user, request.company, "task.manage")}


register_party_panel("inbox.tasks", template="inbox/partials/party_tasks.html", context=party_tasks,
                     permission="task.view", order=50)
