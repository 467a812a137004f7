from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "keel.api"
    label = "api"
    verbose_name = "API"
