"""Name the UK VAT boxes (1-9, with 3 and 5 as totals) of companies that have the shipped
tax codes (S20 ... PEX fill boxes 1, 4, 6 and 7); a box a company named already stays.

The names are copied here, not imported, so this migration stays as it is when the
service's defaults change.
"""

from django.db import migrations

UK_VAT_BOXES = [
    ("1", "VAT due in the period on sales and other outputs", ""),
    ("2", "VAT due in the period on acquisitions of goods made in Northern Ireland from EU Member States", ""),
    ("3", "Total VAT due (the sum of boxes 1 and 2)", "1+2"),
    ("4", "VAT reclaimed in the period on purchases and other inputs (including acquisitions in Northern "
          "Ireland from EU Member States)", ""),
    ("5", "Net VAT to pay to HMRC or reclaim (the difference between boxes 3 and 4)", "3-4"),
    ("6", "Total value of sales and all other outputs excluding any VAT", ""),
    ("7", "Total value of purchases and all other inputs excluding any VAT", ""),
    ("8", "Total value of dispatches of goods and related costs (excluding VAT) from Northern Ireland to EU "
          "Member States", ""),
    ("9", "Total value of acquisitions of goods and related costs (excluding VAT) made in Northern Ireland from "
          "EU Member States", ""),
]


def name_boxes(apps, schema_editor):
    TaxCode = apps.get_model("ledger", "TaxCode")
    TaxBox = apps.get_model("ledger", "TaxBox")
    company_ids = set(TaxCode.objects.filter(code="S20", base_box="6", tax_box="1").values_list("company_id", flat=True))
    named = set(TaxBox.objects.filter(company_id__in=company_ids).values_list("company_id", "box"))
    TaxBox.objects.bulk_create([
        TaxBox(company_id=company_id, box=box, name=name, total_of=total_of)
        for company_id in sorted(company_ids) for box, name, total_of in UK_VAT_BOXES
        if (company_id, box) not in named
    ])


class Migration(migrations.Migration):
    dependencies = [("ledger", "0015_tax_returns")]

    operations = [migrations.RunPython(name_boxes, migrations.RunPython.noop)]
