"""The task inbox and the KPIs over the API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from keel.api.tests.conftest import assert_error
from keel.core.models import Role, SubmissionCount
from keel.core.tests.factories import member
from keel.inbox.models import Task
from keel.inbox.services import create_task
from keel.insights.models import KpiTarget

pytestmark = pytest.mark.django_db


def test_a_task_is_created_for_a_member_about_a_record(api, company, party):
    clerk = member(company, "billing_clerk")
    response = api.post("/api/tasks", {
        "title": "Call Hooli", "assignee": clerk.username, "due_date": "2026-12-01",
        "subject_type": "core.party", "subject_id": str(party.pk),
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["assignee"], body["status"], body["subject_repr"]) == (clerk.username, "open", "Hooli Ltd")
    assert body["company"] == "acme" and body["source"] == "api"


def test_bad_tasks_are_refused(api, company):
    assert_error(api.post("/api/tasks", {"title": "x"}), 400, "task.invalid")
    assert_error(api.post("/api/tasks", {"title": "x", "assignee": "ghost@nowhere.test"}), 400, "task.invalid")
    assert_error(api.post("/api/tasks", {"title": "x", "assignee_role": "wizard"}), 400, "task.invalid")
    assert_error(api.post("/api/tasks", {"title": "x", "assignee_role": "owner", "subject_type": "core.party"}), 400, "task.invalid")
    assert_error(
        api.post("/api/tasks", {"title": "x", "assignee_role": "owner", "subject_type": "core.party", "subject_id": "999"}),
        404, "record.not_found",
    )
    assert not Task.objects.exists()
    assert SubmissionCount.objects.get(company=company, document_type="task").rejected == 4


def test_my_tasks_span_my_companies_and_my_roles(api_for, company, other_company, owner):
    member(other_company, "employee", user=owner)
    other_owner = member(other_company, "owner")
    mine = create_task(actor=owner, company=company, title="Mine", assignee=owner)
    by_role = create_task(
        actor=other_owner, company=other_company, title="Role's",
        assignee_role=Role.objects.get(company=other_company, code="employee"),
    )
    create_task(actor=other_owner, company=other_company, title="Not mine", assignee=other_owner)
    client = api_for(owner)
    assert {t["id"] for t in client.get("/api/tasks/mine").json()["items"]} == {mine.pk, by_role.pk}
    narrowed = client.get("/api/tasks/mine", headers={"X-Keel-Company": "globex"}).json()["items"]
    assert [t["id"] for t in narrowed] == [by_role.pk]


def test_a_task_is_completed_reopened_cancelled_and_reassigned(api, company, owner):
    clerk = member(company, "billing_clerk")
    task = create_task(actor=owner, company=company, title="Do it", assignee=owner)
    assert api.post(f"/api/tasks/{task.pk}/complete").json()["status"] == "done"
    assert_error(api.post(f"/api/tasks/{task.pk}/complete"), 409, "task.illegal")
    assert api.post(f"/api/tasks/{task.pk}/reopen").json()["status"] == "open"
    assigned = api.post(f"/api/tasks/{task.pk}/assign", {"assignee": clerk.username})
    assert assigned.status_code == 200 and assigned.json()["assignee"] == clerk.username
    assert api.post(f"/api/tasks/{task.pk}/cancel").json()["status"] == "cancelled"
    assert_error(api.post(f"/api/tasks/{task.pk}/assign", {"assignee": owner.username}), 400, "task.not_open")
    assert [t["id"] for t in api.get("/api/tasks?status=cancelled").json()["items"]] == [task.pk]
    assert api.get("/api/tasks").json()["items"] == []
    assert api.get(f"/api/tasks/{task.pk}").json()["status"] == "cancelled"


def test_someone_elses_task_cannot_be_completed_by_an_employee(api_for, company, owner):
    employee = member(company, "employee")
    task = create_task(actor=owner, company=company, title="Owner's", assignee=owner)
    # Not theirs to see: answered as an absent task is.
    assert_error(api_for(employee, company).post(f"/api/tasks/{task.pk}/complete"), 404, "record.not_found")
    task.refresh_from_db()
    assert task.status == "open"


def test_kpis_are_listed_with_values_and_targets(api, company, party):
    assert Decimal(api.put("/api/kpis/core.activity_volume/target", {"target": "10.5"}).json()["target"]) == Decimal("10.5")
    items = api.get("/api/kpis").json()["items"]
    volume = next(k for k in items if k["code"] == "core.activity_volume")
    assert (volume["value"], Decimal(volume["target"]), volume["on_target"]) == ("2", Decimal("10.5"), False)  # party created + target set
    first = api.get("/api/kpis?limit=1").json()
    second = api.get(f"/api/kpis?limit=1&cursor={first['next_cursor']}").json()
    assert [k["code"] for k in first["items"] + second["items"]] == sorted(k["code"] for k in items)[:2]


def test_a_kpi_series_covers_each_day(api, party):
    body = api.get("/api/kpis/core.activity_volume/series?date_from=2026-01-01&date_to=2026-01-03").json()
    assert [p["date"] for p in body["points"]] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert_error(api.get("/api/kpis/nope/series"), 404, "kpi.not_found")
    assert_error(api.get("/api/kpis?date_from=2026-02-01&date_to=2026-01-01"), 400, "kpi.invalid_range")
    assert_error(api.get("/api/kpis?date_from=2000-01-01&date_to=2026-01-01"), 400, "kpi.invalid_range")


def test_targets_need_kpi_manage_and_a_known_kpi(api, api_for, company):
    assert_error(api.put("/api/kpis/nope/target", {"target": "1"}), 400, "kpi.unknown")
    accountant = member(company, "accountant")
    assert_error(api_for(accountant, company).put("/api/kpis/core.activity_volume/target", {"target": "1"}), 403, "permission.denied")
    assert not KpiTarget.objects.exists()


def test_an_employee_reaches_only_their_own_tasks_over_the_api(api_for, company, owner):
    employee = member(company, "employee")
    others = create_task(actor=owner, company=company, title="Owner's", assignee=owner)
    theirs = create_task(actor=owner, company=company, title="Employee's", assignee=employee)
    client = api_for(employee, company)
    listed = client.get("/api/tasks?status=any").json()["items"]
    assert [t["id"] for t in listed] == [theirs.pk]
    assert_error(client.get(f"/api/tasks/{others.pk}"), 404, "record.not_found")
    assert_error(client.post(f"/api/tasks/{others.pk}/assign", {"assignee": employee.username}), 404,
                 "record.not_found")
    assert_error(client.post(f"/api/tasks/{others.pk}/complete"), 404, "record.not_found")
    others.refresh_from_db()
    assert (others.status, others.assignee_id) == ("open", owner.pk)
