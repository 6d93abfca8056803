"""OFX/QFX statements (issue 14): ``StatementImport.source`` gains the ``ofx`` choice.

Choices are not part of the schema: no database changes anything, and there are no rules to
reinstall.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0013_exchange_rate'),
    ]

    operations = [
        migrations.AlterField(
            model_name='statementimport',
            name='source',
            field=models.CharField(choices=[('csv', 'CSV'), ('camt053', 'CAMT.053'), ('ofx', 'OFX/QFX')], max_length=16, verbose_name='format'),
        ),
    ]
