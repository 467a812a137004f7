"""What posted stays posted: a digest and line count on each posted entry, and tighter guards.

1. Two nullable columns on ledger_entry (nullable so that SQLite adds them with ALTER TABLE
   instead of rebuilding the table, which would drop the guard triggers): `digest`, which
   the posting service records as it posts (keel.ledger.digest) and `keel ledger verify`
   recomputes, and `line_count`, the number of lines the entry was posted with. Existing
   posted and reversed entries get both here, from their rows as they are now.
2. PostgreSQL: the insert guard of migration 0010 took lines of a posted entry in any
   statement whose first new line id was below the entry's existing lines (an insert with
   an explicit small id passed). It now takes lines of a posted entry only when, after the
   statement, the entry has exactly its line count and all of them came in this statement:
   whatever the ids, a posted entry that has its lines takes no more. A CHECK refuses a
   posted entry without digest or line count.
3. The entry guard compares every column but the status (PostgreSQL: the whole row as
   jsonb, so a column added later is guarded too; SQLite: the listed columns, now with
   the id, digest and line count), so neither can be changed on a posted entry.
"""

from django.db import migrations, models

ENTRY_CONTENT = (
    "id", "company_id", "journal_id", "date", "period_id", "number", "reference", "description", "reversal_of_id",
    "source_type", "source_id", "created_by_id", "created_at", "posted_at", "posted_by_id", "digest", "line_count",
)
ENTRY_CONTENT_0002 = ENTRY_CONTENT[1:-2]


def _sqlite_entry_guard(columns) -> str:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
    return f"""
    CREATE TRIGGER ledger_entry_update_guard BEFORE UPDATE ON ledger_entry
    WHEN OLD.status <> 'draft' AND (
        NOT (NEW.status = OLD.status OR (OLD.status = 'posted' AND NEW.status = 'reversed'))
        OR {changed}
    ) AND keel_ledger_guard()
    BEGIN SELECT RAISE(ABORT, 'ledger: a posted entry is immutable (reverse it instead)'); END
    """


PG_LINE_GUARD = """
CREATE OR REPLACE FUNCTION ledger_line_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A posted entry takes lines only in the statement that gives it all of them: the
    -- statement brings exactly its line count, and afterwards it has no other line.
    IF EXISTS (
        SELECT 1 FROM (SELECT entry_id, count(*) AS added FROM new_lines GROUP BY entry_id) n
        JOIN ledger_entry e ON e.id = n.entry_id
        WHERE e.status <> 'draft'
          AND (e.line_count IS NULL OR n.added <> e.line_count
               OR (SELECT count(*) FROM ledger_line l WHERE l.entry_id = n.entry_id) <> e.line_count)
    ) THEN
        RAISE EXCEPTION 'ledger: lines cannot be added to a posted entry' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NULL;
END $$
"""
PG_LINE_GUARD_0010 = """
CREATE OR REPLACE FUNCTION ledger_line_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE first_id bigint;
BEGIN
    SELECT min(id) INTO first_id FROM new_lines;
    IF EXISTS (
        SELECT 1 FROM (SELECT DISTINCT entry_id FROM new_lines) n
        JOIN ledger_entry e ON e.id = n.entry_id
        WHERE e.status <> 'draft'
          AND EXISTS (SELECT 1 FROM ledger_line l WHERE l.entry_id = n.entry_id AND l.id < first_id)
    ) THEN
        RAISE EXCEPTION 'ledger: lines cannot be added to a posted entry' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NULL;
END $$
"""


def _pg_entry_guard(changed: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION ledger_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'draft' THEN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'ledger: posted entry % cannot be deleted (reverse it instead)', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF NOT (NEW.status = OLD.status OR (OLD.status = 'posted' AND NEW.status = 'reversed'))
           OR {changed} THEN
            RAISE EXCEPTION 'ledger: posted entry % is immutable (reverse it instead)', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$
"""


PG_ENTRY_GUARD = _pg_entry_guard("(to_jsonb(NEW) - 'status') IS DISTINCT FROM (to_jsonb(OLD) - 'status')")
PG_ENTRY_GUARD_0002 = _pg_entry_guard(" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in ENTRY_CONTENT_0002))
PG_CHECK = ("ALTER TABLE ledger_entry ADD CONSTRAINT ledger_entry_posted_digest"
            " CHECK (status = 'draft' OR (digest IS NOT NULL AND line_count IS NOT NULL))")


def record_digests(apps, schema_editor):
    """Digest and line count of every posted or reversed entry, from its rows as they are."""
    from keel.ledger.digest import ENTRY_FIELDS, LINE_FIELDS, entry_digest

    entry_model, line_model = apps.get_model("ledger", "Entry"), apps.get_model("ledger", "Line")
    connection = schema_editor.connection
    last_id = 0
    while True:
        entries = list(entry_model.objects.filter(pk__gt=last_id).exclude(status="draft").order_by("pk")
                       .values_list("pk", *ENTRY_FIELDS)[:2000])
        if not entries:
            return
        last_id = entries[-1][0]
        lines: dict[int, list[tuple]] = {}
        for row in (line_model.objects.filter(entry_id__in=[e[0] for e in entries])
                    .order_by("entry_id", "position", "id").values_list("entry_id", *LINE_FIELDS)):
            lines.setdefault(row[0], []).append(row[1:])
        updates = [(entry_digest(header, lines.get(pk, [])), len(lines.get(pk, [])), pk) for pk, *header in entries]
        with connection.cursor() as cursor:
            cursor.executemany("UPDATE ledger_entry SET digest = %s, line_count = %s WHERE id = %s", updates)


def guard(apps, schema_editor):
    execute = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        for sql in (PG_LINE_GUARD, PG_ENTRY_GUARD, PG_CHECK):
            execute(sql, params=None)
    else:
        execute("DROP TRIGGER IF EXISTS ledger_entry_update_guard", params=None)
        execute(_sqlite_entry_guard(ENTRY_CONTENT), params=None)


def unguard(apps, schema_editor):
    execute = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        execute("ALTER TABLE ledger_entry DROP CONSTRAINT IF EXISTS ledger_entry_posted_digest", params=None)
        for sql in (PG_LINE_GUARD_0010, PG_ENTRY_GUARD_0002):
            execute(sql, params=None)
    else:
        execute("DROP TRIGGER IF EXISTS ledger_entry_update_guard", params=None)
        execute(_sqlite_entry_guard(ENTRY_CONTENT_0002), params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0016_uk_tax_box_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="entry",
            name="digest",
            field=models.CharField(blank=True, editable=False, max_length=32, null=True),
        ),
        migrations.AddField(
            model_name="entry",
            name="line_count",
            field=models.IntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(record_digests, migrations.RunPython.noop),
        migrations.RunPython(guard, unguard),
    ]
