from keel.core.events import declare

TASK_CREATED = declare("inbox.task_created", "A task was put in someone's inbox")
TASK_ASSIGNED = declare("inbox.task_assigned", "A task was given to another user or role")
TASK_COMPLETED = declare("inbox.task_completed", "A task was done")
TASK_CANCELLED = declare("inbox.task_cancelled", "A task was cancelled")
TASK_REOPENED = declare("inbox.task_reopened", "A done or cancelled task was opened again")
