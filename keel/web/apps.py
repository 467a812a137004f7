from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "keel.web"
    label = "web"
    verbose_name = "Web pages"

    def ready(self) -> None:
        from keel.web import navigation_items  # noqa: F401
