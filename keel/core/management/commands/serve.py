"""`keel serve`: the web server, once the database is up to date."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


def pending_migrations(database: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Migrations not yet applied to the database, as 'app.name'."""
    connection = connections[database]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


class Command(BaseCommand):
    help = "Run Keel's web server (static files served by WhiteNoise); refuses while migrations are pending."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
        parser.add_argument("--reload", action="store_true", help="restart when the code changes (development)")

    def handle(self, *args, host: str, port: int, reload: bool, **options):
        pending = pending_migrations()
        if pending:
            shown = ", ".join(pending[:5]) + (f" and {len(pending) - 5} more" if len(pending) > 5 else "")
            raise CommandError(
                f"The database is not up to date: {len(pending)} migration(s) pending ({shown}). "
                "Run `keel migrate` first."
            )
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.stdout.write(f"Keel on http://{address}/  (Ctrl+C to stop)")
        call_command("runserver", address, use_reloader=reload, use_threading=True)
