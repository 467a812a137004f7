"""Tax groups: a tax code made of component codes (e.g. GST 5 % + QST 9.975 %).

Only ledger_taxcode gains a column (and a check); ledger_line and ledger_entry are not
touched: a line taxed with a group carries the group's code on its base line and each
component's code on the tax lines (see docs/design/ledger.md).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0002_load_currencies"),
        # Written against 0005_bank; depends on 0006 (made at the same time) so that the
        # graph has one leaf. The merge fixes the order if it must.
        ("ledger", "0006_group_cash_flow"),
    ]

    operations = [
        migrations.AddField(
            model_name="taxcode",
            name="is_group",
            field=models.BooleanField(default=False, help_text="Taxed as its component codes (e.g. GST + QST)."),
        ),
        migrations.AddConstraint(
            model_name="taxcode",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("is_group", False),
                    models.Q(("account__isnull", True), ("base_box", ""), ("rate", 0), ("tax_box", "")),
                    _connector="OR",
                ),
                name="ledger_tax_code_group_has_no_own_figures",
            ),
        ),
        migrations.CreateModel(
            name="TaxCodeComponent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("position", models.PositiveIntegerField(default=0)),
                ("company", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                              to="core.company")),
                ("component", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                                related_name="group_links", to="ledger.taxcode")),
                ("group", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                            related_name="component_links", to="ledger.taxcode")),
            ],
            options={
                "ordering": ["group_id", "position", "id"],
                "constraints": [
                    models.UniqueConstraint(fields=("company", "group", "component"),
                                            name="ledger_tax_component_unique"),
                    models.CheckConstraint(condition=models.Q(("group", models.F("component")), _negated=True),
                                           name="ledger_tax_component_not_itself"),
                ],
            },
        ),
    ]
