from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_budgets")]
    operations: list = []
