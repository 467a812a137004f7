"""`keel audit verify`: exit 0 on intact chains, 1 naming the first altered or deleted activity."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from keel.cli import main
from keel.core.activity import Entry, canonical_bytes, record, record_many, verify_chain
from keel.core.models import Activity

pytestmark = pytest.mark.django_db


def _record(company, n):
    return [
        record(company=company, actor=None, verb="core.thing_done", subject=company, data={"i": i, "amount": Decimal("1.10")})
        for i in range(n)
    ]


def _verify(**options):
    out = StringIO()
    call_command("audit", "verify", stdout=out, **options)
    return out.getvalue()


def test_intact_chains_verify_with_one_line_per_company(company, other_company):
    _record(company, 3)
    _record(other_company, 2)
    output = _verify()
    assert output.splitlines() == [
        "acme: 3 activities checked, OK (not anchored yet)",
        "globex: 2 activities checked, OK (not anchored yet)",
    ]


def test_one_company_only(company, other_company):
    _record(company, 2)
    assert _verify(company="acme").splitlines() == ["acme: 2 activities checked, OK (not anchored yet)"]


def test_unknown_company_is_refused(company):
    with pytest.raises(CommandError, match="No company 'nope'"):
        _verify(company="nope")


def test_altered_data_exits_1_naming_the_activity(company, other_company):
    rows = _record(company, 4)
    _record(other_company, 1)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_activity SET data = %s WHERE id = %s", ['{"i": 99, "amount": "1.10"}', rows[1].pk])
    out = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("audit", "verify", stdout=out)
    assert refused.value.returncode == 1
    assert f"activity #2 (id {rows[1].pk}) was altered" in str(refused.value)
    assert "acme: 1 activities checked, BROKEN" in out.getvalue()
    assert "globex: 1 activities checked, OK" in out.getvalue()


def test_deleted_last_activity_exits_1(company):
    rows = _record(company, 3)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_activity WHERE id = %s", [rows[-1].pk])
    with pytest.raises(CommandError) as refused:
        _verify()
    assert refused.value.returncode == 1
    assert "activity #3 and later were deleted" in str(refused.value)


def test_the_keel_command_exits_with_status_1(company, capsys):
    rows = _record(company, 2)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_activity SET verb = %s WHERE id = %s", ["core.forged", rows[0].pk])
    with pytest.raises(SystemExit) as exited:
        main(["audit", "verify"])
    assert exited.value.code == 1
    assert f"activity #1 (id {rows[0].pk}) was altered" in capsys.readouterr().err


def test_the_keel_command_exits_0_when_intact(company, capsys):
    _record(company, 2)
    main(["audit", "verify", "--company", "acme"])
    assert "acme: 2 activities checked, OK" in capsys.readouterr().out


def test_fast_verification_hashes_exactly_the_canonical_encoding(company):
    """verify_chain's own encoder and timestamp formatting equal canonical_bytes on this engine."""
    tricky = {
        "text": 'Zürich "quoted" \\ back\nslash\ttab \x01 ☃ \u2028',
        "nested": {"b": [1, {"z": None, "a": True}], "a": "x"},
        "amount": Decimal("-0.000100"),
        "big": 2**62,
        "when": dt.date(2026, 2, 28),
    }
    whole_second = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
    elsewhere = dt.datetime(2026, 3, 1, 13, 30, 15, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    rows = record_many(
        company=company, actor=None,
        entries=[
            Entry("core.thing_done", subject=company, data=tricky, occurred_at=whole_second),
            Entry("core.thing_done", subject_type="x.y", subject_id="ünïcode", subject_repr="ü", data={},
                  occurred_at=elsewhere),
            Entry("core.thing_done", subject=company, data={"list": []}),
        ],
    )
    for row in Activity.objects.filter(pk__in=[r.pk for r in rows]):
        assert row.hash_version == 2
        expected = canonical_bytes(
            hash_version=row.hash_version, department=row.department, company_id=row.company_id, seq=row.seq, occurred_at=row.occurred_at, actor_id=row.actor_id,
            verb=row.verb, subject_type=row.subject_type, subject_id=row.subject_id,
            subject_repr=row.subject_repr, data=row.data, prev_hash=row.prev_hash,
        )
        assert hashlib.sha256(expected).hexdigest() == row.hash
    report = verify_chain(company, chunk=2)
    assert report.ok and report.checked == 3


def test_a_gap_larger_than_a_page_is_found(company):
    rows = _record(company, 7)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_activity WHERE id IN (%s, %s, %s)", [rows[2].pk, rows[3].pk, rows[4].pk])
    report = verify_chain(company, chunk=2)
    assert report.first_bad_seq == 3
    assert "missing" in report.problem
