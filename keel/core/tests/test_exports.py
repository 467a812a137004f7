"""The activity log exported as OCEL 2.0 JSON and XES, read back by pm4py."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pm4py
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from keel.core import exports
from keel.core.activity import Entry, record_many
from keel.core.models import Activity
from keel.core.services.parties import create_party, update_party
from keel.inbox.services import complete_task, create_task

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:Install the optional requirement:UserWarning")]

JANUARY = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)
MARCH = dt.datetime(2026, 3, 10, 17, 0, 0, 250000, tzinfo=dt.UTC)


@pytest.fixture
def history(company, owner, other_company, outsider):
    """11 activities about 6 records of acme, and some of globex that must stay out."""
    initech = create_party(actor=owner, company=company, name="Initech", roles=["customer"])
    umbrella = create_party(actor=owner, company=company, name="Umbrella Corp", roles=["supplier"])
    update_party(actor=owner, party=initech, phone="+44 20 7946 0000")
    task = create_task(actor=owner, company=company, title="Call Initech <urgent> & \"soon\"", assignee=owner,
                       subject=initech)
    complete_task(actor=owner, task=task)
    record_many(
        company=company, actor=None,
        entries=[
            Entry("billing.invoice_issued", subject_type="billing.invoice", subject_id="7", subject_repr="INV-7",
                  data={"amount": Decimal("120.50"), "lines": [{"qty": 2}], "paid": False, "note": None},
                  occurred_at=JANUARY),
            Entry("billing.invoice_paid", subject_type="billing.invoice", subject_id="7", subject_repr="INV-7",
                  data={"amount": Decimal("120.50"), "seq": 1, "actor": "x"}, occurred_at=MARCH),
            Entry("billing.invoice_issued", subject_type="billing.invoice", subject_id="8", subject_repr="INV-8",
                  data={"amount": "9.99", "text": "Zürich \x01 ☃"}, occurred_at=MARCH),
            Entry("billing.invoice_issued", subject_type="billing.invoice", subject_id="10", subject_repr="INV-10",
                  data={}, occurred_at=MARCH),
        ],
    )
    create_party(actor=outsider, company=other_company, name="Not ours")
    update_party(actor=owner, party=umbrella, notes="Slow to deliver")
    update_party(actor=owner, party=initech, website="https://initech.example")
    assert Activity.objects.for_company(company).count() == 11
    return {"initech": initech, "umbrella": umbrella, "task": task}


def _subjects(company) -> set[str]:
    return {f"{t}:{i}" for t, i in Activity.objects.for_company(company).values_list("subject_type", "subject_id")}


@pytest.mark.parametrize("chunk", [2, 5000])
def test_ocel_export_reads_back_in_pm4py(company, history, tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(exports, "CHUNK", chunk)
    path = tmp_path / "log.jsonocel"
    with path.open("w", encoding="utf-8") as stream:
        assert exports.write_ocel(company, stream) == (11, 6)
    ocel = pm4py.read_ocel2_json(str(path))
    assert len(ocel.events) == 11
    assert len(ocel.objects) == 6
    assert set(ocel.objects["ocel:oid"]) == _subjects(company)
    assert set(ocel.objects["ocel:type"]) == {"core.party", "inbox.task", "billing.invoice"}
    assert len(ocel.relations) == 11
    events = ocel.events.set_index("ocel:eid")
    paid = Activity.objects.for_company(company).get(verb="billing.invoice_paid")
    row = events.loc[f"activity:{paid.pk}"]
    assert row["ocel:activity"] == "billing.invoice_paid"
    assert row["ocel:timestamp"].isoformat().startswith("2026-03-10T17:00:00.250")
    assert row["amount"] == "120.50"  # Decimals travel as exact strings
    assert row["actor"] == "system" and row["data_actor"] == "x" and row["data_seq"] == 1
    document = json.loads(path.read_text(encoding="utf-8"))
    assert {t["name"] for t in document["eventTypes"]} >= {"core.party_created", "inbox.task_completed"}
    issued = next(t for t in document["eventTypes"] if t["name"] == "billing.invoice_issued")
    assert {"name": "paid", "type": "boolean"} in issued["attributes"]


@pytest.mark.parametrize("chunk", [2, 5000])
def test_xes_export_reads_back_in_pm4py(company, history, owner, tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(exports, "CHUNK", chunk)
    path = tmp_path / "log.xes"
    with path.open("w", encoding="utf-8") as stream:
        assert exports.write_xes(company, stream) == (11, 6)
    log = pm4py.read_xes(str(path))
    assert len(log) == 11
    assert log["case:concept:name"].nunique() == 6
    assert set(log["case:concept:name"]) == _subjects(company)
    initech = log[log["case:concept:name"] == f"core.party:{history['initech'].pk}"]
    assert list(initech["concept:name"]) == ["core.party_created", "core.party_updated", "core.party_updated"]
    assert set(initech["org:resource"]) == {owner.username}
    invoice = log[log["case:concept:name"] == "billing.invoice:7"]
    assert list(invoice["concept:name"]) == ["billing.invoice_issued", "billing.invoice_paid"]
    assert list(invoice["org:resource"]) == ["system", "system"]
    assert invoice["time:timestamp"].iloc[0].isoformat() == "2026-01-15T09:30:00+00:00"
    task = log[log["case:concept:name"] == f"inbox.task:{history['task'].pk}"]
    assert task["case:keel:label"].iloc[0] == 'Call Initech <urgent> & "soon"'


def test_date_range_keeps_whole_days(company, history):
    stream = StringIO()
    assert exports.write_ocel(company, stream, date_from=dt.date(2026, 1, 15), date_to=dt.date(2026, 3, 10)) == (4, 3)
    stream = StringIO()
    assert exports.write_xes(company, stream, date_from=dt.date(2026, 1, 16), date_to=dt.date(2026, 3, 9)) == (0, 0)
    assert stream.getvalue().endswith("</log>\n")


def test_an_empty_log_is_valid_json(company):
    stream = StringIO()
    assert exports.write_ocel(company, stream) == (0, 0)
    assert json.loads(stream.getvalue()) == {"events": [], "objects": [], "objectTypes": [], "eventTypes": []}


def test_command_writes_to_stdout(company, history):
    out = StringIO()
    call_command("activities", "export", company="acme", format="ocel", stdout=out)
    document = json.loads(out.getvalue())
    assert len(document["events"]) == 11 and len(document["objects"]) == 6


def test_command_writes_a_file(company, history, tmp_path):
    path = tmp_path / "acme.xes"
    err = StringIO()
    call_command("activities", "export", company="acme", format="xes", output=str(path), date_from="2026-03-10",
                 date_to="2026-03-10", stderr=err)
    assert "Wrote 3 events and 3 traces of acme" in err.getvalue()
    assert len(pm4py.read_xes(str(path))) == 3


def test_command_refusals(company):
    with pytest.raises(CommandError, match="No company 'nope'"):
        call_command("activities", "export", company="nope", format="xes")
    with pytest.raises(CommandError, match="is after"):
        call_command("activities", "export", company="acme", format="xes", date_from="2026-02-02", date_to="2026-02-01")
