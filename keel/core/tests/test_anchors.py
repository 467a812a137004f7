"""Tamper evidence beyond the database: signed anchors outside it, and hashes over every column.

Each test plays someone with only database access (raw SQL, the ORM's guards bypassed) and
checks that `keel audit verify` names what they did once the chain was anchored.
"""

from __future__ import annotations

import hashlib
import json
from io import StringIO

import hypothesis
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from hypothesis import strategies as st

from keel.core.activity import GENESIS_HASH, canonical_bytes, record, verify_chain
from keel.core.anchors import anchor, check_anchors, read_anchors
from keel.core.models import Activity, ActivityChainHead
from keel.core.tasks import anchor_chains
from keel.core.tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def _record(company, n, start=0):
    return [
        record(company=company, actor=None, verb="core.thing_done", subject=company, data={"i": start + i})
        for i in range(n)
    ]


def _run(action: str, **options) -> str:
    out = StringIO()
    call_command("audit", action, stdout=out, **options)
    return out.getvalue()


def _verify_fails() -> tuple[str, str]:
    out = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("audit", "verify", stdout=out)
    assert refused.value.returncode == 1
    return str(refused.value), out.getvalue()


def _sql(statement: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def _rehash_from(company, seq: int) -> None:
    """What a forger with database access does: recompute every hash from `seq` on and move
    the head, so that the chain is consistent in itself."""
    prev = (
        Activity.objects.filter(company=company, seq=seq - 1).values_list("hash", flat=True).first() or GENESIS_HASH
    )
    last = seq - 1
    for row in Activity.objects.filter(company=company, seq__gte=seq).order_by("seq"):
        digest = hashlib.sha256(canonical_bytes(
            hash_version=row.hash_version, department=row.department, company_id=row.company_id, seq=row.seq,
            occurred_at=row.occurred_at, actor_id=row.actor_id, verb=row.verb, subject_type=row.subject_type,
            subject_id=row.subject_id, subject_repr=row.subject_repr, data=row.data, prev_hash=prev,
        )).hexdigest()
        _sql("UPDATE core_activity SET prev_hash = %s, hash = %s WHERE id = %s", [prev, digest, row.pk])
        prev, last = digest, row.seq
    _sql(f"UPDATE {ActivityChainHead._meta.db_table} SET last_seq = %s, last_hash = %s WHERE company_id = %s",
         [last, prev, company.pk])


def test_a_clean_anchored_chain_verifies_and_names_its_anchor(company, other_company, settings):
    _record(company, 3)
    _record(other_company, 2)
    assert _run("anchor").splitlines() == ["acme: anchored at #3 (3 activities)", "globex: anchored at #2 (2 activities)"]
    output = _run("verify")
    assert "acme: 3 activities checked, OK (matches the anchor at #3 of " in output
    assert "globex: 2 activities checked, OK (matches the anchor at #2 of " in output
    # Nothing new: no new anchor. More history: a new one continuing the count.
    assert _run("anchor", company="acme") == "acme: unchanged since the anchor at #3\n"
    _record(company, 2, start=3)
    assert _run("anchor", company="acme") == "acme: anchored at #5 (5 activities)\n"
    [first, second] = read_anchors(company.pk)
    assert (first.last_seq, second.last_seq, second.count) == (3, 5, 5)
    assert second.last_hash == Activity.objects.get(company=company, seq=5).hash
    # Recorded after the anchor: still verifies (the anchor covers what it covers).
    _record(company, 1, start=5)
    assert "acme: 6 activities checked, OK (matches the anchor at #5" in _run("verify")


def test_the_anchor_lives_outside_the_database_signed_with_a_private_key(company, settings):
    _record(company, 2)
    _run("anchor")
    key_file = settings.KEEL_AUDIT_ANCHOR_KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    [line] = (settings.KEEL_AUDIT_ANCHOR_DIR / f"company-{company.pk}.jsonl").read_text().splitlines()
    stored = json.loads(line)
    assert stored["last_seq"] == 2 and stored["count"] == 2 and len(stored["signature"]) == 64
    assert key_file.read_text().strip() not in line


def test_cutting_the_end_and_moving_the_head_back_is_detected(company):
    _record(company, 5)
    _run("anchor")
    _sql("DELETE FROM core_activity WHERE company_id = %s AND seq > 3", [company.pk])
    _sql(f"UPDATE {ActivityChainHead._meta.db_table} SET last_seq = 3, last_hash = %s WHERE company_id = %s",
         [Activity.objects.get(company=company, seq=3).hash, company.pk])
    assert verify_chain(company).ok  # the chain alone cannot tell
    error, output = _verify_fails()
    assert "history cut" in error and "activities #4 to #5 were deleted" in error
    assert "acme: 3 activities checked, BROKEN: history cut" in output


def test_deleting_a_companys_whole_history_with_its_head_is_detected(company, other_company):
    _record(company, 4)
    _record(other_company, 1)
    _run("anchor")
    _sql("DELETE FROM core_activity WHERE company_id = %s", [company.pk])
    _sql(f"DELETE FROM {ActivityChainHead._meta.db_table} WHERE company_id = %s", [company.pk])
    assert verify_chain(company).ok
    error, output = _verify_fails()
    assert "acme: history deleted" in error and "recorded 4 activities" in error and "no chain head" in error
    assert "globex: 1 activities checked, OK" in output


def test_rewriting_one_activity_and_rehashing_the_rest_is_detected(company):
    _record(company, 6)
    _run("anchor")
    _sql("UPDATE core_activity SET data = %s WHERE company_id = %s AND seq = 2", ['{"i": 999}', company.pk])
    _rehash_from(company, 2)
    assert verify_chain(company).ok  # consistent in itself
    error, _output = _verify_fails()
    assert "history rewritten" in error and "activity #6" in error and "from #1 to #6" in error


def test_a_rewrite_is_narrowed_to_the_span_between_two_anchors(company):
    _record(company, 3)
    _run("anchor")
    _record(company, 3, start=3)
    _run("anchor")
    _sql("UPDATE core_activity SET subject_repr = %s WHERE company_id = %s AND seq = 5", ["forged", company.pk])
    _rehash_from(company, 5)
    error, _output = _verify_fails()
    assert "from #4 to #6" in error


def test_a_chain_that_does_not_verify_is_not_anchored(company):
    rows = _record(company, 3)
    _run("anchor")
    _record(company, 2, start=3)
    _sql("UPDATE core_activity SET verb = %s WHERE id = %s", ["core.forged", rows[0].pk + 3])
    with pytest.raises(CommandError) as refused:
        _run("anchor")
    assert refused.value.returncode == 1 and "activity #4" in str(refused.value)
    assert [a.last_seq for a in read_anchors(company.pk)] == [3]  # nothing written


def test_an_altered_anchor_file_is_refused(company, settings):
    _record(company, 2)
    _run("anchor")
    path = settings.KEEL_AUDIT_ANCHOR_DIR / f"company-{company.pk}.jsonl"
    stored = json.loads(path.read_text())
    stored["last_seq"] = 1
    path.write_text(json.dumps(stored) + "\n")
    error, output = _verify_fails()
    assert "does not match its signature" in error and "ANCHOR UNTRUSTED" in output


def test_anchors_signed_with_another_key_say_so(company, settings, tmp_path):
    _record(company, 2)
    _run("anchor")
    settings.KEEL_AUDIT_ANCHOR_KEY_FILE = tmp_path / "another_key"
    error, _output = _verify_fails()
    assert "signed with another key" in error


def test_the_worker_task_anchors_every_company(company, other_company):
    _record(company, 2)
    assert anchor_chains.call() == 1  # globex has no activity yet
    assert anchor_chains.call() == 0  # nothing changed
    assert [a.last_seq for a in read_anchors(company.pk)] == [2]


# Every column is covered by the hash


def test_the_department_is_covered(company):
    rows = _record(company, 2)
    _sql("UPDATE core_activity SET department = %s WHERE id = %s", ["ledger", rows[0].pk])
    report = verify_chain(company)
    assert report.first_bad_seq == 1 and "altered" in report.problem


def test_rows_of_the_first_hash_version_still_verify_and_cannot_hide_a_department_change(company):
    """Rows recorded before versions existed (version 1: department not in the hash) keep
    verifying; their department must still be the one their verb gives."""
    _record(company, 3)
    _sql("UPDATE core_activity SET hash_version = 1 WHERE company_id = %s AND seq <= 2", [company.pk])
    _rehash_from(company, 1)
    assert verify_chain(company).ok and verify_chain(company).checked == 3
    _sql("UPDATE core_activity SET department = %s WHERE company_id = %s AND seq = 1", ["hr", company.pk])
    assert verify_chain(company).first_bad_seq == 1


def test_the_hash_version_cannot_go_back_along_a_chain(company):
    _record(company, 3)
    _sql("UPDATE core_activity SET hash_version = 1 WHERE company_id = %s AND seq = 3", [company.pk])
    _rehash_from(company, 3)
    report = verify_chain(company)
    assert report.first_bad_seq == 3 and "altered" in report.problem


def test_a_company_removed_from_the_database_with_its_history_is_named(company, other_company):
    _record(company, 2)
    _record(other_company, 3)
    _run("anchor")
    table = other_company._meta.db_table
    # Foreign keys are checked at commit (deferred), which a test never reaches: the rows
    # that still point at the company do not stop this deletion here.
    _sql("DELETE FROM core_activity WHERE company_id = %s", [other_company.pk])
    _sql(f"DELETE FROM {ActivityChainHead._meta.db_table} WHERE company_id = %s", [other_company.pk])
    _sql(f"DELETE FROM {table} WHERE id = %s", [other_company.pk])
    error, output = _verify_fails()
    assert "acme: 2 activities checked, OK" in output
    assert f"history deleted: company globex (id {other_company.pk}) is no longer in the database" in error
    assert "recorded 3 activities" in error
    # Put the row back: the test database checks its foreign keys when the test ends.
    type(other_company).objects.bulk_create([other_company])


@hypothesis.settings(max_examples=15, deadline=None, derandomize=True,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(
    batches=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=4),
    cut=st.floats(min_value=0, max_value=0.999),
)
def test_any_anchored_history_verifies_and_any_cut_below_an_anchor_is_named(batches, cut):
    company = CompanyFactory()
    for size in batches:
        _record(company, size)
        assert anchor(company).anchor.last_seq == Activity.objects.filter(company=company).count()
    total = sum(batches)
    assert verify_chain(company).ok and check_anchors(company.pk, company.code).ok
    keep = int(cut * total)  # 0 .. total - 1 activities stay
    _sql("DELETE FROM core_activity WHERE company_id = %s AND seq > %s", [company.pk, keep])
    last_hash = Activity.objects.filter(company=company, seq=keep).values_list("hash", flat=True).first()
    _sql(f"UPDATE {ActivityChainHead._meta.db_table} SET last_seq = %s, last_hash = %s WHERE company_id = %s",
         [keep, last_hash or GENESIS_HASH, company.pk])
    assert verify_chain(company).ok  # consistent in itself
    check = check_anchors(company.pk, company.code)
    assert ("history deleted" if keep == 0 else "history cut") in check.problem
