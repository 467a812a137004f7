"""A tax group's components cannot change under a posting that uses it (PostgreSQL's row locks):
the change waits for the posting, then finds the group in use and is refused."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from keel.core.exceptions import ValidationFailed
from keel.ledger.models import Line, TaxCode
from keel.ledger.services import posting
from keel.ledger.services.taxes import DocumentLine, create_tax_code, update_tax_code
from keel.ledger.tests.factories import set_up_books
from keel.ledger.tests.test_tax_groups import canada, post_document


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_component_change_waits_for_the_posting_then_is_refused(company, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and real parallel writers")
    set_up_books(company)
    canada(company)
    create_tax_code(actor=None, company=company, code="PST", name="PST 7 %", rate="7", check_permission=False)
    group = TaxCode.objects.get(company=company, code="GSTQST")
    locked, release = threading.Event(), threading.Event()
    lock_groups = posting._lock_tax_groups

    def lock_and_hold(company, entries):  # the posting holds its lock until the editor has tried
        lock_groups(company, entries)
        locked.set()
        release.wait(10)

    monkeypatch.setattr(posting, "_lock_tax_groups", lock_and_hold)
    outcome: dict[str, object] = {}

    def poster():
        try:
            outcome["entry"] = post_document(company, [DocumentLine(amount="100.00", tax_codes=["GSTQST"])])
        except BaseException as exc:  # noqa: BLE001 - asserted below
            outcome["poster"] = exc
        finally:
            connections.close_all()

    def editor():
        try:
            update_tax_code(actor=None, tax_code=group, components=["GST", "PST"], check_permission=False)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            outcome["editor"] = exc
        finally:
            connections.close_all()

    posting_thread = threading.Thread(target=poster)
    posting_thread.start()
    assert locked.wait(10)
    editing_thread = threading.Thread(target=editor)
    editing_thread.start()
    editing_thread.join(1)
    assert editing_thread.is_alive()  # waiting for the posting's lock
    release.set()
    posting_thread.join(10)
    editing_thread.join(10)

    assert "poster" not in outcome
    assert isinstance(outcome.get("editor"), ValidationFailed) and outcome["editor"].code == "tax_code.group_in_use"
    assert sorted(group.component_links.values_list("component__code", flat=True)) == ["GST", "QST"]
    assert Line.objects.for_company(company).filter(tax_code=group).count() == 1
