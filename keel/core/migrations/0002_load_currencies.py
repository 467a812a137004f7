"""Load ISO 4217 currencies (names from pycountry, minor units from keel.core.money)."""

from django.db import migrations


def load(apps, schema_editor):
    from keel.core.reference_data import load_currencies

    load_currencies(apps.get_model("core", "Currency"))


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
