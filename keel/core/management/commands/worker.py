"""`keel worker`: run background tasks, and sweep stuck event deliveries every minute."""

from __future__ import annotations

import logging
import threading

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

logger = logging.getLogger("keel.worker")


def enqueue_sweep() -> bool:
    """Queue one run of `retry_stale_deliveries` unless one is already waiting.

    The sweep runs as an ordinary task, so it is executed by whichever worker is free and
    never at the same time as another task of this process.
    """
    from django_tasks_db.models import DBTaskResult

    from keel.core.tasks import retry_stale_deliveries

    if DBTaskResult.objects.ready().filter(task_path=retry_stale_deliveries.module_path).exists():
        return False
    retry_stale_deliveries.enqueue()
    return True


class _Sweeper(threading.Thread):
    def __init__(self, interval: float) -> None:
        super().__init__(name="keel-event-sweeper", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                enqueue_sweep()
            except Exception:  # a busy database must not stop the sweeper
                logger.exception("Could not queue the sweep of stuck event deliveries")
            finally:
                connections.close_all()  # this thread's own connections only


class Command(BaseCommand):
    help = "Run background tasks (the database queue) and retry stuck event deliveries every minute."

    def add_arguments(self, parser):
        parser.add_argument("--queue-name", default="*", help="queues to work, comma-separated (default: all)")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls of an empty queue")
        parser.add_argument(
            "--sweep-every", type=float, default=60.0, metavar="SECONDS",
            help="queue a retry of stuck event deliveries this often (default 60; 0 never)",
        )
        parser.add_argument("--batch", action="store_true", help="run what is queued now, then exit")
        parser.add_argument("--max-tasks", type=int, help="exit after this many tasks")

    def handle(self, *args, queue_name: str, interval: float, sweep_every: float, batch: bool,
               max_tasks: int | None, **options):
        worker_options = {
            "queue_name": queue_name, "interval": interval, "batch": batch, "reload": False,
            "verbosity": options.get("verbosity", 1),
        }
        if max_tasks:
            worker_options["max_tasks"] = max_tasks
        sweeper = None
        if sweep_every > 0:
            enqueue_sweep()  # at start: deliveries left behind while no worker ran
            if not batch:
                sweeper = _Sweeper(sweep_every)
                sweeper.start()
        try:
            call_command("db_worker", **worker_options)
        finally:
            if sweeper is not None:
                sweeper.stopped.set()
