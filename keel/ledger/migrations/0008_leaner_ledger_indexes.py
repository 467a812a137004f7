"""Fewer indexes to maintain on every posted entry and line (bulk posting speed).

- ledger_entry: the single-column indexes Django adds to foreign keys go where a composite
  index already covers the lookup (company) or where lookups never start (journal, period,
  created_by, posted_by: only their rare deletion scans); reversal_of keeps a partial index
  on the few entries that reverse another.
- ledger_line: the party and source indexes become partial, since most lines have neither.
- ledger_line.period is empty on a draft's lines (posting writes it), so reports find the
  posted lines of a period without joining the entries.
- ledger_line on PostgreSQL: no foreign-key constraint on company, period and currency, the
  copies of the entry's company and period and a currency the posting service checked. Each
  constraint costs a lookup per line at commit (a third of bulk posting time); the entry's
  own constraints, and the line's to its entry and account, stay. SQLite keeps all of them
  (its checks are cheap, and dropping one would rebuild the table).

The foreign-key columns change only in the migration state; the database drops the
indexes by name as introspected, so ledger_entry is not rebuilt on SQLite (a rebuild
would drop its immutability triggers).
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Q

ENTRY_FOREIGN_KEYS = ("company", "journal", "period", "reversal_of", "created_by", "posted_by")


def _single_column_indexes(schema_editor, table: str, columns: set[str]) -> dict[str, str]:
    """{column: index name} of the plain (non-unique) one-column indexes on `columns`."""
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    found = {}
    for name, info in constraints.items():
        if (info.get("index") and not info.get("unique") and not info.get("primary_key")
                and len(info.get("columns") or []) == 1 and info["columns"][0] in columns):
            found[info["columns"][0]] = name
    return found


def drop_entry_fk_indexes(apps, schema_editor):
    columns = {f"{name}_id" for name in ENTRY_FOREIGN_KEYS}
    for _column, name in _single_column_indexes(schema_editor, "ledger_entry", columns).items():
        schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def restore_entry_fk_indexes(apps, schema_editor):
    entry = apps.get_model("ledger", "Entry")
    present = _single_column_indexes(schema_editor, "ledger_entry", {f"{n}_id" for n in ENTRY_FOREIGN_KEYS})
    for name in ENTRY_FOREIGN_KEYS:
        field = entry._meta.get_field(name)
        if field.column not in present:
            schema_editor.execute(schema_editor._create_index_sql(entry, fields=[field]))


LINE_UNCHECKED = ("company", "period", "currency")


def drop_line_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    columns = {f"{name}_id" for name in LINE_UNCHECKED}
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, "ledger_line")
    for name, info in constraints.items():
        if info.get("foreign_key") and (info.get("columns") or [None])[0] in columns:
            schema_editor.execute(f"ALTER TABLE ledger_line DROP CONSTRAINT {schema_editor.quote_name(name)}")


def restore_line_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    line = apps.get_model("ledger", "Line")
    for name in LINE_UNCHECKED:
        field = line._meta.get_field(name)
        schema_editor.execute(schema_editor._create_fk_sql(line, field, "_fk_%(to_table)s_%(to_column)s"))


def _fk(to, **extra):
    return models.ForeignKey(on_delete=models.PROTECT, to=to, db_index=False, **extra)


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0007_tax_groups"),
        ("core", "0002_load_currencies"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField("entry", "company", _fk("core.company", related_name="+")),
                migrations.AlterField("entry", "journal", _fk("ledger.journal", related_name="entries")),
                migrations.AlterField("entry", "period", _fk("ledger.period", related_name="entries", null=True,
                                                            blank=True)),
                migrations.AlterField("entry", "reversal_of", _fk("ledger.entry", related_name="reversals",
                                                                 null=True, blank=True)),
                migrations.AlterField("entry", "created_by", _fk(settings.AUTH_USER_MODEL, related_name="+", null=True, blank=True)),
                migrations.AlterField("entry", "posted_by", _fk(settings.AUTH_USER_MODEL, related_name="+", null=True, blank=True)),
            ],
            database_operations=[migrations.RunPython(drop_entry_fk_indexes, restore_entry_fk_indexes)],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField("line", "company", _fk("core.company", related_name="+", db_constraint=False)),
                migrations.AlterField("line", "period", _fk("ledger.period", related_name="+", null=True, blank=True,
                                                           db_constraint=False)),
                migrations.AlterField("line", "currency", _fk("core.currency", related_name="+", db_constraint=False)),
            ],
            database_operations=[migrations.RunPython(drop_line_constraints, restore_line_constraints)],
        ),
        migrations.RunSQL(
            "UPDATE ledger_line SET period_id = NULL WHERE period_id IS NOT NULL"
            " AND entry_id IN (SELECT id FROM ledger_entry WHERE status = 'draft')",
            "UPDATE ledger_line SET period_id = (SELECT period_id FROM ledger_entry WHERE ledger_entry.id ="
            " ledger_line.entry_id) WHERE period_id IS NULL",
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(condition=Q(reversal_of__isnull=False), fields=["reversal_of"],
                               name="ledger_entry_reversal_of"),
        ),
        migrations.RemoveIndex(model_name="line", name="ledger_line_party"),
        migrations.AddIndex(
            model_name="line",
            index=models.Index(condition=Q(party__isnull=False), fields=["company", "party", "account"],
                               name="ledger_line_party"),
        ),
        migrations.RemoveIndex(model_name="line", name="ledger_line_source"),
        migrations.AddIndex(
            model_name="line",
            index=models.Index(condition=~Q(source_type=""), fields=["company", "source_type", "source_id"],
                               name="ledger_line_source"),
        ),
    ]
