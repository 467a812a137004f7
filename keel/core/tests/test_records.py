"""One reading of identifiers for every door, and records found only in their own company."""

import pytest

from keel.core.models import Role
from keel.core.records import MAX_ID, find_in_company, parse_id


@pytest.mark.parametrize("value", ["7", " 7 ", 7, "0007"])
def test_plain_ascii_digits_are_ids(value):
    assert parse_id(value) == 7


@pytest.mark.parametrize("value", ["\u00b2", "\u0661\u0662", "-1", "0", 0, "1e3", "7.0", "", None, True,
                                   str(MAX_ID + 1), "9" * 30, "12a", "+5", MAX_ID + 1])
def test_anything_else_is_not_an_id(value):
    assert parse_id(value) is None


@pytest.mark.django_db
def test_a_record_is_found_by_code_id_or_instance_in_its_company_only(company, other_company):
    roles = Role.objects.all()
    mine = Role.objects.get(company=company, code="owner")
    theirs = Role.objects.get(company=other_company, code="owner")
    assert find_in_company(roles, company, "owner") == mine
    assert find_in_company(roles, company, str(mine.pk)) == mine
    assert find_in_company(roles, company, mine) == mine
    assert find_in_company(roles, company, theirs) is None
    assert find_in_company(roles, company, str(theirs.pk)) is None
    assert find_in_company(roles, company, "\u00b2") is None
    assert find_in_company(roles, company, str(mine.pk), by_id=False) is None


@pytest.mark.django_db
def test_odd_digits_in_urls_forms_and_queries_never_give_a_server_error(company, owner, client):
    client.force_login(owner)
    for url in ("/tasks/\u00b2/", "/parties/\u0661\u0662/", "/activity/?before=\u00b2",
                "/tasks/new/?subject_type=core.party&subject_id=\u00b2"):
        assert client.get(url).status_code in (200, 400, 404), url
    response = client.post("/switch-company/", {"company": "\u00b2"})
    assert response.status_code == 302
