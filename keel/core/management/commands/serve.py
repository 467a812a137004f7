"""`keel serve`: the production web server (gunicorn), once the database is up to date.

`keel serve` collects the static files (WhiteNoise serves them compressed, under hashed names
cached for a year), then runs gunicorn with threaded workers sized to the machine. Each
thread keeps one database connection (persistent connections, checked before reuse), so a
server holds at most workers x threads connections however many requests arrive at once.
`keel serve --dev` runs Django's development server instead: debug on, reloads on change.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

# Seconds a server thread keeps its database connection between requests.
PERSISTENT_CONNECTION_SECONDS = 300


def pending_migrations(database: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Migrations not yet applied to the database, as 'app.name'."""
    connection = connections[database]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def usable_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def is_sqlite() -> bool:
    return settings.DATABASES[DEFAULT_DB_ALIAS]["ENGINE"] == "django.db.backends.sqlite3"


def default_workers() -> int:
    """Processes: 2 x CPUs + 1 (gunicorn's rule) up to 9; on SQLite CPUs + 1 up to 4, since
    its writers queue on one file lock and more processes only wait longer."""
    if "KEEL_WEB_WORKERS" in os.environ:
        return max(1, int(os.environ["KEEL_WEB_WORKERS"]))
    cpus = usable_cpus()
    return min(cpus + 1, 4) if is_sqlite() else min(2 * cpus + 1, 9)


def default_threads() -> int:
    return max(1, int(os.environ.get("KEEL_WEB_THREADS", "4")))


def gunicorn_application(options: dict):
    """A gunicorn application serving Keel's WSGI handler with `options` (gunicorn settings)."""
    from gunicorn.app.base import BaseApplication

    class KeelServer(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            from keel.wsgi import application

            return application

    return KeelServer()


class Command(BaseCommand):
    help = (
        "Run Keel's web server: gunicorn with static files from WhiteNoise (or, with --dev, Django's "
        "development server with reload); refuses while migrations are pending."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
        parser.add_argument(
            "--dev", action="store_true",
            help="Django's development server: debug on, restarts when the code changes",
        )
        parser.add_argument("--reload", action="store_true", help="same as --dev (kept for old scripts)")
        parser.add_argument("--workers", type=int, help="server processes (default: sized to the CPUs, KEEL_WEB_WORKERS)")
        parser.add_argument("--threads", type=int, help="threads per process (default 4, KEEL_WEB_THREADS)")

    def handle(self, *args, host: str, port: int, dev: bool, reload: bool, workers: int | None,
               threads: int | None, **options):
        pending = pending_migrations()
        if pending:
            shown = ", ".join(pending[:5]) + (f" and {len(pending) - 5} more" if len(pending) > 5 else "")
            raise CommandError(
                f"The database is not up to date: {len(pending)} migration(s) pending ({shown}). "
                "Run `keel migrate` first."
            )
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if dev or reload:
            self.stdout.write(f"Keel (development server) on http://{address}/  (Ctrl+C to stop)")
            call_command("runserver", address, use_reloader=True, use_threading=True)
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        workers = workers or default_workers()
        threads = threads or default_threads()
        if not is_sqlite() and "KEEL_DB_CONN_MAX_AGE" not in os.environ:
            for alias in connections:
                connections.settings[alias]["CONN_MAX_AGE"] = PERSISTENT_CONNECTION_SECONDS
        connections.close_all()  # the workers open their own; none inherits this process's
        self.stdout.write(
            f"Keel on http://{address}/  ({workers} processes x {threads} threads; Ctrl+C to stop)"
        )
        self.stdout.flush()
        gunicorn_application({
            "bind": address,
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "preload_app": True,
            "timeout": int(os.environ.get("KEEL_WEB_TIMEOUT", "120")),
            "graceful_timeout": 20,
            "accesslog": "-" if os.environ.get("KEEL_ACCESS_LOG", "1") != "0" else None,
            "errorlog": "-",
            "forwarded_allow_ips": "*" if getattr(settings, "KEEL_TRUST_PROXY", False) else "127.0.0.1",
            "proc_name": "keel",
            "control_socket_disable": True,  # several servers on one machine would share its path
        }).run()
