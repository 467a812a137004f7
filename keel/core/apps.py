from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "keel.core"
    label = "core"
    verbose_name = "Keel core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from keel.core.reference_data import reload_after_migrate

        post_migrate.connect(reload_after_migrate, sender=self, dispatch_uid="keel.core.currencies")
        # Importing the service modules declares the core's events.
        from keel.core import db_money, navigation  # noqa: F401
        from keel.core.services import attachments, companies, currencies, memberships, parties  # noqa: F401
