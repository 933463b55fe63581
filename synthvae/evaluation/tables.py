"""Turn the tables to be compared into aligned numeric arrays, once.

Every metric of the evaluator reads the same :class:`PreparedTable` objects: each column is held
as one NumPy array in a form its kind needs, so that no metric re-parses pandas data:

=====================  ============================================================
kind                   array
=====================  ============================================================
numeric                ``float64``, NaN for nulls
datetime               ``float64`` nanoseconds since the epoch, NaN for nulls
categorical, boolean   ``int64`` codes into :attr:`ColumnInfo.categories`, -1 for nulls
=====================  ============================================================

The categories of a column are shared by every table of one evaluation (the schema's categories,
then any value only the synthetic or held-out table has, in order of appearance), so a code
means the same value in the real, synthetic and held-out tables. Id columns are left out: ids
are regenerated, never learned, so there is nothing to compare.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from synthvae.errors import DataError, is_real, preview
from synthvae.inference import infer_schema
from synthvae.schema import Column, ColumnKind, NumericType, Schema
from synthvae.validation import category_number, category_text, conform


class Shape(str, enum.Enum):
    """How a metric treats a column: as a continuous quantity or as discrete labels."""

    CONTINUOUS = "continuous"
    DISCRETE = "discrete"


@dataclass(frozen=True)
class ColumnInfo:
    """One evaluated column.

    Attributes:
        name: Column name.
        kind: The schema kind (never ``ID``).
        categories: The shared categories of a discrete column (``()`` for continuous ones).
    """

    name: str
    kind: ColumnKind
    categories: tuple = ()

    @property
    def shape(self) -> Shape:
        """Continuous for numeric and datetime columns, discrete otherwise."""
        if self.kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
            return Shape.CONTINUOUS
        return Shape.DISCRETE


@dataclass(frozen=True)
class PreparedTable:
    """One table as aligned arrays (see the module docstring for the encoding).

    Attributes:
        frame: The conformed DataFrame (schema dtypes, evaluated columns only).
        arrays: Column name -> encoded array.
        n_rows: Rows after subsampling.
        n_rows_given: Rows before subsampling.
    """

    frame: pd.DataFrame
    arrays: Mapping[str, np.ndarray]
    n_rows: int
    n_rows_given: int

    @property
    def subsampled(self) -> bool:
        """Whether rows were left out to respect ``max_rows``."""
        return self.n_rows < self.n_rows_given

    def take(self, index: np.ndarray) -> "PreparedTable":
        """The rows at ``index`` (positions) as a table of their own."""
        frame = self.frame.iloc[index].reset_index(drop=True)
        arrays = {name: values[index] for name, values in self.arrays.items()}
        return PreparedTable(frame, arrays, index.size, index.size)


def table_sources(sources: Sequence[str] | None) -> tuple[str, str, str]:
    """The names of the real, synthetic and holdout tables in messages."""
    if sources is None:
        return "real data", "synthetic data", "holdout data"
    names = tuple(str(s) for s in sources)
    if len(names) != 3:
        raise DataError(f"sources: expected 3 names (real, synthetic, holdout), got {len(names)}")
    return names


def evaluation_schema(
    schema: Schema | None, real: pd.DataFrame, others: Sequence[pd.DataFrame], source: str = "real data"
) -> Schema:
    """The schema the evaluator conforms every table with.

    It is lenient on purpose, because a synthetic table is being judged, not refused: every
    column is nullable, numeric columns are floats without bounds (values outside the real range
    are counted by the coverage metrics instead of rejected), and the categories of a
    categorical column are widened with values that only the other tables contain. Id columns
    are dropped.

    Args:
        schema: The user's schema, or ``None`` to infer one from ``real``.
        real: The real (training) table.
        others: The synthetic and, if given, held-out tables (raw, as the user passed them).
        source: What messages call ``real``.

    Raises:
        DataError: No column is left to evaluate.
    """
    if schema is None:
        schema = infer_schema(real, derived=False, source=source, warn=False)
    columns = []
    for column in schema:
        if column.is_generated:  # ids and personal columns are regenerated, never learned
            continue
        columns.append(_lenient(column, [real, *others]))
    if not columns:
        raise DataError(
            f"nothing to evaluate: every column of the schema is an id or personal column "
            f"({preview(schema.names)})"
        )
    return Schema(columns=tuple(columns), name=schema.name)


def _lenient(column: Column, frames: Sequence[pd.DataFrame]) -> Column:
    column = replace(column, nullable=True)
    if column.kind is ColumnKind.NUMERIC:
        return replace(column, type=NumericType.FLOAT, decimals=None, min=None, max=None, step=None)
    if column.kind is ColumnKind.DATETIME:
        return replace(column, min=None, max=None)
    if column.kind is ColumnKind.CATEGORICAL:
        return replace(column, categories=_widened_categories(column, frames))
    return column


def _widened_categories(column: Column, frames: Sequence[pd.DataFrame]) -> tuple:
    categories = list(column.categories)
    known: set[Any] = set()
    known_text = set()
    known_numbers = {category_number(v) for v in categories if is_real(v)}
    for value in categories:
        known.add(value)
        known_text.add(category_text(value))
    for frame in frames:
        if column.name not in frame.columns:
            continue  # conform names the missing column
        series = frame[column.name]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        try:
            values = pd.unique(series.dropna().to_numpy())
        except TypeError:  # unhashable cells: conform reports them
            continue
        for value in values:
            value = value.item() if isinstance(value, np.generic) else value
            try:
                seen = value in known
            except TypeError:  # unhashable cell: conform reports it
                continue
            # Matched as conform matches (0.0 is the category "0", "1.0" the category 1), and as
            # the schema refuses repeats.
            if isinstance(value, str) and category_number(value) in known_numbers:
                continue
            if not seen and category_text(value) not in known_text:
                categories.append(value)
                known.add(value)
                known_text.add(category_text(value))
    return tuple(categories)


def foreign_columns(infos: Sequence[ColumnInfo], real: PreparedTable, other: PreparedTable) -> list[str]:
    """The categorical columns whose values in ``other`` (a synthetic table) share none with the
    real table's, each as a phrase naming both sets of values: every metric of such a column
    compares nothing alike ("YES"/"NO" against "yes"/"no" scored a TSTR of 0.5 and an attribute
    advantage of 0 on a copy of the training rows, without a word: a user review)."""
    found = []
    for info in infos:
        if info.kind is not ColumnKind.CATEGORICAL:
            continue
        mine, theirs = (np.unique(t.arrays[info.name]) for t in (real, other))
        mine, theirs = mine[mine >= 0], theirs[theirs >= 0]
        if mine.size and theirs.size and not np.intersect1d(mine, theirs).size:
            names = [[info.categories[i] for i in codes] for codes in (theirs, mine)]
            folded = {str(v).strip().casefold() for v in names[1]} & {str(v).strip().casefold() for v in names[0]}
            found.append(f"{info.name!r} ({preview(names[0])} against {preview(names[1])}"
                         + ("; they differ in capitals or spaces" if folded else "") + ")")
    return found


def prepare(
    frame: pd.DataFrame,
    schema: Schema,
    source: str,
    *,
    max_rows: int | None,
    rng: np.random.Generator,
) -> PreparedTable:
    """Subsample (if needed), conform and encode one table.

    Args:
        frame: The raw table.
        schema: The evaluation schema (from :func:`evaluation_schema`).
        source: Its name in error messages ("real data", "synthetic data", ...).
        max_rows: Keep at most this many rows, drawn without replacement; ``None`` keeps all.
        rng: Draws the subsample.

    Raises:
        DataError: The table is not a DataFrame, is empty, or a column is missing or does not
            fit its kind; the message names the column.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{source}: expected a pandas DataFrame, got {type(frame).__name__}")
    if len(frame) == 0:
        raise DataError(f"{source}: the table has no rows")
    n_given = len(frame)
    if max_rows is not None and n_given > max_rows:
        keep = np.sort(rng.choice(n_given, size=max_rows, replace=False))
        frame = frame.iloc[keep]
    conformed = conform(as_written(frame), schema, source, allow_extra=True, check_bounds=False)
    arrays = {column.name: encode_column(conformed[column.name], column) for column in schema}
    return PreparedTable(conformed, arrays, len(conformed), n_given)


def as_written(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with float32 columns as the numbers they print as (0.3, not 0.30000001192...):
    a generator's float32 output widened bit for bit matched no real row (exact copies 0.101
    -> 0.000) and was told from it by the last digits (detection AUC 0.500 -> 0.996)."""
    narrow = [name for name, dtype in frame.dtypes.items() if dtype == np.float32 or dtype == pd.Float32Dtype()]
    if not narrow:
        return frame

    def printed(values: np.ndarray) -> np.ndarray:
        # numpy writes a float32 in its shortest decimal form, which float64 then reads; whole
        # numbers stay exact (123456792 printed as 1.2345679e+08 matched no category that
        # inference, which widens exactly, read from the same column: a fuzz case).
        exact = values.astype(np.float64)
        return np.where(exact == np.round(exact), exact, values.astype(str).astype(np.float64))

    return frame.assign(**{name: pd.Series(printed(frame[name].to_numpy(dtype=np.float32, na_value=np.nan)), index=frame.index)
                           for name in narrow})


def encode_column(series: pd.Series, column: Column) -> np.ndarray:
    """Encode one conformed column (see the module docstring)."""
    if column.kind is ColumnKind.NUMERIC:
        return series.to_numpy(dtype="float64", na_value=np.nan)
    if column.kind is ColumnKind.DATETIME:
        stamps = series.to_numpy(dtype="datetime64[ns]")
        out = stamps.view("int64").astype("float64")
        out[np.isnat(stamps)] = np.nan
        return out
    if column.kind is ColumnKind.BOOLEAN:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        codes = np.where(np.isnan(values), -1, values).astype("int64")
        return codes
    return series.cat.codes.to_numpy().astype("int64")


def column_infos(schema: Schema) -> list[ColumnInfo]:
    """The evaluated columns, in schema order."""
    infos = []
    for column in schema:
        if column.kind is ColumnKind.CATEGORICAL:
            categories = tuple(column.categories)
        elif column.kind is ColumnKind.BOOLEAN:
            categories = (False, True)
        else:
            categories = ()
        infos.append(ColumnInfo(column.name, column.kind, categories))
    return infos


MAX_NATIVE_CATEGORIES = 255  # HistGradientBoosting's default max_bins
LARGE = 1e150  # magnitudes from which fit_ready scales values for the models


def one_thread():
    """A context in which OpenMP (scikit-learn's gradient boosting) runs on one thread.

    The evaluator's models are small; on a busy machine (a generator training beside it) the
    spinning OpenMP workers of a multi-threaded fit were measured 100x slower, on an idle one
    two threads are at most ~1.5x faster. One thread is the predictable choice.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp")


def boosting(task: str, rows: int, categorical, seed: int):
    """The evaluator's HistGradientBoosting model (``task``: ``"classifier"`` or
    ``"regressor"``) for ``rows`` training rows: scikit-learn's defaults, but leaves of at most a
    tenth of the rows. The default leaf (20 rows) cannot split fewer than 40 rows at all, so on a
    small table every model predicted a constant: detection scored 0.5 ("indistinguishable")
    for 24 rows a side of plainly fake values, and utility 0.5 for a target that one feature
    decides. From 200 rows the leaf is the default one."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    model = HistGradientBoostingClassifier if task == "classifier" else HistGradientBoostingRegressor
    return model(categorical_features=categorical, random_state=seed, min_samples_leaf=max(1, min(20, rows // 10)))


def category_counts(infos: Sequence[ColumnInfo], tables: Sequence[PreparedTable]) -> dict:
    """How often each category occurs in the given tables together, for every discrete column
    with more categories than the models take natively (see :func:`feature_matrix`)."""
    out = {}
    for info in infos:
        k = len(info.categories)
        if info.shape is Shape.DISCRETE and k > MAX_NATIVE_CATEGORIES:
            out[info.name] = sum(
                np.bincount(t.arrays[info.name][t.arrays[info.name] >= 0], minlength=k)
                for t in tables
            )
    return out


def feature_matrix(
    infos: Sequence[ColumnInfo],
    table: PreparedTable,
    exclude: Sequence[str] = (),
    counts: Mapping[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The table as a float matrix for scikit-learn's HistGradientBoosting models.

    Continuous columns are taken as they are (datetimes in nanoseconds); discrete columns as
    their category codes, declared categorical when they have at most 255 categories (the
    model's limit). A column with more categories (free text, say) becomes the log of each
    category's count in ``counts`` (from :func:`category_counts` over every table the model
    sees), not its code: codes would put the categories that only one table has at the end of
    the list, a spurious signal for a real-vs-synthetic classifier. Nulls are NaN, which the
    model handles natively.

    Returns:
        ``(X, categorical_mask)``: an ``(n_rows, n_features)`` float64 array and a boolean mask
        of its categorical features.
    """
    columns, mask = [], []
    for info in infos:
        if info.name in exclude:
            continue
        values = table.arrays[info.name]
        if info.shape is Shape.DISCRETE and len(info.categories) > MAX_NATIVE_CATEGORIES:
            pooled = (counts or {}).get(info.name)
            if pooled is None:
                pooled = np.bincount(values[values >= 0], minlength=len(info.categories))
            values = np.where(values < 0, np.nan, np.log1p(pooled[np.maximum(values, 0)]))
            mask.append(False)
        elif info.shape is Shape.DISCRETE:
            values = np.where(values < 0, np.nan, values.astype("float64"))
            mask.append(True)
        else:
            mask.append(False)
        columns.append(values)
    if not columns:
        return np.empty((table.n_rows, 0)), np.zeros(0, dtype=bool)
    return np.column_stack(columns), np.asarray(mask, dtype=bool)


def fit_ready(x_fit: np.ndarray, mask: np.ndarray, *x_other: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Feature matrices of :func:`feature_matrix` as HistGradientBoosting can fit them.

    Columns null on every fitting row are dropped (they carry nothing, and the model's binning
    fails on them); continuous columns beyond ``LARGE`` in magnitude are scaled by a power of
    two (exact, so a tree's splits are unchanged; the model's sums and midpoints of values near
    the largest floats would overflow).

    Args:
        x_fit: The rows the model is fitted on.
        mask: Which columns are categorical.
        x_other: Rows it predicts, transformed alike.

    Returns:
        ``(x_fit, mask, [x_other, ...])``.
    """
    keep = ~np.isnan(x_fit).all(axis=0)
    x_fit, mask, x_other = x_fit[:, keep], mask[keep], [x[:, keep] for x in x_other]
    peak = np.zeros(x_fit.shape[1])
    for x in (x_fit, *x_other):
        peak = np.maximum(peak, np.where(np.isnan(x), 0.0, np.abs(x)).max(axis=0, initial=0.0))
    _, exponent = np.frexp(peak)
    exponent = np.where(mask | (peak < LARGE), 0, exponent)
    return np.ldexp(x_fit, -exponent), mask, [np.ldexp(x, -exponent) for x in x_other]
