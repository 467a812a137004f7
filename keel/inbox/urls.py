"""The task inbox's pages (namespace `inbox`), under /tasks/."""

from django.urls import path

from keel.inbox import views

app_name = "inbox"

urlpatterns = [
    path("mine/", views.task_inbox, name="task_inbox"),
    path("", views.task_list, name="task_list"),
    path("new/", views.task_create, name="task_create"),
    path("<int:pk>/", views.task_detail, name="task_detail"),
    path("<int:pk>/complete/", views.task_complete, name="task_complete"),
    path("<int:pk>/cancel/", views.task_cancel, name="task_cancel"),
    path("<int:pk>/reopen/", views.task_reopen, name="task_reopen"),
]
