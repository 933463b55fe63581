"""The table preprocessor: one codec per column, glued into one float32 matrix and its layout."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np
import pandas as pd

from synthvae.errors import DataError, NotFittedError, ParameterError
from synthvae.preprocessing.codecs import CODECS, CategoricalCodec, ColumnCodec
from synthvae.preprocessing.layout import Layout, Span
from synthvae.preprocessing.transforms import NumericEncoding
from synthvae.schema import ColumnKind, PersonalStrategy, Schema
from synthvae.validation import conform


class TablePreprocessor:
    """Encodes a table into a float32 matrix with a typed layout, and decodes samples back.

    Args:
        schema: The table's schema.
        max_categories: Slots per categorical column before rare categories are pooled.
        numeric_encoding: ``quantile`` (default) or ``mode``: how numeric and datetime values
            enter model space (see :mod:`synthvae.preprocessing.transforms`).
    """

    def __init__(
        self,
        schema: Schema,
        max_categories: int = 200,
        numeric_encoding: NumericEncoding | str = NumericEncoding.QUANTILE,
    ) -> None:
        self.schema = schema
        self.max_categories = max_categories
        self.numeric_encoding = numeric_encoding

    def fit(self, frame: pd.DataFrame, source: str = "training data") -> "TablePreprocessor":
        """Validate the table against the schema and fit one codec per column.

        Raises:
            DataError: The table does not fit the schema, or has no rows.
        """
        self.fit_transform(frame, source)
        return self

    def fit_transform(
        self,
        frame: pd.DataFrame,
        source: str = "training data",
        before_encoding: Callable[[Layout], None] | None = None,
    ) -> np.ndarray:
        """:meth:`fit`, then encode the same table (validating it once).

        Args:
            frame: The table.
            source: Its name, for error messages.
            before_encoding: Called with the layout once the codecs are fitted, before the
                matrix is built (e.g. to refuse a table too wide for memory).
        """
        data = conform(frame, self.schema, source)
        if len(data) == 0:
            raise DataError(f"{source} has no rows: cannot learn from an empty table")
        self.codecs_ = [self._new_codec(column).fit(data[column.name]) for column in self.schema]
        self.layout_ = self._build_layout()
        if before_encoding is not None:
            before_encoding(self.layout_)
        return self.transform_conformed(data)

    def _new_codec(self, column) -> ColumnCodec:
        if column.kind is ColumnKind.CATEGORICAL:
            return CategoricalCodec(column, max_categories=self.max_categories)
        if column.kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
            return CODECS[column.kind](column, encoding=self.numeric_encoding)
        return CODECS[column.kind](column)

    def _build_layout(self) -> Layout:
        spans, start = [], 0
        for codec in self.codecs_:
            for kind, width in codec.spans():
                spans.append(Span(codec.column.name, kind, start, width))
                start += width
        return Layout(tuple(spans))

    def fit_category_counts(self, counts: dict[str, dict]) -> None:
        """Refit the slots of categorical columns from counts of their raw values over a whole
        table, when the codecs were fitted on a sample of it: the rare categories pooled are
        then the table's, and a category the sample missed still has a place."""
        self._check_fitted()
        for codec in self.codecs_:
            if isinstance(codec, CategoricalCodec) and codec.column.name in counts:
                values = counts[codec.column.name]
                column = Schema(columns=(replace(codec.column, nullable=True),))
                raw = pd.DataFrame({codec.column.name: pd.Series(list(values), dtype=object)})
                codes = codec._codes(conform(raw, column, "the category counts")[codec.column.name])
                weights = np.fromiter(values.values(), dtype=np.int64, count=len(values))
                present = codes >= 0
                codec.fit_counts(np.bincount(codes[present], weights=weights[present], minlength=len(codec._categories)).astype(np.int64))
        self.layout_ = self._build_layout()

    def transform(self, frame: pd.DataFrame, source: str = "data") -> np.ndarray:
        """Encode a table into a float32 matrix of shape ``(n_rows, layout.width)``."""
        self._check_fitted()
        data = conform(frame, self.schema, source, check_bounds=False)
        return self.transform_conformed(data)

    def transform_conformed(self, data: pd.DataFrame) -> np.ndarray:
        """Encode a table already passed through :func:`conform`."""
        self._check_fitted()
        blocks = [codec.transform(data[codec.column.name]) for codec in self.codecs_]
        if not blocks:
            return np.zeros((len(data), 0), dtype=np.float32)
        return np.ascontiguousarray(np.hstack(blocks), dtype=np.float32)

    def reverse_transform(self, matrix: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        """Decode a sampled matrix into a table with exactly the schema's columns and dtypes
        (less personal columns whose strategy is ``drop``).

        Args:
            matrix: Shape ``(n_rows, layout.width)``: continuous values; one-hot spans as scores
                whose argmax is the category (exact one-hots, or Gumbel-perturbed logits).
            rng: Randomness for codecs that draw (pooled rare categories).
        """
        self._check_fitted()
        if matrix.ndim != 2 or matrix.shape[1] != self.layout_.width:
            raise ParameterError(f"expected a matrix of width {self.layout_.width}, got shape {matrix.shape}")
        columns, start = {}, 0
        for codec in self.codecs_:
            width = codec.width
            if codec.column.strategy is PersonalStrategy.DROP and codec.column.kind is ColumnKind.PERSONAL:
                continue  # a dropped personal column is left out of every sampled table
            block = matrix[:, start : start + width] if width else np.zeros((matrix.shape[0], 0))
            columns[codec.column.name] = codec.reverse_transform(block, rng).reset_index(drop=True)
            start += width
        return pd.DataFrame(columns, index=pd.RangeIndex(matrix.shape[0]))

    def finalize(self, frame: pd.DataFrame, offset: int = 0) -> pd.DataFrame:
        """Fix up a table assembled from several :meth:`reverse_transform` calls: ids are
        renumbered so they stay unique across the parts.

        Args:
            frame: The table.
            offset: Rows of the same sample before this table (ids continue after theirs).
        """
        self._check_fitted()
        for codec in self.codecs_:
            if codec.column.kind is ColumnKind.ID:
                ids = codec.ids(len(frame), offset)
                frame[codec.column.name] = ids.set_axis(frame.index)
        return frame

    @property
    def layout(self) -> Layout:
        """The layout of the encoded matrix."""
        self._check_fitted()
        return self.layout_

    def get_state(self) -> dict[str, Any]:
        """Plain JSON-ready state of every codec (no pickle)."""
        self._check_fitted()
        return {
            "max_categories": self.max_categories,
            "numeric_encoding": NumericEncoding(self.numeric_encoding).value,
            "codecs": [codec.get_state() for codec in self.codecs_],
        }

    @classmethod
    def from_state(cls, schema: Schema, state: dict[str, Any]) -> "TablePreprocessor":
        """Rebuild a fitted preprocessor from :meth:`get_state`."""
        pre = cls(schema, max_categories=int(state["max_categories"]), numeric_encoding=state["numeric_encoding"])
        if len(state["codecs"]) != len(schema):
            raise ParameterError("codec state does not match the schema's columns")
        pre.codecs_ = [CODECS[c.kind].from_state(c, s) for c, s in zip(schema, state["codecs"])]
        pre.layout_ = pre._build_layout()
        return pre

    def _check_fitted(self) -> None:
        if not hasattr(self, "codecs_"):
            raise NotFittedError("TablePreprocessor is not fitted; call fit first")
