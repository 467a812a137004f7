"""`keel events`: the event map, failed deliveries, and retrying stuck ones."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand

from keel.core import events
from keel.core.choices import DeliveryStatus
from keel.core.management.commands._common import company_by_code
from keel.core.models import EventDelivery


class Command(BaseCommand):
    help = (
        "Print every event with its description and the handlers that react to it; "
        "`failed` lists failed deliveries, `retry` runs deliveries left pending or retrying."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "action", nargs="?", default="map", choices=["map", "failed", "retry"],
            help="map (default): the events and their handlers; failed: failed deliveries; retry: run stuck deliveries",
        )
        parser.add_argument("--company", help="failed: only this company's deliveries")
        parser.add_argument("--id", type=int, dest="delivery_id", help="retry: this one delivery (also a failed one)")
        parser.add_argument(
            "--older-than", type=float, default=5.0, metavar="MINUTES",
            help="retry: deliveries untouched for this many minutes (default 5; 0 for all)",
        )
        parser.add_argument("--limit", type=int, default=100, help="failed: show at most this many (default 100)")

    def handle(self, *args, action: str, **options):
        {"map": self._map, "failed": self._failed, "retry": self._retry}[action](**options)

    def _map(self, **options):
        rows = events.event_map()
        for name, description, handlers in rows:
            self.stdout.write(f"{name}  {description}")
            for handler in handlers:
                self.stdout.write(f"    -> {handler}")
            if not handlers:
                self.stdout.write("    (no handlers)")
        handled = sum(1 for _, _, h in rows if h)
        self.stdout.write(f"\n{len(rows)} events, {handled} with handlers.")

    def _failed(self, *, company: str | None, limit: int, **options):
        deliveries = EventDelivery.objects.filter(status=DeliveryStatus.FAILED).select_related("company")
        if company:
            deliveries = deliveries.for_company(company_by_code(company))
        total = deliveries.count()
        for delivery in deliveries.order_by("-id")[:limit]:
            error = (delivery.last_error.strip().splitlines() or [""])[-1][:200]
            self.stdout.write(
                f"#{delivery.pk} {delivery.company.code} {delivery.event} -> {delivery.handler} "
                f"(activity {delivery.activity_id}, {delivery.attempts} attempts, "
                f"{delivery.updated_at:%Y-%m-%d %H:%M}): {error}"
            )
        self.stdout.write(f"{total} failed deliveries." + (" Retry one with `keel events retry --id N`." if total else ""))

    def _retry(self, *, delivery_id: int | None, older_than: float, **options):
        if delivery_id is not None:
            succeeded = events.retry(delivery_id)
            self.stdout.write(f"Delivery #{delivery_id}: {'done' if succeeded else 'failed again'}.")
            return
        done = events.retry_stale(older_than=dt.timedelta(minutes=older_than))
        self.stdout.write(f"{done} stuck deliveries ran successfully.")
