"""The README's Python examples run as written, pasted into ``manage.py shell``.

Every ``.. code-block:: python`` of the README that is meant to be run (it imports from
``accounts``) is executed in order, in one namespace, against the test database that ``migrate``
prepared, so the quick start can never drift from the code.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.rst"


def python_blocks(text: str) -> list[str]:
    """The bodies of the ``code-block:: python`` directives, dedented."""
    blocks = []
    pattern = re.compile(r"^\.\. code-block:: python\n\n((?:(?:   .*)?\n)+)", re.MULTILINE)
    for match in pattern.finditer(text):
        body = "\n".join(line[3:] for line in match.group(1).splitlines())
        blocks.append(body)
    return blocks


def runnable(block: str) -> bool:
    return "from accounts" in block


def test_the_readme_has_a_runnable_quick_start():
    assert any(runnable(block) for block in python_blocks(README.read_text(encoding="utf-8")))


@pytest.mark.django_db
def test_the_readme_examples_run_as_written(capsys):
    namespace: dict[str, object] = {}
    for block in python_blocks(README.read_text(encoding="utf-8")):
        if runnable(block):
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README

    printed = capsys.readouterr().out.splitlines()
    assert printed and printed[0].startswith("insufficient_funds ")
    # 50.00 loaded, 20.00 spent and reversed, 7.50 captured of a hold, 5.00 paid once.
    assert namespace["card"].balance == Decimal("37.50")  # type: ignore[attr-defined]
