"""Bank statements (issue 14): bank accounts, statement imports and lines, matching rules.

No database rules of its own beyond constraints: a line's (bank account, fingerprint,
occurrence) is unique, so an import is de-duplicated by the index as well as in Python, and a
transfer reconciles with at most one line (a one-to-one column).

``Account.is_bank`` designates bank accounts; the database refuses one that is not an asset.
SQLite rebuilds the accounts table to add the column and its constraint, and refuses to rename
the rebuilt table while a trigger names it. So, on SQLite only, the triggers in place are read
from ``sqlite_master``, dropped, and created again exactly as they were once the table is
rebuilt: whatever migration installed them, this one installs nothing of its own.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

#: The SQLite triggers in place when the migration started, as (name, SQL).
_SQLITE_TRIGGERS: list[tuple[str, str]] = []


def take_off_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        _SQLITE_TRIGGERS[:] = list(cursor.fetchall())
        for name, _ in _SQLITE_TRIGGERS:
            cursor.execute("DROP TRIGGER " + schema_editor.quote_name(name))


def put_back_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for _, statement in _SQLITE_TRIGGERS:
            cursor.execute(statement)
    _SQLITE_TRIGGERS.clear()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0011_closed_periods"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(take_off_on_sqlite, put_back_on_sqlite, elidable=False),
        migrations.CreateModel(
            name='MatchingRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('pattern', models.CharField(help_text="Matched against the line's description and payee, ignoring case.", max_length=255, verbose_name='description contains')),
                ('direction', models.CharField(choices=[('any', 'money in and out'), ('in', 'money in'), ('out', 'money out')], default='any', max_length=8, verbose_name='direction')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
                ('position', models.PositiveIntegerField(default=100, verbose_name='position')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
            ],
            options={
                'verbose_name': 'matching rule',
                'verbose_name_plural': 'matching rules',
                'ordering': ['position', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='RuleApplication',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('applied_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='applied at')),
            ],
            options={
                'verbose_name': 'rule application',
                'verbose_name_plural': 'rule applications',
                'ordering': ['-applied_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='StatementImport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(choices=[('csv', 'CSV'), ('camt053', 'CAMT.053')], max_length=16, verbose_name='format')),
                ('file_name', models.CharField(blank=True, max_length=255, verbose_name='file name')),
                ('sha256', models.CharField(db_index=True, max_length=64, verbose_name='SHA-256')),
                ('mapping', models.JSONField(blank=True, default=dict, verbose_name='mapping')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                ('lines_added', models.PositiveIntegerField(default=0, verbose_name='lines added')),
                ('lines_duplicate', models.PositiveIntegerField(default=0, verbose_name='duplicates skipped')),
                ('lines_rejected', models.PositiveIntegerField(default=0, verbose_name='rows rejected')),
                ('rejections', models.JSONField(blank=True, default=list, verbose_name='rejected rows')),
                ('state', models.CharField(choices=[('imported', 'imported'), ('partial', 'imported in part'), ('reconciled', 'reconciled')], default='imported', max_length=16, verbose_name='state')),
            ],
            options={
                'verbose_name': 'statement import',
                'verbose_name_plural': 'statement imports',
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='StatementLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField(verbose_name='date')),
                ('amount', models.DecimalField(decimal_places=4, max_digits=20, verbose_name='amount')),
                ('currency', models.CharField(max_length=3, verbose_name='currency')),
                ('description', models.TextField(blank=True, verbose_name='description')),
                ('payee', models.CharField(blank=True, max_length=255, verbose_name='payee')),
                ('bank_reference', models.CharField(blank=True, max_length=255, verbose_name='bank reference')),
                ('row_number', models.PositiveIntegerField(verbose_name='row')),
                ('raw_row', models.TextField(blank=True, verbose_name='source row')),
                ('fingerprint', models.CharField(max_length=64, verbose_name='fingerprint')),
                ('occurrence', models.PositiveIntegerField(default=1, verbose_name='occurrence')),
                ('reconciliation', models.CharField(blank=True, choices=[('created', 'transfer created'), ('matched', 'existing transfer matched')], max_length=16, verbose_name='reconciliation')),
                ('reconciled_at', models.DateTimeField(blank=True, null=True, verbose_name='reconciled at')),
            ],
            options={
                'verbose_name': 'statement line',
                'verbose_name_plural': 'statement lines',
                'ordering': ['date', 'pk'],
            },
        ),
        migrations.AddField(
            model_name='account',
            name='is_bank',
            field=models.BooleanField(default=False, help_text='Takes imported bank statements. Only an asset account can be one.', verbose_name='bank account'),
        ),
        migrations.AddConstraint(
            model_name='account',
            constraint=models.CheckConstraint(condition=models.Q(('is_bank', False), ('kind', 'asset'), _connector='OR'), name='accounts_account_bank_is_asset'),
        ),
        migrations.AddField(
            model_name='matchingrule',
            name='account',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.account', verbose_name='post to'),
        ),
        migrations.AddField(
            model_name='matchingrule',
            name='bank_account',
            field=models.ForeignKey(blank=True, help_text='Empty: every bank account.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='matching_rules', to='accounts.account', verbose_name='bank account'),
        ),
        migrations.AddField(
            model_name='matchingrule',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by'),
        ),
        migrations.AddField(
            model_name='ruleapplication',
            name='rule',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='applications', to='accounts.matchingrule', verbose_name='matching rule'),
        ),
        migrations.AddField(
            model_name='ruleapplication',
            name='transfer',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.transfer', verbose_name='transfer'),
        ),
        migrations.AddField(
            model_name='statementimport',
            name='bank_account',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='statement_imports', to='accounts.account', verbose_name='bank account'),
        ),
        migrations.AddField(
            model_name='statementimport',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by'),
        ),
        migrations.AddField(
            model_name='statementline',
            name='bank_account',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='statement_lines', to='accounts.account', verbose_name='bank account'),
        ),
        migrations.AddField(
            model_name='statementline',
            name='reconciled_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='reconciled by'),
        ),
        migrations.AddField(
            model_name='statementline',
            name='reconciled_transfer',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='statement_line', to='accounts.transfer', verbose_name='reconciled transfer'),
        ),
        migrations.AddField(
            model_name='statementline',
            name='statement_import',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='accounts.statementimport', verbose_name='statement import'),
        ),
        migrations.AddField(
            model_name='ruleapplication',
            name='line',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rule_applications', to='accounts.statementline', verbose_name='statement line'),
        ),
        migrations.AddConstraint(
            model_name='matchingrule',
            constraint=models.CheckConstraint(condition=models.Q(('pattern', ''), _negated=True), name='accounts_matchingrule_pattern_not_empty'),
        ),
        migrations.AddConstraint(
            model_name='matchingrule',
            constraint=models.CheckConstraint(condition=models.Q(('bank_account', models.F('account')), _negated=True), name='accounts_matchingrule_not_to_its_bank'),
        ),
        migrations.AddIndex(
            model_name='statementline',
            index=models.Index(fields=['bank_account', 'date'], name='accounts_stmtline_account_date'),
        ),
        migrations.AddConstraint(
            model_name='statementline',
            constraint=models.UniqueConstraint(fields=('bank_account', 'fingerprint', 'occurrence'), name='accounts_statementline_unique_fingerprint'),
        ),
        migrations.AddConstraint(
            model_name='statementline',
            constraint=models.CheckConstraint(condition=models.Q(('amount', 0), _negated=True), name='accounts_statementline_amount_not_zero'),
        ),
        migrations.AddConstraint(
            model_name='statementline',
            constraint=models.CheckConstraint(condition=models.Q(('occurrence__gte', 1)), name='accounts_statementline_occurrence_positive'),
        ),
        migrations.AddConstraint(
            model_name='statementline',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('reconciled_transfer__isnull', True), ('reconciliation', '')), models.Q(('reconciled_at__isnull', False), ('reconciled_transfer__isnull', False), models.Q(('reconciliation', ''), _negated=True)), _connector='OR'), name='accounts_statementline_reconciled_whole'),
        ),
        migrations.RunPython(put_back_on_sqlite, take_off_on_sqlite, elidable=False),
    ]
