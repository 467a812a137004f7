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


@task()
def anchor_chains() -> int:
    """Anchor every company's activity chain outside the database (`keel audit anchor`).

    Returns how many new anchors were written; a chain that no longer verifies is not
    anchored and is logged as an error, for `keel audit verify` to name.
    """
    import logging

    from keel.core.anchors import anchor_all

    written = 0
    for result in anchor_all():
        if result.refused:
            logging.getLogger("keel.audit").error("Activity chain of %s not anchored: %s", result.company_code,
                                                  result.refused)
        elif result.anchor is not None and not result.unchanged:
            written += 1
    return written
