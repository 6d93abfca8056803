"""The JSON API's statuses for the ledger's refusals live in the API's layer, and the docs agree.

Importing :mod:`accounts.api.statuses` needs no django-ninja, so these run without the ``api``
extra too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accounts import exceptions
from accounts.api.statuses import STATUSES, status_for

API_DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.rst"


def documented_statuses() -> dict[str, int]:
    """Class name -> the HTTP column of the exceptions table in docs/api.rst."""
    rows = re.findall(
        r"\* - ``(\w+)``\n\s+- ``[\w.]+``(?:, ``[\w.]+``)*\n\s+- ``\w+``\n\s+- (\d{3})\n",
        API_DOCS.read_text(encoding="utf-8"),
    )
    return {name: int(status) for name, status in rows}


def test_every_refusal_has_a_client_error_status_and_the_docs_say_which():
    documented = documented_statuses()
    assert set(documented) == {cls.__name__ for cls in exceptions.ALL}
    assert {cls.__name__: status_for(cls) for cls in exceptions.ALL} == documented
    assert all(400 <= status < 500 for status in documented.values())


def test_a_class_without_an_entry_takes_its_nearest_ancestors_status():
    assert exceptions.FrozenAccount not in STATUSES
    assert status_for(exceptions.FrozenAccount) == STATUSES[exceptions.InactiveAccount] == 409
    assert status_for(exceptions.AccountExpired("gone")) == 409
    assert exceptions.CurrencyMismatch not in STATUSES
    assert status_for(exceptions.CurrencyMismatch) == 422  # the root's


def test_something_that_is_not_a_refusal_has_no_status():
    with pytest.raises(TypeError, match="not a refusal"):
        status_for(ValueError)  # type: ignore[arg-type]


def test_the_ledgers_exceptions_know_nothing_of_http():
    assert not any(hasattr(cls, "http_status") for cls in exceptions.ALL)
    source = Path(exceptions.__file__).read_text(encoding="utf-8")
    assert "http_status" not in source
