"""The data behind the HTML report's plots (numbers only; :mod:`.html` draws them)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from synthvae.evaluation.fidelity import equal_width_edges
from synthvae.evaluation.tables import ColumnInfo, PreparedTable, Shape
from synthvae.schema import ColumnKind

HIST_BINS = 30
TOP_BARS = 12
SCATTER_PAIRS = 6
SCATTER_POINTS = 400
HEATMAP_COLUMNS = 30


def figure_data(
    infos: Sequence[ColumnInfo],
    real: PreparedTable,
    synthetic: PreparedTable,
    report: dict,
    *,
    rng: np.random.Generator,
) -> dict:
    """Histograms / bar charts per column (worst column first), scatter samples of the most
    related continuous pairs, and the association matrices (real, synthetic)."""
    quality = report.get("quality")
    order = list(infos)
    if quality:
        score = {c["column"]: c["score"] for c in quality["columns"]}
        order.sort(key=lambda i: (score[i.name] is None, score[i.name] or 0.0))
    return {
        "distributions": [_distribution(i, real, synthetic) for i in order],
        "scatter": _scatter(infos, real, synthetic, quality, rng) if quality else [],
        "heatmap": _heatmap(infos, quality) if quality else None,
    }


def _distribution(info: ColumnInfo, real: PreparedTable, synthetic: PreparedTable) -> dict:
    r, s = real.arrays[info.name], synthetic.arrays[info.name]
    out = {"column": info.name, "kind": info.kind.value}
    if info.shape is Shape.CONTINUOUS:
        rp, sp = r[~np.isnan(r)], s[~np.isnan(s)]
        out.update(type="histogram", null_real=float(np.isnan(r).mean()),
                   null_synthetic=float(np.isnan(s).mean()))
        if rp.size == 0 and sp.size == 0:
            out.update(edges=[], real=[], synthetic=[])
            return out
        lo = min(x for x in ([rp.min()] if rp.size else []) + ([np.quantile(sp, 0.001)] if sp.size else []))
        hi = max(x for x in ([rp.max()] if rp.size else []) + ([np.quantile(sp, 0.999)] if sp.size else []))
        if hi <= lo:  # one value: the axis centred on it (lo to lo + 1 labelled a value never seen)
            lo, hi = lo - 0.5, lo + 0.5
        edges = equal_width_edges(lo, hi, HIST_BINS)
        out["edges"] = edges.tolist()
        out["labels"] = _labels(edges[0], edges[-1], info)
        for name, values in (("real", rp), ("synthetic", sp)):
            counts = np.histogram(np.clip(values, lo, hi), bins=edges)[0]
            out[name] = (counts / max(values.size, 1)).tolist()
        return out
    k = len(info.categories)
    p_real = np.bincount(np.where(r < 0, k, r), minlength=k + 1) / max(r.size, 1)
    p_synth = np.bincount(np.where(s < 0, k, s), minlength=k + 1) / max(s.size, 1)
    top = np.argsort(-(p_real[:k] + 0.5 * p_synth[:k]), kind="stable")[:TOP_BARS]
    top = [int(c) for c in top if p_real[c] > 0 or p_synth[c] > 0]
    labels = [str(info.categories[c]) for c in top]
    real_bars, synth_bars = [float(p_real[c]) for c in top], [float(p_synth[c]) for c in top]
    rest = [c for c in range(k) if c not in set(top)]
    if rest and (p_real[rest].sum() > 0 or p_synth[rest].sum() > 0):
        labels.append(f"({len(rest)} others)")
        real_bars.append(float(p_real[rest].sum()))
        synth_bars.append(float(p_synth[rest].sum()))
    if p_real[k] > 0 or p_synth[k] > 0:
        labels.append("(null)")
        real_bars.append(float(p_real[k]))
        synth_bars.append(float(p_synth[k]))
    out.update(type="bars", labels=labels, real=real_bars, synthetic=synth_bars)
    return out


def _scatter(infos, real, synthetic, quality, rng) -> list[dict]:
    kinds = {i.name: i for i in infos}
    pairs = [p for p in quality["pairs"]
             if p["metric"] == "CorrelationSimilarity" and p["real"] is not None]
    pairs.sort(key=lambda p: -abs(p["real"]))
    out = []
    for pair in pairs[:SCATTER_PAIRS]:
        a, b = pair["columns"]
        entry = {"columns": [a, b], "real_r": pair["real"], "synthetic_r": pair["synthetic"],
                 "score": pair["score"], "kinds": [kinds[a].kind.value, kinds[b].kind.value]}
        for name, table in (("real", real), ("synthetic", synthetic)):
            x, y = table.arrays[a], table.arrays[b]
            rows = np.flatnonzero(~np.isnan(x) & ~np.isnan(y))
            if rows.size > SCATTER_POINTS:
                rows = np.sort(rng.choice(rows, SCATTER_POINTS, replace=False))
            entry[name] = [x[rows].tolist(), y[rows].tolist()]
        out.append(entry)
    return out


def _heatmap(infos, quality) -> dict:
    names = [i.name for i in infos]
    every = len(names)
    if len(names) > HEATMAP_COLUMNS:
        # Keep the columns whose pairs are reproduced worst.
        totals = {n: [] for n in names}
        for p in quality["pairs"]:
            if p["score"] is not None:
                for c in p["columns"]:
                    totals[c].append(p["score"])
        mean = {n: (np.mean(v) if v else 1.0) for n, v in totals.items()}
        keep = set(sorted(names, key=lambda n: mean[n])[:HEATMAP_COLUMNS])
        names = [n for n in names if n in keep]
    index = {n: k for k, n in enumerate(names)}
    size = len(names)
    real = np.full((size, size), np.nan)
    synth = np.full((size, size), np.nan)
    score = np.full((size, size), np.nan)
    np.fill_diagonal(real, 1.0)
    np.fill_diagonal(synth, 1.0)
    np.fill_diagonal(score, 1.0)
    for p in quality["pairs"]:
        a, b = p["columns"]
        if a in index and b in index:
            i, j = index[a], index[b]
            for matrix, key in ((real, "real"), (synth, "synthetic"), (score, "score")):
                value = np.nan if p[key] is None else p[key]
                matrix[i, j] = matrix[j, i] = value
    def plain(m):
        return [[None if np.isnan(v) else float(v) for v in row] for row in m]
    return {"columns": names, "of": every, "real": plain(real), "synthetic": plain(synth),
            "difference": plain(np.abs(real - synth)), "score": plain(score)}


def _labels(low: float, high: float, info: ColumnInfo) -> list[str]:
    """The two ends of a histogram's axis; datetimes as dates, with the time of day when the
    ends are not whole days (a span of hours of one day read "2024-05-01 ... 2024-05-01")."""
    if info.kind is ColumnKind.DATETIME:
        ends = [pd.Timestamp(int(v)) for v in (low, high)]
        if all(e == e.normalize() for e in ends):
            return [str(e.date()) for e in ends]
        return [str(e.floor("s")) for e in ends]
    return [f"{v:.4g}" for v in (low, high)]
