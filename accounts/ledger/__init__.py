"""The posting engine, under :mod:`accounts.facade`: what the facade checks and how it writes.

- :mod:`accounts.ledger.checks`: the rules a posting is checked against, in the order the facade
  runs them: arguments that need no database, then the locked rows. Each raises the specific
  :class:`~accounts.exceptions.AccountException` before anything is written.
- :mod:`accounts.ledger.sql`: the database's triggers, one module per vendor (installed by
  :mod:`accounts.integrity`; they import nothing of the app above the vocabulary).

The facade is the public, orchestrating layer; this package imports the models, the posting SQL
and the rules below it, and never the facade.
"""
