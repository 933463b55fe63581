"""synthvae: synthetic tabular data from a tabular variational autoencoder."""

from synthvae.errors import (
    DataError,
    ModelFileError,
    NotFittedError,
    SchemaError,
    SynthVAEError,
    TrainingError,
)
from synthvae.inference import infer_schema
from synthvae.io import read_table, write_table
from synthvae.schema import Column, ColumnKind, NumericType, Schema, load_schema

__version__ = "0.1.0"

__all__ = [
    "Column",
    "ColumnKind",
    "DataError",
    "ModelFileError",
    "NotFittedError",
    "NumericType",
    "Schema",
    "SchemaError",
    "SynthVAEError",
    "TrainingError",
    "infer_schema",
    "load_schema",
    "read_table",
    "write_table",
]
