"""Unguessable codes that are easy to read aloud.

Gift-card codes and transfer references come from :mod:`secrets` over an alphabet without the
characters people confuse (0/O, 1/I/L), in groups of four: ``7KQ2-M9XD-HT4W-PB3N``. Sixteen
characters from 31 give about 79 bits, far beyond guessing; the lookup throttle in the API does
the rest.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16
GROUP_SIZE = 4


def generate(length: int = CODE_LENGTH) -> str:
    """Return a new random code of ``length`` characters, grouped with dashes."""
    raw = token(length)
    return "-".join(raw[i : i + GROUP_SIZE] for i in range(0, length, GROUP_SIZE))


def normalise(text: str) -> str:
    """Return ``text`` as a stored generated code would look: upper case, grouped by dashes.

    Customers type codes with spaces, without dashes or in lower case; all of these find the card.
    Text that is not a generated code is returned stripped and otherwise untouched.
    """
    compact = "".join(ch for ch in text.upper() if ch not in " -")
    if len(compact) == CODE_LENGTH and all(ch in ALPHABET for ch in compact):
        return "-".join(compact[i : i + GROUP_SIZE] for i in range(0, CODE_LENGTH, GROUP_SIZE))
    return text.strip()


def token(length: int) -> str:
    """Return ``length`` random characters from :data:`ALPHABET`, without dashes.

    One uniform draw below ``len(ALPHABET) ** length``, written in base ``len(ALPHABET)``: as
    random as drawing each character on its own, with one call to the system's generator.
    """
    base = len(ALPHABET)
    number = secrets.randbelow(base**length)
    chars = []
    for _ in range(length):
        number, digit = divmod(number, base)
        chars.append(ALPHABET[digit])
    return "".join(chars)


#: Characters left visible at the end of a masked code, and the character that hides the rest.
MASK_VISIBLE = 4
MASK_CHARACTER = "*"


def mask(code: str) -> str:
    """Return ``code`` with every character but the last four hidden, keeping its dashes.

    A card's code is the authority to spend it, so receipts, refusals, logs and lists made for
    anyone but the card's holder show ``****-****-****-PB3N``: enough to tell two cards apart,
    nothing to spend with. Codes of eight characters or fewer are hidden entirely.
    """
    if not code:
        return code
    visible = MASK_VISIBLE if len(code.replace("-", "")) > 2 * MASK_VISIBLE else 0
    hidden: list[str] = []
    remaining = visible
    for ch in reversed(code):
        if ch == "-":
            hidden.append(ch)
        elif remaining:
            hidden.append(ch)
            remaining -= 1
        else:
            hidden.append(MASK_CHARACTER)
    return "".join(reversed(hidden))
