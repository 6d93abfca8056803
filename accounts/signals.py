"""Signal receivers, connected by :meth:`accounts.apps.AccountsConfig.ready`."""

from __future__ import annotations

from typing import Any

from . import integrity


def _schema_is_current(apps: Any) -> bool:
    """Whether ``migrate`` left the accounts tables as the models expect them.

    ``migrate accounts 0006`` (going back, or stopping half-way) sends ``post_migrate`` too;
    the receivers below use today's models and rules, so they wait for a full migration.
    """
    from .models import Account

    if apps is None:
        return True
    try:
        historical = apps.get_model("accounts", "Account")
    except LookupError:
        return False
    columns = {field.column for field in historical._meta.concrete_fields}
    return columns == {field.column for field in Account._meta.concrete_fields}


def create_core_accounts(
    sender: Any, using: str = "default", apps: Any = None, **kwargs: Any
) -> None:
    """Create the source, sales and expired accounts after ``migrate`` (and ``flush``)."""
    from .models import Account

    if _schema_is_current(apps):
        Account.objects.db_manager(using).create_core_accounts()


def ensure_triggers(sender: Any, using: str = "default", apps: Any = None, **kwargs: Any) -> None:
    """Re-install the ledger's triggers if a migration lost them.

    SQLite rebuilds a table to alter it, and its triggers go with the old table; a later
    migration of ours that forgot to re-install them must not leave the ledger unguarded.
    """
    if _schema_is_current(apps):
        integrity.ensure_installed(using)


def prepare_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Teach each new connection how flush and fixtures get past the append-only guard."""
    integrity.prepare_connection(connection)


def unlock_for_fixture(
    sender: Any, instance: Any, raw: bool = False, using: str = "default", **kwargs: Any
) -> None:
    """``loaddata`` saves rows as they were dumped; let that one row in past the guard.

    Only a new row, or an account with no legs yet (a core account that ``migrate`` made):
    a fixture naming a row with history would overwrite it, resetting balances behind the
    ledger's back, so for those the guard stays on and the database refuses the load.
    """
    if raw and not _has_history(sender, instance, using) and integrity.unlock_for_row(using):
        if sender._meta.model_name == "account" and instance.parent_id is not None:
            # A hand-written fixture may name a parent without the tree path that goes with it.
            parent = sender._default_manager.db_manager(using).get(pk=instance.parent_id)
            if not instance.tree_path.startswith(parent.tree_path):
                instance.parent = parent
                instance._place_in_tree()


def _has_history(model: Any, instance: Any, using: str) -> bool:
    if instance.pk is None:
        return False
    existing = model._default_manager.db_manager(using).filter(pk=instance.pk)
    if model._meta.model_name == "account":
        existing = existing.filter(version__gt=0)
    return bool(existing.exists())


def relock_after_fixture(
    sender: Any, instance: Any, raw: bool = False, using: str = "default", **kwargs: Any
) -> None:
    if raw:
        integrity.set_unlocked(using, False)
