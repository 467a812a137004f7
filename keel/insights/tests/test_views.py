"""The dashboard: every KPI with value, chart, breakdown and target; setting a target."""

from __future__ import annotations

from decimal import Decimal

import pytest

from keel.core import submissions
from keel.core.services.parties import create_party
from keel.core.tests.factories import member
from keel.insights.models import KpiTarget
from keel.insights.registry import all_kpis
from keel.insights.services import set_target

pytestmark = pytest.mark.django_db


def test_every_kpi_is_shown_with_a_chart_and_breakdown(company, owner, client_for):
    create_party(actor=owner, company=company, name="Hooli")
    submissions.count(company, "core.party", rejected=True)
    response = client_for(owner).get("/")
    content = response.content.decode()
    assert response.status_code == 200
    for kpi in all_kpis():
        assert kpi.name in content
    assert content.count("<svg") == len(all_kpis())
    assert "<script" not in content.split("</head>")[1]  # charts are server-side
    cards = {c["reading"].kpi.code: c["reading"] for c in response.context["cards"]}
    assert cards["core.activity_volume"].value == Decimal(1)
    assert cards["core.activity_volume"].breakdown == [("core", Decimal(1))]
    assert ("core.party", Decimal("100.00")) in cards["core.data_entry_error_rate"].breakdown


def test_the_default_range_is_the_last_30_days_and_can_be_chosen(company, owner, client_for):
    client = client_for(owner)
    context = client.get("/").context
    assert (context["date_to"] - context["date_from"]).days == 29
    context = client.get("/?date_from=2026-01-01&date_to=2026-01-31").context
    assert str(context["date_from"]) == "2026-01-01" and len(context["cards"][0]["reading"].series) == 31


@pytest.mark.parametrize("query", ["date_from=2026-02-01&date_to=2026-01-01", "date_from=2000-01-01&date_to=2026-01-01",
                                   "date_from=garbage"])
def test_bad_ranges_show_an_error_and_the_default(company, owner, client_for, query):
    response = client_for(owner).get(f"/?{query}")
    assert response.status_code == 200
    assert b'class="error"' in response.content or b'class="form-errors"' in response.content
    assert (response.context["date_to"] - response.context["date_from"]).days == 29


def test_a_target_is_set_and_shown_as_met_or_not(company, owner, client_for):
    client = client_for(owner)
    response = client.post("/insights/targets/", {"kpi_code": "core.activity_volume", "target": "5", "next": "/"})
    assert response.status_code == 302
    assert KpiTarget.objects.get(company=company).target == Decimal(5)
    content = client.get("/").content.decode()
    assert "Target: 5 activities" in content and "not met" in content and 'class="chart-target"' in content


@pytest.mark.parametrize(("data", "message"), [({"kpi_code": "nope.kpi", "target": "1"}, b"No KPI"),
                                               ({"kpi_code": "core.activity_volume", "target": "lots"}, b"is not a number")])
def test_bad_targets_are_refused(company, owner, client_for, data, message):
    response = client_for(owner).post("/insights/targets/", data)
    assert response.status_code == 400 and message in response.content
    assert not KpiTarget.objects.exists()


def test_setting_targets_needs_kpi_manage_and_viewing_needs_kpi_view(company, owner, client_for):
    set_target(actor=owner, company=company, kpi_code="core.activity_volume", target=3)
    auditor = client_for(member(company, "auditor"))
    page = auditor.get("/")
    assert page.status_code == 200 and b"Save target" not in page.content and b"Target: 3" in page.content
    assert auditor.post("/insights/targets/", {"kpi_code": "core.activity_volume", "target": "9"}).status_code == 403
    assert KpiTarget.objects.get().target == Decimal(3)
    client_for(owner).logout()
    employee = client_for(member(company, "employee"))
    assert employee.get("/insights/dashboard/").status_code == 403
    assert employee.get("/")["Location"] == "/tasks/mine/"  # home leads where they may go
