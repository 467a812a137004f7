"""Posted entries and lines are immutable in the database itself (raw SQL is refused)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from keel.ledger.choices import EntryStatus
from keel.ledger.models import Entry, Line
from keel.ledger.services import create_draft_entry
from keel.ledger.tests.factories import DAY, post_sale, sale

pytestmark = pytest.mark.django_db


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def refused(sql, params=()):
    with pytest.raises(DatabaseError) as exc:
        raw(sql, params)
    assert "ledger" in str(exc.value) or "immutable" in str(exc.value)


def test_posted_lines_cannot_be_updated_or_deleted(books):
    entry = post_sale(books)
    line = entry.lines.first()
    refused("UPDATE ledger_line SET debit = 1 WHERE id = %s", [line.pk])
    refused("UPDATE ledger_line SET label = 'x' WHERE entry_id = %s", [entry.pk])
    refused("DELETE FROM ledger_line WHERE id = %s", [line.pk])
    line.refresh_from_db()
    assert line.debit == 100 and line.label == "" and entry.lines.count() == 2


def test_lines_cannot_be_moved_into_or_added_to_a_posted_entry(books):
    posted = post_sale(books)
    draft = create_draft_entry(actor=None, company=books, journal="GEN", date=DAY, lines=sale(company=books), check_permission=False)
    draft_line = draft.lines.first()
    refused("UPDATE ledger_line SET entry_id = %s WHERE id = %s", [posted.pk, draft_line.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        Line.objects.create(company=books, entry=posted, account=draft_line.account, debit=1, currency_id="EUR", date=DAY)
    assert posted.lines.count() == 2


def test_posted_entries_cannot_be_changed_or_deleted(books):
    entry = post_sale(books)
    refused("UPDATE ledger_entry SET number = 'X' WHERE id = %s", [entry.pk])
    refused("UPDATE ledger_entry SET date = '2026-03-01' WHERE id = %s", [entry.pk])
    refused("UPDATE ledger_entry SET status = 'draft' WHERE id = %s", [entry.pk])
    refused("DELETE FROM ledger_entry WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(description="changed")
    entry.refresh_from_db()
    assert entry.number == "SAL/2026/000001" and entry.status == EntryStatus.POSTED


def test_only_the_move_to_reversed_is_allowed_and_it_is_final(books):
    entry = post_sale(books)
    raw("UPDATE ledger_entry SET status = 'reversed' WHERE id = %s", [entry.pk])
    refused("UPDATE ledger_entry SET status = 'posted' WHERE id = %s", [entry.pk])
    refused("UPDATE ledger_entry SET status = 'reversed', reference = 'x' WHERE id = %s", [entry.pk])


def test_drafts_stay_editable(books):
    draft = create_draft_entry(actor=None, company=books, journal="GEN", date=DAY, lines=sale(company=books), check_permission=False)
    raw("UPDATE ledger_line SET label = 'edited' WHERE entry_id = %s", [draft.pk])
    raw("UPDATE ledger_entry SET description = 'edited' WHERE id = %s", [draft.pk])
    raw("DELETE FROM ledger_line WHERE entry_id = %s", [draft.pk])
    raw("DELETE FROM ledger_entry WHERE id = %s", [draft.pk])


def test_the_triggers_are_installed(db):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'ledger_%%'")
            assert len(cursor.fetchall()) == 5
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'ledger_%%' AND NOT tgisinternal")
            assert len(cursor.fetchall()) == 3


def test_a_large_bulk_posting_keeps_the_insert_guard_in_place(books):
    """On SQLite a big batch inserts its lines without the per-row trigger, inside its own
    transaction; afterwards adding a line to a posted entry is refused as before."""
    from keel.ledger.guard import BULK_LINES
    from keel.ledger.services import EntryInput, post_entries_bulk

    count = BULK_LINES // 2 + 1
    result = post_entries_bulk(actor=None, company=books, check_permission=False,
                               entries=[EntryInput("SAL", DAY, sale("10.00", company=books)) for _ in range(count)])
    assert result.lines >= BULK_LINES
    posted = Entry.objects.get(pk=result.ids[0])
    refused(
        "INSERT INTO ledger_line (company_id, entry_id, position, account_id, label, debit, credit, currency_id,"
        " amount_currency, rate, tax_role, source_type, source_id, date, period_id)"
        " SELECT company_id, entry_id, 9, account_id, 'sneaked in', debit, credit, currency_id, amount_currency, rate,"
        " tax_role, source_type, source_id, date, period_id FROM ledger_line WHERE entry_id = %s LIMIT 1",
        [posted.pk],
    )
    assert posted.lines.count() == 2
