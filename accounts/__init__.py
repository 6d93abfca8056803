"""Managed accounts on a double-entry ledger for Django."""

__version__ = "0.1.0"
