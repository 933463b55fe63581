"""Differential privacy, measured: quality, utility and membership inference at several epsilons.

For each table (80/20 split of common.split) it fits synthvae without DP (defaults) and with DP at
each epsilon (``PrivacySpec`` defaults: 30 epochs of DP-SGD, delta = min(1e-5, 0.1 / rows)),
samples as many rows as the training split and reports:

* fit seconds and the epsilon actually spent;
* our quality score (column shapes and pair trends) against the training rows, and the ceiling
  (real held-out rows);
* TSTR on the held-out rows (ROC AUC, or R^2 for a regression target) next to TRTR;
* the privacy check (``synthvae.evaluation.privacy_check``): membership-inference AUC, closer-to-
  train share, exact copies, and whether every default limit holds.

Public bounds: DP needs bounds that do not come from the table. The benchmark derives them by
widening each numeric range outwards to a round number (``public_schema``) and datetime ranges
to whole years, as a person who knows the domain would write them; the leak report stays
empty with them.

Run: ``python benchmarks/bench_privacy.py [--tables churn german_credit ...] [--epsilons 1 3 10]``.
Writes ``benchmarks/results/privacy.{json,md}``.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load, machine, split, target_of, write_results  # noqa: E402

from synthvae import Synthesizer, infer_schema  # noqa: E402
from synthvae.evaluation import evaluate, privacy_check  # noqa: E402
from synthvae.schema import Schema  # noqa: E402


def _round_out(value: float, up: bool) -> float:
    """``value`` rounded away from the data to one significant digit (0 stays 0)."""
    if value == 0:
        return 0.0
    scale = 10.0 ** math.floor(math.log10(abs(value)))
    return (math.ceil(value / scale) if up else math.floor(value / scale)) * scale


def public_schema(frame: pd.DataFrame) -> Schema:
    """The inferred schema with every bound widened to a round public value."""
    document = infer_schema(frame).to_dict()
    for column in document["columns"]:
        if column["kind"] == "numeric" and "min" in column:
            low, high = float(column["min"]), float(column["max"])
            low = 0.0 if low >= 0 else _round_out(low, up=False)
            high = _round_out(high, up=True) if high > 0 else 0.0
            if high <= low:
                high = low + 1
            integer = column.get("type") == "integer"
            column["min"], column["max"] = (int(low), int(high)) if integer else (low, high)
        elif column["kind"] == "datetime" and "min" in column:
            column["min"] = f"{pd.Timestamp(column['min']).year}-01-01T00:00:00"
            column["max"] = f"{pd.Timestamp(column['max']).year + 1}-01-01T00:00:00"
    return Schema.from_dict(document)


def run_one(train, holdout, schema, target, epsilon) -> dict:
    privacy = None if epsilon is None else {"epsilon": float(epsilon)}
    started = time.perf_counter()
    syn = Synthesizer(schema, privacy=privacy, seed=0).fit(train)
    fit_s = time.perf_counter() - started
    fake = syn.sample(len(train), seed=1)
    report = evaluate(train, fake, schema=schema, holdout=holdout, target=target,
                      metrics=["quality", "utility"], seed=0).to_dict()
    check = privacy_check(train, fake, holdout, schema=schema, seed=0)
    values = {c.name: c.value for c in check.checks}
    return {
        "epsilon_budget": epsilon,
        "epsilon_spent": None if syn.privacy_ is None else syn.privacy_["epsilon"],
        "sgd_noise_multiplier": None if syn.privacy_ is None else syn.privacy_["sgd_noise_multiplier"],
        "fit_seconds": fit_s,
        "quality": report["quality"]["score"],
        "column_shapes": report["quality"]["column_shapes"],
        "column_pair_trends": report["quality"]["column_pair_trends"],
        "quality_ceiling": report["ceiling"]["quality"]["score"],
        "tstr": report["utility"]["tstr"],
        "trtr": report["utility"]["trtr"],
        "utility_metric": report["utility"].get("metric"),
        "membership_auc": values["membership_auc"],
        "closer_to_train_share": values["closer_to_train_share"],
        "exact_copy_rate": values["exact_copies"],
        "privacy_check_passed": check.passed,
        "leak_warnings": 0 if syn.privacy_ is None else len(syn.privacy_["warnings"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="+", default=["churn", "german_credit", "seattle_weather", "diamonds"])
    parser.add_argument("--epsilons", nargs="+", type=float, default=[1.0, 3.0, 10.0])
    parser.add_argument("--stem", default="privacy")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    results = []
    for name in args.tables:
        frame = load(name)
        target = target_of(name)
        train, holdout = split(frame)
        schema = public_schema(frame)
        for epsilon in [None, *args.epsilons]:
            row = {"table": name, "rows": len(train), **run_one(train, holdout, schema, target, epsilon)}
            results.append(row)
            print(
                f"{name:16s} eps {str(epsilon):>5s} spent {row['epsilon_spent'] or 0:6.3f} fit {row['fit_seconds']:6.1f}s "
                f"quality {row['quality']:.4f} (ceiling {row['quality_ceiling']:.4f}) tstr {row['tstr']:.4f} "
                f"(trtr {row['trtr']:.4f}) mia {row['membership_auc']:.4f} passed {row['privacy_check_passed']}",
                flush=True,
            )
    lines = [
        "# Differential privacy: quality, utility and membership inference by epsilon",
        "",
        "`python benchmarks/bench_privacy.py` (80/20 split, seed 0; DP: PrivacySpec defaults).",
        "",
        "| table | epsilon | spent | fit s | quality | vs no DP | shapes | trends | TSTR | TRTR | MIA AUC | closer-to-train | copies | check |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in results:
        base = next(r for r in results if r["table"] == row["table"] and r["epsilon_budget"] is None)
        eps = "no DP" if row["epsilon_budget"] is None else f"{row['epsilon_budget']:g}"
        spent = "-" if row["epsilon_spent"] is None else f"{row['epsilon_spent']:.3f}"
        lines.append(
            f"| {row['table']} | {eps} | {spent} | {row['fit_seconds']:.1f} | {row['quality']:.4f} | "
            f"{row['quality'] - base['quality']:+.4f} | {row['column_shapes']:.4f} | {row['column_pair_trends']:.4f} | "
            f"{row['tstr']:.4f} | {row['trtr']:.4f} | {row['membership_auc']:.4f} | {row['closer_to_train_share']:.4f} | "
            f"{row['exact_copy_rate']:.4f} | {'pass' if row['privacy_check_passed'] else 'FAIL'} |"
        )
    path = write_results(args.stem, {"machine": machine(), "results": results}, lines)
    print("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
