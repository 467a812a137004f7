"""No input makes the API answer 500: every write endpoint, hammered by hypothesis.

For each write operation of the OpenAPI document, derandomized and bounded: bodies that are
not JSON, JSON of the wrong shape, the endpoint's own fields with wrong types, over-long
strings, huge numbers and NUL characters, and unknown fields. Every answer is below 500, and
every 4xx is in the one error format.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.api.api import api as ninja_api
from keel.api.tests.conftest import ApiClient, api_operations, assert_error

pytestmark = pytest.mark.django_db

WRITE_OPERATIONS = [op for op in api_operations() if op[0] in {"POST", "PUT", "PATCH", "DELETE"}]


def _body_fields(method: str, template: str) -> tuple[list[str], list[str]]:
    """(all fields, required fields) of the operation's JSON body."""
    schema = ninja_api.get_openapi_schema()
    operation = schema["paths"][template][method.lower()]
    for media in operation.get("requestBody", {}).get("content", {}).values():
        body = media.get("schema", {})
        if "$ref" in body:
            body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
        return sorted(body.get("properties", {})), sorted(body.get("required", []))
    return [], []


huge_numbers = st.sampled_from([10**30, -(10**30), 2**63, -(2**63) - 1, 1e308, -1e308, 1e-308, 0, -1])
awkward_text = st.one_of(
    st.text(max_size=20),
    st.text(min_size=300, max_size=6000),
    st.sampled_from(["", " ", "\x00", "a\x00b", "ÿ" * 300, "<script>", "' OR 1=1 --", "9" * 400, "NaN",
                     "2026-02-30", "core.party", "1", "-1", "acme", "owner", "USD", "GB"]),
)
scalars = st.one_of(st.none(), st.booleans(), huge_numbers, st.integers(), awkward_text,
                    st.floats(allow_nan=False, allow_infinity=False))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


def bodies(fields: list[str], required: list[str]):
    """Raw request bodies: not JSON at all, JSON of any shape, or the fields with bad values."""
    field_names = st.sampled_from(fields) if fields else st.text(max_size=10)
    shaped = st.dictionaries(st.one_of(field_names, st.text(max_size=30)), json_values, max_size=len(fields) + 2)
    # Only known fields, with text values: what reaches the services' own checks.
    value = st.one_of(awkward_text, awkward_text, huge_numbers)
    known = st.fixed_dictionaries(
        {name: value for name in required}, optional={name: value for name in fields if name not in required}
    )
    return st.one_of(
        known.map(lambda value: json.dumps(value).encode()),
        known.map(lambda value: json.dumps(value).encode()),
        st.binary(max_size=200).map(lambda raw: raw),
        st.sampled_from([b"", b"{", b"null", b"[]", b'"x"', b"1e999999", b"9" * 5000, b'{"a":' * 50]),
        json_values.map(lambda value: json.dumps(value).encode()),
        shaped.map(lambda value: json.dumps(value).encode()),
    )


@pytest.mark.parametrize(("method", "template"), WRITE_OPERATIONS)
def test_no_input_makes_a_write_endpoint_fail_with_500(method, template, records, owner, company):
    owner.is_staff = True  # so company creation reaches the service too
    owner.save(update_fields=["is_staff"])
    client = ApiClient(owner, company)
    path = records.path(template)
    fields, required = _body_fields(method, template)

    @settings(max_examples=30, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(raw=bodies(fields, required), content_type=st.sampled_from(["application/json", "text/plain", "multipart/form-data; boundary=x"]))
    def check(raw: bytes, content_type: str):
        call = getattr(client.client, method.lower())
        response = call(path, data=raw, content_type=content_type, headers=client.headers)
        assert response.status_code < 500, (raw[:200], response.content[:300])
        statuses.append(response.status_code)
        if response.status_code >= 400:
            assert_error(response, response.status_code)

    statuses: list[int] = []
    check()
    assert statuses


READ_OPERATIONS = [op for op in api_operations() if op[0] == "GET"]
NASTY_QUERIES = [
    "?limit=-1", "?limit=99999999999999999999999", "?limit=abc", "?cursor=%00", "?cursor=" + "A" * 2000,
    "?date_from=9999-12-31&date_to=9999-12-31", "?date_from=0001-01-01&date_to=0001-01-02", "?date_to=0001-01-01",
    "?date_from=2026-13-45", "?q=%00", "?q=" + "x" * 1000, "?actor=%00", "?actor=" + "9" * 40, "?subject_id=" + "x" * 1000,
    "?subject_type=%00&subject_id=1", "?subject_type=core.party&subject_id=" + "9" * 30, "?status=zzz",
    "?currency=%00%00%00", "?currency=usd&date=9999-12-31", "?currency=usd&date=0001-01-01", "?is_active=maybe",
    "?role=%00", "?kind=" + "k" * 300, "?verb=%00",
]


@pytest.mark.parametrize(("method", "template"), READ_OPERATIONS)
def test_no_query_string_makes_a_read_endpoint_fail_with_500(method, template, records, owner, company):
    client = ApiClient(owner, company)
    for query in NASTY_QUERIES:
        response = client.get(records.path(template) + query)
        assert response.status_code < 500, (query, response.content[:300])
        if response.status_code >= 400:
            assert_error(response, response.status_code)
    for header in ["\u00ff" * 10, "1" * 70, "99999999999999999999999", " "]:
        response = client.get(records.path(template), headers={"X-Keel-Company": header})
        assert response.status_code < 500, (header, response.content[:300])
