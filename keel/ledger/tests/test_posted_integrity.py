"""What posted stays posted (issue 11 §11): no line reaches a posted entry whatever its id, a
posted entry's content (digest and line count included) cannot be changed, and `keel ledger
verify` names the entry whose label, party, reference or amount was changed behind the
guards' back (a SQLite file edited by another program, triggers disabled on PostgreSQL).

Runs on both engines; the PostgreSQL-only checks are marked `postgres`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction

from keel.core.models import Party
from keel.core.services.currencies import set_rate
from keel.ledger import guard
from keel.ledger.choices import EntryStatus
from keel.ledger.digest import ENTRY_FIELDS, LINE_FIELDS, entry_digest
from keel.ledger.models import Entry, Line
from keel.ledger.services import (
    EntryInput,
    LineInput,
    create_draft_entry,
    post_entries_bulk,
    post_entry,
)
from keel.ledger.services.balances import verify_balances
from keel.ledger.services.posting import post_draft_entry, reverse_entry
from keel.ledger.tests.factories import DAY, party_for, post_sale, sale

pytestmark = pytest.mark.django_db

D = Decimal
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own guards")
LINE_COLUMNS = ("company_id, entry_id, position, account_id, label, debit, credit, currency_id, amount_currency, rate,"
                " tax_role, source_type, source_id, date, period_id")


def refused(sql, params=()):
    with pytest.raises(DatabaseError) as raised, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    assert "ledger" in str(raised.value) or "immutable" in str(raised.value) or "digest" in str(raised.value)


@contextlib.contextmanager
def guards_off():
    """Write behind the guards, as another program could: SQLite's triggers answer to
    keel_ledger_guard(); PostgreSQL skips user triggers in replica mode (superuser only)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            yield cursor
            cursor.execute("SET LOCAL session_replication_role = origin")
        else:
            with guard.maintenance():
                yield cursor


def lines_of(entry) -> list[tuple]:
    return list(Line.objects.filter(entry=entry).order_by("position").values_list("id", *LINE_FIELDS))


def recomputed(entry) -> str:
    header = Entry.objects.filter(pk=entry.pk).values_list(*ENTRY_FIELDS).get()
    rows = Line.objects.filter(entry=entry).order_by("position", "id").values_list(*LINE_FIELDS)
    return entry_digest(header, rows)


# -- no line into a posted entry, whatever its id ----------------------------------------------


@pytest.mark.parametrize("which", ["below", "between", "above", "negative"])
def test_no_line_can_be_inserted_into_a_posted_entry_whatever_its_id(books, which):
    entry = post_sale(books)
    later = post_sale(books, amount="7.00")
    before = lines_of(entry)
    ids = [row[0] for row in before] + [row[0] for row in lines_of(later)]
    new_id = {"below": min(ids) - 1, "between": max(ids) + 1, "above": max(ids) + 10_000, "negative": -42}[which]
    if new_id == 0:
        new_id = -1
    refused(f"INSERT INTO ledger_line (id, {LINE_COLUMNS})"
            f" SELECT %s, company_id, entry_id, 9, account_id, 'sneaked in', debit, credit, currency_id,"
            f" amount_currency, rate, tax_role, source_type, source_id, date, period_id"
            f" FROM ledger_line WHERE entry_id = %s ORDER BY position LIMIT 1", [new_id, entry.pk])
    assert lines_of(entry) == before and verify_balances(books).ok


def test_a_posted_entry_does_not_take_a_second_set_of_as_many_lines(books):
    """The guard counts: a statement bringing exactly the entry's line count again is refused
    because the entry would then have twice as many lines as it was posted with."""
    entry = post_sale(books)
    before = lines_of(entry)
    refused(f"INSERT INTO ledger_line ({LINE_COLUMNS})"
            f" SELECT company_id, entry_id, position + 10, account_id, label, debit, credit, currency_id,"
            f" amount_currency, rate, tax_role, source_type, source_id, date, period_id"
            f" FROM ledger_line WHERE entry_id = %s", [entry.pk])
    assert lines_of(entry) == before


def test_a_line_cannot_be_moved_into_a_posted_entry(books):
    entry = post_sale(books)
    draft = create_draft_entry(actor=None, company=books, journal="GEN", date=DAY, lines=sale(), check_permission=False)
    moved = draft.lines.first()
    refused("UPDATE ledger_line SET entry_id = %s WHERE id = %s", [entry.pk, moved.pk])
    assert Line.objects.filter(entry=entry).count() == 2 and Line.objects.get(pk=moved.pk).entry_id == draft.pk


@postgres_only
def test_a_posted_entry_without_digest_is_refused_by_the_database(books):
    entry = post_sale(books)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_entry (company_id, journal_id, date, period_id, number, reference, description,"
            " status, source_type, source_id, created_at, posted_at)"
            " SELECT company_id, journal_id, date, period_id, 'FORGED-1', '', '', 'posted', '', '', now(), now()"
            " FROM ledger_entry WHERE id = %s", [entry.pk])
    assert not Entry.objects.filter(number="FORGED-1").exists()


# -- a posted entry's own fields ----------------------------------------------------------------


@pytest.mark.parametrize(("column", "value"), [
    ("digest", "0" * 32), ("line_count", 3), ("reference", "changed"), ("journal_id", None), ("number", "X-1"),
])
def test_a_posted_entrys_fields_cannot_be_updated(books, column, value):
    entry = post_sale(books)
    if column == "journal_id":
        value = Entry.objects.exclude(journal_id=entry.journal_id).values_list("journal_id", flat=True).first() or (
            entry.journal_id + 1000)
    before = Entry.objects.filter(pk=entry.pk).values_list("digest", "line_count", "reference", "journal_id",
                                                           "number").get()
    refused(f"UPDATE ledger_entry SET {column} = %s WHERE id = %s", [value, entry.pk])
    # Even together with the one allowed move, posted -> reversed.
    refused(f"UPDATE ledger_entry SET status = 'reversed', {column} = %s WHERE id = %s", [value, entry.pk])
    assert Entry.objects.filter(pk=entry.pk).values_list("digest", "line_count", "reference", "journal_id",
                                                         "number").get() == before
    assert Entry.objects.get(pk=entry.pk).status == EntryStatus.POSTED


def test_reversing_keeps_the_digest_and_verify_agrees(books):
    entry = post_sale(books)
    digest = Entry.objects.get(pk=entry.pk).digest
    reversal = reverse_entry(actor=None, entry=entry, date=DAY, check_permission=False)
    entry.refresh_from_db()
    assert (entry.status, entry.digest) == (EntryStatus.REVERSED, digest)
    assert reversal.digest == recomputed(reversal) and reversal.line_count == 2
    assert verify_balances(books).ok


# -- the digest recorded at posting -------------------------------------------------------------


@pytest.fixture
def varied(books, owner):
    """Entries of every shape the digest must read back alike on both engines: amounts with
    and without trailing zeros, a foreign currency at an 11-digit rate, a party, a due date,
    a cost centre, a source, a bulk batch and a posted draft."""
    from keel.ledger.services.chart import create_cost_centre

    set_rate(actor=owner, company=books, currency="USD", on_date=dt.date(2026, 3, 1), rate="1.0823456789")
    party = Party.objects.create(company=books, name="Acme Customer", normalized_name="acme customer")
    centre = create_cost_centre(actor=None, company=books, code="OPS", name="Operations", check_permission=False)
    entries = [
        post_entry(actor=None, company=books, journal="SAL", date=DAY, reference="INV-1", check_permission=False,
                   source_type="billing.invoice", source_id="17", lines=[
                       LineInput(account="1200", currency="USD", amount_currency=D("123.45"), party=party,
                                 due_date=dt.date(2026, 4, 14), label="Invoice 17", source_type="billing.invoice",
                                 source_id="17"),
                       LineInput(account="4000", currency="USD", amount_currency=D("-123.45"), cost_centre=centre,
                                 label="Consulting"),
                   ]),
        post_entry(actor=None, company=books, journal="GEN", date=DAY, check_permission=False, lines=[
            LineInput(account="6100", debit="99999999999.99", label="the largest amount"),
            LineInput(account="1400", credit=D("99999999999.99")),
        ]),
        post_sale(books, amount="100"),
    ]
    result = post_entries_bulk(actor=None, company=books, check_permission=False,
                               entries=[EntryInput("SAL", DAY, sale(f"{n}.5", company=books)) for n in range(1, 6)])
    entries += list(Entry.objects.filter(pk__in=result.ids))
    draft = create_draft_entry(actor=None, company=books, journal="GEN", date=DAY, lines=sale("12.30", company=books),
                               reference="draft", check_permission=False)
    entries.append(post_draft_entry(actor=None, entry=draft, check_permission=False))
    return books, entries, party


def test_each_posting_records_the_digest_of_what_it_wrote(varied):
    books, entries, _party = varied
    for entry in entries:
        stored = Entry.objects.get(pk=entry.pk)
        assert stored.digest == recomputed(stored) and len(stored.digest) == 32
        assert stored.line_count == Line.objects.filter(entry=stored).count()
    assert len({Entry.objects.get(pk=e.pk).digest for e in entries}) == len(entries)
    report = verify_balances(books)
    assert report.ok and report.entries_checked == len(entries)


@pytest.mark.parametrize(("change", "params"), [
    ("UPDATE ledger_line SET label = 'Invoice 18' WHERE entry_id = %s AND position = 0", []),
    ("UPDATE ledger_line SET party_id = NULL WHERE entry_id = %s AND position = 0", []),
    ("UPDATE ledger_line SET source_id = '18' WHERE entry_id = %s AND position = 0", []),
    ("UPDATE ledger_entry SET reference = 'INV-2' WHERE id = %s", []),
    ("UPDATE ledger_line SET due_date = '2026-05-14' WHERE entry_id = %s AND position = 0", []),
    ("UPDATE ledger_line SET cost_centre_id = NULL WHERE entry_id = %s AND position = 1", []),
    ("DELETE FROM ledger_line WHERE entry_id = %s AND position = 1", []),
])
def test_verify_names_the_entry_whose_content_was_changed_behind_the_guards(varied, change, params):
    books, entries, _party = varied
    changed = entries[0]
    assert verify_balances(books).ok
    with guards_off() as cursor:
        cursor.execute(change, [changed.pk, *params])
    report = verify_balances(books)
    assert not report.ok
    assert [difference.entry_id for difference in report.changed_entries] == [changed.pk]
    [difference] = report.changed_entries
    assert str(difference).startswith(f"entry SAL {changed.number} (#{changed.pk}) changed since it was posted")

    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("ledger", "verify", "--company", books.code, stdout=out)
    assert failed.value.returncode == 1
    assert f"entry SAL {changed.number} (#{changed.pk}) changed since it was posted" in out.getvalue()
    assert "1 posted entry changed since posting" in out.getvalue()


def test_verify_says_how_many_lines_a_changed_entry_lost(varied):
    books, entries, _party = varied
    with guards_off() as cursor:
        cursor.execute("DELETE FROM ledger_line WHERE entry_id = %s AND position = 1", [entries[2].pk])
    [difference] = verify_balances(books).changed_entries
    assert "it had 2 lines when posted and has 1" in str(difference)


def test_verify_reports_a_clean_ledger_on_the_cli(varied):
    books, entries, _party = varied
    out = io.StringIO()
    call_command("ledger", "verify", "--company", books.code, stdout=out)
    assert f"{len(entries)} posted entries are as they were posted" in out.getvalue()


def test_the_migration_records_the_digest_of_entries_posted_before_it(books):
    """Migration 0013 fills digest and line count of existing entries from their rows, the
    digest the posting service gives (run here on entries whose columns were emptied)."""
    import importlib
    from types import SimpleNamespace

    migration = importlib.import_module("keel.ledger.migrations.0017_posted_entry_digest")
    editor = SimpleNamespace(connection=connection)  # all record_digests uses of its schema editor
    entries = [post_sale(books), post_sale(books, amount="3.10")]
    recorded = {e.pk: Entry.objects.filter(pk=e.pk).values_list("digest", "line_count").get() for e in entries}
    if connection.vendor == "postgresql":
        with guards_off() as cursor:
            cursor.execute("ALTER TABLE ledger_entry DROP CONSTRAINT ledger_entry_posted_digest")
            cursor.execute("UPDATE ledger_entry SET digest = NULL, line_count = NULL")
            migration.record_digests(apps, editor)
            cursor.execute(migration.PG_CHECK)
    else:  # the migration runs before it guards the new columns; here they are guarded already
        with guards_off() as cursor:
            cursor.execute("UPDATE ledger_entry SET digest = NULL, line_count = NULL")
            migration.record_digests(apps, editor)
    assert {e.pk: Entry.objects.filter(pk=e.pk).values_list("digest", "line_count").get() for e in entries} == recorded


def test_the_reversal_of_an_exchange_difference_keeps_a_digest_verify_agrees_with(books, owner):
    """Reversing a zero foreign amount gives 0 x -1, a negative zero the database stores as 0:
    the digest reads both alike."""
    set_rate(actor=owner, company=books, currency="USD", on_date=dt.date(2026, 3, 1), rate="0.9")
    entry = post_entry(actor=None, company=books, journal="GEN", date=DAY, check_permission=False, lines=[
        LineInput(account="1200", party=party_for(books, "1200"), currency="USD", amount_currency=D("0"), debit=D("5.00")),
        LineInput(account="4000", credit=D("5.00"))])
    reversal = reverse_entry(actor=None, entry=entry, date=DAY, check_permission=False)
    assert reversal.digest == recomputed(reversal)
    assert verify_balances(books).ok
