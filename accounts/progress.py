"""A small progress bar for long-running management commands (no dependency needed)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

#: Seconds between redraws, so a fast loop does not spend its time drawing.
REDRAW_INTERVAL_SECONDS = 0.2


class Progress:
    """Draw ``label [#####.....] 50/100`` on a terminal, or a line every 10% elsewhere."""

    def __init__(
        self, total: int, *, label: str, stream: TextIO | None = None, enabled: bool = True
    ) -> None:
        self.total, self.label, self.done = total, label, 0
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_draw = 0.0
        self._last_tenth = -1

    def advance(self, step: int = 1) -> None:
        self.done += step
        if not self.enabled:
            return
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw >= REDRAW_INTERVAL_SECONDS or self.done >= self.total:
                self._last_draw = now
                self._draw()
        else:
            tenth = self.done * 10 // self.total
            if tenth != self._last_tenth:
                self._last_tenth = tenth
                self.stream.write(f"{self.label}: {self.done}/{self.total}\n")

    def _draw(self) -> None:
        width = 30
        filled = width * self.done // self.total
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.tty:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
