"""An optional transactional outbox: the app's events as rows, delivered to a webhook later.

Add ``"accounts.outbox"`` to ``INSTALLED_APPS`` after ``"accounts"`` and migrate. From then on,
every event of :mod:`accounts.events` is also written as an
:class:`~accounts.outbox.models.OutboxMessage` *inside the transaction that moved the money*
(through the in-transaction signal :data:`accounts.events.event_recorded`): the row exists if
and only if the work committed. ``manage.py deliver_outbox`` (from cron) POSTs each undelivered
row to ``ACCOUNTS_OUTBOX_WEBHOOK_URL``, signed with ``ACCOUNTS_OUTBOX_SECRET``, and retries
failures with exponential backoff. Delivery is at least once: receivers deduplicate by the
message's ``id``.

Sites that do not list the app get no table, no receiver and no command.
"""
