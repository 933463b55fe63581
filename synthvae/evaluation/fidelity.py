"""Fidelity: how closely the synthetic table reproduces the real one, column by column and pair
by pair.

The definitions are those of SDMetrics' ``QualityReport`` (sdv-dev/SDMetrics 0.32), so our
numbers can be set beside theirs:

* **Column shapes.** Numeric and datetime columns: ``KSComplement = 1 - D``, where ``D`` is the
  two-sample Kolmogorov-Smirnov statistic (the largest gap between the two empirical CDFs; nulls
  left out, values rounded to 14 decimals as SDMetrics does). Categorical and boolean columns:
  ``TVComplement = 1 - TVD``, ``TVD = 1/2 * sum_k |p_real(k) - p_synth(k)|`` over the
  categories (nulls left out). Range [0, 1], 1 is best.
* **Column pair trends.** Two continuous columns: ``CorrelationSimilarity =
  1 - |r_real - r_synth| / 2`` with Pearson's r over the rows where both are present. Any other
  pair: ``ContingencySimilarity = 1 - TVD`` of the joint frequency table, nulls as a value of
  their own, continuous columns cut into 10 equal-width bins. Range [0, 1], 1 is best.
* **Quality score.** The mean of the two averages.

A score that cannot be computed (a column null in both tables, a pair with a constant real
column) is left out of the averages, as SDMetrics leaves it. Two cases where SDMetrics leaves a
score out are scored instead, so that breaking a synthetic column cannot raise the average: a
column the synthetic table leaves empty (the real one has values) scores 0, and a correlation
whose synthetic column is constant or empty counts as ``r_synth = 0``.

Where SDMetrics 0.32 differs from our design document, both are available:

* its default ``QualityReport`` averages only the pairs that are related in the real data
  (``|r_real| > 0.5`` or Cramer's V ``> 0.3``); we average every pair, and report the
  thresholded average as well (``quality["sdmetrics_default"]``);
* its ``ColumnPairTrends`` bins each table over that table's own range (and puts a column's
  maximum in the same bin as its nulls); we bin both tables over the real range
  (:attr:`Binning.REAL_RANGE`), so that a bin means the same values in both tables.
  :attr:`Binning.OWN_RANGE` reproduces SDMetrics exactly.

Every pair is computed from integer codes made once per column (the contingency tables of all
pairs with ``np.bincount``, all Pearson correlations with a few matrix products), so a 50-column
table takes seconds.
"""

from __future__ import annotations

import enum
import itertools
from typing import Any, Sequence

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from synthvae.errors import DataError
from synthvae.evaluation.tables import ColumnInfo, PreparedTable, Shape
from synthvae.schema import ColumnKind

N_BINS = 10
_ROUND_DECIMALS = 14  # SDMetrics' KSComplement rounds to sys.float_info.dig - 1 places.
_DENSE_LIMIT = 1 << 22  # joint tables larger than this are counted over observed cells only
SDMETRICS_CORRELATION_THRESHOLD = 0.5
SDMETRICS_ASSOCIATION_THRESHOLD = 0.3


class Binning(str, enum.Enum):
    """How continuous columns are cut into bins for contingency similarity."""

    REAL_RANGE = "real_range"
    """10 equal-width bins over the real column's range; values outside fall in the end bins."""
    OWN_RANGE = "own_range"
    """Each table over its own range, exactly as SDMetrics 0.32's ``ColumnPairTrends``."""


# ---------------------------------------------------------------------------------------------
# Metrics on single columns and pairs (pure functions of real and synthetic data)


def ks_complement(real: Any, synthetic: Any) -> float:
    """``1 - D`` of the two-sample Kolmogorov-Smirnov test between two continuous columns.

    Args:
        real: Real values (array-like of numbers or datetimes; nulls are left out).
        synthetic: Synthetic values, same kind.

    Returns:
        A score in [0, 1]; 1 when the empirical distributions are identical, 0 when their
        supports do not overlap. NaN when either side has no value.
    """
    return _ks_complement(_continuous_values(real), _continuous_values(synthetic))


def tv_complement(real: Any, synthetic: Any) -> float:
    """``1 - TVD`` between the category frequencies of two discrete columns.

    Args:
        real: Real values (array-like of hashable labels; nulls are left out).
        synthetic: Synthetic values.

    Returns:
        A score in [0, 1]; 1 when the frequencies are identical, 0 when no category is shared.
        NaN when either side has no value.
    """
    try:
        codes_real, codes_synth, k = _factorize_pair(pd.Series(real), pd.Series(synthetic))
    except TypeError as exc:  # lists or dicts as cells
        raise DataError(f"tv_complement needs hashable values (labels), got {type(exc).__name__}: {exc}; "
                        f"turn such cells into text first") from None
    return _tv_complement(codes_real, codes_synth, k)


def correlation_similarity(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """``1 - |r_real - r_synth| / 2`` with Pearson's r between the two columns of each frame.

    Args:
        real: Two continuous columns of real data (rows with a null are left out).
        synthetic: The same two columns of synthetic data.

    Returns:
        A score in [0, 1]; 1 when the correlations are equal. NaN when a real column is
        constant; a synthetic column that is constant relates to nothing (``r_synth = 0``), as
        in :func:`synthvae.evaluation.evaluate`'s pair trends.
    """
    _check_pair_frames(real, synthetic)
    a, b = real.columns[:2]
    r_real = _pairwise_pearson(np.column_stack([_continuous_values(real[a], keep_nulls=True),
                                                _continuous_values(real[b], keep_nulls=True)]))[0, 1]
    r_synth = _pairwise_pearson(np.column_stack([
        _continuous_values(synthetic[a], keep_nulls=True),
        _continuous_values(synthetic[b], keep_nulls=True)]))[0, 1]
    return float(1 - abs(r_real - (0.0 if np.isnan(r_synth) else r_synth)) / 2)


def contingency_similarity(
    real: pd.DataFrame, synthetic: pd.DataFrame, continuous: Sequence[str] = ()
) -> float:
    """``1 - TVD`` between the joint frequency tables of the two columns of each frame.

    Args:
        real: Two columns of real data; nulls count as a value of their own.
        synthetic: The same two columns of synthetic data.
        continuous: Columns to cut into 10 equal-width bins over the real range first (one
            column's name alone is that column, not its letters).

    Returns:
        A score in [0, 1]; 1 when the joint frequencies are identical, 0 when no combination of
        values is shared.
    """
    _check_pair_frames(real, synthetic)
    if isinstance(continuous, str):  # "age" took the text column "ag" for a number column
        continuous = [continuous]
    codes = []
    for name in real.columns[:2]:
        if name in continuous:
            r, s, k = _bin_pair(_continuous_values(real[name], keep_nulls=True),
                                _continuous_values(synthetic[name], keep_nulls=True),
                                Binning.REAL_RANGE)
        else:
            r, s, k = _factorize_pair(real[name], synthetic[name])
            r, s, k = _null_as_code(r, k), _null_as_code(s, k), k + 1
        codes.append((r, s, k))
    (ra, sa, ka), (rb, sb, kb) = codes
    p_real, p_synth, _, _ = _joint_frequencies(ra, rb, sa, sb, ka, kb)
    return float(1 - 0.5 * np.abs(p_real - p_synth).sum())


# ---------------------------------------------------------------------------------------------
# Whole tables


def column_shapes(
    infos: Sequence[ColumnInfo], real: PreparedTable, synthetic: PreparedTable
) -> list[dict]:
    """Per column: the metric used and its score (see the module docstring)."""
    out = []
    for info in infos:
        r, s = real.arrays[info.name], synthetic.arrays[info.name]
        if info.shape is Shape.CONTINUOUS:
            metric, score = "KSComplement", _ks_complement(r[~np.isnan(r)], s[~np.isnan(s)])
            empty = bool(np.isnan(s).all()) and not np.isnan(r).all()
        else:
            metric, score = "TVComplement", _tv_complement(r, s, len(info.categories))
            empty = bool((s < 0).all()) and bool((r >= 0).any())
        # A column the synthetic table leaves empty reproduces none of the real one's shape.
        out.append({"column": info.name, "metric": metric, "score": 0.0 if empty else _score(score)})
    return out


def column_pair_trends(
    infos: Sequence[ColumnInfo],
    real: PreparedTable,
    synthetic: PreparedTable,
    binning: Binning = Binning.REAL_RANGE,
) -> list[dict]:
    """Per pair of columns (in schema order): the metric, its score and the relationship
    measured in each table (Pearson's r for continuous pairs, Cramer's V for the others).
    """
    continuous = [i.name for i in infos if i.shape is Shape.CONTINUOUS]
    corr_real = _pairwise_pearson(_stack(real, continuous))
    corr_synth = _pairwise_pearson(_stack(synthetic, continuous))
    position = {name: k for k, name in enumerate(continuous)}
    codes = {info.name: _pair_codes(info, real, synthetic, binning) for info in infos}
    out = []
    for a, b in itertools.combinations(infos, 2):
        if a.shape is Shape.CONTINUOUS and b.shape is Shape.CONTINUOUS:
            i, j = position[a.name], position[b.name]
            r_real, r_synth = corr_real[i, j], corr_synth[i, j]
            # A synthetic column that is constant (or empty) relates to nothing: r = 0.
            out.append({
                "columns": [a.name, b.name],
                "metric": "CorrelationSimilarity",
                "score": _score(1 - abs(r_real - (0.0 if np.isnan(r_synth) else r_synth)) / 2),
                "real": _num(r_real),
                "synthetic": _num(r_synth),
                "meets_sdmetrics_threshold": bool(abs(r_real) > SDMETRICS_CORRELATION_THRESHOLD),
            })
            continue
        ra, sa, ka = codes[a.name]
        rb, sb, kb = codes[b.name]
        p_real, p_synth, v_real, v_synth = _joint_frequencies(ra, rb, sa, sb, ka, kb)
        out.append({
            "columns": [a.name, b.name],
            "metric": "ContingencySimilarity",
            "score": _score(1 - 0.5 * np.abs(p_real - p_synth).sum()),
            "real": _num(v_real),
            "synthetic": _num(v_synth),
            "meets_sdmetrics_threshold": bool(v_real > SDMETRICS_ASSOCIATION_THRESHOLD),
        })
    return out


def null_rates(
    infos: Sequence[ColumnInfo], real: PreparedTable, synthetic: PreparedTable
) -> list[dict]:
    """Per column: the share of nulls in each table and the absolute difference."""
    out = []
    for info in infos:
        r = _null_rate(real.arrays[info.name])
        s = _null_rate(synthetic.arrays[info.name])
        out.append({"column": info.name, "real": r, "synthetic": s, "difference": abs(r - s)})
    return out


def coverage(
    infos: Sequence[ColumnInfo], real: PreparedTable, synthetic: PreparedTable
) -> list[dict]:
    """Per column: what the synthetic table covers of the real one, and what it invents.

    Discrete columns: ``category_coverage`` (share of the real categories the synthetic table
    produces), the real categories never produced, and the synthetic categories the real table
    does not have with the share of synthetic rows holding them. Continuous columns:
    ``range_coverage`` (SDMetrics' RangeCoverage: the share of the real [min, max] that the
    synthetic [min, max] covers) and the share of synthetic values outside the real range.
    """
    out = []
    for info in infos:
        r, s = real.arrays[info.name], synthetic.arrays[info.name]
        if info.shape is Shape.DISCRETE:
            k = len(info.categories)
            in_real = np.bincount(r[r >= 0], minlength=k) > 0
            s_counts = np.bincount(s[s >= 0], minlength=k)
            in_synth = s_counts > 0
            missing = [_json_value(info.categories[c]) for c in np.flatnonzero(in_real & ~in_synth)]
            invented = np.flatnonzero(in_synth & ~in_real)
            n_synth = max(int((s >= 0).sum()), 1)
            out.append({
                "column": info.name,
                "category_coverage": _num(in_synth[in_real].mean()) if in_real.any() else None,
                "real_categories_not_produced": missing,
                "synthetic_categories_not_in_real": [_json_value(info.categories[c]) for c in invented],
                "synthetic_rows_with_new_category": float(s_counts[invented].sum() / n_synth),
            })
            continue
        rp, sp = r[~np.isnan(r)], s[~np.isnan(s)]
        entry: dict[str, Any] = {"column": info.name, "range_coverage": None,
                                 "synthetic_outside_real_range": None,
                                 "real_range": None, "synthetic_range": None}
        if rp.size:
            lo, hi = rp.min(), rp.max()
            entry["real_range"] = [_bound(lo, info), _bound(hi, info)]
            if sp.size:
                entry["synthetic_range"] = [_bound(sp.min(), info), _bound(sp.max(), info)]
                entry["synthetic_outside_real_range"] = float(((sp < lo) | (sp > hi)).mean())
                if hi > lo:
                    # On the scale of the real values: ranges up to the largest floats do not overflow.
                    scale = max(abs(float(lo)), abs(float(hi)))
                    low, high, s_low, s_high = (float(v) / scale for v in (lo, hi, sp.min(), sp.max()))
                    gap = max(0.0, s_low - low) + max(0.0, high - s_high)
                    entry["range_coverage"] = float(max(0.0, 1 - gap / (high - low)))
                else:
                    entry["range_coverage"] = float(bool((sp == lo).any()))
        out.append(entry)
    return out


def quality(
    infos: Sequence[ColumnInfo],
    real: PreparedTable,
    synthetic: PreparedTable,
    binning: Binning = Binning.REAL_RANGE,
) -> dict:
    """The fidelity section of a report.

    Returns:
        ``score``, ``column_shapes``, ``column_pair_trends`` (averages, [0, 1], higher is
        better), ``missing_values`` (``1 -`` the mean absolute null-rate difference),
        ``sdmetrics_default`` (trends and score averaged as SDMetrics 0.32's default
        QualityReport does), ``binning``, and the details: ``columns`` (shape, null rates,
        coverage per column) and ``pairs``.
    """
    shapes = column_shapes(infos, real, synthetic)
    pairs = column_pair_trends(infos, real, synthetic, binning)
    nulls = null_rates(infos, real, synthetic)
    cover = coverage(infos, real, synthetic)
    shape_avg = _nanmean([c["score"] for c in shapes])
    trend_avg = _nanmean([p["score"] for p in pairs])
    thresholded = _nanmean([p["score"] for p in pairs if p["meets_sdmetrics_threshold"]])
    columns = []
    for shape, null, cov in zip(shapes, nulls, cover):
        columns.append({
            **shape,
            "null_rate": {k: null[k] for k in ("real", "synthetic", "difference")},
            "coverage": {k: v for k, v in cov.items() if k != "column"},
        })
    return {
        "score": _nanmean([shape_avg, trend_avg]),
        "column_shapes": shape_avg,
        "column_pair_trends": trend_avg,
        "missing_values": _num(1 - np.mean([n["difference"] for n in nulls])),
        "sdmetrics_default": {
            "column_pair_trends": thresholded,
            "score": _nanmean([shape_avg, thresholded]),
            "pairs_counted": sum(bool(p["meets_sdmetrics_threshold"]) for p in pairs),
        },
        "binning": binning.value,
        "columns": columns,
        "pairs": pairs,
    }


# ---------------------------------------------------------------------------------------------
# Kernels


def _ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    if real.size == 0 or synthetic.size == 0:
        return float("nan")
    a = np.sort(_round(real))
    b = np.sort(_round(synthetic))
    both = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, both, side="right") / a.size
    cdf_b = np.searchsorted(b, both, side="right") / b.size
    return float(1 - np.abs(cdf_a - cdf_b).max())


def _round(values: np.ndarray) -> np.ndarray:
    """Values rounded to 14 decimals, as SDMetrics does; values too large to be scaled by 1e14
    (beyond 1e294) have no such decimals and are kept as they are."""
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = np.round(values, _ROUND_DECIMALS)
    return np.where(np.isfinite(rounded), rounded, values)


def _tv_complement(real: np.ndarray, synthetic: np.ndarray, k: int) -> float:
    real, synthetic = real[real >= 0], synthetic[synthetic >= 0]
    if real.size == 0 or synthetic.size == 0:
        return float("nan")
    p = np.bincount(real, minlength=k) / real.size
    q = np.bincount(synthetic, minlength=k) / synthetic.size
    return float(1 - 0.5 * np.abs(p - q).sum())


def _pairwise_pearson(x: np.ndarray) -> np.ndarray:
    """Pearson's r between every two columns of ``x`` (n x p, NaN = null), each pair over the
    rows where both are present (as ``DataFrame.corr`` does). NaN where undefined."""
    present = ~np.isnan(x)
    mask = present.astype("float64")
    count = mask.sum(axis=0)
    # Each column scaled by a power of two to below 1 in magnitude: exact, r unchanged, and the
    # squares below cannot overflow (values of 1e200).
    _, exponent = np.frexp(np.where(present, np.abs(x), 0.0).max(axis=0, initial=0.0))
    x = np.ldexp(x, -exponent)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Standardise first: r is unchanged and the sums below stay well conditioned (datetimes
        # are ~1e18 ns).
        filled = np.where(present, x, 0.0)
        mean = filled.sum(axis=0) / np.maximum(count, 1)
        centred = np.where(present, x - mean, 0.0)
        scale = np.sqrt((centred**2).sum(axis=0) / np.maximum(count, 1))
        scale[~(scale > 0)] = 1.0
        z = centred / scale
        # BLAS on one thread: its sums split by thread count moved r in the last bit from
        # OMP_NUM_THREADS=1 to 2 (the report promises the same numbers for the same inputs).
        with threadpool_limits(limits=1, user_api="blas"):
            n = mask.T @ mask
            s = z.T @ mask  # s[i, j]: sum of column i over rows where i and j are present
            ss = (z * z).T @ mask
            cross = z.T @ z
        cov = cross - s * s.T / n
        var = ss - s**2 / n
        var_t = var.T
        r = cov / np.sqrt(var * var_t)
    tiny = 1e-12 * np.maximum(n, 1)
    r[(n < 2) | (var <= tiny) | (var_t <= tiny)] = np.nan
    return np.clip(r, -1.0, 1.0)


def _stack(table: PreparedTable, names: Sequence[str]) -> np.ndarray:
    if not names:
        return np.empty((table.n_rows, 0))
    return np.column_stack([table.arrays[n] for n in names])


def _pair_codes(info: ColumnInfo, real: PreparedTable, synthetic: PreparedTable,
                binning: Binning) -> tuple[np.ndarray, np.ndarray, int]:
    r, s = real.arrays[info.name], synthetic.arrays[info.name]
    if info.shape is Shape.CONTINUOUS:
        return _bin_pair(r, s, binning)
    k = len(info.categories)
    return _null_as_code(r, k), _null_as_code(s, k), k + 1


def _bin_pair(real: np.ndarray, synthetic: np.ndarray, binning: Binning):
    """Bin codes of a continuous column in both tables, nulls included as a code."""
    if binning is Binning.OWN_RANGE:
        # SDMetrics: np.digitize over each table's own edges; nulls (and the maximum) get N+1.
        codes = [np.digitize(v, _bin_edges(v)) for v in (real, synthetic)]
        return codes[0].astype("int64"), codes[1].astype("int64"), N_BINS + 2
    edges = _bin_edges(real)
    out = []
    for v in (real, synthetic):
        code = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, N_BINS - 1)
        code[np.isnan(v)] = N_BINS
        out.append(code.astype("int64"))
    return out[0], out[1], N_BINS + 1


def _bin_edges(values: np.ndarray) -> np.ndarray:
    """The ``N_BINS + 1`` edges ``np.histogram_bin_edges`` gives the present values, computed
    without its refusals: edges a range too narrow for its magnitude cannot tell apart (two
    datetimes a microsecond apart, as nanoseconds since 1970) repeat, and ranges up to the
    largest floats do not overflow."""
    present = values[~np.isnan(values)]
    low, high = (float(present.min()), float(present.max())) if present.size else (0.0, 1.0)
    if low == high:
        low, high = low - 0.5, high + 0.5
    return equal_width_edges(low, high, N_BINS)


def equal_width_edges(low: float, high: float, bins: int) -> np.ndarray:
    """``bins + 1`` non-decreasing edges from ``low`` to ``high``: ``np.linspace`` (so that bins
    match SDMetrics'), except for a range near or beyond the largest float, which it overflows."""
    if np.isfinite((float(high) - float(low)) * 2):
        edges = np.linspace(low, high, bins + 1)
    else:
        t = np.linspace(0.0, 1.0, bins + 1)
        edges = low * (1 - t) + high * t
    return np.maximum.accumulate(edges)


def _null_as_code(codes: np.ndarray, k: int) -> np.ndarray:
    return np.where(codes < 0, k, codes)


def _joint_frequencies(ra, rb, sa, sb, ka: int, kb: int):
    """Joint relative frequencies of (a, b) in each table over the same cells, and Cramer's V
    of each table."""
    real = ra * kb + rb
    synth = sa * kb + sb
    # Counting every cell costs ka * kb whatever the rows: 190 pairs of 1,900 categories took 8 s
    # on 3,000 rows (the occurring cells alone, 0.4 s). The same sums either way.
    if ka * kb <= min(_DENSE_LIMIT, 8 * (real.size + synth.size)):
        cells = np.arange(ka * kb)
        c_real = np.bincount(real, minlength=ka * kb)
        c_synth = np.bincount(synth, minlength=ka * kb)
    else:
        cells, inverse = np.unique(np.concatenate([real, synth]), return_inverse=True)
        inverse = inverse.reshape(-1)
        c_real = np.bincount(inverse[: real.size], minlength=cells.size)
        c_synth = np.bincount(inverse[real.size:], minlength=cells.size)
    rows, cols = cells // kb, cells % kb
    return (c_real / real.size, c_synth / synth.size,
            _cramers_v(c_real, rows, cols), _cramers_v(c_synth, rows, cols))


def _cramers_v(counts: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> float:
    """Cramer's V of a contingency table given as counts per (row, col) cell, over the rows and
    columns that occur (as ``scipy.stats.contingency.association`` on the observed table)."""
    keep = counts > 0
    c, r, k = counts[keep].astype("float64"), rows[keep], cols[keep]
    if c.size == 0:
        return float("nan")
    _, r = np.unique(r, return_inverse=True)
    _, k = np.unique(k, return_inverse=True)
    r, k = r.reshape(-1), k.reshape(-1)
    m = min(r.max() + 1, k.max() + 1)
    if m < 2:
        return float("nan")
    n = c.sum()
    row_total = np.bincount(r, weights=c)[r]
    col_total = np.bincount(k, weights=c)[k]
    chi2 = n * ((c * c / (row_total * col_total)).sum() - 1)
    return float(np.sqrt(max(chi2, 0.0) / (n * (m - 1))))


def _null_rate(values: np.ndarray) -> float:
    if values.dtype.kind == "f":
        return float(np.isnan(values).mean())
    return float((values < 0).mean())


def _continuous_values(values: Any, keep_nulls: bool = False) -> np.ndarray:
    series = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        stamps = series.to_numpy(dtype="datetime64[ns]")
        out = stamps.view("int64").astype("float64")
        out[np.isnat(stamps)] = np.nan
    else:
        try:
            out = pd.to_numeric(series, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
        except (ValueError, TypeError) as exc:
            raise DataError(f"column {series.name!r}: expected numbers or datetimes ({exc})") from None
    return out if keep_nulls else out[~np.isnan(out)]


def _factorize_pair(real: pd.Series, synthetic: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    both = pd.concat([real.astype(object), synthetic.astype(object)], ignore_index=True)
    codes, uniques = pd.factorize(both, use_na_sentinel=True)
    codes = codes.astype("int64")
    return codes[: len(real)], codes[len(real):], max(len(uniques), 1)


def _check_pair_frames(real: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    for name, frame in (("real", real), ("synthetic", synthetic)):
        if not isinstance(frame, pd.DataFrame) or frame.shape[1] != 2:
            raise DataError(f"{name}: expected a DataFrame with two columns")
    missing = [c for c in real.columns if c not in synthetic.columns]
    if missing:
        raise DataError(f"synthetic data lacks column {missing[0]!r}")
    return None


def _nanmean(values: Sequence[float | None]) -> float | None:
    finite = [v for v in values if v is not None and not np.isnan(v)]
    return float(np.mean(finite)) if finite else None


def _score(value: Any) -> float | None:
    """A score, kept in [0, 1] against rounding (``1 - 0.5 * sum`` came out at -2.2e-16), or
    ``None`` where undefined."""
    value = _num(value)
    return None if value is None else min(1.0, max(0.0, value))


def _num(value: Any) -> float | None:
    value = float(value)
    return None if np.isnan(value) else value


def _bound(value: float, info: ColumnInfo) -> Any:
    if info.kind is ColumnKind.DATETIME:
        return pd.Timestamp(int(value)).isoformat()
    return float(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
