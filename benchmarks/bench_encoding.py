"""Numeric encodings side by side: quantile transform vs mode-specific normalisation.

For each table: the protocol's 80/20 split, a Synthesizer at its defaults fitted with each
encoding (and each seed), as many rows sampled as the training split, scored by our evaluator
against the training rows, next to the ceiling (training vs held-out rows).

Run: python benchmarks/bench_encoding.py [--tables ...] [--seeds 0 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

from common import FILES, load, machine, split, write_results

from synthvae import Synthesizer, infer_schema
from synthvae.evaluation import evaluate

ENCODINGS = ("quantile", "mode")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=["german_credit", "seattle_weather", "churn", "loans", "diamonds"], choices=sorted(FILES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    args = parser.parse_args()
    rows, lines = [], [
        "| table | encoding | fit s (median) | epochs | score | shapes | trends | ceiling score / shapes / trends |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in args.tables:
        train, holdout = split(load(name))
        schema = infer_schema(train)
        ceiling = None
        for encoding in ENCODINGS:
            runs = []
            for seed in args.seeds:
                started = time.perf_counter()
                syn = Synthesizer(schema=schema, numeric_encoding=encoding, seed=seed).fit(train)
                seconds = time.perf_counter() - started
                fake = syn.sample(len(train), seed=seed + 100)
                report = evaluate(train, fake, schema=schema, holdout=holdout, metrics=["quality"], seed=0).to_dict()
                ceiling = report["ceiling"]["quality"]
                q = report["quality"]
                runs.append({"seed": seed, "fit_seconds": seconds, "epochs": syn.fit_info_.epochs_run,
                             "score": q["score"], "shapes": q["column_shapes"], "trends": q["column_pair_trends"]})
            med = {k: statistics.median(r[k] for r in runs) for k in ("fit_seconds", "epochs", "score", "shapes", "trends")}
            rows.append({"table": name, "encoding": encoding, "runs": runs, "median": med, "ceiling": ceiling})
            line = (f"| {name} | {encoding} | {med['fit_seconds']:.1f} | {med['epochs']:.0f} | {med['score']:.4f} | "
                    f"{med['shapes']:.4f} | {med['trends']:.4f} | {ceiling['score']:.4f} / {ceiling['column_shapes']:.4f} / "
                    f"{ceiling['column_pair_trends']:.4f} |")
            lines.append(line)
            print(line, flush=True)
    write_results("encoding", {"meta": machine(), "seeds": args.seeds, "results": rows}, lines)


if __name__ == "__main__":
    main()
