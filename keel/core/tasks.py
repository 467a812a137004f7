"""Background work of the core, run by `keel worker` through Django's tasks API."""

from __future__ import annotations

from django_tasks import task


@task()
def retry_event_delivery(delivery_id: int) -> bool:
    """Retry one event delivery whose handler failed (scheduled with a growing pause)."""
    from keel.core.events import deliver

    return deliver(delivery_id)


@task()
def retry_stale_deliveries() -> int:
    from keel.core.events import retry_stale

    return retry_stale()
