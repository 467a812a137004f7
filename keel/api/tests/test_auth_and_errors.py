"""Authentication (tokens, session + CSRF) and the one error format."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from keel.api.models import ApiToken
from keel.api.tests.conftest import assert_error
from keel.core.models import Party, SubmissionCount
from keel.core.tests.factories import member

pytestmark = pytest.mark.django_db


def test_a_created_token_is_shown_once_and_stored_hashed(api, owner):
    response = api.post("/api/tokens", {"name": "laptop"})
    assert response.status_code == 201
    body = response.json()
    key = body["key"]
    assert key.startswith(f"keel_{body['prefix']}_")
    token = ApiToken.objects.get(pk=body["id"])
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {token.key_hash, token.prefix, token.name}
    listed = api.get("/api/tokens").json()["items"]
    assert [t["name"] for t in listed] == ["laptop", "tests"]
    assert all("key" not in t for t in listed)


def test_a_token_authenticates_until_it_is_revoked(api_for, owner, company):
    client = api_for(company=company)
    created = api_for(owner, company).post("/api/tokens", {"name": "ci"}).json()
    client.headers["Authorization"] = f"Bearer {created['key']}"
    assert client.get("/api/parties").status_code == 200

    revoked = client.delete(f"/api/tokens/{created['id']}")
    assert revoked.status_code == 200 and revoked.json()["is_active"] is False

    assert_error(client.get("/api/parties"), 401, "auth.required")


def test_a_wrong_or_malformed_token_is_refused(api_for, company):
    for value in ["Bearer keel_nope_nope", "Bearer " + "x" * 500, "Basic abc", "Bearer "]:
        client = api_for(company=company)
        client.headers["Authorization"] = value
        assert_error(client.get("/api/parties"), 401, "auth.required")


def test_nobody_revokes_another_users_token(api, api_for, outsider):
    theirs = api_for(outsider).post("/api/tokens", {"name": "theirs"}).json()
    assert_error(api.delete(f"/api/tokens/{theirs['id']}"), 404, "token.not_found")
    assert ApiToken.objects.get(pk=theirs["id"]).revoked_at is None


def test_anonymous_requests_get_401_in_the_error_format():
    client = Client()
    assert_error(client.get("/api/companies"), 401, "auth.required")
    assert_error(client.post("/api/parties", data="{}", content_type="application/json"), 401, "auth.required")


def test_the_session_works_for_reads_and_needs_csrf_for_writes(owner, company):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    headers = {"X-Keel-Company": "acme"}
    assert client.get("/api/parties", headers=headers).status_code == 200

    refused = client.post("/api/parties", data='{"name": "Initech"}', content_type="application/json", headers=headers)
    assert_error(refused, 403, "csrf.failed")
    assert not Party.objects.exists()

    client.get("/api/docs")  # any page: sets the CSRF cookie
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else None
    if token is None:
        from django.middleware.csrf import _get_new_csrf_string

        token = _get_new_csrf_string()
        client.cookies["csrftoken"] = token
    accepted = client.post(
        "/api/parties", data='{"name": "Initech"}', content_type="application/json",
        headers={**headers, "X-CSRFToken": token},
    )
    assert accepted.status_code == 201, accepted.content


def test_the_company_header_is_required_and_must_be_mine(api_for, owner, other_company):
    assert_error(api_for(owner).get("/api/parties"), 400, "company.required")
    assert_error(api_for(owner, other_company).get("/api/parties"), 404, "company.not_found")
    assert_error(api_for(owner, "no-such").get("/api/parties"), 404, "company.not_found")


def test_the_company_header_takes_the_id_too(api_for, owner, company, party):
    response = api_for(owner, str(company.pk)).get("/api/parties")
    assert [p["id"] for p in response.json()["items"]] == [party.pk]


def test_schema_errors_name_the_fields_and_count_as_rejected(api, company):
    body = assert_error(api.post("/api/parties", {"name": 5, "colour": "red"}), 400, "request.invalid")
    assert {e["field"] for e in body["errors"]} == {"name", "colour"}
    count = SubmissionCount.objects.get(company=company, document_type="party")
    assert (count.submitted, count.rejected) == (1, 1)
    assert not Party.objects.exists()


def test_nested_errors_name_the_path(api):
    body = assert_error(api.post("/api/parties", {"name": "X", "addresses": [{"street": "a"}]}), 400)
    assert {e["field"] for e in body["errors"]} >= {"addresses.0.city", "addresses.0.country"}


def test_malformed_json_is_a_400_and_counts(api, company):
    assert_error(api.post("/api/parties", raw="{not json"), 400, "request.malformed")
    assert SubmissionCount.objects.get(company=company, document_type="party").rejected == 1


def test_service_refusals_and_successes_are_counted(api, company):
    assert api.post("/api/parties", {"name": "Initech"}).status_code == 201
    assert_error(api.post("/api/parties", {"name": "Initech", "email": "not-an-email"}), 400, "party.invalid")
    count = SubmissionCount.objects.get(company=company, document_type="party")
    assert (count.submitted, count.rejected) == (2, 1)


def test_unknown_paths_and_wrong_methods_answer_json(api):
    assert_error(api.get("/api/no/such/thing"), 404, "not_found")
    assert_error(api.post("/api/no/such/thing", {}), 404, "not_found")
    body = assert_error(api.put("/api/parties", {}), 405, "method.not_allowed")
    assert "GET" in body["message"]
    assert_error(api.delete("/api/companies"), 405, "method.not_allowed")


def test_ids_out_of_range_are_400_not_500(api):
    assert_error(api.get("/api/parties/99999999999999999999999"), 400, "request.invalid")
    assert_error(api.get("/api/parties/0"), 400, "request.invalid")
    assert_error(api.get("/api/parties/abc"), 400, "request.invalid")


def test_an_employee_gets_403_where_the_role_lacks_the_permission(api_for, company, party):
    employee = member(company, "employee")
    client = api_for(employee, company)
    assert_error(client.get("/api/parties"), 403, "permission.denied")
    assert_error(client.post("/api/parties", {"name": "New"}), 403, "permission.denied")
    assert_error(client.get("/api/activities", headers={"X-Keel-Company": "acme"}), 403, "permission.denied")
    assert_error(client.get("/api/memberships"), 403, "permission.denied")
    assert_error(client.get("/api/exchange-rates"), 403, "permission.denied")
    assert_error(client.get("/api/event-deliveries"), 403, "permission.denied")
    assert_error(client.get("/api/kpis"), 403, "permission.denied")
    assert Party.objects.count() == 1


def test_openapi_and_docs_are_served(client):
    schema = client.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "Keel API"
    assert "/api/parties" in schema["paths"]
    assert client.get("/api/docs").status_code == 200


def test_every_write_operation_is_named_for_its_document_type():
    """`<document_type>_<verb>`: the name the submission counts derive the document type from."""
    import re

    from keel.api.api import api as ninja_api
    from keel.api.context import WRITE_METHODS

    names = []
    for bound in ninja_api._get_bound_routers():
        for path_view in bound.path_operations.values():
            for operation in path_view.operations:
                if set(operation.methods) & WRITE_METHODS:
                    name = getattr(operation, "url_name", "")
                    assert re.fullmatch(r"[a-z]+(_[a-z]+)*_[a-z]+", name or ""), operation.path
                    names.append(name)
    assert len(names) == len(set(names))
    assert "party_create" in names and "kpi_target_set" in names


def test_amounts_are_strings_in_the_openapi_document(client):
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]
    rate = schema["ExchangeRateOut"]["properties"]["rate"]
    assert rate.get("type") == "string" or any(s.get("type") == "string" for s in rate.get("anyOf", []))
