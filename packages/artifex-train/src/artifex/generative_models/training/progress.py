"""The progress bar: iterations done, iterations per second and the latest losses.

On a terminal it redraws one line in place; into a file or a pipe (CI logs, ``nohup``) it
writes one line per report instead, so logs stay readable. No dependency: the bar is
drawn only when the trainer fetches metrics anyway, never per step.
"""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """A text progress bar for ``total`` iterations.

    Args:
        total: The iteration the run ends at.
        stream: Where to draw (standard error by default).
        width: Characters of the bar itself.
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, width: int = 24):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.in_place = bool(getattr(self.stream, "isatty", lambda: False)())
        self._drawn = False

    def render(self, done: int, it_per_s: float, losses: dict[str, float]) -> str:
        """The line for ``done`` iterations at ``it_per_s`` with ``losses``."""
        filled = self.width * min(done, self.total) // max(self.total, 1)
        bar = "#" * filled + "-" * (self.width - filled)
        numbers = "  ".join(f"{name} {value:.4f}" for name, value in losses.items())
        return f"[{bar}] {done}/{self.total}  {it_per_s:.1f} it/s  {numbers}".rstrip()

    def update(self, done: int, it_per_s: float, losses: dict[str, float]) -> None:
        """Draw the state after ``done`` iterations."""
        line = self.render(done, it_per_s, losses)
        if self.in_place:
            # Clear what a longer previous line left behind.
            self.stream.write("\r" + line + "\x1b[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the in-place line, so what follows starts on its own."""
        if self.in_place and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
        self._drawn = False
