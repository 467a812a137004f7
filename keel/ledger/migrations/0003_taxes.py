import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_load_currencies'),
        ('ledger', '0002_immutable_posted_entries'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='taxcode',
            name='account',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.account'),
        ),
        migrations.AddField(
            model_name='taxcode',
            name='base_box',
            field=models.CharField(blank=True, help_text='Tax return box of the base, e.g. 6.', max_length=20),
        ),
        migrations.AddField(
            model_name='taxcode',
            name='kind',
            field=models.CharField(choices=[('sales', 'Sales'), ('purchase', 'Purchase')], default='sales', max_length=10),
        ),
        migrations.AddField(
            model_name='taxcode',
            name='price_included',
            field=models.BooleanField(default=False, help_text='Amounts entered with this code include the tax.'),
        ),
        migrations.AddField(
            model_name='taxcode',
            name='tax_box',
            field=models.CharField(blank=True, help_text='Tax return box of the tax, e.g. 1.', max_length=20),
        ),
        migrations.AddConstraint(
            model_name='taxcode',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['sales', 'purchase'])), name='ledger_tax_code_kind_valid'),
        ),
        migrations.AddConstraint(
            model_name='taxcode',
            constraint=models.CheckConstraint(condition=models.Q(('rate__gte', 0)), name='ledger_tax_code_rate_not_negative'),
        ),
        migrations.CreateModel(
            name='Revaluation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period_end', models.DateField()),
                ('status', models.CharField(choices=[('posted', 'Posted'), ('undone', 'Undone')], default='posted', max_length=10)),
                ('gain', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
                ('loss', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
                ('details', models.JSONField(blank=True, default=list)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('undone_at', models.DateTimeField(blank=True, null=True)),
                ('company', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.company')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('entry', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.entry')),
                ('reversal', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.entry')),
            ],
            options={
                'ordering': ['-period_end', '-id'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'posted')), fields=('company', 'period_end'), name='ledger_revaluation_one_posted'), models.CheckConstraint(condition=models.Q(('status__in', ['posted', 'undone'])), name='ledger_revaluation_status_valid')],
            },
        ),
    ]
