"""Sample-quality metrics for generative models: FID, IS, KID, precision/recall, mode coverage.

Every image metric takes a function from images to features (or class probabilities)
and images as an array or an iterable of batches; extraction is jitted and batched,
scores are computed in float64 on the host. ``digits_feature_extractor()`` and
``digits_classifier()`` need no download; :class:`InceptionV3` loads converted
pytorch-fid weights for FIDs comparable with the literature.
"""

from artifex.generative_models.core.evaluation.metrics._features import extract_features
from artifex.generative_models.core.evaluation.metrics._fid import (
    FeatureStatistics,
    FewSamplesWarning,
    FrechetInceptionDistance,
    frechet_distance,
)
from artifex.generative_models.core.evaluation.metrics._inception_score import (
    InceptionScore,
    inception_score,
)
from artifex.generative_models.core.evaluation.metrics._kid import (
    KernelInceptionDistance,
    kernel_inception_distance,
    polynomial_mmd2_unbiased,
)
from artifex.generative_models.core.evaluation.metrics._mode_coverage import (
    GRID_SPACING,
    HIGH_QUALITY_STDS,
    MIXTURE_STD,
    RING_RADIUS,
    class_coverage,
    grid_modes,
    mode_coverage,
    ring_modes,
    sample_mixture,
)
from artifex.generative_models.core.evaluation.metrics._module_function import ModuleFunction
from artifex.generative_models.core.evaluation.metrics._precision_recall import (
    PrecisionRecall,
    knn_radii,
    manifold_coverage,
    precision_recall,
)
from artifex.generative_models.core.evaluation.metrics._statistics import (
    FeatureReservoir,
    FeatureStatisticsFile,
    check_compatible,
    load_statistics,
    save_statistics,
)
from artifex.generative_models.core.evaluation.metrics._torch_pickle import (
    UnsafePickleError,
    read_torch_state_dict,
)
from artifex.generative_models.core.evaluation.metrics._weights import (
    PYTORCH_FID_WEIGHTS_SHA256,
    PYTORCH_FID_WEIGHTS_URL,
    fetch_weights,
    file_sha256,
    inception_weights_path,
)
from artifex.generative_models.core.evaluation.metrics.digits import (
    DigitsClassifierNetwork,
    DigitsSplit,
    digits_classifier,
    digits_classifier_record,
    digits_feature_extractor,
    load_digits,
)
from artifex.generative_models.core.evaluation.metrics.inception import (
    InceptionV3,
    inception_classifier,
    inception_feature_extractor,
    load_inception_v3,
    save_inception_v3,
)
from artifex.generative_models.core.evaluation.metrics.inception_conversion import (
    convert_inception_weights,
    fetch_inception_weights,
)

__version__ = "0.1.0"

__all__ = [
    "GRID_SPACING",
    "HIGH_QUALITY_STDS",
    "MIXTURE_STD",
    "PYTORCH_FID_WEIGHTS_SHA256",
    "PYTORCH_FID_WEIGHTS_URL",
    "RING_RADIUS",
    "DigitsClassifierNetwork",
    "DigitsSplit",
    "FeatureReservoir",
    "FeatureStatistics",
    "FeatureStatisticsFile",
    "FewSamplesWarning",
    "FrechetInceptionDistance",
    "InceptionScore",
    "InceptionV3",
    "KernelInceptionDistance",
    "ModuleFunction",
    "PrecisionRecall",
    "UnsafePickleError",
    "__version__",
    "check_compatible",
    "class_coverage",
    "convert_inception_weights",
    "digits_classifier",
    "digits_classifier_record",
    "digits_feature_extractor",
    "extract_features",
    "fetch_inception_weights",
    "fetch_weights",
    "file_sha256",
    "frechet_distance",
    "grid_modes",
    "inception_classifier",
    "inception_feature_extractor",
    "inception_score",
    "inception_weights_path",
    "kernel_inception_distance",
    "knn_radii",
    "load_digits",
    "load_inception_v3",
    "load_statistics",
    "manifold_coverage",
    "mode_coverage",
    "polynomial_mmd2_unbiased",
    "precision_recall",
    "read_torch_state_dict",
    "ring_modes",
    "sample_mixture",
    "save_inception_v3",
    "save_statistics",
]
