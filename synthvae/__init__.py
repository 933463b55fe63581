"""synthvae: synthetic tabular data from a tabular variational autoencoder.

The torch-backed parts (``Synthesizer``, ``FitInfo``, ``Progress``) load on first use, so that
``import synthvae`` and the schema, I/O and evaluation modules never import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from synthvae.datasets import load_penguins
from synthvae.errors import (
    ConstraintError,
    DataError,
    ModelFileError,
    NotFittedError,
    ParameterError,
    SchemaError,
    SynthVAEError,
    TrainingError,
)
from synthvae.inference import infer_schema
from synthvae.io import read_table, write_table
from synthvae.evaluation import EvaluationReport, PrivacyCheck, PrivacyLimits, evaluate, privacy_check
from synthvae.schema import Column, ColumnKind, NumericType, Schema, load_schema
from synthvae.constraints.plan import check_table
from synthvae.constraints.sdv import schema_from_sdv

_LAZY = {
    "Synthesizer": "synthvae.synthesizer",
    "FitInfo": "synthvae.synthesizer",
    "Progress": "synthvae.training",
    "PrivacySpec": "synthvae.privacy",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'synthvae' has no attribute {name!r}")


__all__ = [
    "Column",
    "ColumnKind",
    "ConstraintError",
    "DataError",
    "EvaluationReport",
    "FitInfo",
    "ModelFileError",
    "NotFittedError",
    "NumericType",
    "ParameterError",
    "PrivacyCheck",
    "PrivacyLimits",
    "PrivacySpec",
    "Progress",
    "Schema",
    "SchemaError",
    "SynthVAEError",
    "Synthesizer",
    "TrainingError",
    "check_table",
    "evaluate",
    "infer_schema",
    "load_penguins",
    "load_schema",
    "privacy_check",
    "read_table",
    "schema_from_sdv",
    "write_table",
]
