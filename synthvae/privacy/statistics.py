"""What a private fit may learn about each column before training: noisy histograms.

A codec normally reads exact statistics of its column (quantiles, category counts, the min and
max). Under differential privacy each of those would leak, so a private fit learns them from one
release instead: a histogram of every learned column, all rows at once, with Gaussian noise of
``noise_multiplier * sqrt(columns)`` on every count (one row moves one count per column, so the L2
sensitivity of the whole release is ``sqrt(columns)``). The codecs are then fitted on a *proxy
table* rebuilt from those noisy histograms (post-processing, which costs no privacy).

The bins come from the schema alone, never from the data:

* numeric and datetime columns need ``min`` and ``max`` in the schema (public bounds); bins are
  one per integer for small integer ranges, else one grid step at each bound (values exactly at
  a bound, such as zeros, are common) and evenly spaced ones between (log-spaced for a
  non-negative range over several orders of magnitude); a nullable column has one more bin for
  nulls. Noisy counts within two noise standard deviations of 0 are set to 0: the empty bins of
  a wide public range would otherwise add a flat floor of clipped noise;
* categorical and boolean columns: one bin per category (and one for nulls).

The proxy shapes the encoding (a monotone map per numeric column, the category slots and the
decoder's starting bias), and after training each numeric column's decoded values are
quantile-mapped onto it (``calibrate`` of the codecs); the joint distribution itself is learned
by DP-SGD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthvae.errors import ParameterError, preview
from synthvae.preprocessing.codecs import id_numbers, real_value, real_values, unit_ns
from synthvae.schema import Column, ColumnKind, Schema

PROXY_ROWS = 10_000
MAX_BINS = 128
MIN_BINS = 8


def learned_columns(schema: Schema) -> list[Column]:
    """The columns a fit learns (ids and personal columns are regenerated, never learned)."""
    return [c for c in schema if not c.is_generated]


def check_public_bounds(schema: Schema) -> None:
    """Refuse a schema that lacks what a private fit would otherwise have to read from the data.

    Raises:
        ParameterError: A numeric or datetime column has no ``min`` or ``max``.
    """
    missing = [
        c.name
        for c in schema
        if c.kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME) and (c.min is None or c.max is None)
    ]
    if missing:
        units = [f"{c.name!r} in {c.duration!r}" for c in schema if c.name in missing and c.duration]
        counted = f" (durations count their duration unit: {', '.join(units)})" if units else ""
        raise ParameterError(
            f"differentially private training needs public bounds: numeric/datetime columns "
            f"{preview(missing, 10)} have no min or max in the schema. Add \"min\" and \"max\" from "
            f"domain knowledge{counted} (not from this table: exact bounds read from the data are not covered "
            "by the guarantee), or mark the column as kind id"
        )


def leak_warnings(schema: Schema, data: pd.DataFrame) -> list[str]:
    """What in a user's schema looks read from this very table, and so is not covered (the
    texts of :func:`leaks`)."""
    return [text for text, _ in leaks(schema, data)]


def leaks(schema: Schema, data: pd.DataFrame) -> list[tuple[str, bool]]:
    """What in a user's schema looks read from this very table, and so is not covered, each
    with whether it is a sure sign (a private fit refuses those by default) or may be a public
    fact that the data happens to meet (one round bound at a value 1-2 rows hold: churn's 0
    minutes and seattle's first day, 2012-01-01, are public bounds too; warned of only).

    The sure signs: bounds equal to the exact min and max of the data (as ``infer-schema``
    writes them), one such bound that is no round value (see :func:`_round`), categories that
    only one or two rows have (a category list read from the data reveals them), and an id's
    start at or one past the real ids.

    Args:
        data: The table, conformed to ``schema``.
    """
    out = []
    for column in schema:
        if column.kind is not ColumnKind.ID:
            continue
        numbers = id_numbers(data[column.name], column)
        largest = float(numbers.max()) if len(numbers) else None
        if largest is not None and largest >= column.start:
            out.append((
                f"column {column.name!r}: real ids reach the schema's start {column.start}, so synthetic ids "
                "(counted from it) may equal real ones: set start above the largest real id", True))
        elif largest is not None and largest + 1 == column.start:
            out.append((
                f"column {column.name!r}: the schema's start {column.start} is one past the largest real id; if it came "
                "from this table (infer-schema), synthetic ids reveal that id: set a start of your own above it", True))
    for column in learned_columns(schema):
        values = data[column.name]
        if column.kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
            present = values.dropna()
            if not len(present):
                continue
            # A bound at the data's extreme reveals a row's value where only one or two rows
            # hold it (a public 0-10 scale that many rows reach at both ends reveals nothing).
            revealing = [(which, bound, held)
                         for which, bound, extreme in (("min", column.min, present.min()), ("max", column.max, present.max()))
                         if _same(extreme, bound, column) and (held := int((present == extreme).sum())) <= 2]
            if len(revealing) == 2:
                out.append((
                    f"column {column.name!r}: the schema's bounds [{column.min}, {column.max}] are the "
                    "exact min and max of the data; if they came from this table (infer-schema), "
                    "they reveal those rows' values: widen them to public bounds", True))
            for which, bound, held in revealing if len(revealing) == 1 else ():
                out.append((
                    f"column {column.name!r}: the schema's {which} {bound} is the exact {which} of the data, "
                    f"which only {held} row(s) hold; if it came from this table (infer-schema), it reveals "
                    f"their value: widen it to a public bound", not _round(bound, column)))
        elif column.kind is ColumnKind.CATEGORICAL:
            counts = values.value_counts()
            rare = [c for c in column.categories if 0 < int(counts.get(c, 0)) <= 2]
            if rare:
                out.append((
                    f"column {column.name!r}: categories {preview(rare)} occur in only 1-2 rows; if the "
                    "category list came from this table, it reveals them: list only categories known "
                    "in public, or group the rare ones", True))
    return out


def _round(bound, column: Column) -> bool:
    """Whether a bound looks written by hand, as public bounds are: a number of one significant
    digit, or two the second of which is 5 (0, 5, 100, 1500, 2000), or midnight on a month's
    first day. An income max of 176,265.54
    held by one row, beside a min of 0 many rows hold, was fitted with a warning only (a
    review); churn's 0 minutes and seattle's 2012-01-01 are public bounds the data meets."""
    if column.kind is ColumnKind.DATETIME:
        stamp = pd.Timestamp(bound)
        return stamp == stamp.normalize() and stamp.day == 1
    value = abs(float(bound))
    if value == 0:
        return True
    scale = 10.0 ** math.floor(math.log10(value))
    return float(np.round(2 * value / scale, 9)).is_integer()


def _same(value, bound, column: Column) -> bool:
    if column.kind is ColumnKind.DATETIME:
        return pd.Timestamp(value) == pd.Timestamp(bound)
    return float(value) == float(bound)


@dataclass(frozen=True)
class Bins:
    """The histogram of one column: edges for real values, or a number of categories.

    Attributes:
        edges: Bin edges of a numeric / datetime column (in its float scale), else ``None``.
        integer: Whether the values are whole numbers (one bin per integer, or rounded).
        categories: Number of category bins of a categorical / boolean column.
        nullable: Whether one more bin counts nulls.
    """

    edges: np.ndarray | None
    integer: bool
    categories: int
    nullable: bool

    @property
    def size(self) -> int:
        """Number of counts (null bin included)."""
        body = (self.edges.size - 1) if self.edges is not None else self.categories
        return body + int(self.nullable)


def column_bins(column: Column, bins: int) -> Bins:
    """Bins of ``column`` from the schema alone (``bins`` for a real-valued range)."""
    if column.kind is ColumnKind.CATEGORICAL:
        return Bins(None, False, len(column.categories), column.nullable)
    if column.kind is ColumnKind.BOOLEAN:
        return Bins(None, False, 2, column.nullable)
    low, high = (real_value(v, column) for v in (column.min, column.max))
    integer = column.kind is ColumnKind.DATETIME or column.is_integer
    # Values exactly at a bound are common (zeros, caps) and get a bin of their own, one grid
    # step wide: spread over a wide first bin, a column's 60% of zeros would come back as small
    # positive values.
    step = 1.0 if integer else (10.0 ** -column.decimals if column.decimals is not None else (high - low) * 1e-6)
    if integer and high - low + 1 <= MAX_BINS:
        edges = np.arange(math.ceil(low), math.floor(high) + 2, dtype=np.float64) - 0.5
    elif high - low <= 2 * step:
        edges = np.array([low - step / 2, high + step / 2])
    else:
        inner_low, inner_high = low + step / 2, high - step / 2
        if low >= 0 and high > 1000 * max(low, 1.0):
            inner = np.expm1(np.linspace(math.log1p(inner_low), math.log1p(inner_high), bins + 1))
        else:
            inner = np.linspace(inner_low, inner_high, bins + 1)
        edges = np.concatenate([[low - step / 2], inner, [high + step / 2]])
    return Bins(edges, integer, 0, column.nullable)


def histogram(series: pd.Series, column: Column, bins: Bins) -> np.ndarray:
    """Exact counts of a conformed column in ``bins`` (nulls last); sums to the row count."""
    counts = np.zeros(bins.size, dtype=np.float64)
    if bins.edges is not None:
        values = real_values(series, column)
        isnull = np.isnan(values)
        index = np.clip(np.searchsorted(bins.edges, values[~isnull], side="right") - 1, 0, bins.edges.size - 2)
    else:
        if column.kind is ColumnKind.BOOLEAN:
            values = pd.Series(series, dtype="boolean")
            isnull = values.isna().to_numpy()
            index = values[~isnull].astype(bool).to_numpy().astype(np.int64)
        else:
            codes = np.asarray(series.cat.codes, dtype=np.int64)
            isnull = codes < 0
            index = codes[~isnull]
    counts[: bins.size - int(bins.nullable)] = np.bincount(index, minlength=bins.size - int(bins.nullable))
    if bins.nullable:
        counts[-1] = isnull.sum()
    return counts


def auto_bins(rows: int, noise_std: float) -> int:
    """Bins for a real-valued column: enough that a bin of an even spread holds ~8 noise
    standard deviations, between 8 and 128 (``rows`` is treated as public, as in DP-SGD)."""
    return int(np.clip(rows / (8.0 * max(noise_std, 1e-9)), MIN_BINS, MAX_BINS))


@dataclass(frozen=True)
class NoisyHistograms:
    """The private release: the noisy counts of every learned column.

    Attributes:
        bins: The bins of each learned column, by name.
        counts: The noisy counts (clipped at 0), by name.
        noise_std: Standard deviation of the noise on each count.
        real_bins: Bins of a real-valued range (small integer ranges get one per value).
    """

    bins: dict[str, Bins]
    counts: dict[str, np.ndarray]
    noise_std: float
    real_bins: int


def release(
    data: pd.DataFrame, schema: Schema, noise_multiplier: float, rng: np.random.Generator, bins: int | None = None
) -> NoisyHistograms:
    """Noisy histograms of every learned column (one Gaussian mechanism).

    Args:
        data: The training table, conformed to ``schema``.
        noise_multiplier: Noise over the L2 sensitivity (from :func:`plan_noise`).
        rng: The noise.
        bins: Bins of a real-valued range; ``None`` picks from the row count and the noise.
    """
    columns = learned_columns(schema)
    noise_std = noise_multiplier * math.sqrt(max(1, len(columns)))
    n_bins = bins if bins is not None else auto_bins(len(data), noise_std)
    out_bins, out_counts = {}, {}
    for column in columns:
        b = column_bins(column, n_bins)
        exact = histogram(data[column.name], column, b)
        noisy = exact + rng.normal(0.0, noise_std, size=exact.size)
        if b.edges is not None:
            # Most bins of a wide public range are empty; clipping their noise at 0 alone would
            # leave each ~0.4 noise std, a flat floor over the whole range. Counts within two
            # noise std of 0 are taken as 0 (post-processing).
            noisy = np.where(noisy > 2.0 * noise_std, noisy, 0.0)
        out_bins[column.name] = b
        out_counts[column.name] = np.clip(noisy, 0.0, None)
    return NoisyHistograms(out_bins, out_counts, noise_std, n_bins)


def proxy_table(histograms: NoisyHistograms, schema: Schema, rows: int = PROXY_ROWS) -> pd.DataFrame:
    """A table whose every column follows its noisy histogram (columns independent).

    Deterministic: real values sit at evenly spaced quantiles of the histogram (uniform within a
    bin), categories get counts in proportion, at least one row each (see :func:`_at_least_one`).
    Fitting the codecs on it is post-processing of the release.
    """
    out = {}
    for column in schema:
        if column.is_generated:
            # Nothing to read: ids then count from the schema's start (no id number in ""),
            # personal values are fake anyway.
            out[column.name] = pd.Series([""] * rows, dtype="object")
            continue
        b, counts = histograms.bins[column.name], histograms.counts[column.name]
        if counts.sum() <= 0:
            counts = np.ones_like(counts)
        shares = counts / counts.sum()
        n_null = int(round(rows * shares[-1])) if b.nullable else 0
        if b.nullable and not column.nullable:
            n_null = 0
        body = shares[: b.size - int(b.nullable)]
        body = body / body.sum() if body.sum() > 0 else np.full(body.size, 1.0 / body.size)
        n_body = rows - n_null
        if b.edges is not None:
            values = _quantiles(b.edges, body, n_body, b.integer)
            series = _from_float(values, column)
        else:
            codes = np.repeat(np.arange(body.size), _at_least_one(_apportion(n_body, body)))
            cats = [False, True] if column.kind is ColumnKind.BOOLEAN else list(column.categories)
            series = pd.Series([cats[c] for c in codes], dtype="object")
        if n_null:
            series = pd.concat([series, pd.Series([None] * n_null, dtype="object")], ignore_index=True)
        out[column.name] = series.astype("object") if column.kind is ColumnKind.CATEGORICAL else series
    return pd.DataFrame(out)


def _quantiles(edges: np.ndarray, shares: np.ndarray, n: int, integer: bool) -> np.ndarray:
    """``n`` values at evenly spaced probabilities of a piecewise-uniform density."""
    cdf = np.concatenate([[0.0], np.cumsum(shares)])
    cdf[-1] = 1.0
    probs = (np.arange(n) + 0.5) / max(n, 1)
    values = np.interp(probs, cdf, edges)
    if integer:
        values = np.clip(np.round(values), math.ceil(edges[0]), math.floor(edges[-1]))
    return values


def _from_float(values: np.ndarray, column: Column) -> pd.Series:
    low, high = real_value(column.min, column), real_value(column.max, column)
    values = np.clip(values, low, high)
    if column.kind is ColumnKind.DATETIME:
        ns = (np.round(values).astype(np.int64)) * unit_ns(column)
        return pd.Series(ns.view("datetime64[ns]"))
    if column.is_integer:
        step = column.step or 1  # whole multiples of it, within the bounds (the schema's step)
        ints = np.round(values / step) * step
        ints = np.where(ints < low, ints + step, np.where(ints > high, ints - step, ints))
        return pd.Series(ints.astype(np.int64))
    if column.decimals is not None:
        values = np.clip(np.round(values, column.decimals), low, high)
    return pd.Series(values, dtype="float64")


def _at_least_one(counts: np.ndarray) -> np.ndarray:
    """``counts`` with every zero raised to one, taken from the largest count (when it can spare
    them). A category whose noisy count came out zero still gets a proxy row: the codecs leave
    out of a pool of rare categories those they never saw, and the real rows encoded next (which
    may hold it) would then have no slot to go to."""
    zero = counts == 0
    top = int(np.argmax(counts))
    if zero.any() and counts[top] > zero.sum():
        counts = counts.copy()
        counts[zero] = 1
        counts[top] -= int(zero.sum())
    return counts


def _apportion(total: int, shares: np.ndarray) -> np.ndarray:
    """Whole counts summing to ``total`` in proportion to ``shares`` (largest remainders)."""
    raw = shares * total
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts
