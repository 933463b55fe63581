"""The layout of the encoded matrix: which matrix columns belong to which table column.

Each codec declares the spans it produces; the model and its loss read only this layout
(the idea of CTGAN's ``SpanInfo``, made a typed dataclass and enum here).
"""

from __future__ import annotations

from collections.abc import Mapping

import enum
from dataclasses import dataclass

import numpy as np


class SpanKind(str, enum.Enum):
    """What a block of matrix columns holds, which decides its output head and loss."""

    CONTINUOUS = "continuous"  # width 1: a real value (Gaussian head)
    CATEGORY = "category"  # width k: one-hot over a column's categories (softmax head)
    MISSING = "missing"  # width 2: one-hot [observed, missing] (softmax head)
    MODE = "mode"  # width k: one-hot of a numeric value's mixture mode (softmax head)

    @property
    def is_one_hot(self) -> bool:
        """Whether the span is a one-hot block (softmax head, cross-entropy loss)."""
        return self is not SpanKind.CONTINUOUS


@dataclass(frozen=True)
class Span:
    """A contiguous block of the encoded matrix.

    Attributes:
        column: Name of the table column it encodes.
        kind: What the block holds.
        start: Index of its first matrix column.
        width: Number of matrix columns.
    """

    column: str
    kind: SpanKind
    start: int
    width: int

    @property
    def stop(self) -> int:
        """One past the index of its last matrix column."""
        return self.start + self.width


@dataclass(frozen=True)
class Layout:
    """All spans of an encoded matrix, in matrix order.

    Attributes:
        spans: The spans, contiguous and in order.
    """

    spans: tuple[Span, ...]

    @property
    def width(self) -> int:
        """Total number of matrix columns."""
        return self.spans[-1].stop if self.spans else 0

    @property
    def continuous_index(self) -> np.ndarray:
        """Matrix column of every continuous span, shape ``(n_continuous,)``."""
        return np.array([s.start for s in self.spans if s.kind is SpanKind.CONTINUOUS], dtype=np.int64)

    def observed_index(self, owners: Mapping[str, str] | None = None) -> np.ndarray:
        """For every continuous span (as :attr:`continuous_index`), the matrix column of its table
        column's "observed" flag (the first entry of its ``MISSING`` span), or -1 for a column
        without one.

        Args:
            owners: Columns whose nulls another column's flag says (a nullable date's calendar
                parts are null where its year is: see
                :meth:`synthvae.constraints.plan.ConstraintPlan.null_owners`).
        """
        owners = owners or {}
        flags = {s.column: s.start for s in self.spans if s.kind is SpanKind.MISSING}
        return np.array([flags.get(owners.get(s.column, s.column), -1) for s in self.spans if s.kind is SpanKind.CONTINUOUS],
                        dtype=np.int64)

    @property
    def one_hot_spans(self) -> tuple[Span, ...]:
        """Every one-hot span (categories and missing flags)."""
        return tuple(s for s in self.spans if s.kind.is_one_hot)

    @property
    def one_hot_index(self) -> np.ndarray:
        """Matrix column of every one-hot entry, shape ``(n_one_hot_columns,)``."""
        spans = self.one_hot_spans
        if not spans:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.arange(s.start, s.stop) for s in spans]).astype(np.int64)

    @property
    def one_hot_segment(self) -> np.ndarray:
        """For every one-hot entry, the number of its span among one-hot spans."""
        spans = self.one_hot_spans
        if not spans:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.full(s.width, i) for i, s in enumerate(spans)]).astype(np.int64)

    @property
    def columns(self) -> list[str]:
        """The table columns that have spans (every learned column), in matrix order."""
        return list(dict.fromkeys(s.column for s in self.spans))

    @property
    def column_of(self) -> tuple[int, ...]:
        """For every matrix column, the position of its table column in :attr:`columns`."""
        position = {name: i for i, name in enumerate(self.columns)}
        return tuple(position[s.column] for s in self.spans for _ in range(s.width))

    def column_slice(self, name: str) -> slice:
        """The matrix columns of one learned table column (its spans are contiguous)."""
        spans = self.for_column(name)
        return slice(spans[0].start, spans[-1].stop)

    def for_column(self, name: str) -> tuple[Span, ...]:
        """The spans of one table column (empty for ids, which are not learned)."""
        return tuple(s for s in self.spans if s.column == name)

    def to_dict(self) -> list[dict]:
        """Plain JSON-ready form."""
        return [{"column": s.column, "kind": s.kind.value, "start": s.start, "width": s.width} for s in self.spans]

    @classmethod
    def from_dict(cls, data: list[dict]) -> "Layout":
        """Rebuild from :meth:`to_dict`."""
        return cls(tuple(Span(d["column"], SpanKind(d["kind"]), int(d["start"]), int(d["width"])) for d in data))
