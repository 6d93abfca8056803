"""Signal receivers, connected by :meth:`accounts.apps.AccountsConfig.ready`."""

from __future__ import annotations

from typing import Any

from . import integrity


def create_core_accounts(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """Create the source, sales and expired accounts after ``migrate`` (and ``flush``)."""
    from .models import Account

    Account.objects.db_manager(using).create_core_accounts()


def prepare_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Teach each new connection how flush and fixtures get past the append-only guard."""
    integrity.prepare_connection(connection)


def unlock_for_fixture(
    sender: Any, instance: Any, raw: bool = False, using: str = "default", **kwargs: Any
) -> None:
    """``loaddata`` saves rows as they were dumped; let that one row in past the guard."""
    if raw:
        integrity.set_unlocked(using, True)


def relock_after_fixture(
    sender: Any, instance: Any, raw: bool = False, using: str = "default", **kwargs: Any
) -> None:
    if raw:
        integrity.set_unlocked(using, False)
