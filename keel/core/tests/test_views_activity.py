"""The activity log (filters, key-set pages, pinned queries, links), event deliveries,
exchange rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from keel.core import events
from keel.core.activity import Entry, record_many
from keel.core.models import Activity, EventDelivery, ExchangeRate, SubmissionCount
from keel.core.services.parties import create_party
from keel.core.tests.factories import member
from keel.web.tests.builders import a_failed_delivery

pytestmark = pytest.mark.django_db


def test_the_log_filters_by_actor_verb_record_type_and_dates(company, owner, client_for):
    clerk = member(company, "billing_clerk")
    create_party(actor=owner, company=company, name="Hooli")
    create_party(actor=clerk, company=company, name="Initech")
    client = client_for(owner)
    rows = client.get(f"/activity/?actor={clerk.pk}").context["page"].rows
    assert [a.subject_repr for a in rows] == ["Initech"]
    assert len(client.get("/activity/?verb=core.party_created").context["page"].rows) == 2
    assert client.get("/activity/?subject_type=core.company").context["page"].rows == []
    today = timezone.localdate()
    assert len(client.get(f"/activity/?date_from={today}&date_to={today}").context["page"].rows) == 2
    assert client.get(f"/activity/?date_to={today - dt.timedelta(days=1)}").context["page"].rows == []
    assert b"No activities match" in client.get("/activity/?verb=nothing.happened").content


def test_bad_filters_never_fail(company, owner, client_for):
    client = client_for(owner)
    for query in ("actor=abc", "date_from=2020-13-45", "before=-5", "before=99999999999999999999999", "verb=" + "v" * 500):
        assert client.get(f"/activity/?{query}").status_code == 200


def test_rows_link_to_the_record_page(company, owner, client_for):
    party = create_party(actor=owner, company=company, name="Hooli")
    content = client_for(owner).get("/activity/").content
    assert f'href="/parties/{party.pk}/"'.encode() in content


def test_older_pages_follow_the_sequence_without_counting(company, owner, client_for, django_assert_max_num_queries):
    record_many(company=company, actor=owner, entries=[Entry("core.test_happened", subject=company) for _ in range(120)])
    client = client_for(owner)
    client.get("/activity/")
    with django_assert_max_num_queries(7) as captured:
        first = client.get("/activity/")
    assert not any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)
    page = first.context["page"]
    assert [a.seq for a in page.rows][:2] == [120, 119] and page.older == 71
    second = client.get(f"/activity/?before={page.older}").context["page"]
    assert second.rows[0].seq == 70 and second.older == 21
    third = client.get(f"/activity/?before={second.older}").context["page"]
    assert third.rows[-1].seq == 1 and third.older is None


def test_the_log_shows_only_the_active_company(company, other_company, owner, outsider, client_for):
    create_party(actor=outsider, company=other_company, name="Their secret")
    create_party(actor=owner, company=company, name="Ours")
    content = client_for(owner).get("/activity/").content
    assert b"Ours" in content and b"Their secret" not in content


def test_failed_deliveries_are_listed_and_retried(company, owner, client_for):
    delivery = a_failed_delivery(company, owner)
    calls = []
    handler = mock.Mock(side_effect=lambda activity: calls.append(activity.pk))
    with mock.patch.object(events, "handlers_for", return_value={delivery.handler: handler}):
        response = client_for(owner).post(f"/events/{delivery.pk}/retry/")
    delivery.refresh_from_db()
    assert response.status_code == 302 and delivery.status == "done" and calls == [delivery.activity_id]


def test_a_retry_that_fails_again_keeps_the_error(company, owner, client_for):
    delivery = a_failed_delivery(company, owner)
    response = client_for(owner).post(f"/events/{delivery.pk}/retry/", follow=True)
    delivery.refresh_from_db()
    assert delivery.status in ("failed", "retrying") and "No handler" in delivery.last_error
    assert b"failed again" in response.content


def test_retry_needs_event_manage_and_the_company(company, owner, outsider, client_for):
    delivery = a_failed_delivery(company, owner)
    assert client_for(member(company, "auditor")).post(f"/events/{delivery.pk}/retry/").status_code == 403
    assert client_for(outsider).post(f"/events/{delivery.pk}/retry/").status_code == 404
    assert EventDelivery.objects.get(pk=delivery.pk).attempts == 5
    assert b"No deliveries are failing" in client_for(outsider).get("/events/").content


def test_exchange_rates_are_entered_listed_and_filtered(company, owner, client_for):
    client = client_for(owner)
    response = client.post("/exchange-rates/new/", {"currency": "USD", "date": "2026-01-05", "rate": "0.9123", "source": "ECB"})
    assert response.status_code == 302
    rate = ExchangeRate.objects.get(company=company)
    assert rate.rate == Decimal("0.9123") and rate.date == dt.date(2026, 1, 5)
    client.post("/exchange-rates/new/", {"currency": "GBP", "date": "2026-01-05", "rate": "1.17"})
    listed = client.get("/exchange-rates/?currency=usd").context["page_obj"].object_list
    assert [(r.currency_id, r.rate) for r in listed] == [("USD", Decimal("0.9123"))]
    assert b"No exchange rates entered" in client.get("/exchange-rates/?currency=JPY").content


@pytest.mark.parametrize(
    ("data", "field"),
    [({"currency": "USD", "date": "2026-01-05", "rate": "-1"}, "rate"),
     ({"currency": "USD", "date": "2026-01-05", "rate": "1e30"}, "rate"),
     ({"currency": "EUR", "date": "2026-01-05", "rate": "1"}, "currency"),
     ({"currency": "USD", "date": "not a date", "rate": "1"}, "date")],
)
def test_bad_rates_are_refused_and_counted(company, owner, client_for, data, field):
    response = client_for(owner).post("/exchange-rates/new/", data)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not ExchangeRate.objects.exists()
    assert SubmissionCount.objects.get(company=company, document_type="core.exchange_rate").rejected == 1


def test_only_currency_managers_enter_rates(company, client_for):
    response = client_for(member(company, "billing_clerk")).post("/exchange-rates/new/", {"currency": "USD", "date": "2026-01-05", "rate": "1"})
    assert response.status_code == 403 and not ExchangeRate.objects.exists()
    assert not Activity.objects.filter(verb="core.exchange_rate_set").exists()
