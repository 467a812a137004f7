"""Events run after commit; a failing handler is retried and visible, never rolls back."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks import default_task_backend

from keel.core import events
from keel.core.activity import record
from keel.core.choices import DeliveryStatus
from keel.core.models import Activity, EventDelivery, Party
from keel.core.services.parties import create_party

pytestmark = pytest.mark.django_db

seen: list[int] = []


def good_handler(activity):
    seen.append(activity.pk)


class Flaky:
    failures_left = 0

    @classmethod
    def handle(cls, activity):
        if cls.failures_left:
            cls.failures_left -= 1
            raise RuntimeError("the other department is down")
        seen.append(activity.pk)


@pytest.fixture(autouse=True)
def _subscriptions():
    seen.clear()
    events.subscribe("test.good_happened")(good_handler)
    events.subscribe("test.flaky_happened")(Flaky.handle)
    default_task_backend.clear()
    yield
    events.unsubscribe("test.good_happened", good_handler)
    events.unsubscribe("test.flaky_happened", Flaky.handle)


def test_handlers_run_after_commit_not_before(company, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        activity = record(company=company, actor=None, verb="test.good_happened", subject=company)
        assert seen == []  # still inside the transaction
    assert len(callbacks) == 1
    assert seen == [activity.pk]
    delivery = EventDelivery.objects.get(activity=activity)
    assert delivery.status == DeliveryStatus.DONE and delivery.attempts == 1


def test_no_delivery_rows_for_events_nobody_handles(company, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record(company=company, actor=None, verb="test.ignored_happened", subject=company)
    assert not EventDelivery.objects.exists()


def test_a_rolled_back_change_dispatches_nothing(company, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ZeroDivisionError), transaction.atomic():
        record(company=company, actor=None, verb="test.good_happened", subject=company)
        1 / 0  # noqa: B018
    assert seen == [] and not Activity.objects.exists()


def test_a_failing_handler_keeps_the_change_and_schedules_a_retry(company, owner, django_capture_on_commit_callbacks):
    Flaky.failures_left = 1
    with django_capture_on_commit_callbacks(execute=True):
        party = create_party(actor=owner, company=company, name="Initech")
        activity = record(company=company, actor=owner, verb="test.flaky_happened", subject=party)
    assert Party.objects.filter(pk=party.pk).exists()  # the change stands
    delivery = EventDelivery.objects.get(activity=activity)
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.attempts == 1
    assert "the other department is down" in delivery.last_error
    [queued] = default_task_backend.results
    assert queued.task.name == "retry_event_delivery" and queued.args == [delivery.pk]
    # The worker runs the retry; the handler now succeeds.
    assert events.deliver(delivery.pk) is True
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DONE and delivery.attempts == 2
    assert seen == [activity.pk]


def test_after_the_last_attempt_the_failure_waits_for_an_administrator(company, settings, django_capture_on_commit_callbacks):
    settings.KEEL_EVENT_MAX_ATTEMPTS = 2
    Flaky.failures_left = 5
    with django_capture_on_commit_callbacks(execute=True):
        activity = record(company=company, actor=None, verb="test.flaky_happened", subject=company)
    delivery = EventDelivery.objects.get(activity=activity)
    events.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 2
    assert len(default_task_backend.results) == 1  # no retry queued after the last attempt
    Flaky.failures_left = 0
    assert events.retry(delivery.pk) is True
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DONE


def test_a_done_delivery_never_runs_twice(company, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        activity = record(company=company, actor=None, verb="test.good_happened", subject=company)
    delivery = EventDelivery.objects.get(activity=activity)
    assert events.deliver(delivery.pk) is True
    assert seen == [activity.pk]


def test_stale_pending_deliveries_are_picked_up(company):
    # Simulate a process that died between commit and dispatch: on_commit never ran.
    activity = record(company=company, actor=None, verb="test.good_happened", subject=company)
    EventDelivery.objects.filter(activity=activity).update(updated_at=activity.occurred_at.replace(year=2000))
    assert events.retry_stale() == 1
    assert seen == [activity.pk]


def test_the_event_map_lists_declared_events_and_their_handlers():
    names = {name: handlers for name, _description, handlers in events.event_map()}
    assert "core.party_created" in names
    assert names["test.good_happened"] == ["keel.core.tests.test_events.good_handler"]
