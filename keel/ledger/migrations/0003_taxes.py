from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_immutable_posted_entries")]
    operations: list = []
