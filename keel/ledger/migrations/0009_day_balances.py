"""Day balances: totals of posted lines per account and day, kept by posting from now on.

Existing books are summed once from their posted lines (those with a period), exactly
(MoneySum adds Decimals on SQLite)."""

import django.db.models.deletion
from django.db import migrations, models


def fill_day_balances(apps, schema_editor):
    from django.db.models import Count

    from keel.core.db_money import MoneySum

    line = apps.get_model("ledger", "Line")
    day_balance = apps.get_model("ledger", "DayBalance")
    rows = (line.objects.filter(period__isnull=False).values("company_id", "account_id", "date")
            .annotate(d=MoneySum("debit"), c=MoneySum("credit"), n=Count("id")).order_by())
    batch = []
    for row in rows.iterator(chunk_size=5000):
        batch.append(day_balance(company_id=row["company_id"], account_id=row["account_id"], date=row["date"],
                                 debit=row["d"], credit=row["c"], line_count=row["n"]))
        if len(batch) == 5000:
            day_balance.objects.bulk_create(batch)
            batch = []
    day_balance.objects.bulk_create(batch)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_load_currencies'),
        ('ledger', '0008_leaner_ledger_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='DayBalance',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField()),
                ('debit', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
                ('credit', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
                ('line_count', models.PositiveBigIntegerField(default=0)),
                ('account', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.account')),
                ('company', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.company')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('company', 'date', 'account'), name='ledger_day_balance_key_unique')],
            },
        ),
        migrations.RunPython(fill_day_balances, migrations.RunPython.noop),
    ]
