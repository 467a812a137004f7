"""Shared components: record history, attachments (upload, download, removal), charts,
pagination helpers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import RequestFactory

from keel.core.models import Activity, Attachment, SubmissionCount
from keel.core.services.parties import create_party
from keel.core.tests.factories import member
from keel.insights.charts import time_series_svg
from keel.web.tests.builders import a_task, an_attachment

pytestmark = pytest.mark.django_db


def render(template: str, user, **context) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load keel_web %}" + template).render(Context({"request": request, **context}))


def test_record_history_is_one_line_and_newest_first(company, owner):
    party = create_party(actor=owner, company=company, name="Hooli")
    from keel.core.services.parties import update_party

    update_party(actor=owner, party=party, name="Hooli Inc")
    html = render("{% record_history party %}", owner, party=party)
    assert html.index("core.party_updated") < html.index("core.party_created")
    assert "owner@acme.test" in html


def test_record_history_of_a_record_without_activities_says_so(company, owner):
    html = render("{% record_history company %}", owner, company=company)
    assert "No history recorded yet" in html


def test_uploading_a_file_attaches_and_records_it(company, owner, client_for):
    party = create_party(actor=owner, company=company, name="Hooli")
    client = client_for(owner)
    response = client.post(f"/attachments/upload/core.party/{party.pk}/",
                           {"file": SimpleUploadedFile("contract.pdf", b"%PDF-1.4 data"), "next": f"/parties/{party.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/parties/{party.pk}/"
    attachment = Attachment.objects.get(company=company)
    page = client.get(f"/parties/{party.pk}/").content
    assert b"contract.pdf" in page and b"core.attachment_added" in page
    download = client.get(f"/attachments/{attachment.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 data"
    assert 'attachment; filename="contract.pdf"' in download["Content-Disposition"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("virus.exe", b"MZ", b"are not allowed"), ("big.pdf", b"x" * 2048, b"the limit is 1,024"), ("empty.txt", b"", b"empty")],
)
def test_a_refused_file_shows_the_error_on_the_field_and_keeps_nothing(company, owner, client_for, settings, name, content, message):
    settings.KEEL_ATTACHMENT_MAX_BYTES = 1024
    party = create_party(actor=owner, company=company, name="Hooli")
    response = client_for(owner).post(f"/attachments/upload/core.party/{party.pk}/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400 and message in response.content
    assert "file" in response.context["form"].errors
    assert not Attachment.objects.exists() and not (settings.MEDIA_ROOT / "attachments").exists()
    assert SubmissionCount.objects.get(company=company, document_type="core.attachment").rejected == 1


def test_attachments_are_isolated_and_need_permissions(company, owner, outsider, client_for):
    attachment = an_attachment(company, owner)
    party_id = attachment.subject_id
    assert client_for(outsider).get(f"/attachments/{attachment.pk}/").status_code == 404
    assert client_for(outsider).post(f"/attachments/{attachment.pk}/remove/").status_code == 404
    assert client_for(outsider).post(f"/attachments/upload/core.party/{party_id}/", {"file": SimpleUploadedFile("a.txt", b"x")}).status_code == 404
    employee = client_for(member(company, "employee"))
    assert employee.get(f"/attachments/{attachment.pk}/").status_code == 403
    assert Attachment.objects.count() == 1


def test_a_file_is_not_served_when_its_record_is_not_visible(company, owner, client_for):
    attachment = an_attachment(company, owner)  # on a party: needs party.view besides attachment.view
    role = member(company, "employee").memberships.get().role
    role.permissions = ["attachment.view"]
    role.save()
    user = role.memberships.get().user
    assert client_for(user).get(f"/attachments/{attachment.pk}/").status_code == 404


def test_unknown_record_types_are_404(company, owner, client_for):
    client = client_for(owner)
    for path in ("/attachments/upload/nope.nothing/1/", "/attachments/upload/core.party/abc/", "/attachments/upload/auth.user/1/"):
        assert client.post(path, {"file": SimpleUploadedFile("a.txt", b"x")}).status_code == 404


def test_removing_an_attachment(company, owner, client_for):
    attachment = an_attachment(company, owner)
    response = client_for(owner).post(f"/attachments/{attachment.pk}/remove/", {"next": "/parties/"})
    assert response.status_code == 302 and response["Location"] == "/parties/"
    assert not Attachment.objects.exists()
    assert Activity.objects.filter(verb="core.attachment_removed").count() == 1


def test_attachments_on_a_task_of_my_other_company_work_from_my_tasks(company, other_company, owner, client_for):
    member(other_company, "owner", user=owner)
    task = a_task(other_company, owner)
    response = client_for(owner).post(f"/attachments/upload/inbox.task/{task.pk}/", {"file": SimpleUploadedFile("a.txt", b"x")})
    assert response.status_code == 302 and Attachment.objects.get().company == other_company


def test_the_chart_is_an_accessible_svg_with_gaps_and_target():
    day = dt.date(2026, 1, 1)
    series = [(day, Decimal(1)), (day + dt.timedelta(1), Decimal(3)), (day + dt.timedelta(2), None),
              (day + dt.timedelta(3), Decimal("2.5")), (day + dt.timedelta(4), Decimal(4))]
    svg = str(time_series_svg(series, title="Volume <b>", unit="activities", target=Decimal(2)))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title>" in svg
    assert svg.count("<polyline") == 2  # the missing day breaks the line
    assert 'class="chart-target"' in svg and "Volume &lt;b&gt;" in svg and "<b>" not in svg
    assert "2026-01-01" in svg and "2026-01-05" in svg


def test_the_chart_of_an_empty_series_says_no_data():
    svg = str(time_series_svg([(dt.date(2026, 1, 1), None)], title="Rate"))
    assert "no data" in svg and "<polyline" not in svg


@pytest.mark.parametrize(("value", "decimals", "shown"), [
    (Decimal("1234567.5"), None, "1,234,567.5"),
    (Decimal("1234567.5"), 2, "1,234,567.50"),
    (Decimal("-1450.00"), None, "-1,450.00"),
    (Decimal("100.0000"), 2, "100.00"),
    (Decimal("12"), 0, "12"),
    (None, None, ""),
    ("n/a", None, "n/a"),
])
def test_money_separates_thousands_and_keeps_the_decimals_asked_for(value, decimals, shown):
    from keel.web.templatetags.keel_web import money

    assert (money(value) if decimals is None else money(value, decimals)) == shown
