"""No API call reaches another company's rows.

`ISOLATION` has one entry per operation of the OpenAPI document (an app adds its own in a
module `keel/<app>/tests/isolation*.py`, see conftest.app_isolation_modules); a new endpoint
without an entry fails `test_every_operation_is_in_the_isolation_table`. Each entry is checked by a user
of another company (the owner of globex, with every permission there): a record of acme by
its ID answers 404 exactly as a missing one, acme in the header answers 404, and lists that
span companies show nothing of acme.
"""

from __future__ import annotations

import pytest

from keel.api.tests.conftest import ApiClient, api_operations, app_isolation_modules, assert_error
from keel.api.tests.isolation_kinds import ByHeader, ById, NotCompanyScoped, Spanning
from keel.core.models import Party

pytestmark = pytest.mark.django_db


PARTY = {"name": "Stolen"}
ISOLATION: dict[tuple[str, str], object] = {
    ("GET", "/api/tokens"): Spanning(lambda item, r: item["id"] == r.token.pk),
    ("POST", "/api/tokens"): NotCompanyScoped("creates a token of the caller; a token belongs to a user"),
    ("DELETE", "/api/tokens/{token_id}"): ById(),
    ("GET", "/api/companies"): Spanning(lambda item, r: item["id"] == r.company.pk),
    ("POST", "/api/companies"): NotCompanyScoped("creates a new company (staff only)"),
    ("GET", "/api/companies/{company_id}"): ById(),
    ("PATCH", "/api/companies/{company_id}"): ById({"city": "Stolen"}),
    ("GET", "/api/memberships"): ByHeader(),
    ("POST", "/api/memberships"): ByHeader({"email": "spy@globex.test", "role": "owner"}),
    ("PATCH", "/api/memberships/{membership_id}"): ById({"is_active": False}),
    ("GET", "/api/roles"): ByHeader(),
    ("PATCH", "/api/roles/{role_id}"): ById({"permissions": ["*"]}),
    ("GET", "/api/parties"): ByHeader(),
    ("POST", "/api/parties"): ByHeader(PARTY),
    ("GET", "/api/parties/{party_id}"): ById(),
    ("PATCH", "/api/parties/{party_id}"): ById(PARTY),
    ("POST", "/api/parties/{party_id}/addresses"): ById({"street": "1 A St", "city": "B", "country": "GB"}),
    ("POST", "/api/parties/{party_id}/contact-points"): ById({"kind": "phone", "value": "123"}),
    ("GET", "/api/exchange-rates"): ByHeader(),
    ("POST", "/api/exchange-rates"): ByHeader({"currency": "USD", "date": "2026-01-01", "rate": "2"}),
    ("GET", "/api/exchange-rates/lookup"): ByHeader(query="?currency=USD&date=2026-01-01"),
    ("GET", "/api/activities"): Spanning(lambda item, r: item["company"] == "acme"),
    ("POST", "/api/attachments"): ById(),  # checked with a multipart upload below
    ("GET", "/api/attachments"): ById(),  # by the record's subject_type + subject_id
    ("GET", "/api/attachments/{attachment_id}/download"): ById(),
    ("GET", "/api/event-deliveries"): ByHeader(),
    ("POST", "/api/event-deliveries/{delivery_id}/retry"): ById(),
    ("GET", "/api/tasks/mine"): Spanning(lambda item, r: item["id"] == r.task.pk),
    ("GET", "/api/tasks"): ByHeader(),
    ("POST", "/api/tasks"): ByHeader({"title": "Spy", "assignee_role": "owner"}),
    ("GET", "/api/tasks/{task_id}"): ById(),
    ("POST", "/api/tasks/{task_id}/complete"): ById(),
    ("POST", "/api/tasks/{task_id}/cancel"): ById(),
    ("POST", "/api/tasks/{task_id}/reopen"): ById(),
    ("POST", "/api/tasks/{task_id}/assign"): ById({"assignee_role": "owner"}),
    ("GET", "/api/kpis"): ByHeader(),
    ("GET", "/api/kpis/{code}/series"): ByHeader(),
    ("PUT", "/api/kpis/{code}/target"): ByHeader({"target": "1"}),
}
for _module in app_isolation_modules():
    ISOLATION.update(_module.ISOLATION)


def test_every_operation_is_in_the_isolation_table():
    operations = set(api_operations())
    missing = sorted(operations - set(ISOLATION))
    stale = sorted(set(ISOLATION) - operations)
    assert not missing, f"operations without an isolation entry: {missing}"
    assert not stale, f"isolation entries of operations that no longer exist: {stale}"


@pytest.fixture
def spy(outsider, other_company):
    """The owner of globex, with its own company in the header."""
    return ApiClient(outsider, other_company)


def _request(client: ApiClient, method: str, path: str, body: dict | None, headers: dict | None = None):
    return client.request(method, path, body, headers=headers)


@pytest.mark.parametrize(("method", "template"), sorted(ISOLATION))
def test_another_company_cannot_reach_acme(method, template, records, spy, outsider):
    entry = ISOLATION[(method, template)]
    path = records.path(template)
    snapshot = Party.objects.filter(company=records.company).values_list("id", "name", "email").order_by("id")
    before = list(snapshot)

    if isinstance(entry, NotCompanyScoped):
        assert entry.reason
    elif isinstance(entry, Spanning):
        for client in (ApiClient(outsider), spy):
            response = client.get(path)
            assert response.status_code == 200, response.content
            items = response.json()["items"]
            assert not [item for item in items if entry.belongs_to_acme(item, records)]
    elif isinstance(entry, ByHeader):
        response = _request(spy, method, path + entry.query, entry.body, headers={"X-Keel-Company": "acme"})
        assert_error(response, 404, "company.not_found")
        response = _request(spy, method, path + entry.query, entry.body, headers={"X-Keel-Company": str(records.company.pk)})
        assert_error(response, 404, "company.not_found")
    elif template == "/api/attachments" and method == "POST":
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = spy.client.post(
            path, data={"subject_type": "core.party", "subject_id": str(records.party.pk),
                        "file": SimpleUploadedFile("x.txt", b"x")}, headers=spy.headers,
        )
        assert_error(response, 404, "record.not_found")
    elif template == "/api/attachments":
        response = spy.get(f"{path}?subject_type=core.party&subject_id={records.party.pk}")
        assert_error(response, 404, "record.not_found")
    else:
        assert isinstance(entry, ById)
        response = _request(spy, method, path, entry.body)
        body = assert_error(response, 404)
        assert body["code"] in {"record.not_found", "company.not_found", "token.not_found"}
        # The same answer as for an ID that does not exist at all.
        missing = _request(spy, method, template.format(**{k: 987654321 if isinstance(v, int) else v
                                                            for k, v in records.path_ids.items()}), entry.body)
        assert_error(missing, 404, body["code"])

    assert list(snapshot) == before
    records.task.refresh_from_db()
    assert records.task.status == "open"
