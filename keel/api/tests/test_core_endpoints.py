"""The core's endpoints: happy paths and refusals, nothing written on refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from keel.api.tests.conftest import assert_error
from keel.core import events
from keel.core.activity import record
from keel.core.choices import DeliveryStatus
from keel.core.models import (
    Activity,
    Address,
    Attachment,
    Company,
    ContactPoint,
    EventDelivery,
    ExchangeRate,
    Membership,
    Party,
    Role,
)
from keel.core.services.attachments import attach_file
from keel.core.tests.factories import UserFactory, member

pytestmark = pytest.mark.django_db


# -- companies -----------------------------------------------------------------------------------


def test_i_list_and_read_my_companies_only(api, company, other_company, owner):
    member(other_company, "auditor", user=owner)
    items = api.get("/api/companies").json()["items"]
    assert [c["code"] for c in items] == ["acme", "globex"]
    detail = api.get(f"/api/companies/{company.pk}").json()
    assert detail["legal_name"] == "Acme Trading Ltd" and detail["base_currency"] == "EUR"


def test_staff_create_companies_and_become_owner(api_for):
    staff = UserFactory(is_staff=True)
    response = api_for(staff).post(
        "/api/companies",
        {"code": "initech", "legal_name": "Initech Ltd", "country": "GB", "base_currency": "GBP"},
    )
    assert response.status_code == 201, response.content
    company = Company.objects.get(code="initech")
    assert Membership.objects.get(company=company, user=staff).role.code == "owner"


def test_non_staff_cannot_create_companies(api):
    assert_error(
        api.post("/api/companies", {"code": "x1", "legal_name": "X", "country": "GB", "base_currency": "EUR"}),
        403, "company.create_denied",
    )
    assert not Company.objects.filter(code="x1").exists()


def test_a_duplicate_company_code_is_a_409(api_for, company):
    staff = UserFactory(is_staff=True)
    body = {"code": "acme", "legal_name": "Other", "country": "GB", "base_currency": "EUR"}
    assert_error(api_for(staff).post("/api/companies", body), 409, "company.duplicate_code")


def test_settings_are_patched_through_the_service(api, company):
    response = api.patch(f"/api/companies/{company.pk}", {"city": "Leeds", "fiscal_year_start_month": 4})
    assert response.status_code == 200, response.content
    company.refresh_from_db()
    assert (company.city, company.fiscal_year_start_month) == ("Leeds", 4)
    assert Activity.objects.filter(company=company, verb="core.company_updated").exists()


def test_an_unknown_currency_is_refused_naming_the_field(api, company):
    body = assert_error(api.patch(f"/api/companies/{company.pk}", {"base_currency": "XXZ"}), 400, "currency.unknown")
    assert body["errors"][0]["field"] == "base_currency"
    company.refresh_from_db()
    assert company.base_currency_id == "EUR"


def test_an_auditor_may_read_but_not_patch(api_for, company):
    auditor = member(company, "auditor")
    client = api_for(auditor, company)
    assert client.get(f"/api/companies/{company.pk}").status_code == 200
    assert_error(client.patch(f"/api/companies/{company.pk}", {"city": "X"}), 403, "permission.denied")


# -- memberships and roles -----------------------------------------------------------------------


def test_members_are_added_listed_and_changed(api, company):
    created = api.post("/api/memberships", {"email": "Clerk@Acme.test", "role": "billing_clerk"})
    assert created.status_code == 201, created.content
    assert created.json()["username"] == "clerk@acme.test" and created.json()["role"] == "billing_clerk"
    listed = api.get("/api/memberships").json()["items"]
    assert {m["username"] for m in listed} == {"owner@acme.test", "clerk@acme.test"}

    changed = api.patch(f"/api/memberships/{created.json()['id']}", {"role": "accountant", "is_active": False})
    assert changed.status_code == 200
    assert (changed.json()["role"], changed.json()["is_active"]) == ("accountant", False)


def test_the_last_owner_cannot_be_demoted(api, company, owner):
    membership = Membership.objects.get(company=company, user=owner)
    assert_error(api.patch(f"/api/memberships/{membership.pk}", {"role": "employee"}), 409, "membership.last_owner")
    membership.refresh_from_db()
    assert membership.role.code == "owner"


def test_an_unknown_role_is_refused(api):
    assert_error(api.post("/api/memberships", {"email": "x@acme.test", "role": "wizard"}), 400, "role.not_found")
    assert not Membership.objects.filter(user__username="x@acme.test").exists()


def test_roles_are_listed_and_their_patterns_replaced(api, company):
    roles = api.get("/api/roles?limit=200").json()["items"]
    assert "employee" in {r["code"] for r in roles}
    employee = Role.objects.get(company=company, code="employee")
    response = api.patch(f"/api/roles/{employee.pk}", {"permissions": ["task.*", "party.view"]})
    assert response.status_code == 200
    assert response.json()["permissions"] == ["party.view", "task.*"]
    assert_error(api.patch(f"/api/roles/{employee.pk}", {"permissions": ["DROP TABLE"]}), 400, "role.invalid_permission")
    employee.refresh_from_db()
    assert employee.permissions == ["party.view", "task.*"]


# -- parties -------------------------------------------------------------------------------------


def test_a_party_is_created_with_roles_and_addresses(api, company):
    response = api.post("/api/parties", {
        "name": "Initech GmbH", "roles": ["supplier", "customer"], "email": "AP@initech.test",
        "addresses": [{"street": "Hauptstr. 1", "city": "Berlin", "country": "de", "kind": "billing"}],
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["roles"] == ["customer", "supplier"] and body["email"] == "ap@initech.test"
    assert body["addresses"][0]["country"] == "DE"


def test_a_possible_duplicate_is_a_409_listing_them_unless_allowed(api, party):
    body = assert_error(api.post("/api/parties", {"name": "HOOLI"}), 409, "party.possible_duplicate")
    assert body["duplicates"] == [{"id": party.pk, "name": "Hooli Ltd", "reason": "same name"}]
    assert Party.objects.count() == 1
    assert api.post("/api/parties", {"name": "HOOLI", "allow_duplicate": True}).status_code == 201
    assert Party.objects.count() == 2


def test_parties_are_searched_and_filtered(api, company, owner, party):
    api.post("/api/parties", {"name": "Initech", "roles": ["supplier"], "tax_id": "GB980780684", "kind": "organisation"})
    api.post("/api/parties", {"name": "Jane Doe", "kind": "person", "email": "jane@doe.test"})

    def names(query):
        return [p["name"] for p in api.get(f"/api/parties?{query}").json()["items"]]

    assert names("") == ["Hooli Ltd", "Initech", "Jane Doe"]
    assert names("q=hooli") == ["Hooli Ltd"]
    assert names("q=980780") == ["Initech"]
    assert names("q=doe.test") == ["Jane Doe"]
    assert names("role=supplier") == ["Initech"]
    assert names("kind=person") == ["Jane Doe"]
    api.patch(f"/api/parties/{party.pk}", {"is_active": False})
    assert names("is_active=false") == ["Hooli Ltd"]
    assert_error(api.get("/api/parties?role=pirate"), 400, "request.invalid")


def test_a_party_is_patched_and_gets_addresses_and_contact_points(api, party):
    patched = api.patch(f"/api/parties/{party.pk}", {"phone": "+44 20 7946 0000", "roles": ["customer", "supplier"]})
    assert patched.status_code == 200 and patched.json()["roles"] == ["customer", "supplier"]
    address = api.post(f"/api/parties/{party.pk}/addresses", {"street": "1 Main St", "city": "York", "country": "GB"})
    assert address.status_code == 201 and address.json()["city"] == "York"
    point = api.post(f"/api/parties/{party.pk}/contact-points", {"kind": "mobile", "value": "+44 7700 900000"})
    assert point.status_code == 201
    detail = api.get(f"/api/parties/{party.pk}").json()
    assert [a["street"] for a in detail["addresses"]] == ["1 Main St"]
    assert [c["value"] for c in detail["contact_points"]] == ["+44 7700 900000"]


def test_bad_party_input_is_refused_and_nothing_changes(api, party):
    assert_error(api.patch(f"/api/parties/{party.pk}", {"email": "nope"}), 400, "party.invalid")
    assert_error(api.post(f"/api/parties/{party.pk}/addresses", {"street": "x", "city": "y", "country": "ZZ"}), 400, "country.unknown")
    assert_error(api.post(f"/api/parties/{party.pk}/contact-points", {"kind": "email", "value": "nope"}), 400, "contact.invalid")
    party.refresh_from_db()
    assert party.email == "ap@hooli.test"
    assert not Address.objects.exists() and not ContactPoint.objects.exists()


def test_a_missing_party_is_404(api):
    assert_error(api.get("/api/parties/424242"), 404, "record.not_found")
    assert_error(api.patch("/api/parties/424242", {"name": "x"}), 404, "record.not_found")


# -- exchange rates ------------------------------------------------------------------------------


def test_rates_are_set_listed_and_looked_up(api, company):
    response = api.post("/api/exchange-rates", {"currency": "usd", "date": "2026-01-05", "rate": "0.9123456789"})
    assert response.status_code == 200, response.content
    assert response.json()["rate"] == "0.9123456789" and response.json()["currency"] == "USD"
    api.post("/api/exchange-rates", {"currency": "USD", "date": "2026-02-01", "rate": "0.95"})
    listed = api.get("/api/exchange-rates?currency=USD").json()["items"]
    assert [r["date"] for r in listed] == ["2026-02-01", "2026-01-05"]

    lookup = api.get("/api/exchange-rates/lookup?currency=usd&date=2026-01-31").json()
    assert lookup == {"currency": "USD", "date": "2026-01-31", "rate": "0.9123456789"}
    assert api.get("/api/exchange-rates/lookup?currency=EUR&date=2026-01-31").json()["rate"] == "1"
    assert_error(api.get("/api/exchange-rates/lookup?currency=USD&date=2025-01-01"), 404, "rate.not_found")
    assert ExchangeRate.objects.get(company=company, date=dt.date(2026, 1, 5)).rate == Decimal("0.9123456789")


def test_bad_rates_are_refused(api):
    assert_error(api.post("/api/exchange-rates", {"currency": "EUR", "date": "2026-01-05", "rate": "1"}), 400, "rate.base_currency")
    assert_error(api.post("/api/exchange-rates", {"currency": "USD", "date": "2026-01-05", "rate": "-1"}), 400, "request.invalid")
    assert_error(api.post("/api/exchange-rates", {"currency": "QQQ", "date": "2026-01-05", "rate": "1"}), 400, "currency.unknown")
    assert not ExchangeRate.objects.exists()


# -- activities -----------------------------------------------------------------------------------


def test_activities_are_listed_per_company_or_across_and_filtered(api_for, company, other_company, owner, party):
    member(other_company, "auditor", user=owner)
    from keel.core.services.parties import create_party

    other_owner = member(other_company, "owner")
    create_party(actor=other_owner, company=other_company, name="Globex Customer")
    client = api_for(owner)
    across = client.get("/api/activities").json()["items"]
    assert {a["company"] for a in across} == {"acme", "globex"}
    only_acme = client.get("/api/activities", headers={"X-Keel-Company": "acme"}).json()["items"]
    assert {a["company"] for a in only_acme} == {"acme"}

    def verbs(query):
        return [a["verb"] for a in client.get(f"/api/activities?{query}", headers={"X-Keel-Company": "acme"}).json()["items"]]

    assert verbs("verb=core.party_created") == ["core.party_created"]
    assert verbs(f"subject_type=core.party&subject_id={party.pk}") == ["core.party_created"]
    assert verbs(f"actor={owner.username}") == ["core.party_created"]
    assert verbs(f"actor={owner.pk}") == ["core.party_created"]
    assert verbs("actor=999999999999999999999") == []
    today = timezone.localdate().isoformat()
    assert verbs(f"date_from={today}&date_to={today}") == ["core.party_created"]
    assert verbs("date_to=2000-01-01") == []


def test_activities_across_companies_skip_those_without_the_permission(api_for, company, other_company, party):
    worker = member(company, "employee")
    member(other_company, "auditor", user=worker)
    items = api_for(worker).get("/api/activities").json()["items"]
    assert all(a["company"] == "globex" for a in items)


# -- attachments ----------------------------------------------------------------------------------


def test_a_file_is_uploaded_listed_and_downloaded(api, company, party):
    upload = SimpleUploadedFile("contract.pdf", b"%PDF-1.4 hello", content_type="application/pdf")
    response = api.client.post(
        "/api/attachments", data={"subject_type": "core.party", "subject_id": str(party.pk), "file": upload},
        headers=api.headers,
    )
    assert response.status_code == 201, response.content
    attachment_id = response.json()["id"]
    assert response.json()["size"] == 14
    listed = api.get(f"/api/attachments?subject_type=core.party&subject_id={party.pk}").json()["items"]
    assert [a["id"] for a in listed] == [attachment_id]
    download = api.get(f"/api/attachments/{attachment_id}/download")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 hello"
    assert "contract.pdf" in download["Content-Disposition"]


def test_a_refused_upload_keeps_nothing(api, party):
    upload = SimpleUploadedFile("virus.exe", b"MZ")
    response = api.client.post(
        "/api/attachments", data={"subject_type": "core.party", "subject_id": str(party.pk), "file": upload},
        headers=api.headers,
    )
    assert_error(response, 400, "attachment.type_not_allowed")
    assert not Attachment.objects.exists()


def test_an_upload_to_an_unknown_record_is_404(api):
    upload = SimpleUploadedFile("a.txt", b"x")
    for subject_type, subject_id in [("core.party", "999"), ("nope.nothing", "1"), ("auth.user", "1")]:
        response = api.client.post(
            "/api/attachments", data={"subject_type": subject_type, "subject_id": subject_id, "file": upload},
            headers=api.headers,
        )
        assert_error(response, 404, "record.not_found")


def test_a_download_needs_the_record_to_be_visible(api_for, company, owner, party):
    attachment = attach_file(actor=owner, subject=party, upload=SimpleUploadedFile("a.txt", b"secret"))
    clerk = member(company, "employee")
    Role.objects.filter(company=company, code="employee").update(permissions=["attachment.view"])
    assert_error(api_for(clerk).get(f"/api/attachments/{attachment.pk}/download"), 404, "record.not_found")


# -- event deliveries -------------------------------------------------------------------------------

_calls: list[int] = []


def _flaky(activity):
    if not _calls:
        _calls.append(activity.pk)
        raise RuntimeError("first time fails")
    _calls.append(activity.pk)


@pytest.fixture
def failed_delivery(company, owner, settings):
    settings.KEEL_EVENT_MAX_ATTEMPTS = 1
    _calls.clear()
    events.subscribe("tests.thing_happened")(_flaky)
    try:
        with pytest.MonkeyPatch.context():
            from django.db import transaction

            with transaction.atomic():
                record(company=company, actor=owner, verb="tests.thing_happened", subject=company)
            delivery = EventDelivery.objects.get(company=company, event="tests.thing_happened")
            events.deliver(delivery.pk)
            delivery.refresh_from_db()
            yield delivery
    finally:
        events.unsubscribe("tests.thing_happened", _flaky)


def test_failed_deliveries_are_listed_and_retried(api, failed_delivery):
    assert failed_delivery.status == DeliveryStatus.FAILED
    listed = api.get("/api/event-deliveries").json()["items"]
    assert [d["id"] for d in listed] == [failed_delivery.pk]
    retried = api.post(f"/api/event-deliveries/{failed_delivery.pk}/retry")
    assert retried.status_code == 200, retried.content
    assert retried.json()["status"] == "done"
    assert api.get("/api/event-deliveries").json()["items"] == []
    assert [d["id"] for d in api.get("/api/event-deliveries?status=done").json()["items"]] == [failed_delivery.pk]


def test_retrying_needs_event_manage(api_for, company, failed_delivery):
    auditor = member(company, "auditor")
    client = api_for(auditor, company)
    assert client.get("/api/event-deliveries").status_code == 200
    assert_error(client.post(f"/api/event-deliveries/{failed_delivery.pk}/retry"), 403, "permission.denied")
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == DeliveryStatus.FAILED
