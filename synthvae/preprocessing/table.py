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


# Held-out log-likelihood gain (nats per pooled row) a parent column must bring to the pooled
# categories of a column before they are drawn given it (see link_pools). flights' tail numbers
# given the carrier gain 2.05 nats (given the destination 0.90, the origin 0.51); loans' job
# titles, mostly seen once, lose 0.59-0.66 given any of its 13 categorical columns.
_LINK_GAIN = 0.05
# Fewest pooled training rows to judge a parent on, and about the most (evenly spaced rows of a
# larger pool: each candidate costs a sort of the rows judged).
_LINK_ROWS = 40
_LINK_JUDGED = 100_000


def link_pools(codecs: list[ColumnCodec], data: pd.DataFrame) -> None:
    """Link each categorical column with pooled rare categories to the categorical column that
    best predicts them, so that a sampled "other" is drawn among the rare categories seen with
    the row's value of that column (:meth:`CategoricalCodec.link`).

    The model sees pooled categories only as one "other" slot; drawn independently of the rest of
    the row they lose every relation a rare category has: a flight's tail number (3,768 values,
    81% of rows pooled) said nothing about its carrier, though each plane flies for one. The
    parent is chosen among the categorical and boolean columns with no pool of their own (so
    the model samples it) by the held-out gain in log-likelihood of the pooled categories: the
    pooled rows are split in two (alternate rows), the frequencies given the parent (smoothed
    towards the pool's, see :func:`_held_out_gain`) are counted on one half and scored on the
    other, both ways, against the pool's own frequencies. The best
    parent is kept if it gains at least :data:`_LINK_GAIN` nats per row. Held out, a parent
    with many values cannot win by memorising a few rows each (a job title given a zip code).
    The draws themselves smooth less (:data:`~synthvae.preprocessing.codecs.LINK_SMOOTHING`):
    a synthetic plane stays with a carrier it flew for.

    Args:
        codecs: The fitted codecs of a table.
        data: The conformed table they were fitted on.
    """
    parents = [c for c in codecs if isinstance(c, CategoricalCodec) and not c.has_other_]
    for codec in codecs:
        if not isinstance(codec, CategoricalCodec) or not codec.has_other_:
            continue
        pooled = np.flatnonzero(codec.in_pool(data[codec.column.name]))
        codec.link(None)
        if pooled.size < _LINK_ROWS:
            continue
        position = codec.pool_positions()
        codes = codec._codes(data[codec.column.name])[pooled]
        judged = np.arange(0, pooled.size, max(1, pooled.size // _LINK_JUDGED))
        best = None
        for parent in parents:
            levels = len(parent._categories) + 1
            parent_codes = parent._codes(data[parent.column.name])[pooled]
            parent_codes = np.where(parent_codes < 0, levels - 1, parent_codes)
            gain = _held_out_gain(position[codes[judged]], parent_codes[judged], codec.pool_.size, levels)
            if gain >= _LINK_GAIN and (best is None or gain > best[0]):
                best = (gain, parent, parent_codes, levels)
        if best is not None:
            _, parent, parent_codes, levels = best
            codec.link(parent.column.name, parent_codes, codes, levels)


def _held_out_gain(values: np.ndarray, levels: np.ndarray, n_values: int, n_levels: int) -> float:
    """Mean held-out gain (nats per row) of predicting ``values`` (in ``0..n_values``) from the
    frequencies given ``levels`` rather than from the frequencies alone, over the two halves of
    alternate rows.

    Given a level, the frequencies are smoothed towards the overall ones as Witten and Bell do:
    with the weight of the distinct values seen with the level, the honest chance that the next
    row brings a new one. (With a fixed small weight, a pool of categories seen once or twice
    each is all new values held out, and even a parent that determines them would lose.)
    """
    halves = (np.arange(0, values.size, 2), np.arange(1, values.size, 2))
    gain = 0.0
    for fit, test in (halves, halves[::-1]):
        own = (np.bincount(values[fit], minlength=n_values) + 0.5) / (fit.size + 0.5 * n_values)
        keys, counts = np.unique(levels[fit] * n_values + values[fit], return_counts=True)
        totals = np.bincount(levels[fit], minlength=n_levels)
        types = np.bincount(keys // n_values, minlength=n_levels)
        wanted = levels[test] * n_values + values[test]
        at = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
        joint = np.where(keys[at] == wanted, counts[at], 0)
        level = levels[test]
        given = (joint + types[level] * own[values[test]]) / np.maximum(totals[level] + types[level], 1)
        given = np.where(totals[level] > 0, given, own[values[test]])
        gain += float(np.mean(np.log(given) - np.log(own[values[test]])))
    return gain / 2


def _without(series: pd.Series, categories: list) -> pd.Series:
    """A sampled categorical column without ``categories`` among its dtype's categories; no
    row may hold one (they were never generated)."""
    if not isinstance(series.dtype, pd.CategoricalDtype):
        return series
    present = [c for c in categories if c in series.dtype.categories]
    held = series.isin(present)
    if held.any():
        raise RuntimeError(f"internal error: column {series.name!r}: suppressed categories were generated ({int(held.sum())} rows)")
    return series.cat.remove_categories(present)


def _parent_from_known_children(parent: CategoricalCodec, decoded: pd.Series, children: list[CategoricalCodec],
                                known: dict[str, pd.Series], unknown: dict[str, np.ndarray] | None,
                                rng: np.random.Generator, free: np.ndarray | None) -> pd.Series:
    """A decoded parent column where a linked column's value is known (``children``: those linked
    to it whose values ``known`` holds): rows whose known value is a pooled category take a
    parent value it was seen with (a plane given, its carrier follows; the model saw only
    "other" for it). ``free``: the rows whose parent value was decoded (``None``: all); the
    parent's own known values stay."""
    for child in children:
        codes = child._codes(known[child.column.name].reset_index(drop=True))
        if unknown is not None and child.column.name in unknown:
            codes = np.where(unknown[child.column.name], -1, codes)
        levels = child.draw_parent(codes, rng)
        if free is not None:
            levels = np.where(free, levels, -2)
        if (levels > -2).any():
            decoded = decoded.where(pd.Series(levels == -2), parent._from_codes(np.maximum(levels, -1)))
    return decoded


class TablePreprocessor:
    """Encodes a table into a float32 matrix with a typed layout, and decodes samples back.

    Args:
        schema: The table's schema.
        max_categories: Slots per categorical column before rare categories are pooled.
        numeric_encoding: ``quantile`` (default) or ``mode``: how numeric and datetime values
            enter model space (see :mod:`synthvae.preprocessing.transforms`).
        link_pools: Draw the pooled rare categories of a column given the column that best
            predicts them (see :func:`link_pools`); off for a private fit, whose codecs see a
            proxy table.
        point_masses: Give a numeric or datetime column's heavy point masses (up to four) a
            flag of their own (see :class:`~synthvae.preprocessing.transforms.AtomQuantileNormal`); off for a
            private fit, whose decoded marginals are quantile-mapped onto the released
            histograms afterwards, which a flag drawn by the decoder would escape.
        min_category_rows: A categorical column's categories held by fewer training rows are
            never generated, nor listed in a sampled column's categories (see
            :class:`~synthvae.preprocessing.codecs.CategoricalCodec`); 1 keeps them all.
        min_tail_rows: Numeric and datetime columns are top- and bottom-coded at cuts with
            this many training values beyond each (see
            :class:`~synthvae.preprocessing.codecs.NumericCodec`); 1 keeps their range.
        count_scale: Training rows each row of the fitted table stands for (a private fit's
            proxy table: ``rows / proxy rows``), to judge ``min_category_rows`` and
            ``min_tail_rows`` by.
    """

    def __init__(
        self,
        schema: Schema,
        max_categories: int = 200,
        numeric_encoding: NumericEncoding | str = NumericEncoding.QUANTILE,
        link_pools: bool = True,
        point_masses: bool = True,
        min_category_rows: int = 1,
        count_scale: float = 1.0,
        min_tail_rows: int = 1,
    ) -> None:
        self.schema = schema
        self.max_categories = max_categories
        self.min_category_rows = min_category_rows
        self.min_tail_rows = min_tail_rows
        self.count_scale = count_scale
        self.numeric_encoding = numeric_encoding
        self.link_pools = link_pools
        self.point_masses = point_masses

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
        if self.link_pools:
            link_pools(self.codecs_, data)
        self.layout_ = self._build_layout()
        if before_encoding is not None:
            before_encoding(self.layout_)
        for codec in self.codecs_:  # the slots are final (before_encoding may refit them)
            if isinstance(codec, CategoricalCodec):
                codec.check_generatable()
        return self.transform_conformed(data)

    def _new_codec(self, column) -> ColumnCodec:
        if column.kind is ColumnKind.CATEGORICAL:
            return CategoricalCodec(column, max_categories=self.max_categories, min_rows=self.min_category_rows,
                                    count_scale=self.count_scale)
        if column.kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
            return CODECS[column.kind](column, encoding=self.numeric_encoding, point_masses=self.point_masses,
                                       tail_rows=self.min_tail_rows, count_scale=self.count_scale)
        return CODECS[column.kind](column)

    def _build_layout(self) -> Layout:
        spans, start = [], 0
        for codec in self.codecs_:
            for kind, width in codec.spans():
                spans.append(Span(codec.column.name, kind, start, width))
                start += width
        return Layout(tuple(spans))

    def fit_category_counts(self, counts: dict[str, dict], source: str = "the category counts") -> None:
        """Refit the slots of categorical columns from counts of their raw values over a whole
        table, when the codecs were fitted on a sample of it: the rare categories pooled are
        then the table's, and a category the sample missed still has a place. ``source`` names
        the table in errors (a value outside a given schema's categories)."""
        self._check_fitted()
        for codec in self.codecs_:
            if isinstance(codec, CategoricalCodec) and codec.column.name in counts:
                values = counts[codec.column.name]
                column = Schema(columns=(replace(codec.column, nullable=True),))
                raw = pd.DataFrame({codec.column.name: pd.Series(list(values), dtype=object)})
                codes = codec._codes(conform(raw, column, source)[codec.column.name])
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
        # Columns without spans (ids, personal values) add nothing and may be absent.
        blocks = [codec.transform(data[codec.column.name]) for codec in self.codecs_ if codec.width]
        if not blocks:
            return np.zeros((len(data), 0), dtype=np.float32)
        return np.ascontiguousarray(np.hstack(blocks), dtype=np.float32)

    def reverse_transform(
        self,
        matrix: np.ndarray,
        rng: np.random.Generator,
        columns: list[str] | None = None,
        known: dict[str, pd.Series] | None = None,
        unknown: dict[str, np.ndarray] | None = None,
    ) -> pd.DataFrame:
        """Decode a sampled matrix into a table with exactly the schema's columns and dtypes
        (less personal columns whose strategy is ``drop``).

        Args:
            matrix: Shape ``(n_rows, layout.width)``: continuous values; one-hot spans as scores
                whose argmax is the category (exact one-hots, or Gumbel-perturbed logits).
            rng: Randomness for codecs that draw (pooled rare categories).
            columns: Decode only these columns (default: all).
            known: Columns whose values are given rather than decoded (``n_rows`` values each,
                e.g. the conditions of a conditional sample); a linked column's pooled
                categories are drawn given its parent's known values.
            unknown: For a known column, the rows (a boolean mask) whose value is decoded
                after all (the missing cells of a table being imputed).
        """
        self._check_fitted()
        if matrix.ndim != 2 or matrix.shape[1] != self.layout_.width:
            raise ParameterError(f"expected a matrix of width {self.layout_.width}, got shape {matrix.shape}")
        known = known or {}
        wanted = {c.column.name for c in self.codecs_} if columns is None else set(columns)
        blocks, start = {}, 0
        for codec in self.codecs_:
            blocks[codec.column.name] = (codec, start)
            start += codec.width
        # Linked columns by parent; parents are decoded first (a parent is never itself linked),
        # also when only a linked column is wanted.
        children: dict[str, list[CategoricalCodec]] = {}
        for codec in self.codecs_:
            if getattr(codec, "parent_", None) is not None:
                children.setdefault(codec.parent_, []).append(codec)
        needed = wanted | {p for p, linked in children.items() if any(c.column.name in wanted for c in linked)}
        order = sorted(self.codecs_, key=lambda c: getattr(c, "parent_", None) is not None)
        values: dict[str, pd.Series] = {}
        for codec in order:
            name = codec.column.name
            if name not in needed:
                continue
            if codec.column.strategy is PersonalStrategy.DROP and codec.column.kind is ColumnKind.PERSONAL:
                continue  # a dropped personal column is left out of every sampled table
            partly = unknown.get(name) if unknown and name in known else None
            if name in known and (partly is None or not partly.any()):
                values[name] = known[name].reset_index(drop=True)
                continue
            first = blocks[name][1]
            block = matrix[:, first : first + codec.width] if codec.width else np.zeros((matrix.shape[0], 0))
            parent = getattr(codec, "parent_", None)
            if parent is not None:
                codes = blocks[parent][0]._codes(values[parent])
                values[name] = codec.reverse_given(block, rng, codes).reset_index(drop=True)
            else:
                values[name] = codec.reverse_transform(block, rng).reset_index(drop=True)
            if partly is not None:
                values[name] = values[name].where(pd.Series(partly), known[name].reset_index(drop=True))
            given = [c for c in children.get(name, ()) if c.column.name in known]
            if given:
                values[name] = _parent_from_known_children(codec, values[name], given, known, unknown, rng, partly)
        names = [c.column.name for c in self.codecs_ if c.column.name in values and c.column.name in wanted]
        return pd.DataFrame({name: values[name] for name in names}, index=pd.RangeIndex(matrix.shape[0]))

    def finalize(self, frame: pd.DataFrame, offset: int = 0, ids: bool = True) -> pd.DataFrame:
        """Fix up a table assembled from several :meth:`reverse_transform` calls: ids are
        renumbered so they stay unique across the parts, and suppressed categories (see
        ``min_category_rows``) are left out of a column's categories.

        Args:
            frame: The table.
            offset: Rows of the same sample before this table (ids continue after theirs).
            ids: Renumber the ids (``False``: rows no user sees, such as the model's own rows
                its conditional prior trains on, leave them as they are).
        """
        self._check_fitted()
        for codec in self.codecs_:
            if codec.column.kind is ColumnKind.ID:
                if not ids:
                    continue
                new = codec.ids(len(frame), offset).set_axis(frame.index)
                if codec.column.name in frame:  # the rows sampled null stay null
                    new = new.mask(frame[codec.column.name].isna())
                frame[codec.column.name] = new
            elif isinstance(codec, CategoricalCodec) and codec.suppressed_.size and codec.column.name in frame:
                frame[codec.column.name] = _without(frame[codec.column.name], codec.suppressed_categories)
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
            "link_pools": self.link_pools,
            "point_masses": self.point_masses,
            **({"min_category_rows": self.min_category_rows} if self.min_category_rows > 1 else {}),
            **({"min_tail_rows": self.min_tail_rows} if self.min_tail_rows > 1 else {}),
            "codecs": [codec.get_state() for codec in self.codecs_],
        }

    @classmethod
    def from_state(cls, schema: Schema, state: dict[str, Any]) -> "TablePreprocessor":
        """Rebuild a fitted preprocessor from :meth:`get_state`."""
        pre = cls(schema, max_categories=int(state["max_categories"]), numeric_encoding=state["numeric_encoding"],
                  link_pools=bool(state.get("link_pools", True)), point_masses=bool(state.get("point_masses", False)),
                  min_category_rows=int(state.get("min_category_rows", 1)), min_tail_rows=int(state.get("min_tail_rows", 1)))
        if len(state["codecs"]) != len(schema):
            raise ParameterError("codec state does not match the schema's columns")
        pre.codecs_ = [CODECS[c.kind].from_state(c, s) for c, s in zip(schema, state["codecs"])]
        pre.layout_ = pre._build_layout()
        return pre

    def _check_fitted(self) -> None:
        if not hasattr(self, "codecs_"):
            raise NotFittedError("TablePreprocessor is not fitted; call fit first")
