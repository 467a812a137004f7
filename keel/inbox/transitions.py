from keel.inbox.choices import TaskStatus

TASK_TRANSITIONS = frozenset(
    {
        (TaskStatus.OPEN, TaskStatus.DONE),
        (TaskStatus.OPEN, TaskStatus.CANCELLED),
        (TaskStatus.DONE, TaskStatus.OPEN),
        (TaskStatus.CANCELLED, TaskStatus.OPEN),
    }
)
