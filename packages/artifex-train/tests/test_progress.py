"""The progress callback: recent speed, ETA, losses; a bar on terminals, lines in logs."""

from __future__ import annotations

import io

import pytest

from artifex.generative_models.training.callbacks._base import Callback
from artifex.generative_models.training.callbacks._progress import ProgressCallback


class FakeTrainer:
    """The callback reads nothing from the trainer; the hooks only need something."""


class Clock:
    """Seconds that the test advances by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def drive(callback, clock, reports, *, start=0, target=100):
    """``reports``: (seconds since the previous report, step, row) in order."""
    trainer = FakeTrainer()
    callback.on_fit_start(trainer, start=start, target=target)
    for seconds, step, row in reports:
        clock.now += seconds
        callback.on_log(trainer, step=step, row=row)
    callback.on_fit_end(trainer, step=reports[-1][1], error=None)


def test_a_log_gets_one_plain_line_per_report_with_step_speed_eta_and_losses():
    stream, clock = io.StringIO(), Clock()
    callback = ProgressCallback(stream=stream, clock=clock, window=1)
    assert isinstance(callback, Callback)
    row = {"step": 10, "d_loss": 0.5, "g_loss": 1.25, "d_real": 0.9, "it_per_s": 3.0}
    drive(
        callback,
        clock,
        [(2.0, 10, row), (4.0, 30, {**row, "d_loss": 0.25}), (1.0, 100, row)],
    )
    assert stream.getvalue().splitlines() == [
        # 10 it in 2 s: 5 it/s, 90 left: 18 s.
        "10/100 (10%)  5.00 it/s  ETA 0:00:18  d_loss 0.5000  g_loss 1.2500",
        # 20 it in 4 s: 5 it/s, 70 left: 14 s.
        "30/100 (30%)  5.00 it/s  ETA 0:00:14  d_loss 0.2500  g_loss 1.2500",
        "100/100 (100%)  70.00 it/s  ETA 0:00:00  d_loss 0.5000  g_loss 1.2500",
    ]


def test_the_rate_forgets_a_slow_first_dispatch_and_the_eta_follows_it():
    stream, clock = io.StringIO(), Clock()
    callback = ProgressCallback(stream=stream, clock=clock, window=3)
    trainer = FakeTrainer()
    callback.on_fit_start(trainer, start=0, target=1000)
    assert callback.rate is None and callback.eta_seconds is None
    # The first report waits for compilation: 10 iterations in 60 s.
    clock.now += 60.0
    callback.on_log(trainer, step=10, row={"g_loss": 1.0})
    assert callback.rate == pytest.approx(10 / 60)
    # Then 10 iterations every 0.5 s (20 it/s); after `window` fast reports the slow one
    # has dropped out entirely (an average since the start would still say 40/61.5).
    for step in (20, 30, 40):
        clock.now += 0.5
        callback.on_log(trainer, step=step, row={"g_loss": 1.0})
    assert callback.rate == pytest.approx(20.0)
    assert callback.eta_seconds == pytest.approx((1000 - 40) / 20.0)
    assert stream.getvalue().splitlines()[-1].startswith("40/1000 (4%)  20.00 it/s  ETA 0:00:48")
    callback.on_fit_end(trainer, step=40, error=None)


def test_the_rate_counts_from_a_resumed_start():
    stream, clock = io.StringIO(), Clock()
    callback = ProgressCallback(stream=stream, clock=clock)
    drive(callback, clock, [(4.0, 520, {"loss": 2.0})], start=500, target=600)
    assert stream.getvalue() == "520/600 (87%)  5.00 it/s  ETA 0:00:16  loss 2.0000\n"


def test_a_terminal_gets_a_live_rich_bar_with_the_same_numbers():
    stream, clock = Terminal(), Clock()
    callback = ProgressCallback(stream=stream, clock=clock, window=1)
    drive(callback, clock, [(2.0, 10, {"d_loss": 0.5}), (2.0, 20, {"d_loss": 0.25})])
    shown = stream.getvalue()
    # rich redraws in place with cursor controls, not one line per report.
    assert "\x1b[" in shown
    assert "10/100 (10%)  5.00 it/s  ETA 0:00:18  d_loss 0.5000" in shown
    assert "20/100 (20%)  5.00 it/s  ETA 0:00:16  d_loss 0.2500" in shown
    assert "━" in shown  # the bar itself


def test_force_terminal_false_writes_lines_even_to_a_terminal():
    stream, clock = Terminal(), Clock()
    callback = ProgressCallback(stream=stream, clock=clock, force_terminal=False)
    drive(callback, clock, [(1.0, 50, {"g_loss": 0.125})])
    assert stream.getvalue() == "50/100 (50%)  50.00 it/s  ETA 0:00:01  g_loss 0.1250\n"


def test_a_window_below_one_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"at least 1 interval, got 0; pass window=1"):
        ProgressCallback(window=0)
