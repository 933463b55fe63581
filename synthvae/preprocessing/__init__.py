"""Encoding tables into a float matrix with a typed layout, and back. Imports no torch."""

from synthvae.preprocessing.codecs import (
    CODECS,
    BooleanCodec,
    CategoricalCodec,
    ColumnCodec,
    DatetimeCodec,
    IdCodec,
    NumericCodec,
)
from synthvae.preprocessing.transforms import ModeNormal, NumericEncoding, QuantileNormal
from synthvae.preprocessing.layout import Layout, Span, SpanKind
from synthvae.preprocessing.table import TablePreprocessor

__all__ = [
    "CODECS",
    "BooleanCodec",
    "CategoricalCodec",
    "ColumnCodec",
    "DatetimeCodec",
    "IdCodec",
    "Layout",
    "ModeNormal",
    "NumericEncoding",
    "NumericCodec",
    "QuantileNormal",
    "Span",
    "SpanKind",
    "TablePreprocessor",
]
