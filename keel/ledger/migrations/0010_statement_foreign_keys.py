"""Journal lines and entries: foreign keys checked once per statement on PostgreSQL.

PostgreSQL checked each foreign key of each inserted line and entry on its own at commit (a
lookup and a row lock per line and key, even for NULL keys): 17 us of the 46 us it took to
bulk-post a line. `keel.core.db_foreign_keys` checks the same rules once per INSERT, UPDATE
or DELETE statement with set-based queries. Migration 0008 had dropped the line's company,
period and currency constraints unchecked; they are checked again here.

Statement-level checks run when each statement ends, not at commit, so the posting service
now inserts the entries before their lines on PostgreSQL too, and the insert guard of
migration 0002 accepts lines of a posted entry only in the statement that gives the entry
its lines (a posted entry that already has lines takes no more).

The ForeignKey fields change only in the migration state (db_constraint=False); SQLite keeps
its native constraints and its tables are not rebuilt (a rebuild would drop the immutability
triggers).
"""

from django.conf import settings
from django.db import migrations, models

from keel.core.db_foreign_keys import Reference, install_sql, uninstall_sql

LINE_REFERENCES = [
    # Not locked: a line's entry is one its writer created in this transaction (nobody else
    # sees it) or a draft it holds FOR UPDATE (the posting service's _locked_draft).
    Reference("entry_id", "ledger_entry", lock=False),
    Reference("account_id", "ledger_account", company=True),
    Reference("company_id", "core_company"),
    Reference("period_id", "ledger_period", company=True),
    Reference("currency_id", "core_currency", "code", type="varchar"),
    Reference("party_id", "core_party", company=True),
    Reference("tax_code_id", "ledger_taxcode", company=True),
    Reference("cost_centre_id", "ledger_costcentre", company=True),
]
ENTRY_REFERENCES = [
    Reference("company_id", "core_company"),
    Reference("journal_id", "ledger_journal", company=True),
    Reference("period_id", "ledger_period", company=True),
    Reference("reversal_of_id", "ledger_entry", company=True),
    Reference("created_by_id", settings.AUTH_USER_MODEL.replace(".", "_").lower()),
    Reference("posted_by_id", settings.AUTH_USER_MODEL.replace(".", "_").lower()),
]
TABLES = {"ledger_line": LINE_REFERENCES, "ledger_entry": ENTRY_REFERENCES}

# The insert guard of 0002, which refused any line of a non-draft entry: entries are now
# inserted first, so it refuses only lines added to a posted entry that already had lines.
# Lines get increasing ids from their identity, so the entry's earlier lines are those
# below the statement's first new id (an insert that forces smaller ids by hand is not an
# accident this guard is for).
GUARD = """
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
GUARD_BEFORE = """
CREATE OR REPLACE FUNCTION ledger_line_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM new_lines n JOIN ledger_entry e ON e.id = n.entry_id WHERE e.status <> 'draft'
    ) THEN
        RAISE EXCEPTION 'ledger: lines cannot be added to a posted entry' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NULL;
END $$
"""


def _constraints(schema_editor, table: str, columns: set[str]) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, table)
    return [name for name, info in found.items()
            if info.get("foreign_key") and (info.get("columns") or [None])[0] in columns]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, references in TABLES.items():
        for name in _constraints(schema_editor, table, {ref.column for ref in references}):
            schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {schema_editor.quote_name(name)}")
        for statement in install_sql(table, references):
            schema_editor.execute(statement, params=None)
    schema_editor.execute(GUARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(GUARD_BEFORE, params=None)
    for table, references in TABLES.items():
        for statement in uninstall_sql(table, references):
            schema_editor.execute(statement, params=None)
    line, entry = apps.get_model("ledger", "Line"), apps.get_model("ledger", "Entry")
    # 0008 left the line's company, period and currency without constraints: so do we.
    restored = {line: ["entry", "account", "party", "tax_code", "cost_centre"],
                entry: ["company", "journal", "period", "reversal_of", "created_by", "posted_by"]}
    for model, names in restored.items():
        for name in names:
            field = model._meta.get_field(name)
            schema_editor.execute(schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s"))


def _fk(to, **options):
    return models.ForeignKey(to=to, db_constraint=False, **options)


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0009_day_balances"),
        ("core", "0002_load_currencies"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField("line", "entry", _fk("ledger.entry", on_delete=models.CASCADE,
                                                          related_name="lines")),
                migrations.AlterField("line", "account", _fk("ledger.account", on_delete=models.PROTECT,
                                                            related_name="lines", db_index=False)),
                migrations.AlterField("line", "party", _fk("core.party", on_delete=models.PROTECT, null=True,
                                                          blank=True, related_name="+", db_index=False)),
                migrations.AlterField("line", "tax_code", _fk("ledger.taxcode", on_delete=models.PROTECT, null=True,
                                                             blank=True, related_name="lines", db_index=False)),
                migrations.AlterField("line", "cost_centre", _fk("ledger.costcentre", on_delete=models.PROTECT,
                                                                null=True, blank=True, related_name="lines",
                                                                db_index=False)),
                migrations.AlterField("entry", "company", _fk("core.company", on_delete=models.PROTECT,
                                                             related_name="+", db_index=False)),
                migrations.AlterField("entry", "journal", _fk("ledger.journal", on_delete=models.PROTECT,
                                                             related_name="entries", db_index=False)),
                migrations.AlterField("entry", "period", _fk("ledger.period", on_delete=models.PROTECT, null=True,
                                                            blank=True, related_name="entries", db_index=False)),
                migrations.AlterField("entry", "reversal_of", _fk("ledger.entry", on_delete=models.PROTECT, null=True,
                                                                 blank=True, related_name="reversals",
                                                                 db_index=False)),
                migrations.AlterField("entry", "created_by", _fk(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                                                null=True, blank=True, related_name="+",
                                                                db_index=False)),
                migrations.AlterField("entry", "posted_by", _fk(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                                               null=True, blank=True, related_name="+",
                                                               db_index=False)),
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
    ]
