"""Entries say what their source posted them for; one live entry per source and purpose.

`purpose` is added with ALTER TABLE ADD COLUMN on both engines (the migration state gets the
usual AddField): Django's AddField would rebuild ledger_entry on SQLite, which drops the
immutability triggers of migration 0002. The partial unique index is created as an index,
which rebuilds nothing.

Existing live entries of the ledger's own processes (year-end close, settlement, bank
reconciliation) get their purpose, so the rule covers them too; a source that somehow has
several live entries keeps a blank purpose on them (no claim) rather than failing the upgrade.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Count

PURPOSES = {
    "ledger.fiscal_year": "close",
    "ledger.settlement": "settlement",
    "ledger.bankstatementline": "reconciliation",
}


def backfill_purposes(apps, schema_editor):
    entry = apps.get_model("ledger", "Entry")
    for source_type, purpose in PURPOSES.items():
        live = entry.objects.filter(source_type=source_type, status="posted", reversal_of__isnull=True, purpose="")
        repeated = (live.values("company_id", "source_id").annotate(n=Count("id")).filter(n__gt=1)
                    .values_list("company_id", "source_id"))
        ids = set(live.values_list("id", flat=True))
        for company_id, source_id in repeated:
            ids -= set(live.filter(company_id=company_id, source_id=source_id).values_list("id", flat=True))
        ids = sorted(ids)
        for start in range(0, len(ids), 500):
            entry.objects.filter(id__in=ids[start:start + 500]).update(purpose=purpose)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_load_currencies'),
        ("ledger", "0012_statement_line_date_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name='entry',
                    name='purpose',
                    field=models.CharField(blank=True, default='', max_length=50),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE ledger_entry ADD COLUMN purpose varchar(50) NOT NULL DEFAULT ''",
                    "ALTER TABLE ledger_entry DROP COLUMN purpose",
                ),
            ],
        ),
        migrations.RunPython(backfill_purposes, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='entry',
            constraint=models.UniqueConstraint(condition=models.Q(('reversal_of__isnull', True), ('status', 'posted'), models.Q(('purpose', ''), _negated=True)), fields=('company', 'source_type', 'source_id', 'purpose'), name='ledger_entry_live_source_unique'),
        ),
    ]
