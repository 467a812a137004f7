"""The platform KPIs: activity volume per department, data-entry error rate."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from keel.core import submissions
from keel.core.activity import record
from keel.core.exceptions import ValidationFailed
from keel.core.services.parties import create_party
from keel.insights.registry import all_kpis, get_kpi
from keel.insights.selectors import read_kpis
from keel.insights.services import set_target

pytestmark = pytest.mark.django_db


def test_activity_volume_counts_per_day_and_department(company, owner):
    today = timezone.localdate()
    create_party(actor=owner, company=company, name="Hooli")
    record(company=company, actor=owner, verb="billing.invoice_issued", subject=company)
    record(company=company, actor=owner, verb="billing.invoice_paid", subject=company)
    kpi = get_kpi("core.activity_volume")
    assert kpi.compute(company, today, today) == Decimal(3)
    assert kpi.compute(company, today - dt.timedelta(days=10), today - dt.timedelta(days=1)) == Decimal(0)
    assert kpi.breakdown(company, today, today) == [("billing", Decimal(2)), ("core", Decimal(1))]
    series = kpi.daily_series(company, today - dt.timedelta(days=2), today)
    assert [value for _day, value in series] == [Decimal(0), Decimal(0), Decimal(3)]


def test_error_rate_counts_rejected_against_submitted_per_document_type(company, owner):
    today = timezone.localdate()
    with submissions.track(company, "party"):
        create_party(actor=owner, company=company, name="Hooli")
    for bad in ("", "DE123"):
        with pytest.raises(ValidationFailed), submissions.track(company, "party"):
            create_party(actor=owner, company=company, name=bad or " ", tax_id=bad)
    submissions.count(company, "task", rejected=False)
    kpi = get_kpi("core.data_entry_error_rate")
    assert kpi.compute(company, today, today) == Decimal("50.00")  # 2 of 4
    assert dict(kpi.breakdown(company, today, today)) == {"party": Decimal("66.67"), "task": Decimal("0.00")}


def test_no_submissions_means_no_error_rate_rather_than_zero(company):
    today = timezone.localdate()
    assert get_kpi("core.data_entry_error_rate").compute(company, today, today) is None


def test_targets_say_whether_a_kpi_is_met(company, owner):
    set_target(actor=owner, company=company, kpi_code="core.data_entry_error_rate", target="5")
    submissions.count(company, "party", rejected=False)
    today = timezone.localdate()
    [reading] = read_kpis(company, today, today, codes=["core.data_entry_error_rate"])
    assert reading.value == Decimal("0.00") and reading.target == Decimal(5) and reading.on_target is True
    with pytest.raises(ValidationFailed):
        set_target(actor=owner, company=company, kpi_code="nope", target="1")


def test_platform_kpis_are_registered():
    assert {"core.activity_volume", "core.data_entry_error_rate"} <= {k.code for k in all_kpis()}
