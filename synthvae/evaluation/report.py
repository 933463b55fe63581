"""The evaluation report: a JSON-ready dict, with JSON, HTML and plain-text views."""

from __future__ import annotations

import copy
import json
import math
import os
from typing import Any

from synthvae.io import atomic_write_text

REPORT_FORMAT_VERSION = 1


class EvaluationReport:
    """What :func:`synthvae.evaluation.evaluate` found.

    The layout of :meth:`to_dict` (every score is a float or ``None`` when undefined):

    * ``quality``: ``score``, ``column_shapes``, ``column_pair_trends``, ``missing_values``
      (all [0, 1], higher is better), ``sdmetrics_default`` (SDMetrics 0.32's thresholded
      averages), ``binning``, ``columns`` (per column: ``column``, ``metric``, ``score``,
      ``null_rate``, ``coverage``, ``ceiling``) and ``pairs`` (per pair: ``columns``,
      ``metric``, ``score``, ``real`` and ``synthetic`` relationship (Pearson r or Cramer's V),
      ``meets_sdmetrics_threshold``, ``ceiling``); with a holdout smaller than the synthetic
      table, ``at_holdout_size`` (``rows``, ``score``, ``column_shapes``,
      ``column_pair_trends``, ``missing_values``, ``sdmetrics_default`` of a seeded subsample of
      the synthetic rows as large as the holdout: what to hold against the ceiling, which fewer
      rows lower), and each column's and pair's score on that subsample (``at_holdout_size``).
    * ``ceiling`` (``None`` without a holdout): the same scores between the real training and
      held-out tables: ``quality``, ``detection``, ``utility.tstr`` (= TRTR) and ``privacy``.
    * ``utility``: ``tstr``, ``trtr``, ``target``, ``task``, ``metric``, ``test_set``.
    * ``detection``: ``auc`` (0.5 is ideal), ``score``, ``fold_aucs``, ``rows_per_side``;
      ``below_chance`` when every fold's AUC is below 0.45 (near copies of real rows do that:
      the score of 1 then says nothing, and a note says so).
    * ``privacy``: ``dcr_closer_to_train_share`` (0.5 is ideal), ``exact_copy_rate``,
      ``holdout_exact_copy_rate``, ``near_copy_rate`` and ``holdout_near_copy_rate`` (rows
      equal to a training row but for numbers within 0.1% of their spread, exact copies among
      them), ``dcr_synthetic_to_train``, ``dcr_holdout_to_train``,
      ``membership_auc`` (0.5 is ideal; with a holdout of 200 rows or more) and
      ``membership_attack_rows`` (rows a side it attacked).
    * ``settings``, ``tables`` (rows given and used), ``columns``, ``notes`` (subsampling and
      skipped metrics), ``seconds``.

    Attributes:
        figures: The data behind the HTML plots (histograms, scatter samples, heatmaps).
    """

    def __init__(self, data: dict, figures: dict | None = None) -> None:
        self._data = _clean(data)
        self.figures = figures or {}

    def to_dict(self) -> dict:
        """The report as a JSON-ready dict (a copy)."""
        return copy.deepcopy(self._data)

    def __getitem__(self, key: str) -> Any:
        return copy.deepcopy(self._data[key])

    @property
    def score(self) -> float | None:
        """The quality score (mean of column shapes and column pair trends)."""
        quality = self._data.get("quality") or {}
        return quality.get("score")

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The report as indented JSON; written atomically to ``path`` when given."""
        text = json.dumps(self._data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        if path is not None:
            atomic_write_text(path, text)
        return text

    def to_html(self, path: str | os.PathLike | None = None) -> str:
        """The report as one self-contained HTML page (inline SVG plots, no network access);
        written atomically to ``path`` when given."""
        from synthvae.evaluation.html import render

        text = render(self._data, self.figures)
        if path is not None:
            atomic_write_text(path, text)
        return text

    def summary(self) -> str:
        """A short plain-text table of the headline scores next to their ceilings."""
        d = self._data
        tables = d["tables"]
        head = ", ".join(f"{name} {t['rows_used']:,} rows" for name, t in tables.items())
        ceiling = d.get("ceiling") or {}
        cq = ceiling.get("quality") or {}
        rows: list[tuple[str, Any, Any, str]] = []
        q = d.get("quality")
        if q:
            rows += [
                ("quality score", q["score"], cq.get("score"), "1"),
                ("  column shapes", q["column_shapes"], cq.get("column_shapes"), "1"),
                ("  column pair trends", q["column_pair_trends"], cq.get("column_pair_trends"), "1"),
                ("  missing values", q["missing_values"], cq.get("missing_values"), "1"),
            ]
            same = q.get("at_holdout_size")
            if same:
                rows.append((f"quality at the holdout's size ({same['rows']:,} rows)", same["score"], cq.get("score"), "1"))
        u = d["utility"]
        if u.get("tstr") is not None or u.get("trtr") is not None:
            rows.append((f"utility TSTR ({u['metric']}, {u['target']})", u["tstr"], u["trtr"],
                         "TRTR"))
        det = d["detection"]
        if det.get("auc") is not None:
            rows.append(("detection AUC", det["auc"], (ceiling.get("detection") or {}).get("auc"),
                         "0.5"))
        p = d["privacy"]
        if p.get("exact_copy_rate") is not None:
            # No ceiling for these two: 0.5 is their ideal, not a measured score (the ceiling
            # column read 0.500 as if the holdout had scored it).
            rows.append(("DCR closer-to-train share", p.get("dcr_closer_to_train_share"), None, "0.5"))
            rows.append(("exact copy rate", p["exact_copy_rate"], p.get("holdout_exact_copy_rate"),
                         "0"))
            if p.get("near_copy_rate") is not None:
                rows.append(("near copy rate", p["near_copy_rate"], p.get("holdout_near_copy_rate"), "0"))
            if p.get("membership_auc") is not None:
                rows.append(("membership-inference AUC", p["membership_auc"], None, "0.5"))
        width = max([len(r[0]) for r in rows] + [6])
        lines = [f"synthvae evaluation: {head}",
                 f"{'metric':<{width}}  {'score':>7}  {'ceiling':>7}  ideal"]
        for name, value, limit, ideal in rows:
            lines.append(f"{name:<{width}}  {_fmt(value):>7}  {_fmt(limit):>7}  {ideal}")
        if q:
            worst = sorted((c for c in q["columns"] if c["score"] is not None), key=shortfall)[:3]
            if worst:
                lines.append("worst columns: " + ", ".join(
                    f"{c['column']} {c['score']:.3f}" for c in worst))
            pairs = sorted((p for p in q["pairs"] if p["score"] is not None), key=shortfall)[:3]
            if pairs:
                lines.append("worst pairs: " + ", ".join(
                    f"{a} ~ {b} {p['score']:.3f}" for p in pairs for a, b in [p["columns"]]))
        for key in ("utility", "detection", "privacy"):
            skipped = (d.get(key) or {}).get("skipped")
            if skipped and skipped != "not requested":
                lines.append(f"{key} skipped: {skipped}")
        g = d.get("guarantee")
        if g:
            # What it covers, as fit says it: the headline add/remove epsilon does not cover the
            # row count the model file records, which the report left out (a user review).
            other = g.get("replace_one") if g.get("adjacency") == "add_remove" else None
            lines.append(f"differential privacy: epsilon {g['epsilon']:.3f} at delta {g['delta']:.2g} "
                         f"({g.get('accountant', 'accountant not recorded')})"
                         + (f"; covers {g['covers']}" if g.get("covers") else "")
                         + (f"; one row replaced, the count public: epsilon {other['epsilon']:.3f}" if other else ""))
        lines += [f"note: {n}" for n in d.get("notes", [])]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"EvaluationReport(score={_fmt(self.score)})"


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def _clean(value: Any) -> Any:
    """Plain JSON types, with NaN and infinities as ``None``."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def shortfall(item: dict) -> tuple[bool, float]:
    """How far a column's or pair's score lies below what it should reach, to order the worst
    first: below its ceiling (the holdout's score, held against the score at the holdout's
    size where there is one), else below 1. By the score alone, churn's broken
    total_day_minutes ~ total_day_charge (0.505, ceiling 1.000) ranked 24th behind pairs of a
    constant column that score 0.5 between real tables too, and international_plan ~ churn
    (0.952 against 0.998) was not listed (an HTML review)."""
    if item.get("score") is None:
        return True, 0.0
    score = item.get("at_holdout_size")
    score = item["score"] if score is None else score
    ceiling = item.get("ceiling")
    return False, score - (1.0 if ceiling is None else ceiling)


# How far a headline score may lie from its ceiling before the report says the synthetic table
# fails there: a detection AUC 0.1 above the holdout's (0.25 above chance without one), a TSTR
# 0.1 below TRTR. Churn with four columns broken scored 1.000 and 0.538 (against 0.914) with
# nothing on the page to say so (an HTML review).
FAR_OFF = 0.1
FAR_OFF_WITHOUT_CEILING = 0.25


def far_off(value: float | None, ceiling: float | None, lower_better: bool, ideal: float) -> bool:
    """Whether a headline score lies :data:`FAR_OFF` beyond its ceiling on the wrong side (or
    :data:`FAR_OFF_WITHOUT_CEILING` beyond the ideal value, without a ceiling)."""
    if value is None:
        return False
    limit, margin = (ideal, FAR_OFF_WITHOUT_CEILING) if ceiling is None else (ceiling, FAR_OFF)
    return value > limit + margin if lower_better else value < limit - margin


def detection_far_off(detection: dict, held: float | None) -> bool:
    """Whether a detection section's AUC lies far off (:func:`far_off`) on enough rows a side
    (fewer have a note of their own on the AUC's spread by chance alone)."""
    from synthvae.evaluation.detection import MIN_DETECTION_ROWS

    return far_off(detection.get("auc"), held, True, 0.5) and detection.get("rows_per_side", 0) >= MIN_DETECTION_ROWS
