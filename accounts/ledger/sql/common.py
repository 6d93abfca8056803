"""What the triggers of every vendor share."""

from __future__ import annotations

from accounts.vocabulary import debit_normal_sql

#: The kinds whose legs count negatively, as an SQL list (see vocabulary.debit_normal_sql).
DEBIT_NORMAL = debit_normal_sql()

#: Columns of accounts_transfer other than user_id, which only the user's deletion may change.
TRANSFER_COLUMNS = (
    "id",
    "reference",
    "kind",
    "source_id",
    "destination_id",
    "amount",
    "currency",
    "leg_count",
    "parent_id",
    "reverses_id",
    "username",
    "merchant_reference",
    "description",
    "created_at",
    "rate",
)

#: Columns of accounts_auditentry other than user_id, which only the user's deletion may change.
AUDIT_COLUMNS = (
    "id",
    "action",
    "account_id",
    "transfer_id",
    "username",
    "surface",
    "reason",
    "changes",
    "created_at",
)

#: How close two SQLite amounts (stored as floating point) must be to count as equal.
SQLITE_TOLERANCE = "0.00005"
