from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "keel.inbox"
    label = "inbox"
    verbose_name = "Tasks"

    def ready(self) -> None:
        from keel.inbox import events, navigation, panels  # noqa: F401
