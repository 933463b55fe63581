"""One reversible codec per column kind.

Every codec turns one column (already in the canonical dtype of
:func:`synthvae.validation.conform`) into a float32 block of the encoded matrix, declares the
spans of that block, and turns a *sampled* block back into a column of the schema's dtype. In a
sampled block a one-hot span holds scores (exact one-hots, or logits plus Gumbel noise): the
codecs read only each span's argmax. The public ``fit`` / ``transform`` / ``reverse_transform`` do the
bookkeeping; subclasses fill ``_fit`` / ``_transform`` / ``_reverse``.

Numeric and datetime values go through a transform of :mod:`synthvae.preprocessing.transforms`:
by default a Gaussian quantile transform, optionally mode-specific normalisation.

Documented behaviours:
- nulls of a nullable numeric or datetime column are a separate ``MISSING`` span (the value
  span holds the median, or the heaviest mode's mean); of a categorical or boolean column, one more category slot;
- a constant column encodes to a constant and comes back constant; an all-null column comes
  back all null;
- a categorical column with more than ``max_categories`` categories keeps the
  ``max_categories - 1`` most frequent as their own slots and pools the rest into one "other"
  slot; a sampled "other" is drawn from the pooled categories in proportion to their training
  frequency (so rare levels appear, at their rate, without widening the model), or, when the
  table preprocessor linked the column to a parent column (see
  :func:`synthvae.preprocessing.table.link_pools`), in proportion to their training frequency
  among rows with the row's value of the parent (a tail number drawn within its carrier);
- categories listed by the schema but absent from the data keep their slot and are learned as
  (nearly) never occurring;
- with ``min_rows`` k above 1, a categorical column's categories held by fewer than k training
  rows are *suppressed*: never generated (a value a few people hold can identify them). Their
  rows are encoded into the "other" slot, so the model still learns the rest of those rows; when
  sampling, the model moves the other slot's share of them to the kept categories in proportion
  to the row's own probabilities (:meth:`CategoricalCodec.suppression`,
  :meth:`synthvae.model.TabularVAE.suppress`), so a row takes a category the rest of it makes
  likely, never null. Their counts are not kept, a condition asking for one alone is refused, and :meth:`TablePreprocessor.finalize`
  leaves them out of the sampled column's categories (a Parquet file's dictionary would list
  them);
- ids are not learned: they take no span and are regenerated as ``first, first + 1, ...``
  (integers) or ``prefix`` + zero-padded number (strings), unique within one sample, where
  ``first`` is the schema's ``start`` or one past the largest id number of the training data,
  whichever is larger, so no synthetic id is a real one;
- personal columns are not learned either: sampling generates values of their type with Faker
  (seeded from the sampling seed), or leaves them out (strategy ``drop``).
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import ndtri

from synthvae.conditions import Condition, grid_slack, value_slack
from synthvae.errors import DataError, ModelFileError, NotFittedError, ParameterError, is_real, preview
from synthvae.preprocessing.layout import SpanKind
from synthvae.preprocessing.transforms import (AtomQuantileNormal, NumericEncoding, QuantileNormal, fit_transform_for, probit,
                                                 tail_cuts, transform_from_state)
from synthvae.schema import Column, ColumnKind, PersonalType
from synthvae.validation import UNIT_NAMES

_CALIBRATION_POINTS = 256


def grid_words(column: Column, step: float | None = None) -> str:
    """The values a numeric or datetime column's grid holds, in words: "whole numbers", "values
    of 2 decimal places", "whole hours" (datetimes and durations), else "multiples of ``step``"."""
    if column.kind is ColumnKind.DATETIME:
        return f"whole {UNIT_NAMES.get(column.unit, 'units of ' + repr(column.unit))}"
    places = 0 if column.is_integer else column.decimals
    unit = UNIT_NAMES.get(column.duration, repr(column.duration)) if column.duration is not None else None
    if places is None:
        return f"multiples of {step:g}" + (f" {unit}" if unit else "") if step else "any numbers"
    if places == 0:
        return f"whole {unit}" if unit else "whole numbers"
    # A duration of 1 decimal place of hours holds 1.5 h: "whole hours" said it could not.
    return f"values of {places} decimal place{'s' if places > 1 else ''}" + (f" of {unit}" if unit else "")


def between_grid_points(condition, column: Column, step: float | None = None) -> str:
    """The refusal of a range within a column's range that holds none of its grid's values
    ("1 < k < 2" of whole numbers, "01:00 < t < 02:00" of whole hours)."""
    # A zoned column's conditions are its clock times: "t > 02:00+02:00 and t < 03:00+01:00"
    # read "t > 2023-10-29 02:00:00 and t < 2023-10-29 03:00:00", though the repeated 02:00
    # lies between those instants (a user review).
    zone = (f" (its conditions are clock times in {column.timezone}, and the two of a change from summer time are one "
            f"to the model)") if column.kind is ColumnKind.DATETIME and column.timezone else ""
    return (f"condition {condition.describe()}: column {column.name!r} holds {grid_words(column, step)} only, "
            f"and none lies in it; widen the range{zone}")
# Pseudo-count of the pool's own frequencies mixed into a linked pooled draw: a parent value
# seen with n pooled rows gives 1 / (n + 1) of its draws to the pool at large (a category never
# seen with it can still appear, as rarely as that).
LINK_SMOOTHING = 1.0
_UNIT_NS = {"D": 86_400 * 10**9, "h": 3_600 * 10**9, "m": 60 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


_INT64_FLOAT_MIN = float(-(2**63))
_INT64_FLOAT_MAX = float(np.nextafter(np.float64(2**63), 0))  # 2**63 - 1024, the largest float below 2**63


def unit_ns(column: Column) -> int:
    """Nanoseconds in one tick of a datetime column's unit."""
    return _UNIT_NS[column.unit or "s"]


def real_values(series: pd.Series, column: Column) -> np.ndarray:
    """A conformed numeric or datetime column as floats (datetimes in ticks of its unit since the
    epoch), NaN for nulls: the scale its codec models."""
    if column.kind is ColumnKind.DATETIME:
        values = pd.Series(series).astype("datetime64[ns]")
        # Whole ticks and their remainder apart: nanoseconds as floats before the division
        # rounded 2256-01-01 00:00:00.000001 (2**53 + 1 microseconds) to an even tick that its
        # bound, one float division of integers (real_value), did not round to.
        whole, part = np.divmod(values.to_numpy().view(np.int64), unit_ns(column))
        out = whole.astype(np.float64) + part / unit_ns(column)
        out[values.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(series).astype("float64").to_numpy(copy=True)


def real_value(value: Any, column: Column) -> float:
    """One value of a numeric or datetime column (a bound, a condition) on that float scale."""
    if column.kind is ColumnKind.DATETIME:
        return pd.Timestamp(value).value / unit_ns(column)
    return float(value)


def id_numbers(series: pd.Series, column: Column) -> pd.Series:
    """The numbers of an id column's values: integer ids as they are, string ids after their
    prefix (values without the prefix and a number are left out)."""
    present = pd.Series(series).dropna()
    if column.is_integer:
        return pd.to_numeric(present, errors="coerce").dropna()
    text = present.astype(str)
    rest = text[text.str.startswith(column.prefix)].str.slice(len(column.prefix))
    return pd.to_numeric(rest[rest.str.fullmatch(r"\d+")], errors="coerce").dropna()


class ColumnCodec(ABC):
    """Base class: encodes one column into spans of the matrix and back.

    Args:
        column: The schema's description of the column.
    """

    kind: ClassVar[ColumnKind]

    def __init__(self, column: Column) -> None:
        self.column = column

    # ----- public bookkeeping -----
    def fit(self, series: pd.Series) -> "ColumnCodec":
        """Learn what the codec needs from a conformed column; returns ``self``."""
        self._fit(series)
        self.fitted_ = True
        return self

    def transform(self, series: pd.Series) -> np.ndarray:
        """Encode a conformed column into a float32 block of shape ``(n, width)``."""
        self._check_fitted()
        block = self._transform(series)
        assert block.shape == (len(series), self.width), "codec returned a block of the wrong shape"
        return block.astype(np.float32, copy=False)

    def reverse_transform(self, block: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """Decode a sampled block (continuous values; one-hot spans as scores, read by argmax).

        Args:
            block: Array of shape ``(n, width)``.
            rng: Randomness for codecs that draw (pooled categories).
        """
        self._check_fitted()
        if block.ndim != 2 or block.shape[1] != self.width:
            raise ParameterError(f"column {self.column.name!r}: expected a block of width {self.width}, got {block.shape}")
        return self._reverse(block, rng).rename(self.column.name)

    @property
    def width(self) -> int:
        """Number of matrix columns the codec produces."""
        return sum(w for _, w in self.spans())

    def spans(self) -> list[tuple[SpanKind, int]]:
        """The (kind, width) of each span the codec produces, in order."""
        self._check_fitted()
        return self._spans()

    def get_state(self) -> dict[str, Any]:
        """Learned state as plain JSON-ready data (no pickle)."""
        self._check_fitted()
        return self._get_state()

    @classmethod
    def from_state(cls, column: Column, state: dict[str, Any]) -> "ColumnCodec":
        """Rebuild a fitted codec from :meth:`get_state`."""
        codec = cls(column)
        codec._set_state(state)
        codec.fitted_ = True
        return codec

    # ----- conditions (conditional sampling) -----
    def draw_given(self, condition: "Condition", n: int, rng: np.random.Generator) -> pd.Series:
        """``n`` values drawn from the column's training distribution restricted to
        ``condition``, in the column's sampled dtype (what :meth:`reverse_transform` returns).

        Raises:
            ParameterError: No training value satisfies the condition.
        """
        self._check_fitted()
        return self._draw_given(condition, n, rng).rename(self.column.name)

    def satisfies(self, series: pd.Series, condition: "Condition") -> np.ndarray:
        """Which values of a sampled column satisfy ``condition``, ``(n,)`` bool."""
        self._check_fitted()
        return self._satisfies(series, condition)

    def collapse(self, series: pd.Series, n: int, reps: int, adjust: Callable[[np.ndarray], np.ndarray] | None = None,
                 on_grid: bool = True) -> pd.Series:
        """One value per row from ``reps`` consecutive sampled draws of each of ``n`` rows: the
        mean for real-valued columns, the most frequent draw for categories, the first draw
        otherwise. Used for a best single guess in imputation.

        Args:
            adjust: For real-valued columns, a function from the rows' means ``(n,)`` (see
                :meth:`mean_of_draws`) to their values (before rounding to the column's grid
                and bounds).
            on_grid: ``False``: a numeric column's means as they are (floats within its bounds,
                not rounded to its integers or decimals): the expected value.
        """
        self._check_fitted()
        return self._collapse(series, n, reps, adjust, on_grid).rename(self.column.name)

    def _collapse(self, series: pd.Series, n: int, reps: int, adjust, on_grid: bool = True) -> pd.Series:
        return series.iloc[::reps].reset_index(drop=True)

    def as_sampled(self, series: pd.Series) -> pd.Series:
        """A conformed column (see :func:`synthvae.validation.conform`) in the dtype that
        :meth:`reverse_transform` gives, values unchanged."""
        return series

    def _draw_given(self, condition, n, rng) -> pd.Series:
        raise ParameterError(f"column {self.column.name!r} ({self.column.kind.value}) cannot be conditioned on")

    def _satisfies(self, series, condition) -> np.ndarray:
        raise ParameterError(f"column {self.column.name!r} ({self.column.kind.value}) cannot be conditioned on")

    def _check_fitted(self) -> None:
        if not getattr(self, "fitted_", False):
            raise NotFittedError(f"codec for column {self.column.name!r} is not fitted; call fit first")

    # ----- what subclasses fill -----
    @abstractmethod
    def _fit(self, series: pd.Series) -> None: ...

    @abstractmethod
    def _transform(self, series: pd.Series) -> np.ndarray: ...

    @abstractmethod
    def _reverse(self, block: np.ndarray, rng: np.random.Generator) -> pd.Series: ...

    @abstractmethod
    def _spans(self) -> list[tuple[SpanKind, int]]: ...

    @abstractmethod
    def _get_state(self) -> dict[str, Any]: ...

    @abstractmethod
    def _set_state(self, state: dict[str, Any]) -> None: ...


def argmax_rows(block: np.ndarray) -> np.ndarray:
    """``block.argmax(axis=1)``, faster for the column-major blocks that sampling gives: NumPy
    would copy such a block row-major first; here each column is compared in one pass."""
    rows, width = block.shape
    if width < 2 or not block.flags.f_contiguous or block.flags.c_contiguous:
        return block.argmax(axis=1)
    best = block[:, 0].copy()
    index = np.zeros(rows, dtype=np.intp)
    greater = np.empty(rows, dtype=bool)
    for j in range(1, width):
        column = block[:, j]
        np.greater(column, best, out=greater)  # strictly: ties keep the first, as argmax does
        np.maximum(best, column, out=best)  # NaN propagates: such rows are redone below
        np.copyto(index, j, where=greater)
    nan = np.isnan(best)
    if nan.any():
        index[nan] = block[nan].argmax(axis=1)  # argmax's rule: the first NaN
    return index


def _missing_block(isnull: np.ndarray) -> np.ndarray:
    block = np.zeros((isnull.size, 2), dtype=np.float32)
    block[np.arange(isnull.size), isnull.astype(np.int64)] = 1.0
    return block


class _RealValuedCodec(ColumnCodec):
    """Shared logic of numeric and datetime codecs: a real-value transform plus a missing flag.

    Args:
        column: The schema column.
        encoding: ``quantile`` (default) or ``mode`` (see :mod:`synthvae.preprocessing.transforms`).
        tail_rows: Top- and bottom-coding: the column is cut with ``tail_rows`` training
            values beyond each end (:func:`~synthvae.preprocessing.transforms.tail_cuts`, on the
            column's grid); values beyond a cut are learned as the cut and no sampled value lies
            beyond it (an income of 9,876,543 that one person held came back as 9,687,514; a
            privacy review). ``1`` (default): the training range, as it is.
        count_scale: Training rows each row of the fitted column stands for (a private fit's
            proxy table), to judge ``tail_rows`` by.
    """

    def __init__(self, column: Column, encoding: NumericEncoding | str = NumericEncoding.QUANTILE,
                 point_masses: bool = True, tail_rows: int = 1, count_scale: float = 1.0) -> None:
        super().__init__(column)
        self.encoding = NumericEncoding(encoding)
        self.point_masses = point_masses
        self.tail_rows = tail_rows
        self.count_scale = count_scale
        self.tail_ = None

    @abstractmethod
    def _to_float(self, series: pd.Series) -> np.ndarray: ...

    @abstractmethod
    def _from_float(
        self, values: np.ndarray, isnull: np.ndarray, low: float | None = None, high: float | None = None
    ) -> pd.Series:
        """Sampled floats to the column's dtype, rounded on its grid within ``[low, high]``
        (default: the column's range)."""

    @abstractmethod
    def _bounds(self) -> tuple[float | None, float | None]: ...

    def _fit(self, series: pd.Series) -> None:
        values = self._to_float(series)
        present = values[~np.isnan(values)]
        self.calibration_ = None
        self.all_null_ = present.size == 0
        self.tail_ = self._tails(present)
        if self.tail_ is not None:
            present = np.clip(present, *self.tail_)
        self.transform_ = fit_transform_for(self.encoding, present, self.point_masses)
        low, high = self._bounds()
        if getattr(self.column, "is_integer", False) and (low is None or high is None) and present.size \
                and float(np.abs(present).max()) > 2.0**53:
            # Conformed as floats, such values merge (1,024 apart near 2**63), and the range of
            # the merged floats put every sampled value of 2,000 below the real min.
            raise DataError(
                f"column {self.column.name!r}: whole numbers beyond 2**53 (up to {self._show(float(np.abs(present).max()))}) "
                f"are learned as floats, which do not hold them exactly, and the schema gives no "
                f"{'min' if low is None else 'max'} to keep sampled values within; give the schema its exact min "
                f"and max, or make the column categorical or an id"
            )
        self.low_ = float(low if low is not None else (present.min() if present.size else 0.0))
        self.high_ = float(high if high is not None else (present.max() if present.size else 0.0))
        if self.tail_ is not None:  # within the schema's bounds, as the training values are
            self.low_, self.high_ = self.tail_

    def _tails(self, present: np.ndarray) -> list | None:
        """The top- and bottom-coding cuts of the training values (:func:`tail_cuts`, each value
        counting for ``count_scale`` training rows), moved inwards onto the column's grid;
        ``None``: no coding."""
        cuts = tail_cuts(np.sort(present), self._tail_rows())
        if cuts is None:
            return None
        low, high = cuts
        step = self.grid_step()
        if step:
            first, last = _grid_within(low, high, _grid_scale(step))
            low, high = max(first, low), min(last, high)
            if self.column.kind is ColumnKind.NUMERIC and self.column.decimals is not None:
                low, high = round(low, self.column.decimals), round(high, self.column.decimals)
        return [float(low) + 0.0, float(high) + 0.0] if low <= high else [float(cuts[0]) + 0.0] * 2  # no -0.0

    def _tail_rows(self) -> int:
        """``tail_rows`` in rows of the fitted column (each stands for ``count_scale``)."""
        return math.ceil(self.tail_rows / self.count_scale - 1e-9) if self.tail_rows > 1 else 1

    def _spans(self) -> list[tuple[SpanKind, int]]:
        spans = list(self.transform_.spans())
        if self.column.nullable:
            spans.append((SpanKind.MISSING, 2))
        return spans

    def _transform(self, series: pd.Series) -> np.ndarray:
        values = self._to_float(series)
        isnull = np.isnan(values)
        if isnull.any() and not self.column.nullable:
            raise DataError(f"column {self.column.name!r} has missing values but is not nullable")
        if self.tail_ is not None:  # values beyond the tails are learned as the tails
            values = np.clip(values, *self.tail_)
        block = self.transform_.forward(np.where(isnull, 0.0, values))
        block[isnull] = self.transform_.null_fill()
        if self.column.nullable:
            block = np.hstack([block, _missing_block(isnull)])
        return block

    def calibrate(self, block: np.ndarray) -> None:
        """Map a model's decoded values onto this codec's own distribution from now on.

        ``block`` is this column's block of many rows sampled from a model. Their encoded values
        should be standard normal (the quantile transform's target) but an underfitted model's
        are not; after this, decoding first maps their empirical quantiles onto the normal ones
        (quantile mapping, linear beyond the ends), so sampled values follow the distribution the
        codec was fitted on. A no-op for mode-specific normalisation and for fewer than 100
        non-null values. Used by private fits, where the codec's distribution is a released
        noisy histogram and the map is post-processing of the model.
        """
        width = block.shape[1] - (2 if self.column.nullable else 0)
        values = block[:, 0].astype(np.float64)
        scored = np.ones(len(values), dtype=bool)  # rows whose value is the continuous score's
        if self.column.nullable:
            scored &= block[:, width + 1] <= block[:, width]
        if isinstance(self.transform_, AtomQuantileNormal):
            scored &= block[:, 1] >= block[:, 2:width].max(axis=1)  # not an atom
            width = 1
        values = values[scored]
        if width != 1 or self.encoding is not NumericEncoding.QUANTILE or values.size < 100:
            self.calibration_ = None
            return
        probs = (np.arange(_CALIBRATION_POINTS) + 0.5) / _CALIBRATION_POINTS
        model = np.quantile(values, probs)
        model = np.maximum.accumulate(model) + np.arange(model.size) * 1e-9  # strictly increasing
        self.calibration_ = np.vstack([model, ndtri(probs)])

    def _calibrated(self, block: np.ndarray) -> np.ndarray:
        if getattr(self, "calibration_", None) is None:
            return block
        model, target = self.calibration_
        z = block[:, 0]
        mapped = np.interp(z, model, target)
        mapped = np.where(z < model[0], target[0] + (z - model[0]), mapped)
        mapped = np.where(z > model[-1], target[-1] + (z - model[-1]), mapped)
        out = block.copy()
        out[:, 0] = mapped
        return out

    def _reverse(self, block: np.ndarray, rng: np.random.Generator) -> pd.Series:
        width = block.shape[1] - (2 if self.column.nullable else 0)
        values = self._calibrated(block[:, :width].astype(np.float64))
        values = self.transform_.inverse(values)
        np.clip(values, self.low_, self.high_, out=values)
        if self.column.nullable:
            isnull = block[:, width + 1] > block[:, width]
        else:
            isnull = np.zeros(len(values), dtype=bool)
        if self.all_null_:
            isnull[:] = True
        return self._from_float(values, isnull)

    def _value_to_float(self, value: Any) -> float:
        return real_value(value, self.column)

    def grid_step(self) -> float | None:
        """Spacing of the sampled values (1 for integers, 10**-decimals), ``None`` if continuous."""
        return None

    def _refuse_all_null(self, condition: Condition) -> None:
        """Refuse a condition on a column whose training values were all null: its range
        "0 to 0" was no range of its own."""
        if self.all_null_:
            raise ParameterError(
                f"condition {condition.describe()}: column {self.column.name!r} held no value in the training data "
                f"(every row was null), so the model draws it null in every row; drop the condition"
            )

    def _grid_interval(self, condition: Condition) -> tuple[float, float]:
        """The condition's range as inclusive bounds on the sampled values' grid, within the
        column's range."""
        self._refuse_all_null(condition)
        low = -np.inf if condition.low is None else self._value_to_float(condition.low)
        high = np.inf if condition.high is None else self._value_to_float(condition.high)
        step = self.grid_step()
        if step is None:
            if condition.low_strict:
                low = np.nextafter(low, np.inf)
            if condition.high_strict:
                high = np.nextafter(high, -np.inf)
        else:
            # Grid points as whole multiples of the step, made into floats the way sampled values
            # are rounded (_round_within divides by 10**decimals), so that both ends of a range
            # holding one point are that same float (35.2 < x < 35.4 is 35.3, not 35.3 and
            # 35.300000000000004).
            # A strict bound excludes its grid point only if it is that point (within float
            # error, grid_slack): "x < 50000.3" holds 50000.
            scale = _grid_scale(step)
            if np.isfinite(low):
                slack = grid_slack(low, step)
                k = np.ceil((low - slack) * scale)
                low = (k + 1 if condition.low_strict and abs(k / scale - low) <= slack else k) / scale
            if np.isfinite(high):
                slack = grid_slack(high, step)
                k = np.floor((high + slack) * scale)
                high = (k - 1 if condition.high_strict and abs(k / scale - high) <= slack else k) / scale
            if low > high and high >= self.low_ and low <= self.high_:
                # Within the model's range, but between two grid points ("1 < k < 2" of whole
                # numbers was refused as outside "the model's range, 0 to 4", a user review).
                raise ParameterError(between_grid_points(condition, self.column, step))
        low, high = max(low, self.low_), min(high, self.high_)
        if low > high:
            raise ParameterError(
                f"condition {condition.describe()}: no value of column {self.column.name!r} can satisfy it "
                f"(the model's range is {self._show(self.low_)} to {self._show(self.high_)})"
            )
        return float(low), float(high)

    def _unlearned(self, condition: Condition, advice: str) -> str:
        """The refusal of a condition within the model's range that no training value meets:
        where the training values lie, beside the schema's range (its bounds alone read as
        though 65 within 0 to 100 should do, where the training values end at 59.6)."""
        support = self.transform_.support()
        where = (f"the training values lie from {self._show(support[0])} to {self._show(support[1])}, within the model's "
                 f"range of {self._show(self.low_)} to {self._show(self.high_)}" if support is not None else
                 f"the model's range is {self._show(self.low_)} to {self._show(self.high_)}")
        return (f"condition {condition.describe()}: no training value of column {self.column.name!r} lies there ({where}), "
                f"so the model cannot generate such rows; {advice}")

    def _show(self, value: float) -> str:
        # 15 digits: a bound as the schema or data holds it (95990.55 read 95990.6 at :g's six).
        return f"{value:.15g}"

    def _grid_text(self, step: float) -> str:
        return f"a grid of {step:g}"

    def _examples(self, values: np.ndarray) -> str:
        return preview(list(values))

    def _draw_given(self, condition: Condition, n: int, rng: np.random.Generator) -> pd.Series:
        isnull = np.zeros(n, dtype=bool)
        if condition.values is not None:
            return self._draw_values(condition, n, rng, isnull)
        low, high = self._grid_interval(condition)
        # A grid point stands for the values that round to it: a range of grid points holds
        # the training mass from half a step below its first to half a step above its last
        # (so a range of one day, or 2974 < x < 2976, holds 2975's rows).
        half = (self.grid_step() or 0.0) / 2
        if self.transform_.mass_between(low - half, high + half) <= 1e-12:
            raise ParameterError(self._unlearned(condition, "ask for a range that meets them"))
        values = self.transform_.sample_between(low - half, high + half, n, rng)
        return self._from_float(values, isnull, low, high)

    def range_cell(self, condition: Condition, points: int = 1) -> tuple[np.ndarray, tuple[float, float]] | None:
        """A range as one known cell of this column's encoding, for drawing rows given it
        (:meth:`synthvae.generation.Generator.sample_conditional`): the encoded block rows
        ``(points, width)`` of the training values at the middles of ``points`` equal shares of
        the range's training mass (observed; one point: the median), and the interval of encoded
        scores whose values round into the range (infinite at an end the range leaves open
        beyond the training values). ``None`` where the encoding is not one quantile score (point
        masses, modes), where the codec is calibrated (a private fit's scores are not the
        codec's), or where no training value lies in the range (the caller refuses it).

        Raises:
            ParameterError: No value of the column's range satisfies the condition.
        """
        if condition.values is not None or not isinstance(self.transform_, QuantileNormal) or self.calibration_ is not None:
            return None
        low, high = self._grid_interval(condition)
        half = (self.grid_step() or 0.0) / 2
        below, upto = self.transform_.cdf_interval(low - half, high + half)
        if upto - below <= 1e-12:
            return None
        block = np.zeros((points, 3 if self.column.nullable else 1), dtype=np.float32)
        shares = below + (upto - below) * (np.arange(points) + 0.5) / points
        block[:, 0] = probit(shares)
        if self.column.nullable:
            block[:, 1:] = _missing_block(np.zeros(points, dtype=bool))
        ends = (float(ndtri(below)) if below > 0 else -np.inf, float(ndtri(upto)) if upto < 1 else np.inf)
        return block, ends

    def from_scores(self, scores: np.ndarray, condition: Condition) -> pd.Series:
        """Encoded scores drawn within :meth:`range_cell`'s interval as the column's values, each
        one meeting the range (rounded on the grid within it)."""
        low, high = self._grid_interval(condition)
        values = self.transform_.inverse(np.asarray(scores, dtype=np.float64).reshape(-1, 1))
        return self._from_float(values, np.zeros(values.size, dtype=bool), low, high)

    def _draw_values(self, condition, n, rng, isnull) -> pd.Series:
        self._refuse_all_null(condition)
        values = np.array([self._value_to_float(v) for v in condition.values], dtype=np.float64)
        outside = (values < self.low_) | (values > self.high_)
        if outside.all():
            raise ParameterError(
                f"condition {condition.describe()}: outside the model's range of column {self.column.name!r} "
                f"({self._show(self.low_)} to {self._show(self.high_)})"
            )
        values = values[~outside]
        step = self.grid_step()
        if step is not None:
            scale = _grid_scale(step)
            off_grid = np.abs(np.round(values * scale) / scale - values) > value_slack(values, step)
            if off_grid.any():
                raise ParameterError(
                    f"condition {condition.describe()}: column {self.column.name!r} only takes values on "
                    f"{self._grid_text(step)}, and {self._examples(values[off_grid])} are not on it; "
                    f"give values on it"
                )
        # As for a range (_draw_given): a value the training rows hold nothing at or around (350
        # where a schema's max of 400 stood above the training rows' 243) was drawn for as
        # though it were seen, where ">= 300" was refused.
        # (On a grid only: a float's point at the training maximum has no mass above it.)
        half = (step or 0.0) / 2
        if step and not any(self.transform_.mass_between(v - half, v + half) > 1e-12 for v in values):
            raise ParameterError(self._unlearned(condition, "choose a value the training rows hold"))
        if values.size == 1:
            chosen = np.full(n, values[0])
        else:
            weights = np.array([self.transform_.mass_between(v - half, v + half) for v in values]) + 1e-12
            chosen = values[rng.choice(values.size, size=n, p=weights / weights.sum())]
        return self._from_float(chosen, isnull, float(values.min()), float(values.max()))

    def mean_of_draws(self, series: pd.Series, n: int, reps: int) -> np.ndarray:
        """The mean of each row's ``reps`` consecutive draws as floats (this codec's real
        values: numbers, or datetimes as nanoseconds), not yet rounded; NaN where all are null."""
        values = self._to_float(series).reshape(n, reps)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a row whose draws are all null
            return np.nanmean(values, axis=1)

    def floats(self, series: pd.Series) -> np.ndarray:
        """The column as this codec's floats (NaN for nulls), as :meth:`mean_of_draws` gives them."""
        return self._to_float(series)

    def _collapse(self, series: pd.Series, n: int, reps: int, adjust, on_grid: bool = True) -> pd.Series:
        mean = self.mean_of_draws(series, n, reps)
        if adjust is not None:
            mean = adjust(mean)
        isnull = np.isnan(mean)
        if not on_grid and self.column.kind is ColumnKind.NUMERIC:
            return pd.Series(np.clip(mean, self.low_, self.high_), dtype="float64")  # NaN stays NaN
        return self._from_float(np.where(isnull, 0.0, mean), isnull)

    def _satisfies(self, series: pd.Series, condition: Condition) -> np.ndarray:
        values = self._to_float(series)
        present = ~np.isnan(values)
        if condition.values is not None:
            allowed = np.array([self._value_to_float(v) for v in condition.values], dtype=np.float64)
            return present & np.isin(values, allowed)
        ok = present.copy()
        if condition.low is not None:
            low = self._value_to_float(condition.low)
            ok &= (values > low) if condition.low_strict else (values >= low)
        if condition.high is not None:
            high = self._value_to_float(condition.high)
            ok &= (values < high) if condition.high_strict else (values <= high)
        return ok

    def _get_state(self) -> dict[str, Any]:
        return {
            "transform": self.transform_.get_state(),
            "low": self.low_,
            "high": self.high_,
            "all_null": bool(self.all_null_),
            "calibration": None if self.calibration_ is None else self.calibration_.tolist(),
            **({"tail": self.tail_} if self.tail_ is not None else {}),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.transform_ = transform_from_state(state["transform"])
        self.encoding = self.transform_.encoding
        self.low_ = float(state["low"])
        self.high_ = float(state["high"])
        if not (math.isfinite(self.low_) and math.isfinite(self.high_) and self.low_ <= self.high_):
            # low 100, high -100 loaded, and every sampled value was -100, outside the schema's
            # bounds (a user review of crafted model files).
            raise ModelFileError(f"column {self.column.name!r}: the codec's range [{self.low_!r}, {self.high_!r}] is no "
                                 f"range of values (low above high, or not finite); the model file is damaged")
        self.all_null_ = bool(state["all_null"])
        calibration = state.get("calibration")  # absent from files of ordinary fits before 0.x
        self.calibration_ = None if calibration is None else np.asarray(calibration, dtype=np.float64)
        tail = state.get("tail")  # absent: no top-coding
        if tail is not None and not (isinstance(tail, list) and len(tail) == 2 and all(is_real(v) for v in tail)
                                     and [float(v) for v in tail] == [self.low_, self.high_]):
            raise ModelFileError(f"column {self.column.name!r}: the codec's tails {tail!r} are not its range "
                                 f"[{self.low_!r}, {self.high_!r}]; the model file is damaged")
        self.tail_ = None if tail is None else [float(v) for v in tail]


class NumericCodec(_RealValuedCodec):
    """Numeric columns: quantile transform; integers rounded, floats rounded to ``decimals``."""

    kind = ColumnKind.NUMERIC

    def _to_float(self, series: pd.Series) -> np.ndarray:
        return real_values(series, self.column)

    def _bounds(self):
        return self.column.min, self.column.max

    def as_sampled(self, series: pd.Series) -> pd.Series:
        return series.astype("Int64") if self.column.is_integer else series.astype("float64")

    def grid_step(self) -> float | None:
        return self.column.grid_step

    def _from_float(self, values, isnull, low=None, high=None) -> pd.Series:
        low = self.low_ if low is None else low
        high = self.high_ if high is None else high
        if self.column.is_integer:
            step = self.column.step
            if step and step > 1:
                # Whole multiples of the step within the bounds (loans' amounts of 25: a fifth of
                # sampled amounts fell between them).
                values = _round_within(values / step, 0, low / step, high / step) * step
            values = _round_within(values, 0, low, high)
            # The float nearest 2**63 - 1 is 2**63, which int64 wraps to -2**63 (a column at
            # int64's limit sampled half its rows negative): clipped to the floats int64 holds.
            np.clip(values, _INT64_FLOAT_MIN, _INT64_FLOAT_MAX, out=values)
            ints = values.astype(np.int64)
            if max(abs(low), abs(high)) > 2.0**53:
                # Floats miss most whole numbers there: a bound of 2**60 + 55 rounded to 2**60 + 0
                # sampled values below the schema's min. Clipped in whole numbers instead.
                np.clip(ints, *_whole_bounds(low, high, self.column), out=ints)
            # Built from the values and the null mask directly: no copy, no masked assignment.
            return pd.Series(pd.arrays.IntegerArray(ints, np.array(isnull, dtype=bool)))
        if self.column.decimals is not None:
            values = _round_within(values, self.column.decimals, low, high)
        else:
            values = np.clip(values, low, high)  # a new array: nulls are written into it
        if isnull.any():
            values[isnull] = np.nan
        return pd.Series(values, dtype="float64", copy=False)


def _whole_bounds(low: float, high: float, column: Column) -> tuple[int, int]:
    """The whole numbers an integer column's values may take within ``[low, high]`` and the
    schema's own (exact) bounds, within int64."""
    lowest, highest = -(2**63), 2**63 - 1
    bounds = [math.ceil(low) if math.isfinite(low) else lowest, math.floor(high) if math.isfinite(high) else highest]
    if column.min is not None:
        bounds[0] = max(bounds[0], math.ceil(column.min))
    if column.max is not None:
        bounds[1] = min(bounds[1], math.floor(column.max))
    return min(max(bounds[0], lowest), highest), min(max(bounds[1], lowest), highest)


def _grid_scale(step: float) -> float:
    """Grid steps per unit, a whole number for steps below 1 (0.1 gives 10, not 10.000000000000002)."""
    return 1.0 / step if step >= 1 else float(round(1.0 / step))


def _grid_within(low: float, high: float, scale: float) -> tuple[float, float]:
    """The first and last points at or inside ``[low, high]`` of the grid of ``scale`` steps per
    unit (a billionth of a step's rounding error forgiven); the first is above the last where no
    point lies inside."""
    return np.ceil(low * scale - 1e-9) / scale, np.floor(high * scale + 1e-9) / scale


def _round_within(values: np.ndarray, decimals: int, low: float, high: float) -> np.ndarray:
    """Round to ``decimals`` places without leaving ``[low, high]`` (round inwards at the ends).

    Where no point of the grid lies in ``[low, high]`` (bounds 1e-300 to 1e-299 with 2 places),
    the bounds win: values are clipped to them, off the grid."""
    scale = 10.0**decimals
    with np.errstate(over="ignore", invalid="ignore"):
        low_grid, high_grid = _grid_within(low, high, scale)
        # One new array, then every step in place (a sampled column is millions of values).
        rounded = np.multiply(values, scale) if decimals else np.array(values, dtype=np.float64)
        np.rint(rounded, out=rounded)
        if decimals:
            np.divide(rounded, scale, out=rounded)
        if low_grid <= high_grid:
            np.clip(rounded, low_grid, high_grid, out=rounded)
        if decimals:
            rounded = np.round(rounded, decimals, out=rounded)
        # Values too large to be scaled (beyond 1e300 with 8 places) have no decimals to round.
        lost = ~np.isfinite(rounded)
        if lost.any():
            lost &= np.isfinite(values)
            rounded[lost] = values[lost]
    np.clip(rounded, low, high, out=rounded)
    return np.add(rounded, 0.0, out=rounded)  # -0.0 (a small negative value rounded) as 0.0


class DatetimeCodec(_RealValuedCodec):
    """Datetime columns: time since the epoch in the schema's unit, quantile transformed."""

    kind = ColumnKind.DATETIME

    @property
    def _unit_ns(self) -> int:
        return unit_ns(self.column)

    def _to_float(self, series: pd.Series) -> np.ndarray:
        return real_values(series, self.column)

    def _bounds(self):
        return tuple(None if v is None else self._value_to_float(v) for v in (self.column.min, self.column.max))

    def _fit(self, series: pd.Series) -> None:
        super()._fit(series)
        # The range sampled values keep, in whole nanoseconds: the schema's bounds, else the
        # data's (floats miss ticks past 2**53: 104 days after 1970 in nanoseconds, 2256 in
        # microseconds; 2256-01-01 00:00:00.000001 was sampled a microsecond below its bound).
        present = pd.Series(series).dropna().astype("datetime64[ns]")
        if self.tail_ is not None:  # the cuts in whole ticks of the unit, as nanoseconds
            unit = self._unit_ns
            ticks = np.sort(present.to_numpy().view(np.int64)) // unit  # whole ticks: the data is on the grid
            low, high = tail_cuts(ticks, self._tail_rows())  # in whole numbers, exactly
            self.exact_ = [low * unit, high * unit]  # within the schema's bounds
            return
        self.exact_ = self._exact([present.min().value, present.max().value] if len(present) else [None, None])

    def _get_state(self) -> dict[str, Any]:
        return {**super()._get_state(), "exact_ns": self.exact_}

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        exact = state.get("exact_ns", [None, None])  # older files: the schema's bounds
        if not (isinstance(exact, list) and len(exact) == 2
                and all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in exact)):
            raise ModelFileError(f"column {self.column.name!r}: exact_ns must be two whole numbers or nulls, got {exact!r}")
        self.exact_ = exact if self.tail_ is not None and None not in exact else self._exact(exact)

    def _exact(self, seen: list) -> list:
        """The schema's bounds in nanoseconds, each missing one from ``seen`` (the data's range;
        a model file's)."""
        return [s if b is None else pd.Timestamp(b).value for s, b in zip(seen, (self.column.min, self.column.max))]

    def grid_step(self) -> float | None:
        return 1.0

    def _show(self, value: float) -> str:
        return str(pd.Timestamp(int(round(value * self._unit_ns))))

    def _grid_text(self, step: float) -> str:
        # A timestamp-encoded date's grid in days since 1970 read "a grid of 1, and [16075.5]".
        unit = self.column.unit or "ns"
        return f"whole units of {unit!r}" if step == 1 else f"multiples of {step:g} units of {unit!r}"

    def _examples(self, values: np.ndarray) -> str:
        return preview([self._show(v) for v in values])

    def _from_float(self, values, isnull, low=None, high=None) -> pd.Series:
        low = self.low_ if low is None else low
        high = self.high_ if high is None else high
        ticks = _round_within(values, 0, low, high)
        ns = ticks.astype(np.int64)
        ns *= self._unit_ns
        if self.exact_ != [None, None]:
            np.clip(ns, self.exact_[0], self.exact_[1], out=ns)
        out = pd.Series(ns.view("datetime64[ns]"), copy=False)
        if isnull.any():
            out[isnull] = pd.NaT
        return out


class CategoricalCodec(ColumnCodec):
    """Categorical columns: one-hot over the categories (+ a null slot, + an "other" slot).

    Args:
        column: The schema column.
        max_categories: Most slots before rare categories are pooled into one "other" slot.
        min_rows: Categories held by fewer training rows are never generated (see the module's
            documented behaviours); 1 keeps every category.
        count_scale: Training rows one counted row stands for: a private fit's codecs count
            the rows of a proxy table of a fixed size drawn from noisy histograms, each
            ``rows / proxy rows`` of the real ones.
    """

    kind = ColumnKind.CATEGORICAL

    def __init__(self, column: Column, max_categories: int = 200, min_rows: int = 1, count_scale: float = 1.0) -> None:
        super().__init__(column)
        self.max_categories = max_categories
        self.min_rows = min_rows
        self.count_scale = count_scale

    @property
    def _categories(self) -> list:
        return list(self.column.categories)

    def _codes(self, series: pd.Series) -> np.ndarray:
        return np.asarray(series.cat.codes, dtype=np.int64)

    def _fit(self, series: pd.Series) -> None:
        codes = self._codes(series)
        self.link(None)
        self.fit_counts(np.bincount(codes[codes >= 0], minlength=len(self._categories)))

    def fit_counts(self, counts: np.ndarray) -> None:
        """Choose the slots from each category's count (in schema order): the table's own
        counts when the codec was fitted on a sample of it (:mod:`synthvae.streaming`)."""
        n_cats = len(self._categories)
        counts = np.asarray(counts, dtype=np.int64)
        suppressed = np.flatnonzero(counts * self.count_scale < self.min_rows) if self.min_rows > 1 else np.zeros(0, dtype=np.int64)
        absorbed = int(counts[suppressed].sum())
        allowed = np.setdiff1d(np.arange(n_cats), suppressed)
        if allowed.size <= self.max_categories - int(absorbed > 0):
            kept = allowed
        else:
            # Most frequent first; ties keep schema order (stable sort).
            order = allowed[np.argsort(-counts[allowed], kind="stable")]
            kept = np.sort(order[: self.max_categories - 1])
        self._most_rows = float(counts.max() * self.count_scale) if counts.size else 0.0
        pooled = np.setdiff1d(allowed, kept)
        # A suppressed category's count is not kept (the model file would hold it).
        self.counts_ = counts.copy()
        self.counts_[suppressed] = 0
        self.suppressed_ = suppressed
        self.kept_ = kept
        self.pool_ = pooled[counts[pooled] > 0]
        self.pool_counts_ = counts[self.pool_]
        # Their share of the "other" slot's rows, to two decimals (at least 0.01; at most 0.99
        # beside a pool, whose categories 1.0 would never draw): what the draws need, and no
        # count of a category (one suppressed category's count would be it).
        pooled_rows = int(self.pool_counts_.sum())
        share = round(absorbed / (absorbed + pooled_rows), 2) if absorbed else 0.0
        self.absorbed_share_ = min(max(0.01, share), 0.99 if pooled_rows else 1.0) if absorbed else 0.0
        self._build_maps()

    def _build_maps(self) -> None:
        n_cats = len(self._categories)
        self.has_other_ = self.pool_.size > 0 or self.absorbed_share_ > 0
        self.other_slot_ = len(self.kept_) if self.has_other_ else -1
        self.null_slot_ = len(self.kept_) + int(self.has_other_) if self.column.nullable else -1
        slot_of = np.full(n_cats, self.other_slot_, dtype=np.int64)
        slot_of[self.kept_] = np.arange(len(self.kept_))
        self.slot_of_code_ = slot_of
        self.is_suppressed_ = np.zeros(n_cats, dtype=bool)
        self.is_suppressed_[self.suppressed_] = True

    @property
    def suppressed_categories(self) -> list:
        """The categories never generated (held by fewer than ``min_rows`` training rows)."""
        return [self._categories[i] for i in self.suppressed_]

    def _spans(self) -> list[tuple[SpanKind, int]]:
        width = len(self.kept_) + int(self.has_other_) + int(self.column.nullable)
        return [(SpanKind.CATEGORY, width)]

    def _transform(self, series: pd.Series) -> np.ndarray:
        codes = self._codes(series)
        isnull = codes < 0
        if isnull.any() and not self.column.nullable:
            raise DataError(f"column {self.column.name!r} has missing values but is not nullable")
        slots = np.where(isnull, self.null_slot_, self.slot_of_code_[np.maximum(codes, 0)])
        if (slots < 0).any():
            # A category the codec pooled away but never saw: it had no "other" slot.
            unseen = pd.unique(np.asarray(series)[slots < 0])
            raise DataError(f"column {self.column.name!r}: categories {list(unseen)[:5]} were not seen when fitting")
        block = np.zeros((len(codes), self.width), dtype=np.float32)
        block[np.arange(len(codes)), slots] = 1.0
        return block

    def in_pool(self, series: pd.Series) -> np.ndarray:
        """Which values of a conformed column are pooled categories (the "other" slot)."""
        codes = self._codes(series)
        safe = np.maximum(codes, 0)
        return (codes >= 0) & (self.slot_of_code_[safe] == self.other_slot_) & self.has_other_ & ~self.is_suppressed_[safe]

    def pool_positions(self) -> np.ndarray:
        """Each category code's index in the pool (``-1`` for categories not pooled)."""
        position = np.full(len(self._categories), -1, dtype=np.int64)
        position[self.pool_] = np.arange(self.pool_.size)
        return position

    def link(self, parent: str | None, parent_codes: np.ndarray | None = None, codes: np.ndarray | None = None,
             parent_levels: int = 0) -> None:
        """Draw a sampled "other" from the pooled categories seen with the row's value of column
        ``parent`` (``None``: from all of them, the default).

        Args:
            parent: The parent column's name.
            parent_codes: The parent's level of each pooled training row (its category code, or
                ``parent_levels - 1`` for null).
            codes: This column's category code of the same rows.
            parent_levels: The parent's categories, plus one for null.
        """
        if parent is None:
            self.parent_, self.link_, self.parent_levels_ = None, None, 0
            return
        pairs, counts = np.unique(np.stack([parent_codes, codes], axis=1).astype(np.int64), axis=0, return_counts=True)
        self.parent_, self.parent_levels_ = parent, int(parent_levels)
        self.link_ = np.concatenate([pairs, counts[:, None]], axis=1)  # (pairs, 3): level, code, rows

    def reverse_given(self, block: np.ndarray, rng: np.random.Generator, parent_codes: np.ndarray | None) -> pd.Series:
        """:meth:`reverse_transform` with the row's parent level of a linked column (see
        :meth:`link`; category code, null as -1): pooled categories are drawn given it."""
        self._check_fitted()
        if block.ndim != 2 or block.shape[1] != self.width:
            raise ParameterError(f"column {self.column.name!r}: expected a block of width {self.width}, got {block.shape}")
        return self._from_codes(self._reverse_codes(block, rng, parent_codes)).rename(self.column.name)

    def draw_parent(self, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The parent's level for rows whose value of this (linked) column is known: drawn from
        the parent levels its pooled category was seen with (category code; null as -1), or -2
        where the category is not pooled or was not seen with any (the parent is then left to
        the model)."""
        out = np.full(codes.shape[0], -2, dtype=np.int64)
        if self.parent_ is None or not codes.size:
            return out
        link = self.link_[np.argsort(self.link_[:, 1], kind="stable")]
        firsts = np.searchsorted(link[:, 1], codes, side="left")
        lasts = np.searchsorted(link[:, 1], codes, side="right")
        for code in np.unique(codes[lasts > firsts]):
            rows = np.flatnonzero(codes == code)
            seen = link[firsts[rows[0]] : lasts[rows[0]]]
            levels = rng.choice(seen[:, 0], size=rows.size, p=seen[:, 2] / seen[:, 2].sum())
            out[rows] = np.where(levels == self.parent_levels_ - 1, -1, levels)
        return out

    def _draw_pooled(self, n: int, parent_codes: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
        """``n`` pooled categories: by training frequency, or given each row's parent level."""
        marginal = self.pool_counts_ / self.pool_counts_.sum()
        if self.parent_ is None or parent_codes is None:
            return rng.choice(self.pool_, size=n, p=marginal)
        levels = np.where(parent_codes < 0, self.parent_levels_ - 1, parent_codes)
        position = self.pool_positions()
        out = np.empty(n, dtype=np.int64)
        order = np.argsort(levels, kind="stable")
        values, starts = np.unique(levels[order], return_index=True)
        for level, rows in zip(values, np.split(order, starts[1:])):
            seen = self.link_[self.link_[:, 0] == level]
            where = position[seen[:, 1]]
            counts = np.zeros(self.pool_.size)
            counts[where[where >= 0]] = seen[where >= 0, 2]
            probs = counts + LINK_SMOOTHING * marginal
            out[rows] = rng.choice(self.pool_, size=rows.size, p=probs / probs.sum())
        return out

    def _reverse_codes(self, block: np.ndarray, rng: np.random.Generator, parent_codes: np.ndarray | None = None) -> np.ndarray:
        slots = argmax_rows(block)
        if self.absorbed_share_:
            slots = self._instead_of_suppressed(slots, rng)
        # Slot -> code in one gather: kept slots to their categories, "other" and null to -1.
        code_of_slot = np.full(block.shape[1], -1, dtype=np.int64)
        code_of_slot[: len(self.kept_)] = self.kept_
        codes = code_of_slot[slots]
        if self.has_other_:
            other = slots == self.other_slot_
            if other.any():
                codes[other] = self._draw_pooled(int(other.sum()), None if parent_codes is None else parent_codes[other], rng)
        return codes

    def _instead_of_suppressed(self, slots: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Slots where the "other" slot, with no pooled category to draw, was drawn after all:
        a kept slot by training frequency. The model's draws move the other slot's share of
        suppressed rows to the kept slots, given the row (:meth:`TabularVAE.suppress`, set
        from :meth:`suppression`), so with an empty pool it draws the slot never; this keeps
        a decoded row valid whatever it is given."""
        other = np.flatnonzero(slots == self.other_slot_)
        if not other.size or self.pool_.size:
            return slots
        weights = self.counts_[self.kept_].astype(np.float64) + 1e-12
        slots = slots.copy()
        slots[other] = rng.choice(self.kept_.size, size=other.size, p=weights / weights.sum())
        return slots

    def check_generatable(self) -> None:
        """Refuse a column every category of which is suppressed: none could be generated.
        Checked once the slots are final (a streamed fit first fits them on its sample, then on
        the whole table's counts).

        Raises:
            DataError: Naming the column, the threshold and the most rows a category has."""
        if self.absorbed_share_ and not self.kept_.size and not self.pool_.size:
            raise DataError(
                f"column {self.column.name!r}: every category is held by fewer than min_category_rows={self.min_rows} "
                f"training rows (the most by {self._most_rows:.0f}), so none could be generated; lower min_category_rows, "
                "or leave the column out (or mark it id or personal) if its values identify people"
            )

    def suppression(self) -> tuple[int, int, float] | None:
        """For the model's draws (:meth:`TabularVAE.suppress`): the span's "other" slot, null
        slot (-1: none) and the share of the other slot's training rows that held a suppressed
        category; ``None`` when none did."""
        if not self.absorbed_share_:
            return None
        return self.other_slot_, self.null_slot_, self.absorbed_share_

    def _reverse(self, block: np.ndarray, rng: np.random.Generator) -> pd.Series:
        return self._from_codes(self._reverse_codes(block, rng))

    def _allowed_codes(self, condition: Condition) -> np.ndarray:
        # By a lookup built once: categories.index per value made an exclusion (which allows
        # every other category) quadratic, 81 s for one excluded value of 100,000 categories.
        cached = getattr(self, "_code_of", None)
        if cached is None or cached[0] is not self.column:
            lookup = {}
            for code, category in enumerate(self._categories):  # a boolean's: False, True
                lookup.setdefault(category, code)  # the first of equal values, as list.index
            self._code_of = cached = (self.column, lookup)
        return np.array([cached[1][v] for v in condition.values], dtype=np.int64)

    def _draw_given(self, condition: Condition, n: int, rng: np.random.Generator) -> pd.Series:
        if condition.values is None:
            raise ParameterError(f"condition {condition.describe()}: give the allowed values of {self.column.name!r}")
        allowed = self._allowed_codes(condition)
        weights = self.counts_[allowed].astype(np.float64)
        if weights.sum() <= 0 and self.is_suppressed_[allowed].any():
            if condition.label is not None:  # a combination's: its rows, in the user's words
                raise ParameterError(
                    f"condition {condition.describe()}: every combination of the fixed combination's columns it allows is "
                    f"held by fewer than min_category_rows={self.min_rows} training rows, so the model never generates "
                    "them (rare combinations are kept out of synthetic rows); ask for other values, or fit with a lower "
                    "min_category_rows")
            raise ParameterError(
                f"condition {condition.describe()}: column {self.column.name!r} "
                f"{'has this category in' if allowed.size == 1 else 'has these categories in'} fewer than "
                f"min_category_rows={self.min_rows} training rows, so the model never generates "
                f"{'it' if allowed.size == 1 else 'them'} (rare categories are kept out of synthetic rows); ask for "
                "other values, or fit with a lower min_category_rows"
            )
        if weights.sum() <= 0:
            raise ParameterError(
                f"condition {condition.describe()}: no training row of column {self.column.name!r} has "
                f"{'this value' if allowed.size == 1 else 'these values'} (the schema lists {'it' if allowed.size == 1 else 'them'}): "
                f"the model learned {'it' if allowed.size == 1 else 'them'} from no row, so a plain sample draws "
                f"{'it' if allowed.size == 1 else 'them'} almost never and there are no rows to draw given "
                f"{'it' if allowed.size == 1 else 'them'}; ask for values the training rows hold"
            )
        codes = allowed[rng.choice(allowed.size, size=n, p=weights / weights.sum())]
        return self._from_codes(codes)

    def _from_codes(self, codes: np.ndarray) -> pd.Series:
        # Codes come from the codec's own slots (or are -1 for null): no need to validate them.
        return pd.Series(pd.Categorical.from_codes(codes, dtype=self._dtype(), validate=False), copy=False)

    def _dtype(self) -> pd.CategoricalDtype:
        """The column's categorical dtype, built once (its categories are hashed when built)."""
        cached = getattr(self, "_dtype_cache", None)
        if cached is None or cached[0] is not self.column:
            cached = self._dtype_cache = (self.column, pd.CategoricalDtype(self._categories, ordered=self.column.ordered))
        return cached[1]

    def _satisfies(self, series: pd.Series, condition: Condition) -> np.ndarray:
        return np.isin(self._codes(series), self._allowed_codes(condition))

    def _collapse(self, series: pd.Series, n: int, reps: int, adjust, on_grid: bool = True) -> pd.Series:
        codes = self._codes(series).reshape(n, reps) + 1  # 0 is null
        counts = np.zeros((n, len(self._categories) + 1), dtype=np.int64)
        np.add.at(counts, (np.repeat(np.arange(n), reps), codes.ravel()), 1)
        return self._from_codes(counts.argmax(axis=1) - 1)

    def _get_state(self) -> dict[str, Any]:
        return {
            "counts": self.counts_.tolist(),
            "kept": self.kept_.tolist(),
            "pool": self.pool_.tolist(),
            "pool_counts": self.pool_counts_.tolist(),
            "max_categories": self.max_categories,
            **({"min_rows": self.min_rows, "count_scale": self.count_scale, "suppressed": self.suppressed_.tolist(),
                "absorbed_share": self.absorbed_share_} if self.min_rows > 1 else {}),
            **({"parent": self.parent_, "parent_levels": self.parent_levels_, "link": self.link_.ravel().tolist()}
               if self.parent_ is not None else {}),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.max_categories = int(state["max_categories"])
        self.min_rows = int(state.get("min_rows", 1))
        self.count_scale = float(state.get("count_scale", 1.0))
        self.suppressed_ = np.asarray(state.get("suppressed", []), dtype=np.int64)
        self.absorbed_share_ = float(state.get("absorbed_share", 0.0))
        # Files written before conditional sampling carry no counts: allowed values are then
        # drawn uniformly.
        self.counts_ = np.asarray(state.get("counts", np.ones(len(self._categories))), dtype=np.int64)
        self.kept_ = np.asarray(state["kept"], dtype=np.int64)
        self.pool_ = np.asarray(state["pool"], dtype=np.int64)
        self.pool_counts_ = np.asarray(state["pool_counts"], dtype=np.int64)
        self.parent_ = state.get("parent")
        self.parent_levels_ = int(state.get("parent_levels", 0))
        self.link_ = np.asarray(state["link"], dtype=np.int64).reshape(-1, 3) if self.parent_ is not None else None
        self._build_maps()


class BooleanCodec(CategoricalCodec):
    """Boolean columns: a two-category one-hot (+ a null slot), decoded to pandas ``boolean``."""

    kind = ColumnKind.BOOLEAN

    @property
    def _categories(self) -> list:
        return [False, True]

    def _codes(self, series: pd.Series) -> np.ndarray:
        values = pd.Series(series, dtype="boolean")
        return np.where(values.isna(), -1, values.fillna(False).astype(bool).astype(np.int64)).astype(np.int64)

    def _from_codes(self, codes: np.ndarray) -> pd.Series:
        return pd.Series(pd.arrays.BooleanArray(codes == 1, codes < 0), copy=False)


class IdCodec(ColumnCodec):
    """Id columns: never learned (no span); regenerated unique in the column's format, above
    every real id."""

    kind = ColumnKind.ID

    def _fit(self, series: pd.Series) -> None:
        numbers = id_numbers(series, self.column)
        highest = int(numbers.max()) if len(numbers) else None
        self.first_ = max(self.column.start, highest + 1) if highest is not None else self.column.start
        self.null_share_ = _null_share(series, self.column)

    def _spans(self) -> list[tuple[SpanKind, int]]:
        return []

    def _transform(self, series: pd.Series) -> np.ndarray:
        return np.zeros((len(series), 0), dtype=np.float32)

    def _reverse(self, block: np.ndarray, rng: np.random.Generator) -> pd.Series:
        # The rows left null stay null when the table's ids are renumbered (finalize).
        return _blanked(self.ids(block.shape[0]), self.null_share_, rng)

    def ids(self, rows: int, offset: int = 0) -> pd.Series:
        """``rows`` new ids, the first ``offset`` places after the first new id."""
        self._check_fitted()
        first = self.first_ + offset
        if rows and first + rows - 1 > 2**63 - 1:
            # They wrapped to -2**63 (from a schema's start near the limit) or overflowed (after
            # real ids that reach it).
            raise ParameterError(
                f"column {self.column.name!r}: {rows} new ids from {first} would pass the largest 64-bit integer "
                f"({2**63 - 1}); give the id column a lower start in the schema, or sample fewer rows")
        numbers = first + np.arange(rows, dtype=np.int64)
        if self.column.is_integer:
            return pd.Series(pd.array(numbers, dtype="Int64"))
        text = pd.Series(numbers).astype(str).str.zfill(self.column.width)
        return pd.Series(self.column.prefix + text, dtype="string")

    def _get_state(self) -> dict[str, Any]:
        return {"first": int(self.first_), **({"null_share": self.null_share_} if self.null_share_ else {})}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.first_ = int(state.get("first", self.column.start))  # older files: the schema's start
        self.null_share_ = _checked_share(state.get("null_share", 0.0), self.column)


def _null_share(series: pd.Series, column: Column) -> float:
    """The share of null cells of a nullable generated column (ids, personal values), to four
    places: sampling leaves as many of its cells null (they came back filled in every row)."""
    return round(float(series.isna().mean()), 4) if column.nullable and len(series) else 0.0


def _checked_share(value: Any, column: Column) -> float:
    """A model file's null share of a generated column, checked."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ModelFileError(f"column {column.name!r}: null_share must be a number from 0 to 1, got {value!r}")
    return float(value)


def _blanked(values: pd.Series, share: float, rng: np.random.Generator) -> pd.Series:
    """``values`` with each cell null with probability ``share`` (no draw at 0: the random
    stream of a table without such nulls is unchanged)."""
    if share > 0:
        values = values.mask(rng.random(len(values)) < share)
    return values


# Faker method per personal type. Reserved ranges where a format has one (RFC 2606 e-mail
# domains, private IPv4 ranges), so that such a value can never be a real person's.
_FAKER_METHOD = {
    PersonalType.NAME: "name",
    PersonalType.FIRST_NAME: "first_name",
    PersonalType.LAST_NAME: "last_name",
    PersonalType.USERNAME: "user_name",
    PersonalType.EMAIL: "safe_email",
    PersonalType.PHONE: "phone_number",
    PersonalType.ADDRESS: "street_address",
    PersonalType.SSN: "ssn",
    PersonalType.IBAN: "iban",
    PersonalType.IP_ADDRESS: "ipv4_private",
    PersonalType.TEXT: "sentence",
}
# Beyond this many rows, values are drawn from a pool of this many generated ones (Faker takes
# about 10 us a value, 20 a paragraph).
_PERSONAL_POOL = 100_000


class PersonalCodec(ColumnCodec):
    """Personal columns (names, e-mails, phones, free text): never learned, never copied.

    Sampling generates values of the column's type with Faker in its locale, seeded from the
    sampling randomness (same seed, same values), or the column is left out (``drop``).
    """

    kind = ColumnKind.PERSONAL

    def _fit(self, series: pd.Series) -> None:
        self._faker()  # an unknown locale fails at fit time, not at the first sample
        self.null_share_ = _null_share(series, self.column)

    def _faker(self):
        from faker import Faker
        from faker.config import AVAILABLE_LOCALES

        locale = self.column.locale or "en_US"
        if locale not in AVAILABLE_LOCALES:
            raise ParameterError(
                f"column {self.column.name!r}: unknown locale {locale!r} for generated values; "
                f"use one of Faker's, e.g. en_US, en_GB, de_DE, fr_FR"
            )
        # Names and surnames drawn uniformly from the locale's lists, not by their frequency in
        # the population: 9 us a name instead of 96, 12 an e-mail instead of 71 (sample(100_000)
        # of a table with a name, an e-mail and a phone took 15.7 s, against 0.3 s without them).
        faker = Faker(locale, use_weighting=False)
        if not hasattr(faker, _FAKER_METHOD[self.column.personal]):
            # en_PH, fil_PH and tl_PH make no phone numbers: sampling failed with an AttributeError.
            raise ParameterError(
                f"column {self.column.name!r}: Faker's locale {locale!r} makes no {self.column.personal.value} values; "
                f"give the column another locale (e.g. en_US)"
            )
        return faker

    def _spans(self) -> list[tuple[SpanKind, int]]:
        return []

    def _transform(self, series: pd.Series) -> np.ndarray:
        return np.zeros((len(series), 0), dtype=np.float32)

    def _reverse(self, block: np.ndarray, rng: np.random.Generator) -> pd.Series:
        n = block.shape[0]
        faker = self._faker()
        faker.seed_instance(int(rng.integers(0, 2**63 - 1)))
        method = getattr(faker, _FAKER_METHOD[self.column.personal])
        values = [method() for _ in range(min(n, _PERSONAL_POOL))]
        if n > _PERSONAL_POOL:
            values = [values[i] for i in rng.integers(0, _PERSONAL_POOL, size=n)]
        return _blanked(pd.Series(values, dtype="string"), self.null_share_, rng)

    def _get_state(self) -> dict[str, Any]:
        return {"null_share": self.null_share_} if self.null_share_ else {}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.null_share_ = _checked_share(state.get("null_share", 0.0), self.column)


CODECS: dict[ColumnKind, type[ColumnCodec]] = {
    ColumnKind.NUMERIC: NumericCodec,
    ColumnKind.CATEGORICAL: CategoricalCodec,
    ColumnKind.BOOLEAN: BooleanCodec,
    ColumnKind.DATETIME: DatetimeCodec,
    ColumnKind.ID: IdCodec,
    ColumnKind.PERSONAL: PersonalCodec,
}
