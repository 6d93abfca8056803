"""Turn an event into an :class:`~.models.OutboxMessage` row, inside the event's transaction.

The payload holds plain values only, so that it means the same when it is delivered hours later:
ids and references, amounts as strings with their currency's places
(``"12.50"``, never floats), currencies, ISO 8601 times. A card's code
is its bearer secret and is never written here.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from .. import money
from ..models import Account, Hold, Transfer
from .models import OutboxMessage


def transfer_values(transfer: Transfer) -> dict[str, Any]:
    """What a webhook needs of a transfer; its legs carry signed amounts (credit positive)."""
    return {
        "id": transfer.pk,
        "reference": transfer.reference,
        "kind": transfer.kind,
        "amount": money.format_amount(transfer.amount, transfer.currency),
        "currency": transfer.currency,
        "source_id": transfer.source_id,
        "destination_id": transfer.destination_id,
        "parent_reference": transfer.parent.reference if transfer.parent else None,
        "merchant_reference": transfer.merchant_reference,
        "description": transfer.description,
        "created_at": transfer.created_at.isoformat(),
        "rate": str(transfer.rate) if transfer.rate is not None else None,
        "legs": _legs(transfer),
    }


def _legs(transfer: Transfer) -> list[dict[str, Any]]:
    """A transfer's legs; a two-legged one's follow from it without reading them back."""
    if transfer.source_id is not None and transfer.destination_id is not None:
        rows = [
            (transfer.source_id, -transfer.amount, transfer.currency),
            (transfer.destination_id, transfer.amount, transfer.currency),
        ]
    else:
        rows = list(
            transfer.transactions.order_by("leg_index").values_list(
                "account_id", "amount", "currency"
            )
        )
    return [
        {
            "account_id": account_id,
            "amount": money.format_amount(amount, currency),
            "currency": currency,
        }
        for account_id, amount, currency in rows
    ]


def account_values(account: Account) -> dict[str, Any]:
    """What a webhook needs of an account, without its code (a card's secret)."""
    return {
        "id": account.pk,
        "name": account.name,
        "kind": account.kind,
        "status": account.status,
        "currency": account.currency,
        "balance": money.format_amount(account.balance, account.currency),
        "is_card": account.is_card,
        "primary_user_id": account.primary_user_id,
    }


def hold_values(hold: Hold) -> dict[str, Any]:
    """What a webhook needs of a hold: what it reserved, where it stands, what it posted."""
    return {
        "id": hold.pk,
        "reference": hold.reference,
        "status": hold.status,
        "amount": money.format_amount(hold.amount, hold.currency),
        "currency": hold.currency,
        "captured_amount": (
            money.format_amount(hold.captured_amount, hold.currency)
            if hold.captured_amount is not None
            else None
        ),
        "source_id": hold.source_id,
        "destination_id": hold.destination_id,
        "transfer_id": hold.transfer_id,
        "merchant_reference": hold.merchant_reference,
        "expires_at": hold.expires_at.isoformat() if hold.expires_at else None,
        "created_at": hold.created_at.isoformat(),
        "resolved_at": hold.resolved_at.isoformat() if hold.resolved_at else None,
    }


def payload_of(event: str, objects: dict[str, Any]) -> dict[str, Any]:
    """The JSON document delivered for ``event`` (without the delivery's id)."""
    user = objects.get("user")
    payload: dict[str, Any] = {
        "event": event,
        "occurred_at": timezone.now().isoformat(),
        "user_id": getattr(user, "pk", None),
        "idempotency_key": objects.get("idempotency_key"),
    }
    for name in ("transfer", "original"):
        if name in objects:
            value = objects[name]
            payload[name] = transfer_values(value) if value is not None else None
    if "account" in objects:
        payload["account"] = account_values(objects["account"])
    if "hold" in objects:
        payload["hold"] = hold_values(objects["hold"])
    return payload


def record(sender: Any, event: str, using: str, **objects: Any) -> None:
    """Receiver of :data:`accounts.events.event_recorded`: write the event's row, now."""
    objects.pop("signal", None)
    OutboxMessage.objects.using(using).create(event=event, payload=payload_of(event, objects))
