"""The SQL of the database's rules (T1-T7 in :mod:`accounts.integrity`), one module per vendor.

- :mod:`~accounts.ledger.sql.common`: what every vendor's triggers share (the columns that never
  change, the debit-normal kinds as an SQL list, SQLite's tolerance).
- :mod:`~accounts.ledger.sql.postgresql`, :mod:`~accounts.ledger.sql.mysql` (MariaDB/MySQL) and
  :mod:`~accounts.ledger.sql.sqlite`: that vendor's statements, as ``TRIGGERS`` (T1-T5 and T7)
  with ``REVERSE`` (what undoes them) and ``AUDIT`` (T6) with ``AUDIT_REVERSE``, and the
  helpers that write them.

These lists are where the next version of the rules is written; migrations run the frozen
copies in ``accounts/migrations/sql/``, which :mod:`accounts.integrity` also installs. The
modules import only the vocabulary, ``common`` and that frozen package's placeholder.
"""
