"""Closed periods: the books closed through a day, so that nothing dated in them changes.

* ``ClosedPeriod``: who closed the books through which day, and when.
* The ledger's rules T8, frozen as ``sql/0011_<vendor>.sql``: the database refuses a leg dated
  before the latest closing's end, and keeps closings append-only, each ending after the one
  before.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from accounts.migrations import sql


def install(apps, schema_editor):
    sql.run(schema_editor, "0011")


def uninstall(apps, schema_editor):
    sql.run(schema_editor, "0011", reverse=True)


class Migration(migrations.Migration):
    # MySQL cannot create triggers inside a transaction.
    atomic = False

    dependencies = [
        ('accounts', '0010_holds'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ClosedPeriod',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('closed_through', models.DateField(unique=True, verbose_name='closed through')),
                ('closed_until', models.DateTimeField(editable=False, unique=True, verbose_name='closed until')),
                ('closed_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='closed at')),
                ('username', models.CharField(blank=True, editable=False, max_length=150, verbose_name='username')),
                ('reason', models.TextField(blank=True, default='', verbose_name='reason')),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'closed period',
                'verbose_name_plural': 'closed periods',
                'ordering': ['-closed_until'],
            },
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
