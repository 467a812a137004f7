"""The task inbox's menu entries and record pages."""

from keel.web.links import register_record_url
from keel.web.navigation import NavItem, add

add(NavItem("Overview", "My tasks", "inbox:task_inbox", None, order=20))
add(NavItem("Overview", "Company tasks", "inbox:task_list", "task.view", order=30))

register_record_url("inbox.task", "inbox:task_detail")
