"""Party pages: list (search, filters, pages, query count), create with duplicate warning,
edit, addresses and contact points; bad input shows an error and writes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from keel.core.models import Activity, Address, ContactPoint, Party, PartyRole, SubmissionCount
from keel.core.services.parties import create_party
from keel.core.tests.factories import member

pytestmark = pytest.mark.django_db


def submissions(company, document_type="core.party"):
    row = SubmissionCount.objects.filter(company=company, document_type=document_type).first()
    return (row.submitted, row.rejected) if row else (0, 0)


def test_the_list_searches_name_tax_id_and_email(company, owner, client_for):
    create_party(actor=owner, company=company, name="Hooli", email="ap@hooli.test")
    create_party(actor=owner, company=company, name="Initech", tax_id="GB980780684", tax_country="GB")
    create_party(actor=owner, company=company, name="Pied Piper")
    client = client_for(owner)
    assert b"Hooli" in client.get("/parties/?q=hoo").content
    found = client.get("/parties/?q=980780").content
    assert b"Initech" in found and b"Hooli" not in found
    found = client.get("/parties/?q=ap@hooli").content
    assert b"Hooli" in found and b"Pied Piper" not in found


def test_the_list_filters_by_role_kind_and_active(company, owner, client_for):
    create_party(actor=owner, company=company, name="Customer One", roles=["customer"])
    create_party(actor=owner, company=company, name="Supplier Two", roles=["supplier"], kind="person")
    gone = create_party(actor=owner, company=company, name="Gone Three", roles=["customer"])
    Party.objects.filter(pk=gone.pk).update(is_active=False)
    client = client_for(owner)
    content = client.get("/parties/?role=customer").content
    assert b"Customer One" in content and b"Supplier Two" not in content and b"Gone Three" not in content
    content = client.get("/parties/?kind=person").content
    assert b"Supplier Two" in content and b"Customer One" not in content
    content = client.get("/parties/?active=no").content
    assert b"Gone Three" in content and b"Customer One" not in content
    assert b"Gone Three" in client.get("/parties/?active=all&role=customer").content


def test_the_list_is_empty_with_a_message(company, owner, client_for):
    response = client_for(owner).get("/parties/?q=nothing-like-this")
    assert b"No parties match" in response.content


def test_the_list_shows_50_a_page_and_survives_bad_page_numbers(company, owner, client_for):
    Party.objects.bulk_create([Party(company=company, name=f"Party {i:03d}", normalized_name=f"party {i:03d}") for i in range(120)])
    client = client_for(owner)
    first = client.get("/parties/")
    assert first.context["page_obj"].paginator.per_page == 50
    assert len(first.context["page_obj"].object_list) == 50 and b"Page 1 of 3" in first.content
    assert b"Party 119" in client.get("/parties/?page=3").content
    for bad in ("abc", "-1", "99999999999999999999999"):
        assert client.get(f"/parties/?page={bad}").status_code == 200


def test_the_list_with_60_parties_costs_a_fixed_number_of_queries(company, owner, client_for, django_assert_max_num_queries):
    for i in range(60):
        party = Party.objects.create(company=company, name=f"Party {i:02d}", normalized_name=f"party {i:02d}")
        PartyRole.objects.create(company=company, party=party, role="customer")
        PartyRole.objects.create(company=company, party=party, role="supplier")
    client = client_for(owner)
    client.get("/parties/")  # warm the session
    # session, user, memberships, count, page, roles (prefetch) = 6; a little room for the session save.
    with django_assert_max_num_queries(8):
        response = client.get("/parties/?role=customer")
    assert response.status_code == 200 and response.content.count(b"Supplier</span>") == 50


def test_htmx_search_returns_only_the_results(company, owner, client_for):
    create_party(actor=owner, company=company, name="Hooli")
    response = client_for(owner).get("/parties/?q=hoo", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="party-results")
    assert b"Hooli" in response.content and b"<html" not in response.content


def test_creating_a_party_records_it_and_counts_the_submission(company, owner, client_for):
    response = client_for(owner).post("/parties/new/", {
        "name": "Hooli", "kind": "organisation", "roles": ["customer", "supplier"], "email": "ap@hooli.test",
        "tax_id": "GB980780684", "tax_country": "GB",
    })
    party = Party.objects.get(company=company)
    assert response.status_code == 302 and response["Location"] == reverse("core:party_detail", kwargs={"pk": party.pk})
    assert party.role_codes == ["customer", "supplier"] and party.tax_id == "980780684"
    assert Activity.objects.filter(company=company, verb="core.party_created", subject_id=str(party.pk)).exists()
    assert submissions(company) == (1, 0)


def test_a_possible_duplicate_is_shown_with_links_then_created_anyway(company, owner, client_for):
    first = create_party(actor=owner, company=company, name="Hooli Ltd")
    client = client_for(owner)
    assert b"Create anyway" not in client.get("/parties/new/").content
    response = client.post("/parties/new/", {"name": "Hooli", "kind": "organisation"})
    assert response.status_code == 200 and Party.objects.count() == 1
    assert reverse("core:party_detail", kwargs={"pk": first.pk}).encode() in response.content
    assert b"Create anyway" in response.content and b"This looks like a party you already have" in response.content
    assert submissions(company) == (1, 1)
    response = client.post("/parties/new/", {"name": "Hooli", "kind": "organisation", "allow_duplicate": "on"})
    assert response.status_code == 302 and Party.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "x" * 201}, "name", b"at most 200 characters"),
        ({"name": "Bad VAT", "tax_id": "DE123"}, "tax_id", b"is not a valid tax identifier"),
        ({"name": ""}, "name", b"This field is required"),
        ({"name": "Bad mail", "email": "not-an-email"}, "email", b"valid email"),
        ({"name": "Bad country", "tax_country": "ZZ"}, "tax_country", b"not an ISO 3166 country code"),
        ({"name": "Notes", "notes": "n" * 5001}, "notes", b"at most 5000 characters"),
    ],
)
def test_bad_input_shows_the_error_on_the_field_and_writes_nothing(company, owner, client_for, data, field, message):
    response = client_for(owner).post("/parties/new/", {"kind": "organisation", **data})
    assert response.status_code == 200
    assert field in response.context["form"].errors and message in response.content
    assert not Party.objects.exists() and not Activity.objects.filter(verb="core.party_created").exists()
    assert submissions(company) == (1, 1)


def test_the_detail_shows_roles_addresses_contacts_tasks_history(company, owner, client_for):
    from keel.inbox.services import create_task

    party = create_party(actor=owner, company=company, name="Hooli", roles=["customer"],
                         addresses=[{"street": "1 Infinite Loop", "city": "Cupertino", "country": "US"}])
    create_task(actor=owner, company=company, title="Chase Hooli", assignee=owner, subject=party)
    content = client_for(owner).get(f"/parties/{party.pk}/").content.decode()
    assert "Customer" in content and "1 Infinite Loop" in content and "Chase Hooli" in content
    assert "core.party_created" in content and "Attachments" in content


def test_editing_a_party_changes_it_and_its_roles(company, owner, client_for):
    party = create_party(actor=owner, company=company, name="Hooli", roles=["customer"])
    response = client_for(owner).post(f"/parties/{party.pk}/edit/", {
        "name": "Hooli Inc", "kind": "organisation", "roles": ["supplier"], "is_active": "on",
    })
    assert response.status_code == 302
    party.refresh_from_db()
    assert party.name == "Hooli Inc" and party.role_codes == ["supplier"]
    assert Activity.objects.filter(verb="core.party_updated", subject_id=str(party.pk)).exists()


def test_editing_with_a_bad_tax_id_changes_nothing(company, owner, client_for):
    party = create_party(actor=owner, company=company, name="Hooli")
    response = client_for(owner).post(f"/parties/{party.pk}/edit/", {"name": "Renamed", "kind": "organisation", "tax_id": "DE123", "is_active": "on"})
    assert response.status_code == 200 and "tax_id" in response.context["form"].errors
    party.refresh_from_db()
    assert party.name == "Hooli" and party.tax_id == ""


def test_adding_an_address_and_a_contact_point(company, owner, client_for):
    party = create_party(actor=owner, company=company, name="Hooli")
    client = client_for(owner)
    response = client.post(f"/parties/{party.pk}/addresses/new/", {"kind": "billing", "street": "5 Main St", "city": "Leeds", "country": "GB"})
    assert response.status_code == 302 and Address.objects.get(party=party).city == "Leeds"
    response = client.post(f"/parties/{party.pk}/contact-points/new/", {"kind": "mobile", "value": "+44 7700 900123"})
    assert response.status_code == 302 and ContactPoint.objects.get(party=party).value == "+44 7700 900123"


def test_bad_address_and_contact_point_are_refused(company, owner, client_for):
    party = create_party(actor=owner, company=company, name="Hooli")
    client = client_for(owner)
    response = client.post(f"/parties/{party.pk}/addresses/new/", {"kind": "main", "street": "5 Main St", "city": "Leeds", "country": "XX"})
    assert response.status_code == 200 and "country" in response.context["form"].errors
    response = client.post(f"/parties/{party.pk}/contact-points/new/", {"kind": "email", "value": "nope"})
    assert response.status_code == 200 and "value" in response.context["form"].errors
    assert not Address.objects.exists() and not ContactPoint.objects.exists()


def test_writes_are_refused_to_roles_without_party_manage(company, owner, client_for):
    party = create_party(actor=owner, company=company, name="Hooli")
    client = client_for(member(company, "auditor"))
    assert client.post("/parties/new/", {"name": "New", "kind": "organisation"}).status_code == 403
    assert client.post(f"/parties/{party.pk}/edit/", {"name": "X", "kind": "organisation"}).status_code == 403
    assert Party.objects.count() == 1 and Party.objects.get().name == "Hooli"


def test_a_party_of_another_company_cannot_be_edited(company, owner, outsider, client_for):
    party = create_party(actor=owner, company=company, name="Hooli")
    client = client_for(outsider)
    assert client.post(f"/parties/{party.pk}/edit/", {"name": "Stolen", "kind": "organisation"}).status_code == 404
    assert client.post(f"/parties/{party.pk}/addresses/new/", {"street": "a", "city": "b", "country": "GB"}).status_code == 404
    party.refresh_from_db()
    assert party.name == "Hooli" and not Address.objects.exists()
