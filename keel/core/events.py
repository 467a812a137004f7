"""Events: activities dispatched, after commit, to the handlers other apps subscribe.

An app declares the events it emits in its `events.py` (`declare(...)`) and subscribes its
reactions in `handlers.py` (`@subscribe("hr.employee_hired")`), imported by its
AppConfig.ready(). `keel events` prints the resulting map.

Delivery: `record()` writes one EventDelivery row per subscribed handler in the same
transaction as the change. After commit each is run in its own transaction; a failure is
stored on the row and retried through the tasks API with growing pauses, never rolling back
the change that caused it. After KEEL_EVENT_MAX_ATTEMPTS the row stays `failed` for an
administrator to see and retry.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from keel.core.choices import DeliveryStatus
from keel.core.models import Activity, Company, EventDelivery

logger = logging.getLogger("keel.events")

Handler = Callable[[Activity], None]


@dataclass(frozen=True)
class EventType:
    """An event an app emits: `<app>.<noun>_<past participle>`."""

    name: str
    description: str


_declared: dict[str, EventType] = {}
_handlers: dict[str, dict[str, Handler]] = {}


def declare(name: str, description: str) -> EventType:
    event = EventType(name, description)
    _declared[name] = event
    return event


def handler_name(func: Handler) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def subscribe(*event_names: str | EventType) -> Callable[[Handler], Handler]:
    """Register a handler for events; it must be idempotent (it may run again on retry)."""

    def register(func: Handler) -> Handler:
        for event in event_names:
            name = event.name if isinstance(event, EventType) else event
            _handlers.setdefault(name, {})[handler_name(func)] = func
        return func

    return register


def unsubscribe(event_name: str, func: Handler) -> None:
    _handlers.get(event_name, {}).pop(handler_name(func), None)


def handlers_for(event_name: str) -> dict[str, Handler]:
    return _handlers.get(event_name, {})


def event_map() -> list[tuple[str, str, list[str]]]:
    """Every known event name, its description, and the handlers subscribed to it."""
    names = sorted(set(_declared) | set(_handlers))
    return [
        (name, _declared[name].description if name in _declared else "(not declared)", sorted(_handlers.get(name, {})))
        for name in names
    ]


def declared_events() -> dict[str, EventType]:
    return dict(_declared)


def schedule_deliveries(company: Company, activities: Sequence[Activity]) -> None:
    """Write pending deliveries for subscribed handlers; dispatch them after commit."""
    rows = [
        EventDelivery(company=company, activity=activity, event=activity.verb, handler=name)
        for activity in activities
        for name in handlers_for(activity.verb)
    ]
    if not rows:
        return
    EventDelivery.objects.bulk_create(rows, batch_size=2000)
    ids = [r.pk for r in rows if r.pk is not None]
    if len(ids) != len(rows):
        ids = list(
            EventDelivery.objects.filter(activity__in=[a.pk for a in activities], status=DeliveryStatus.PENDING)
            .values_list("pk", flat=True)
        )
    transaction.on_commit(partial(deliver_many, ids))


def deliver_many(delivery_ids: Sequence[int]) -> None:
    for delivery_id in delivery_ids:
        deliver(delivery_id)


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def deliver(delivery_id: int) -> bool:
    """Run one delivery now. True when its handler has succeeded (now or before)."""
    delivery = EventDelivery.objects.select_related("activity").filter(pk=delivery_id).first()
    if delivery is None or delivery.status == DeliveryStatus.DONE:
        return True
    handler = handlers_for(delivery.event).get(delivery.handler)
    try:
        if handler is None:
            raise LookupError(f"No handler '{delivery.handler}' is subscribed to {delivery.event} any more")
        with transaction.atomic():
            # Conditional claim: a concurrent run of the same delivery finds nothing to claim.
            claimed = EventDelivery.objects.filter(pk=delivery.pk).exclude(status=DeliveryStatus.DONE).update(
                status=DeliveryStatus.DONE, attempts=delivery.attempts + 1, done_at=timezone.now(), last_error=""
            )
            if not claimed:
                return True
            handler(delivery.activity)
        return True
    except Exception:
        attempts = delivery.attempts + 1
        exhausted = attempts >= settings.KEEL_EVENT_MAX_ATTEMPTS
        EventDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED if exhausted else DeliveryStatus.RETRYING,
            attempts=attempts,
            last_error=traceback.format_exc()[-4000:],
            updated_at=timezone.now(),
        )
        logger.exception("Handler %s failed on %s (attempt %s)", delivery.handler, delivery.event, attempts)
        if not exhausted:
            _enqueue_retry(delivery.pk, attempts)
        return False


def _enqueue_retry(delivery_id: int, attempts: int) -> None:
    from keel.core.tasks import retry_event_delivery

    try:
        retry_event_delivery.using(run_after=timezone.now() + _backoff(attempts)).enqueue(delivery_id)
    except Exception:  # the queue being down must not hide the failure: the row stays 'retrying'
        logger.exception("Could not enqueue a retry of delivery %s", delivery_id)


def retry(delivery_id: int) -> bool:
    """An administrator's 'retry now': reset a failed delivery and run it."""
    EventDelivery.objects.filter(pk=delivery_id).exclude(status=DeliveryStatus.DONE).update(
        status=DeliveryStatus.PENDING
    )
    return deliver(delivery_id)


def retry_stale(*, older_than: dt.timedelta = dt.timedelta(minutes=5)) -> int:
    """Run deliveries left pending or retrying (a process died, a queue was lost)."""
    cutoff = timezone.now() - older_than
    ids = list(
        EventDelivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING], updated_at__lt=cutoff
        ).values_list("pk", flat=True)[:10000]
    )
    return sum(1 for pk in ids if deliver(pk))
