"""Task pages: my tasks across companies, the company's list, create, complete/cancel/reopen."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from keel.core.models import Role, SubmissionCount
from keel.core.services.parties import create_party
from keel.core.tests.factories import member
from keel.inbox.models import Task
from keel.inbox.services import create_task
from keel.web.tests.pages import Page, page_tests

pytestmark = pytest.mark.django_db


def a_task(company, owner, **values):
    values.setdefault("assignee", owner)
    return create_task(actor=owner, company=company, title=values.pop("title", "Approve invoice"), **values)


(test_page_renders, test_page_needs_permission, test_page_of_other_company_is_404, test_page_needs_login) = page_tests([
    Page("inbox:task_inbox", denied_role=None),
    Page("inbox:task_list", denied_role=None),
    Page("inbox:task_create", denied_role="auditor"),
    Page("inbox:task_detail", make=lambda c, o: {"pk": a_task(c, o).pk}, denied_role=None),
])


def test_my_tasks_span_my_companies_and_show_each_company(company, other_company, owner, outsider, client_for):
    member(other_company, "employee", user=owner)
    a_task(company, owner, title="Here")
    create_task(actor=outsider, company=other_company, title="There", assignee=owner)
    content = client_for(owner).get("/tasks/mine/").content.decode()
    assert "Here" in content and "There" in content
    assert "Acme Trading Ltd" in content and "Globex Services GmbH" in content


def test_overdue_tasks_are_highlighted(company, owner, client_for):
    a_task(company, owner, title="Late", due_date=timezone.localdate() - dt.timedelta(days=2))
    a_task(company, owner, title="Fine", due_date=timezone.localdate() + dt.timedelta(days=2))
    content = client_for(owner).get("/tasks/mine/").content.decode()
    assert content.count('class="overdue"') == 1 and content.count("badge overdue") == 1
    late_row = content[content.index('class="overdue"'):]
    assert late_row.index("Late") < late_row.index("</tr>")


def test_the_company_list_filters_by_status_and_says_when_empty(company, owner, client_for):
    a_task(company, owner, title="Open one")
    client = client_for(owner)
    assert b"Open one" in client.get("/tasks/").content
    assert b"No tasks here" in client.get("/tasks/?status=done").content
    assert b"Open one" in client.get("/tasks/?status=").content
    assert client.get("/tasks/?status=bogus").status_code == 200


def test_creating_a_task_for_a_member_about_a_party(company, owner, client_for):
    clerk = member(company, "billing_clerk")
    party = create_party(actor=owner, company=company, name="Hooli")
    client = client_for(owner)
    form = client.get(f"/tasks/new/?subject_type=core.party&subject_id={party.pk}")
    assert b"About: <strong>Hooli" in form.content
    response = client.post("/tasks/new/", {"title": "Call Hooli", "assignee": clerk.pk, "due_date": "2026-03-01",
                                           "subject_type": "core.party", "subject_id": party.pk})
    task = Task.objects.get()
    assert response.status_code == 302 and task.assignee == clerk and task.subject_repr == "Hooli"
    assert task.due_date == dt.date(2026, 3, 1)
    assert b"Call Hooli" in client.get(f"/parties/{party.pk}/").content


def test_creating_a_task_for_a_role(company, owner, client_for):
    role = Role.objects.get(company=company, code="accountant")
    response = client_for(owner).post("/tasks/new/", {"title": "Close the month", "assignee_role": role.pk})
    assert response.status_code == 302 and Task.objects.get().assignee_role == role


@pytest.mark.parametrize(
    ("data", "error"),
    [({"title": "No one"}, "__all__"), ({"title": "t" * 201, "assignee": "OWNER"}, "title"),
     ({"title": "Bad date", "assignee": "OWNER", "due_date": "2026-02-31"}, "due_date"),
     ({"title": "Stranger", "assignee": "OUTSIDER"}, "assignee")],
)
def test_bad_tasks_are_refused_and_nothing_is_written(company, owner, outsider, client_for, data, error):
    ids = {"OWNER": owner.pk, "OUTSIDER": outsider.pk}
    data = {k: ids.get(v, v) for k, v in data.items()}
    response = client_for(owner).post("/tasks/new/", data)
    assert response.status_code == 200 and error in response.context["form"].errors
    assert not Task.objects.exists()
    assert SubmissionCount.objects.get(company=company, document_type="inbox.task").rejected == 1


def test_a_link_to_a_record_of_another_company_is_404(company, other_company, owner, outsider, client_for):
    theirs = create_party(actor=outsider, company=other_company, name="Theirs")
    response = client_for(owner).post("/tasks/new/", {"title": "Snoop", "assignee": owner.pk,
                                                      "subject_type": "core.party", "subject_id": theirs.pk})
    assert response.status_code == 404 and not Task.objects.exists()


def test_complete_cancel_reopen(company, owner, client_for):
    task = a_task(company, owner)
    client = client_for(owner)
    assert client.post(f"/tasks/{task.pk}/complete/").status_code == 302
    task.refresh_from_db()
    assert task.status == "done" and task.completed_by == owner
    assert client.post(f"/tasks/{task.pk}/reopen/").status_code == 302
    task.refresh_from_db()
    assert task.status == "open"
    client.post(f"/tasks/{task.pk}/cancel/", {"next": "/tasks/mine/"})
    task.refresh_from_db()
    assert task.status == "cancelled"
    assert b"inbox.task_cancelled" in client.get(f"/tasks/{task.pk}/").content


def test_an_illegal_move_shows_a_message_and_changes_nothing(company, owner, client_for):
    task = a_task(company, owner)
    client = client_for(owner)
    client.post(f"/tasks/{task.pk}/complete/")
    response = client.post(f"/tasks/{task.pk}/complete/", follow=True)
    assert b"cannot go from" in response.content
    task.refresh_from_db()
    assert task.status == "done"


def test_someone_elses_task_cannot_be_completed(company, owner, client_for):
    # Not theirs to see, so not theirs to act on: the same answer as for a task that is not there.
    task = a_task(company, owner)
    clerk = member(company, "billing_clerk")
    assert client_for(clerk).post(f"/tasks/{task.pk}/complete/").status_code == 404
    task.refresh_from_db()
    assert task.status == "open"


def test_an_employee_lists_only_their_own_tasks(company, owner, client_for):
    employee = member(company, "employee")
    a_task(company, owner, title="Owner's approval")
    a_task(company, owner, title="Employee's checklist", assignee=employee)
    create_task(actor=employee, company=company, title="Asked of the owner", assignee=owner)
    content = client_for(employee).get("/tasks/?status=").content.decode()
    assert "Employee&#x27;s checklist" in content and "Asked of the owner" in content
    assert "Owner&#x27;s approval" not in content
    everything = client_for(owner).get("/tasks/?status=").content.decode()
    assert "Owner&#x27;s approval" in everything and "Employee&#x27;s checklist" in everything


def test_a_task_of_another_company_is_404_for_every_action(company, owner, outsider, client_for):
    task = a_task(company, owner)
    client = client_for(outsider)
    for action in ("complete", "cancel", "reopen"):
        assert client.post(f"/tasks/{task.pk}/{action}/").status_code == 404
    task.refresh_from_db()
    assert task.status == "open"


def test_the_task_list_has_a_fixed_number_of_queries(company, owner, client_for, django_assert_max_num_queries):
    for i in range(30):
        a_task(company, owner, title=f"Task {i}")
    client = client_for(owner)
    client.get("/tasks/")
    with django_assert_max_num_queries(8):
        assert client.get("/tasks/").status_code == 200
