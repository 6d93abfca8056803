"""Differences between the Django versions we support, in one place."""

from __future__ import annotations

import django
from django.db import models


def check_constraint(condition: models.Q, name: str) -> models.CheckConstraint:
    """Build a CheckConstraint on every supported Django (``check=`` became ``condition=``)."""
    if django.VERSION >= (5, 1):
        return models.CheckConstraint(condition=condition, name=name)
    return models.CheckConstraint(check=condition, name=name)  # type: ignore[call-arg]
