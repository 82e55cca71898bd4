"""Image metrics under the import path of the user guide.

``from artifex.generative_models.core.evaluation.metrics.image import InceptionScore,
FrechetInceptionDistance`` — plus KID and precision/recall, which take images the same way.
"""

from artifex.generative_models.core.evaluation.metrics._fid import (
    FeatureStatistics,
    FewSamplesWarning,
    FrechetInceptionDistance,
)
from artifex.generative_models.core.evaluation.metrics._inception_score import InceptionScore
from artifex.generative_models.core.evaluation.metrics._kid import KernelInceptionDistance
from artifex.generative_models.core.evaluation.metrics._precision_recall import PrecisionRecall

__all__ = [
    "FeatureStatistics",
    "FewSamplesWarning",
    "FrechetInceptionDistance",
    "InceptionScore",
    "KernelInceptionDistance",
    "PrecisionRecall",
]
