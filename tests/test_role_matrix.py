"""Every shipped role against every registered permission and every page of the menu.

Both tables are generated from the registries (`keel.core.permissions`, `keel.web.navigation`),
so a department's permissions and pages are covered the day it registers them:
- what each role holds is compared with `tests/data/role_permissions.txt`; a new permission
  fails this test until the file is regenerated and the diff reviewed
  (`KEEL_UPDATE_ROLE_MATRIX=1 scripts/test tests/test_role_matrix.py`);
- each menu page answers 200 to a role that holds its permission, and to one that does not
  403, or a redirect to a page it may see (the home page sends such roles to "My tasks").
"""

from __future__ import annotations

import os
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from django.urls import reverse

from keel.core.models import Role
from keel.core.permissions import DEFAULT_ROLES, catalogue
from keel.core.tests.factories import member

MATRIX = Path(__file__).parent / "data" / "role_permissions.txt"


def _held(patterns: list[str]) -> list[str]:
    return [name for name in catalogue() if any(fnmatchcase(name, p) for p in patterns)]


def _matrix() -> str:
    lines = [f"{code}: {' '.join(_held(patterns))}" for code, (_, _, patterns) in DEFAULT_ROLES.items()]
    return "\n".join(lines) + "\n"


def test_each_role_holds_exactly_the_reviewed_permissions():
    generated = _matrix()
    if os.environ.get("KEEL_UPDATE_ROLE_MATRIX"):
        MATRIX.write_text(generated)
    expected = MATRIX.read_text()
    assert generated == expected, (
        "The shipped roles now hold other permissions than reviewed; check the difference and "
        "regenerate with KEEL_UPDATE_ROLE_MATRIX=1")


def test_rules_no_role_table_may_break():
    held = {code: set(_held(patterns)) for code, (_, _, patterns) in DEFAULT_ROLES.items()}
    everything = set(catalogue())
    assert held["owner"] == held["administrator"] == everything
    assert held["auditor"] == {name for name in everything if name.endswith(".view")}
    assert held["employee"] == {"task.view", "task.manage", "company.view"}
    for code, names in held.items():
        if code not in ("owner", "administrator"):
            assert not names & {"books.reopen", "books.close_year", "task.supervise"}, code


def _pages() -> list:
    from keel import urls  # noqa: F401  (views register their menu entries when imported)
    from keel.web.navigation import _items

    return sorted((item for item in _items if item.permission != "staff"), key=lambda item: item.url_name)


@pytest.mark.django_db
@pytest.mark.parametrize("role_code", list(DEFAULT_ROLES))
def test_every_menu_page_answers_by_the_role(role_code, company, client):
    user = member(company, role_code)
    role = Role.objects.for_company(company).get(code=role_code)
    client.force_login(user)
    wrong = []
    for item in _pages():
        expected = 200 if item.permission is None or role.allows(item.permission) else 403
        response = client.get(reverse(item.url_name))
        status = response.status_code
        if expected == 403 and status == 302 and "/login/" not in response["Location"]:
            status = client.get(response["Location"]).status_code
            expected = 200
        if status != expected:
            wrong.append(f"{item.url_name} ({item.permission}): {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)
