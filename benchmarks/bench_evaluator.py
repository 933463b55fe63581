"""Time the evaluator on a 50k-row table (diamonds) and a 300k-row table (flights).

Protocol per table: split 80/20 with a fixed seed (train / holdout); the "synthetic" table is a
bootstrap resample of train with numeric columns jittered by 5% of their standard deviation;
then ``evaluate(train, synthetic, holdout=holdout, target=...)`` with the default
``max_rows=50_000`` (the 300k-row table is subsampled, as the report says). Reported: schema
inference, the full evaluation, the quality section alone, and, when ``sdmetrics`` is importable,
its QualityReport on the same (subsampled, conformed) rows.

    python benchmarks/bench_evaluator.py            # writes benchmarks/results/evaluator.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import split  # noqa: E402
from synthvae.evaluation import evaluate  # noqa: E402
from synthvae.evaluation.tables import evaluation_schema, prepare  # noqa: E402
from synthvae.inference import infer_schema  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
TABLES = {"diamonds": "price", "flights": "arr_delay"}


def synthetic_like(train: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = train.iloc[rng.integers(0, len(train), len(train))].reset_index(drop=True)
    for name in out.columns:
        if pd.api.types.is_float_dtype(out[name].dtype):
            out[name] = out[name] + rng.normal(0, 0.05 * out[name].std(), len(out))
    return out


def bench(name: str, target: str, seed: int = 0) -> dict:
    meta = json.loads((DATASETS / "datasets.json").read_text())[name]
    table = pd.read_csv(DATASETS / meta["file"])
    train, holdout = split(table, seed)
    synth = synthetic_like(train, seed + 1)
    result = {"table": name, "rows": len(table), "columns": table.shape[1], "target": target,
              "train_rows": len(train), "holdout_rows": len(holdout), "synthetic_rows": len(synth)}

    started = time.perf_counter()
    schema = infer_schema(train)
    result["infer_schema_s"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    report = evaluate(train, synth, schema=schema, holdout=holdout, target=target, seed=seed)
    result["evaluate_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    quality_only = evaluate(train, synth, schema=schema, metrics=["quality"], seed=seed)
    result["quality_only_s"] = round(time.perf_counter() - started, 2)
    data = report.to_dict()
    result.update(
        quality_score=data["quality"]["score"], ceiling_score=data["ceiling"]["quality"]["score"],
        pairs=len(data["quality"]["pairs"]), detection_auc=data["detection"]["auc"],
        tstr=data["utility"]["tstr"], trtr=data["utility"]["trtr"],
        closer_share=data["privacy"]["dcr_closer_to_train_share"],
        exact_copy_rate=data["privacy"]["exact_copy_rate"], notes=data["notes"],
    )
    assert quality_only.score == report.score

    try:
        from sdmetrics.reports.single_table import QualityReport
    except ImportError:
        result["sdmetrics_s"] = None
        return result
    eval_schema = evaluation_schema(schema, train, [synth])
    rng = np.random.default_rng(seed)
    real = prepare(train, eval_schema, "real", max_rows=50_000, rng=rng).frame
    fake = prepare(synth, eval_schema, "synthetic", max_rows=50_000, rng=rng).frame
    for frame in (real, fake):
        for col in frame.columns:
            if isinstance(frame[col].dtype, pd.CategoricalDtype):
                frame[col] = frame[col].astype(object)
    kinds = {"numeric": "numerical", "categorical": "categorical", "boolean": "boolean",
             "datetime": "datetime"}
    metadata = {"columns": {c.name: {"sdtype": kinds[c.kind.value]} for c in eval_schema}}
    started = time.perf_counter()
    theirs = QualityReport()
    theirs.real_correlation_threshold = theirs.real_association_threshold = 0
    theirs.generate(real, fake, metadata, verbose=False)
    result["sdmetrics_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    ours = evaluate(real, fake, schema=eval_schema, metrics=["quality"], binning="own_range",
                    max_rows=None)
    result["quality_same_rows_s"] = round(time.perf_counter() - started, 2)
    result["sdmetrics_score"] = theirs.get_score()
    result["abs_diff_score_own_range"] = abs(ours.score - theirs.get_score())
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="*", default=list(TABLES))
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "evaluator.json")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", FutureWarning)
    results = [bench(name, TABLES[name]) for name in args.tables]
    print(f"{'table':<10}{'rows':>9}{'cols':>6}{'pairs':>7}{'infer s':>9}{'evaluate s':>12}"
          f"{'quality s':>11}{'sdmetrics s':>13}")
    for r in results:
        sd = "-" if r.get("sdmetrics_s") is None else f"{r['sdmetrics_s']:.2f}"
        print(f"{r['table']:<10}{r['rows']:>9,}{r['columns']:>6}{r['pairs']:>7}"
              f"{r['infer_schema_s']:>9.2f}{r['evaluate_s']:>12.2f}{r['quality_only_s']:>11.2f}{sd:>13}")
    machine = {"python": platform.python_version(), "pandas": pd.__version__,
               "numpy": np.__version__, "cpus": os.cpu_count(), "machine": platform.machine()}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    from synthvae.io import atomic_write_text

    atomic_write_text(args.json, json.dumps({"machine": machine, "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
