from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "keel.insights"
    label = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from keel.insights import navigation, platform_kpis  # noqa: F401
