"""Parties: validation, roles, duplicate detection, permissions and company isolation."""

from __future__ import annotations

import pytest

from keel.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from keel.core.models import Activity, Address, Party, PartyRole
from keel.core.services.parties import (
    add_address,
    add_contact_point,
    create_party,
    normalize_name,
    update_party,
)
from keel.core.tests.factories import member

pytestmark = pytest.mark.django_db


def test_a_party_is_created_with_roles_and_address_and_recorded(company, owner):
    party = create_party(
        actor=owner, company=company, name="Initech GmbH", roles=["customer", "supplier"],
        tax_id="DE136695976", email="Billing@Initech.example",
        addresses=[{"street": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "de"}],
    )
    assert party.tax_id == "DE136695976"
    assert party.email == "billing@initech.example"
    assert party.role_codes == ["customer", "supplier"]
    assert Address.objects.get(party=party).country == "DE"
    activity = Activity.objects.get(company=company, verb="core.party_created")
    assert activity.subject_id == str(party.pk)
    assert activity.data["roles"] == ["customer", "supplier"]


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"name": "  "}, "name", "party.invalid"),
        ({"name": "x" * 201}, "name", "party.invalid"),
        ({"tax_id": "DE123"}, "tax_id", "tax_id.invalid"),
        ({"email": "not-an-email"}, "email", "party.invalid"),
        ({"roles": ["overlord"]}, "roles", "party.invalid"),
        ({"kind": "robot"}, "kind", "party.invalid"),
        ({"tax_country": "XX"}, "tax_country", "country.unknown"),
        ({"addresses": [{"street": "", "city": "Paris", "country": "FR"}]}, "street", "address.invalid"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(company, owner, changes, field, code):
    values = {"name": "Valid Name Ltd", **changes}
    with pytest.raises(ValidationFailed) as exc:
        create_party(actor=owner, company=company, **values)
    assert exc.value.code == code
    assert field in exc.value.fields
    assert not Party.objects.exists() and not Activity.objects.exists()


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        ({"name": "Totally Different", "tax_id": "DE136695976"}, "same tax ID"),
        ({"name": "Another One", "email": "ap@initech.example"}, "same email"),
        ({"name": "Initech"}, "same name"),
        ({"name": "Initeck GmbH"}, "similar name"),
    ],
)
def test_a_likely_duplicate_is_refused_with_the_existing_party(company, owner, new, reason):
    existing = create_party(actor=owner, company=company, name="Initech GmbH", tax_id="DE136695976", email="ap@initech.example")
    with pytest.raises(Conflict) as exc:
        create_party(actor=owner, company=company, **new)
    assert exc.value.code == "party.possible_duplicate"
    assert exc.value.extra["duplicates"][0] == {"id": existing.pk, "name": "Initech GmbH", "reason": reason}
    assert Party.objects.count() == 1


def test_a_duplicate_can_be_created_deliberately(company, owner):
    create_party(actor=owner, company=company, name="Initech")
    create_party(actor=owner, company=company, name="Initech", allow_duplicate=True)
    assert Party.objects.filter(company=company).count() == 2


def test_duplicates_are_only_looked_for_in_the_same_company(company, other_company, owner, outsider):
    create_party(actor=outsider, company=other_company, name="Initech GmbH")
    create_party(actor=owner, company=company, name="Initech GmbH")
    assert Party.objects.count() == 2


def test_legal_forms_and_accents_do_not_hide_a_duplicate():
    assert normalize_name("Société Générale S.A.") == normalize_name("societe generale")


def test_roles_change_and_are_recorded(company, owner):
    party = create_party(actor=owner, company=company, name="Hooli", roles=["customer"])
    update_party(actor=owner, party=party, roles=["customer", "supplier"], phone="+44 20 7946 0000")
    assert sorted(PartyRole.objects.filter(party=party).values_list("role", flat=True)) == ["customer", "supplier"]
    verbs = list(Activity.objects.filter(company=company).order_by("seq").values_list("verb", flat=True))
    assert verbs == ["core.party_created", "core.party_role_added", "core.party_updated"]


def test_an_employee_cannot_create_parties(company):
    clerk = member(company, "employee")
    with pytest.raises(PermissionDenied):
        create_party(actor=clerk, company=company, name="Nope Ltd")
    assert not Party.objects.exists()


def test_an_outsider_cannot_touch_the_company(company, owner, outsider):
    party = create_party(actor=owner, company=company, name="Hooli")
    with pytest.raises(NotFound):
        create_party(actor=outsider, company=company, name="Intruder")
    with pytest.raises(NotFound):
        update_party(actor=outsider, party=party, name="Hacked")
    with pytest.raises(NotFound):
        add_address(actor=outsider, party=party, street="x", city="y", country="GB")
    party.refresh_from_db()
    assert party.name == "Hooli"


def test_contact_points_are_validated(company, owner):
    party = create_party(actor=owner, company=company, name="Hooli")
    add_contact_point(actor=owner, party=party, kind="mobile", value="+44 7700 900123")
    with pytest.raises(ValidationFailed):
        add_contact_point(actor=owner, party=party, kind="email", value="nope")
    with pytest.raises(ValidationFailed):
        add_contact_point(actor=owner, party=party, kind="pigeon", value="x")
    assert party.contact_points.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_clerks_creating_the_same_party_at_once_create_one():
    import threading

    from django.db import connection, connections

    from keel.core.tests.factories import CompanyFactory

    if connection.vendor != "postgresql":
        pytest.skip("concurrent requests are tested on PostgreSQL (SQLite writers queue at BEGIN)")
    company = CompanyFactory(code="acme")
    clerk = member(company, "billing_clerk")
    start = threading.Barrier(20)
    created, refused, errors = [], [], []

    def clerk_creates() -> None:
        try:
            start.wait()
            created.append(create_party(actor=clerk, company=company, name="Hooli Ltd", tax_id="", email="ap@hooli.test"))
        except Conflict as conflict:
            refused.append(conflict)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=clerk_creates) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(created) == 1 and len(refused) == 19
    assert Party.objects.for_company(company).count() == 1
    assert {r.extra["duplicates"][0]["id"] for r in refused} == {created[0].pk}
    assert all("Hooli Ltd" in r.message for r in refused)
