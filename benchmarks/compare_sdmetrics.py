"""Agreement of synthvae's fidelity scores with SDMetrics' QualityReport.

For each table: split it 80/20 with a fixed seed, score the 20% split as the "synthetic" table
against the 80% split with both scorers on exactly the same typed data (conformed with the
evaluator's schema; SDMetrics metadata built from the same column kinds), and print the largest
absolute differences in column shapes, pair trends and the quality score.

SDMetrics is run twice: ``all pairs`` (``real_correlation_threshold = real_association_threshold
= 0``, our definition) and ``default`` (0.32's thresholds, compared with our
``quality.sdmetrics_default``). Our side is run with both binnings.

Run it where sdmetrics is installed, e.g. (sdmetrics wants pandas < 3)::

    python -m venv /tmp/sdm && /tmp/sdm/bin/pip install sdmetrics 'pandas<3' jsonschema pyarrow
    PYTHONPATH=. /tmp/sdm/bin/python benchmarks/compare_sdmetrics.py penguins german_credit ...
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from common import split
from synthvae.evaluation import evaluate
from synthvae.evaluation.tables import evaluation_schema, prepare
from synthvae.inference import infer_schema

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
SDTYPE = {"numeric": "numerical", "categorical": "categorical", "boolean": "boolean",
          "datetime": "datetime"}


def sdmetrics_scores(real: pd.DataFrame, synth: pd.DataFrame, metadata: dict, thresholds: bool):
    from sdmetrics.reports.single_table import QualityReport

    report = QualityReport()
    if not thresholds:
        report.real_correlation_threshold = 0
        report.real_association_threshold = 0
    report.generate(real, synth, metadata, verbose=False)
    shapes = report.get_details("Column Shapes").set_index("Column")["Score"]
    trends = report.get_details("Column Pair Trends")
    trends = {(a, b): s for a, b, s in zip(trends["Column 1"], trends["Column 2"], trends["Score"])}
    props = report.get_properties().set_index("Property")["Score"]
    return {"shapes": shapes.to_dict(), "trends": trends, "score": report.get_score(),
            "column_shapes": props["Column Shapes"], "column_pair_trends": props["Column Pair Trends"]}


def compare(name: str, seed: int = 0, max_rows: int = 50_000) -> dict:
    meta = json.loads((DATASETS / "datasets.json").read_text())[name]
    table = pd.read_csv(DATASETS / meta["file"])
    train, holdout = split(table, seed)
    schema = evaluation_schema(infer_schema(train), train, [holdout])
    # The same rows and types for both scorers.
    rng = np.random.default_rng(seed)
    real_t = prepare(train, schema, "real", max_rows=max_rows, rng=rng)
    synth_t = prepare(holdout, schema, "synthetic", max_rows=max_rows, rng=rng)
    real, synth = _plain(real_t.frame), _plain(synth_t.frame)
    metadata = {"columns": {c.name: {"sdtype": SDTYPE[c.kind.value]} for c in schema}}
    out = {"table": name, "rows": [len(real), len(synth)], "columns": len(schema)}
    ours = {}
    for binning in ("real_range", "own_range"):
        started = time.perf_counter()
        report = evaluate(real, synth, schema=schema, max_rows=None, metrics=["quality"],
                          binning=binning)
        ours[binning] = report["quality"]
        out[f"synthvae_seconds_{binning}"] = round(time.perf_counter() - started, 3)
    for thresholds in (False, True):
        started = time.perf_counter()
        theirs = sdmetrics_scores(real, synth, metadata, thresholds)
        label = "default" if thresholds else "all_pairs"
        out[f"sdmetrics_seconds_{label}"] = round(time.perf_counter() - started, 3)
        for binning, q in ours.items():
            shapes = max(abs(c["score"] - theirs["shapes"][c["column"]]) for c in q["columns"])
            pair_scores = {tuple(p["columns"]): p for p in q["pairs"]}
            counted = {k: v for k, v in theirs["trends"].items() if not np.isnan(v)}
            trends = max((abs(pair_scores[k]["score"] - v) for k, v in counted.items()), default=0.0)
            if thresholds:
                mine = q["sdmetrics_default"]
                score_diff = abs(mine["score"] - theirs["score"])
                trend_avg = abs(mine["column_pair_trends"] - theirs["column_pair_trends"])
            else:
                score_diff = abs(q["score"] - theirs["score"])
                trend_avg = abs(q["column_pair_trends"] - theirs["column_pair_trends"])
            out[f"{label}/{binning}"] = {
                "max_abs_diff_column_shape": shapes,
                "max_abs_diff_pair_trend": trends,
                "abs_diff_column_shapes": abs(q["column_shapes"] - theirs["column_shapes"]),
                "abs_diff_column_pair_trends": trend_avg,
                "abs_diff_score": score_diff,
                "sdmetrics_score": theirs["score"],
            }
    return out


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as plain objects (SDMetrics groups them without unobserved categories)."""
    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].astype(object)
        elif str(out[name].dtype) == "boolean":
            out[name] = out[name].astype(object)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="*", default=["penguins", "german_credit",
                                                       "seattle_weather", "churn", "diamonds"])
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "sdmetrics_agreement.json")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", FutureWarning)
    import sdmetrics

    results = [compare(name) for name in args.tables]
    print(f"synthvae vs SDMetrics {sdmetrics.__version__} QualityReport (pandas {pd.__version__})")
    print(f"{'table':<16}{'mode':<24}{'shape':>10}{'pair':>10}{'shapes':>10}{'trends':>10}{'score':>10}")
    for r in results:
        for mode in ("all_pairs/own_range", "all_pairs/real_range", "default/own_range",
                     "default/real_range"):
            d = r[mode]
            print(f"{r['table']:<16}{mode:<24}{d['max_abs_diff_column_shape']:>10.2e}"
                  f"{d['max_abs_diff_pair_trend']:>10.2e}{d['abs_diff_column_shapes']:>10.2e}"
                  f"{d['abs_diff_column_pair_trends']:>10.2e}{d['abs_diff_score']:>10.2e}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"sdmetrics": sdmetrics.__version__, "pandas": pd.__version__,
                                     "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
