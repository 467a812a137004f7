"""`keel worker`: run background tasks; sweep stuck event deliveries every minute and anchor
the activity chains outside the database every KEEL_AUDIT_ANCHOR_EVERY seconds (an hour)."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
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


def enqueue_anchoring() -> bool:
    """Queue one run of `anchor_chains` unless one is already waiting."""
    from django_tasks_db.models import DBTaskResult

    from keel.core.tasks import anchor_chains

    if DBTaskResult.objects.ready().filter(task_path=anchor_chains.module_path).exists():
        return False
    anchor_chains.enqueue()
    return True


class _Every(threading.Thread):
    """Queues a job every `interval` seconds (the job runs as a task, on a free worker)."""

    def __init__(self, interval: float, enqueue, what: str) -> None:
        super().__init__(name=f"keel-{what.replace(' ', '-')}", daemon=True)
        self.interval, self.enqueue, self.what = interval, enqueue, what
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.enqueue()
            except Exception:  # a busy database must not stop the schedule
                logger.exception("Could not queue the %s", self.what)
            finally:
                connections.close_all()  # this thread's own connections only


class Command(BaseCommand):
    help = (
        "Run background tasks (the database queue), retry stuck event deliveries every minute and anchor "
        "the activity chains every hour."
    )

    def add_arguments(self, parser):
        parser.add_argument("--queue-name", default="*", help="queues to work, comma-separated (default: all)")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls of an empty queue")
        parser.add_argument(
            "--sweep-every", type=float, default=60.0, metavar="SECONDS",
            help="queue a retry of stuck event deliveries this often (default 60; 0 never)",
        )
        parser.add_argument(
            "--anchor-every", type=float, default=None, metavar="SECONDS",
            help="anchor the activity chains outside the database this often (default KEEL_AUDIT_ANCHOR_EVERY, "
                 "3600; 0 never)",
        )
        parser.add_argument("--batch", action="store_true", help="run what is queued now, then exit")
        parser.add_argument("--max-tasks", type=int, help="exit after this many tasks")

    def handle(self, *args, queue_name: str, interval: float, sweep_every: float, anchor_every: float | None,
               batch: bool, max_tasks: int | None, **options):
        worker_options = {
            "queue_name": queue_name, "interval": interval, "batch": batch, "reload": False,
            "verbosity": options.get("verbosity", 1),
        }
        if max_tasks:
            worker_options["max_tasks"] = max_tasks
        if anchor_every is None:
            anchor_every = settings.KEEL_AUDIT_ANCHOR_EVERY
        schedules = []
        for every, enqueue, what in (
            (sweep_every, enqueue_sweep, "sweep of stuck event deliveries"),
            (anchor_every, enqueue_anchoring, "anchoring of the activity chains"),
        ):
            if every > 0:
                enqueue()  # at start: work left behind while no worker ran
                if not batch:
                    schedules.append(_Every(every, enqueue, what))
                    schedules[-1].start()
        try:
            call_command("db_worker", **worker_options)
        finally:
            for schedule in schedules:
                schedule.stopped.set()
