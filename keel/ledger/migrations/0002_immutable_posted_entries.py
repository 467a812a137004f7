"""Posted entries and their lines are immutable in the database itself.

Refused, whatever code (or SQL console) tries it:
- INSERT of a line into an entry that is not a draft;
- UPDATE or DELETE of a line whose entry is not a draft;
- DELETE of an entry that is not a draft;
- UPDATE of a posted or reversed entry, except the one move posted -> reversed (which
  changes nothing but the status).

SQLite triggers also call keel_ledger_guard() (registered by keel.ledger.guard) so that a
test runner's flush can empty the tables; see that module.
"""

from django.db import migrations

ENTRY_CONTENT = (
    "company_id", "journal_id", "date", "period_id", "number", "reference", "description",
    "reversal_of_id", "source_type", "source_id", "created_by_id", "created_at", "posted_at",
    "posted_by_id",
)

SQLITE_ENTRY_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in ENTRY_CONTENT)

SQLITE_FORWARD = [
    """
    CREATE TRIGGER ledger_line_insert_guard BEFORE INSERT ON ledger_line
    WHEN (SELECT status FROM ledger_entry WHERE id = NEW.entry_id) <> 'draft' AND keel_ledger_guard()
    BEGIN SELECT RAISE(ABORT, 'ledger: lines cannot be added to a posted entry'); END
    """,
    """
    CREATE TRIGGER ledger_line_update_guard BEFORE UPDATE ON ledger_line
    WHEN ((SELECT status FROM ledger_entry WHERE id = OLD.entry_id) <> 'draft'
          OR (SELECT status FROM ledger_entry WHERE id = NEW.entry_id) <> 'draft') AND keel_ledger_guard()
    BEGIN SELECT RAISE(ABORT, 'ledger: lines of a posted entry are immutable'); END
    """,
    """
    CREATE TRIGGER ledger_line_delete_guard BEFORE DELETE ON ledger_line
    WHEN (SELECT status FROM ledger_entry WHERE id = OLD.entry_id) <> 'draft' AND keel_ledger_guard()
    BEGIN SELECT RAISE(ABORT, 'ledger: lines of a posted entry are immutable'); END
    """,
    f"""
    CREATE TRIGGER ledger_entry_update_guard BEFORE UPDATE ON ledger_entry
    WHEN OLD.status <> 'draft' AND (
        NOT (NEW.status = OLD.status OR (OLD.status = 'posted' AND NEW.status = 'reversed'))
        OR {SQLITE_ENTRY_CHANGED}
    ) AND keel_ledger_guard()
    BEGIN SELECT RAISE(ABORT, 'ledger: a posted entry is immutable (reverse it instead)'); END
    """,
    """
    CREATE TRIGGER ledger_entry_delete_guard BEFORE DELETE ON ledger_entry
    WHEN OLD.status <> 'draft' AND keel_ledger_guard()
    BEGIN SELECT RAISE(ABORT, 'ledger: a posted entry cannot be deleted (reverse it instead)'); END
    """,
]

SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "ledger_line_insert_guard", "ledger_line_update_guard", "ledger_line_delete_guard",
        "ledger_entry_update_guard", "ledger_entry_delete_guard",
    )
]

PG_ENTRY_CHANGED = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in ENTRY_CONTENT)

POSTGRES_FORWARD = [
    """
    CREATE FUNCTION ledger_line_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM new_lines n JOIN ledger_entry e ON e.id = n.entry_id WHERE e.status <> 'draft'
        ) THEN
            RAISE EXCEPTION 'ledger: lines cannot be added to a posted entry' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER ledger_line_insert_guard AFTER INSERT ON ledger_line
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION ledger_line_insert_guard()
    """,
    """
    CREATE FUNCTION ledger_line_change_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM ledger_entry WHERE id = OLD.entry_id AND status <> 'draft')
           OR (TG_OP = 'UPDATE' AND EXISTS (
                SELECT 1 FROM ledger_entry WHERE id = NEW.entry_id AND status <> 'draft')) THEN
            RAISE EXCEPTION 'ledger: lines of posted entry % are immutable', OLD.entry_id
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER ledger_line_change_guard BEFORE UPDATE OR DELETE ON ledger_line
    FOR EACH ROW EXECUTE FUNCTION ledger_line_change_guard()
    """,
    f"""
    CREATE FUNCTION ledger_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status <> 'draft' THEN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'ledger: posted entry % cannot be deleted (reverse it instead)', OLD.id
                    USING ERRCODE = 'restrict_violation';
            END IF;
            IF NOT (NEW.status = OLD.status OR (OLD.status = 'posted' AND NEW.status = 'reversed'))
               OR {PG_ENTRY_CHANGED} THEN
                RAISE EXCEPTION 'ledger: posted entry % is immutable (reverse it instead)', OLD.id
                    USING ERRCODE = 'restrict_violation';
            END IF;
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER ledger_entry_guard BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_guard()
    """,
]

POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS ledger_line_insert_guard ON ledger_line",
    "DROP TRIGGER IF EXISTS ledger_line_change_guard ON ledger_line",
    "DROP TRIGGER IF EXISTS ledger_entry_guard ON ledger_entry",
    "DROP FUNCTION IF EXISTS ledger_line_insert_guard()",
    "DROP FUNCTION IF EXISTS ledger_line_change_guard()",
    "DROP FUNCTION IF EXISTS ledger_entry_guard()",
]

STATEMENTS = {
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
    "postgresql": (POSTGRES_FORWARD, POSTGRES_BACKWARD),
}


def _run(schema_editor, index: int) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise RuntimeError(f"Keel's ledger guard has no triggers for {vendor}")
    for sql in STATEMENTS[vendor][index]:
        schema_editor.execute(sql, params=None)  # no placeholders: RAISE uses % itself


def forward(apps, schema_editor):
    _run(schema_editor, 0)


def backward(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
