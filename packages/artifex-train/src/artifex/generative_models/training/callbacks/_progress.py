"""The progress bar: iterations done, the recent speed, the time left and the losses.

On a terminal it is a ``rich`` progress bar, redrawn when the trainer reports (never per
step, and with no drawing thread of its own); into a file or a pipe (CI logs, ``nohup``)
it writes one plain line per report, so logs stay readable.
"""

from __future__ import annotations

import datetime
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from artifex.generative_models.training.callbacks._base import Callback

if TYPE_CHECKING:
    from artifex.generative_models.training.trainer import Trainer

__all__ = ["ProgressCallback"]


class ProgressCallback(Callback):
    """Shows ``done/total``, the recent it/s, the ETA and the latest ``*loss`` values.

    The speed is measured over the last ``window`` reports only, not since the start:
    the first dispatch includes compilation, and an average since the start would keep
    the speed low and the ETA long for the whole run. The ETA is the iterations left
    divided by that recent speed.

    Args:
        stream: Where to draw; standard error by default.
        window: How many of the latest intervals between reports the speed is measured
            over (the interval from the start of ``fit`` counts until it drops out).
        clock: Seconds, monotonic; injectable for tests.
        force_terminal: Draw a live bar (True) or plain lines (False) whatever
            ``stream`` is; None asks the stream (``rich.console.Console.is_terminal``).

    Raises:
        ValueError: ``window`` is smaller than 1.
    """

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        window: int = 3,
        clock: Callable[[], float] = time.perf_counter,
        force_terminal: bool | None = None,
    ):
        if window < 1:
            raise ValueError(
                f"ProgressCallback window must be at least 1 interval, got {window}; "
                "pass window=1 for the speed between the last two reports"
            )
        self.stream = stream
        self.window = window
        self.clock = clock
        self.force_terminal = force_terminal
        self.target = 0
        self._points: deque[tuple[float, int]] = deque(maxlen=window + 1)
        self._console: Console | None = None
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    @property
    def rate(self) -> float | None:
        """Iterations per second over the recent window; None before the first report."""
        if len(self._points) < 2:
            return None
        (first_time, first_step), (last_time, last_step) = self._points[0], self._points[-1]
        elapsed = last_time - first_time
        return (last_step - first_step) / elapsed if elapsed > 0 else None

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the recent rate; None while the rate is unknown."""
        rate = self.rate
        if rate is None or rate <= 0 or not self._points:
            return None
        return max(self.target - self._points[-1][1], 0) / rate

    def render(self, step: int, losses: Mapping[str, float]) -> str:
        """The text of one report (the bar on a terminal; the whole line in a log)."""
        percent = 100.0 * step / self.target if self.target > 0 else 100.0
        rate, eta = self.rate, self.eta_seconds
        speed = f"{rate:.2f} it/s" if rate is not None else "-- it/s"
        left = str(datetime.timedelta(seconds=round(eta))) if eta is not None else "--"
        numbers = "  ".join(f"{name} {value:.4f}" for name, value in losses.items())
        return f"{step}/{self.target} ({percent:.0f}%)  {speed}  ETA {left}  {numbers}".rstrip()

    def on_fit_start(self, trainer: Trainer, *, start: int, target: int) -> None:
        """Start measuring from ``start``; on a terminal, show the bar."""
        self.target = target
        self._points.clear()
        self._points.append((self.clock(), start))
        self._console = Console(
            file=self.stream if self.stream is not None else sys.stderr,
            force_terminal=self.force_terminal,
        )
        if self._console.is_terminal:
            self._progress = Progress(
                BarColumn(),
                TextColumn("{task.fields[text]}"),
                console=self._console,
                # Redrawn on each report only: no thread, nothing between dispatches.
                auto_refresh=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._task = self._progress.add_task(
                "train", total=max(target, 1), completed=start, text=f"{start}/{target}"
            )
            self._progress.start()

    def on_log(self, trainer: Trainer, *, step: int, row: Mapping[str, float]) -> None:
        """Take the time, and draw ``step`` with the row's ``*loss`` values."""
        self._points.append((self.clock(), step))
        losses = {name: float(value) for name, value in row.items() if name.endswith("loss")}
        text = self.render(step, losses)
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=step, text=text, refresh=True)
        elif self._console is not None:
            self._console.file.write(text + "\n")
            self._console.file.flush()

    def on_fit_end(self, trainer: Trainer, *, step: int, error: BaseException | None) -> None:
        """Leave the bar as it last was, so what follows starts on its own line."""
        if self._progress is not None:
            self._progress.stop()
        self._progress = self._task = None
