"""The posting engine, under :mod:`accounts.facade`: how balances are read, what a posting is
checked against, and how it is written.

Below the models (they import no model, and the models use them):

- :mod:`accounts.ledger.sql`: each database vendor's SQL, one module per vendor: the triggers
  (installed by :mod:`accounts.integrity`) and the shape of a posting's writes.
- :mod:`accounts.ledger.balances`: the balance as of a moment, one ORM builder for the models'
  balance methods, the querysets and the reports.

Above the models:

- :mod:`accounts.ledger.posting_sql`: a posting's lock and writes as fixed SQL for one
  connection, built from the models' tables and columns and the vendor's SQL.
- :mod:`accounts.ledger.checks`: the rules a posting is checked against, in the order the facade
  runs them: arguments that need no database, then the locked rows. Each raises the specific
  :class:`~accounts.exceptions.AccountException` before anything is written.
- :mod:`accounts.ledger.posting`: the lock, the write of a checked posting, the retry of an
  aborted transaction, and bringing the caller's objects up to date.

The facade is the public, orchestrating layer above; nothing here imports it.
"""
