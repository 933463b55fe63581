"""Augmentation by class: how the guidance of each class's synthetic rows changes what they
teach a classifier, over several fits, beside real rows, random oversampling and SMOTE-NC.

For each table of ``--tables`` (a categorical target) and each fit seed of ``--seeds``, the
protocol's 80/20 split (``common.split``); synthvae at its defaults fitted on the training
rows; ``augment(balance=True)`` at each guidance of ``--guidance`` (1: the model's own rows of
each class); then a gradient boosting classifier trained on each table and scored on the
held-out rows (``common.ClassScorer``: macro F1, the rarest class's recall and ROC AUC), and
how like its class's real rows each class's added rows are (``class_fidelity``: our evaluator's
quality score of a class's added rows against its real training rows, the target left out,
averaged over the classes that got at least 20 rows, weighted by their number). The
baselines: the real training rows, random copies of them, SMOTE-NC (imbalanced-learn), up to
equal class counts as ``balance=True``, with each seed. With ``--target-fits``, also a model fitted with
``Synthesizer(target=...)`` at augment's default guidance and at 1; with ``--ratio R``, also
``augment(ratio=R)`` with the target (more rows of the real class mix) at both.

Run: ``python benchmarks/bench_augment.py [--tables churn german_credit seattle_weather]
[--seeds 0 1 2 3] [--guidance 1 3 6 10] [--target-fits] [--ratio 1]``. Writes
``benchmarks/results/augment.{json,md}`` (``--stem``). 1 torch thread.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_generation import oversampled, smote_nc  # noqa: E402
from common import ClassScorer, load, machine, split, target_of, write_results  # noqa: E402

from synthvae import Synthesizer  # noqa: E402
from synthvae.evaluation import evaluate  # noqa: E402
from synthvae.schema import ColumnKind  # noqa: E402
from synthvae.synthesizer import AUGMENT_GUIDANCE  # noqa: E402

SCORES = ("macro_f1", "minority_recall", "minority_roc_auc")
FIDELITY_LEAST_ROWS = 20


def class_fidelity(train, added, target: str) -> float | None:
    """The quality score of each class's ``added`` rows against the class's real rows, the
    target left out; the mean over the classes with at least :data:`FIDELITY_LEAST_ROWS` added
    rows, weighted by them."""
    scores, weights = [], []
    for value, part in added.groupby(target, observed=True):
        real = train[train[target] == value]
        if len(part) < FIDELITY_LEAST_ROWS or len(real) < 2:
            continue
        report = evaluate(real.drop(columns=[target]), part.drop(columns=[target]), metrics=["quality"]).to_dict()
        scores.append(report["quality"]["score"])
        weights.append(len(part))
    return float(np.average(scores, weights=weights)) if scores else None


def run_table(name: str, seeds: list[int], guidances: list[float], target_fits: bool, ratio: float | None) -> dict:
    train, holdout = split(load(name))
    target = target_of(name)
    runs: dict[str, list[dict]] = {}

    def add(key: str, value: dict) -> None:
        runs.setdefault(key, []).append(value)

    for seed in seeds:
        syn = Synthesizer(seed=seed).fit(train)
        categorical = [c.name for c in syn.schema_ if c.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)]
        score = ClassScorer(train, holdout, target, categorical)
        add("real", score(train))
        copies = oversampled(train, target, seed)
        add("random_oversampling", {**score(copies), "class_fidelity": class_fidelity(train, copies.iloc[len(train):], target)})
        smoted = smote_nc(train, target, score.categorical, seed)  # its columns retyped for the classifier: no fidelity
        if smoted is not None:
            add("smote_nc", score(smoted))
        models = [("", syn)]
        if target_fits:
            models.append(("target fit, ", Synthesizer(seed=seed, target=target).fit(train)))
        for label, model in models:
            model.conditional_  # trained on first use: not part of the augment times below
            for guidance in guidances if not label else sorted({1.0, AUGMENT_GUIDANCE}):
                started = time.perf_counter()
                rows = model.augment(train, target=target, balance=True, seed=0, guidance=guidance)
                seconds = time.perf_counter() - started
                added = rows[rows["synthetic"]].drop(columns=["synthetic"])
                add(f"synthvae {label}guidance {guidance:g}", {**score(rows.drop(columns=["synthetic"])), "seconds": seconds,
                                                                "synthetic_rows": int(rows["synthetic"].sum()),
                                                                "class_fidelity": class_fidelity(train, added, target)})
        if ratio:  # as many synthetic rows again, in the real class proportions
            for guidance in sorted({1.0, AUGMENT_GUIDANCE}):
                rows = syn.augment(train, target=target, ratio=ratio, seed=0, guidance=guidance)
                added = rows[rows["synthetic"]].drop(columns=["synthetic"])
                add(f"synthvae ratio {ratio:g}, guidance {guidance:g}",
                    {**score(rows.drop(columns=["synthetic"])), "class_fidelity": class_fidelity(train, added, target)})
        print(name, "seed", seed, flush=True)
    summary = {key: {metric: float(np.mean([v[metric] for v in values])) for metric in (*SCORES, "seconds", "class_fidelity")
                     if values[0].get(metric) is not None}
               | {f"{metric}_range": [float(min(v[metric] for v in values)), float(max(v[metric] for v in values))] for metric in SCORES}
               for key, values in runs.items()}
    return {"target": target, "minority": score.minority, "seeds": seeds, "summary": summary, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="+", default=["churn", "german_credit", "seattle_weather"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3])
    parser.add_argument("--guidance", nargs="+", type=float, default=[1.0, 3.0, 6.0, AUGMENT_GUIDANCE])
    parser.add_argument("--target-fits", action="store_true", help="also models fitted with Synthesizer(target=...)")
    parser.add_argument("--ratio", type=float, default=None,
                        help="also augment(ratio=R) with the target: R times as many synthetic rows in the real class proportions")
    parser.add_argument("--stem", default="augment")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {"machine": machine(), "default_guidance": AUGMENT_GUIDANCE, "tables": {}}
    lines = ["# Augmentation by class: guidance, beside oversampling", "",
             f"`augment(balance=True)` at each guidance (augment's default {AUGMENT_GUIDANCE:g}); a gradient boosting classifier "
             "trained on each table, scored on the held-out rows; means over fit seeds (range in brackets).", ""]
    for name in args.tables:
        entry = run_table(name, args.seeds, sorted(set(args.guidance)), args.target_fits, args.ratio)
        results["tables"][name] = entry
        lines += [f"## {name} (target `{entry['target']}`, rarest class `{entry['minority']}`; fit seeds {', '.join(map(str, args.seeds))})", "",
                  "| training rows | macro F1 | minority recall | minority ROC AUC | added rows' fidelity to their class | augment s |",
                  "| --- | --- | --- | --- | ---: | ---: |"]
        for key, row in entry["summary"].items():
            cells = [f"{row[m]:.3f} [{row[m + '_range'][0]:.3f}, {row[m + '_range'][1]:.3f}]" for m in SCORES]
            fidelity = f"{row['class_fidelity']:.3f}" if "class_fidelity" in row else "-"
            seconds = f"{row['seconds']:.2f}" if "seconds" in row else "-"
            lines.append(f"| {key} | {' | '.join(cells)} | {fidelity} | {seconds} |")
        lines.append("")
    lines.append(f"Machine: {results['machine']}")
    path = write_results(args.stem, results, lines)
    print("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
