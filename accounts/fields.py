"""The model field every money column uses: one precision for the whole ledger."""

from __future__ import annotations

from typing import Any

from django.db import models

from .money import DECIMAL_PLACES, MAX_DIGITS


def money_field(**kwargs: Any) -> models.DecimalField:
    """A ``DecimalField`` with the ledger's digits and places (see :mod:`accounts.money`)."""
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)
