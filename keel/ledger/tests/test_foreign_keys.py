"""On PostgreSQL the foreign keys of lines and entries are checked per statement (migration
0010): the database still refuses dangling references, in both directions."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from keel.core.db_foreign_keys import installed
from keel.core.models import Party
from keel.ledger.models import Account, Entry, Line
from keel.ledger.tests.factories import DAY, post_sale

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps its native foreign keys"),
]

TABLES = importlib.import_module("keel.ledger.migrations.0010_statement_foreign_keys").TABLES


def run(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


COPY_LINE = (
    "INSERT INTO ledger_line (company_id, entry_id, position, account_id, label, debit, credit, currency_id,"
    " amount_currency, rate, tax_role, source_type, source_id, date, period_id, party_id)"
    " SELECT company_id, {entry}, 9, {account}, 'copy', debit, credit, currency_id, amount_currency, rate,"
    " tax_role, source_type, source_id, date, period_id, {party} FROM ledger_line WHERE id = %s"
)


@pytest.mark.parametrize("model", [Line, Entry])
def test_every_foreign_key_is_a_constraint_or_checked_per_statement(db, model):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
        assert installed(cursor, table)
    constrained = {info["columns"][0] for info in constraints.values() if info.get("foreign_key")}
    checked = {ref.column: ref for ref in TABLES[table]}
    for field in model._meta.concrete_fields:
        if not field.is_relation:
            continue
        assert field.column in constrained | set(checked), f"{table}.{field.column} is not checked"
        if field.column in checked:
            ref = checked[field.column]
            assert (ref.parent, ref.parent_column) == (field.related_model._meta.db_table, field.target_field.column)


def test_a_line_referring_to_a_missing_account_or_entry_is_refused(books):
    line = post_sale(books).lines.first()
    for entry, account in ((line.entry_id, 999_999), (999_999, line.account_id)):
        with pytest.raises(IntegrityError, match="violates foreign key"):
            run(COPY_LINE.format(entry=entry, account=account, party="NULL"), [line.pk])
    assert Line.objects.count() == 2


def test_records_that_posted_lines_refer_to_cannot_be_deleted(books, accountant):
    user = accountant
    party = Party.objects.create(company=books, name="Customer")
    entry = post_sale(books)
    line = entry.lines.first()
    draft = Entry.objects.create(company=books, journal_id=entry.journal_id, date=DAY, created_by=user)
    run(COPY_LINE.format(entry=draft.pk, account=line.account_id, party=party.pk), [line.pk])
    for sql, params, reference in (
        ("DELETE FROM ledger_account WHERE id = %s", [line.account_id], "ledger_line.account_id"),
        ("DELETE FROM core_party WHERE id = %s", [party.pk], "ledger_line.party_id"),
        ("DELETE FROM auth_user WHERE id = %s", [user.pk], "ledger_entry.created_by_id"),
        ("DELETE FROM ledger_period WHERE id = %s", [entry.period_id], "ledger_(line|entry).period_id"),
        ("UPDATE ledger_account SET id = 999999 WHERE id = %s", [line.account_id], "ledger_line.account_id"),
    ):
        with pytest.raises(IntegrityError, match=f"violates foreign key {reference} -> "):
            run(sql, params)
    assert Account.objects.filter(pk=line.account_id).exists() and Party.objects.filter(pk=party.pk).exists()


def test_lines_cannot_be_added_to_an_entry_posted_in_the_same_transaction(books):
    """The guard takes a posted entry's lines only in the statement that gives it its first ones."""
    with pytest.raises(IntegrityError), transaction.atomic():
        entry = post_sale(books)
        run(COPY_LINE.format(entry=entry.pk, account="account_id", party="NULL"), [entry.lines.first().pk])
    assert not Entry.objects.exists()
    entry = post_sale(books, amount="5.00")
    assert [line.debit + line.credit for line in entry.lines.all()] == [Decimal("5.00"), Decimal("5.00")]
