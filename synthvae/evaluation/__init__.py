"""The evaluator: how close, how useful and how private a synthetic table is.

It works on any pair of DataFrames (score another generator's output with it) and imports no
torch. Start with :func:`evaluate`; the metric functions are pure functions of real and
synthetic data with a documented range and direction.
"""

from synthvae.evaluation.fidelity import (
    Binning,
    contingency_similarity,
    correlation_similarity,
    ks_complement,
    tv_complement,
)
from synthvae.evaluation.pipeline import DEFAULT_MAX_ROWS, Metric, evaluate
from synthvae.evaluation.privacy_check import PrivacyCheck, PrivacyLimits, privacy_check
from synthvae.evaluation.report import EvaluationReport

__all__ = [
    "Binning",
    "DEFAULT_MAX_ROWS",
    "EvaluationReport",
    "Metric",
    "PrivacyCheck",
    "PrivacyLimits",
    "contingency_similarity",
    "correlation_similarity",
    "evaluate",
    "ks_complement",
    "privacy_check",
    "tv_complement",
]
