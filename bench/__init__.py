"""Benchmark harness for django-managed-accounts: ``python -m bench`` (or ``make bench``).

It measures the facade against the database ``DATABASE_URL`` names (an SQLite file under
``.tmp/`` when unset) next to a raw-SQL baseline doing the same work with the bare driver, prints
a table and writes the figures to ``bench/results/<vendor>-<timestamp>.json``. See
``docs/performance.rst`` for the method and the latest results.
"""
