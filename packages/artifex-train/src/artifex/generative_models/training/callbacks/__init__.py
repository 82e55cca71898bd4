"""Periodic work beside the training loop: progress, writers, samples, checkpoints, growth.

Every callback derives from :class:`Callback` and overrides the hooks it needs; the
:class:`~artifex.generative_models.training.Trainer` installs :class:`PhaseSchedule`
(when the rules have phases), :class:`Evaluation` (when the config asks for periodic
FID), :class:`ProgressCallback`, :class:`WriterCallback`,
a :class:`Periodic` for ``trainer.on_sample`` and :class:`Checkpointing`, then the
user's own.
"""

from artifex.generative_models.training.callbacks._base import Callback as Callback
from artifex.generative_models.training.callbacks._checkpointing import (
    Checkpointing as Checkpointing,
)
from artifex.generative_models.training.callbacks._evaluation import Evaluation as Evaluation
from artifex.generative_models.training.callbacks._growth import PhaseSchedule as PhaseSchedule
from artifex.generative_models.training.callbacks._periodic import Periodic as Periodic
from artifex.generative_models.training.callbacks._progress import (
    ProgressCallback as ProgressCallback,
)
from artifex.generative_models.training.callbacks._samples import SampleGrids as SampleGrids
from artifex.generative_models.training.callbacks._writers import WriterCallback as WriterCallback

__all__ = [
    "Callback",
    "Checkpointing",
    "Evaluation",
    "Periodic",
    "PhaseSchedule",
    "ProgressCallback",
    "SampleGrids",
    "WriterCallback",
]
