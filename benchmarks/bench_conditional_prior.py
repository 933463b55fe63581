"""The conditional prior on first use: what it costs and what it imputes.

The conditional prior (``synthvae.conditional_prior``) is trained the first time a model
samples with conditions, augments, imputes or is saved: on the wide tables that cost exceeds the
fit's own. This script fits synthvae at its defaults on each table (every row; ``--seeds``),
times that training, then imputes ``--rows`` of the table's rows with 20% of the cells of up to
12 numeric and 8 categorical columns hidden (numeric RMSE in units of the column's standard
deviation, category accuracy; ``method="mean"``), and checks multiple imputation on 300 of the
model's own rows with 30% of their numeric cells hidden: the share of hidden values inside the
central 90% of 20 draws (randomised PIT; 0.90 for draws from the model's own conditional).
``--max-steps`` sets the most training steps (``synthesizer._CONDITIONAL_MAX_STEPS``, and
``_CONDITIONAL_NARROW_MAX_STEPS`` alike) to compare caps side by side; without it, the library's
caps (1,500 steps above 16 latent axes, 3,000 below).

Run: ``python benchmarks/bench_conditional_prior.py [--tables loans diamonds] [--seeds 0]
[--max-steps 1500 3000]``. Writes ``benchmarks/results/conditional_prior.{json,md}``
(``--stem``). 1 torch thread; about 3-5 minutes a table and setting on a quiet machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load, machine, randomised_pit, write_results  # noqa: E402

import synthvae.synthesizer as synthesizer_module  # noqa: E402
from synthvae import Synthesizer  # noqa: E402


def measure(table: str, seed: int, rows: int) -> dict:
    frame = load(table)
    started = time.perf_counter()
    model = Synthesizer(seed=seed).fit(frame)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    model.conditional_
    prior_s = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    # Columns that vary (flights' year is one value: its RMSE in standard units was 0 / 0).
    numeric = [c.name for c in model.schema_ if c.kind.value == "numeric" and frame[c.name].std() > 0][:12]
    categorical = [c.name for c in model.schema_ if c.kind.value == "categorical"][:8]
    columns = numeric + categorical
    held = frame.sample(rows, random_state=seed).reset_index(drop=True)
    hidden = rng.random((rows, len(columns))) < 0.2
    holed = held.copy()
    for j, name in enumerate(columns):
        holed[name] = holed[name].mask(hidden[:, j])
    started = time.perf_counter()
    filled = model.impute(holed, seed=0)
    impute_s = time.perf_counter() - started
    errors, hits = [], []
    for j, name in enumerate(columns):
        cells = hidden[:, j] & held[name].notna().to_numpy()
        if name in numeric:
            scale = frame[name].std()
            errors.append(np.sqrt(np.mean(((filled[name].to_numpy(float)[cells] - held[name].to_numpy(float)[cells]) / scale) ** 2)))
        else:
            hits.append(np.mean(filled[name].astype(str).to_numpy()[cells] == held[name].astype(str).to_numpy()[cells]))
    own = model.sample(300, seed=11)
    gaps = rng.random((300, len(numeric))) < 0.3
    holed = own.copy()
    for j, name in enumerate(numeric):
        holed[name] = holed[name].mask(gaps[:, j])
    tables = model.impute(holed, method="draw", draws=20, seed=0)
    pits = []
    for j, name in enumerate(numeric):
        cells = gaps[:, j] & own[name].notna().to_numpy()
        draws = np.stack([t[name].to_numpy(float)[cells] for t in tables], axis=1)
        pits.append(randomised_pit(draws, own[name].to_numpy(float)[cells], rng))
    pit = np.concatenate(pits)
    return {
        "table": table, "seed": seed, "max_steps": [synthesizer_module._CONDITIONAL_MAX_STEPS, synthesizer_module._CONDITIONAL_NARROW_MAX_STEPS],
        "fit_s": round(fit_s, 1), "prior_s": round(prior_s, 1), "prior_steps": 100 * len(model.conditional_history_),
        "axes": model.conditional_.config.out_dim, "impute_s": round(impute_s, 1),
        "rmse": round(float(np.mean(errors)), 4), "accuracy": round(float(np.mean(hits)), 4) if hits else None,
        "coverage": round(float(np.mean((pit > 0.05) & (pit < 0.95))), 3),
        "below": round(float(np.mean(pit <= 0.05)), 3), "above": round(float(np.mean(pit >= 0.95)), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", nargs="+", default=["loans", "diamonds"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--max-steps", nargs="+", type=int, default=None,
                        help="caps to compare, one for every latent width (default: the library's own)")
    parser.add_argument("--rows", type=int, default=600, help="Rows imputed per table (default 600).")
    parser.add_argument("--stem", default="conditional_prior")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = []
    header = ("| table | seed | max steps | fit s | prior s | prior steps | axes | impute s | RMSE (sd units) "
              "| category accuracy | central-90% coverage (below / above) |")
    markdown = ["# The conditional prior on first use", "", f"Machine: {machine()}", "", header, "|" + "---|" * 11]
    for table in args.tables:
        for cap in args.max_steps or [None]:
            if cap is not None:  # one cap for every latent width (the library's is wider for narrow latents)
                synthesizer_module._CONDITIONAL_MAX_STEPS = synthesizer_module._CONDITIONAL_NARROW_MAX_STEPS = cap
            for seed in args.seeds:
                row = measure(table, seed, args.rows)
                results.append(row)
                line = (f"| {table} | {seed} | {'default' if cap is None else f'{cap:,}'} | {row['fit_s']} | {row['prior_s']} | {row['prior_steps']:,} | {row['axes']} "
                        f"| {row['impute_s']} | {row['rmse']:.4f} | {row['accuracy']} | {row['coverage']:.3f} "
                        f"({row['below']:.3f} / {row['above']:.3f}) |")
                markdown.append(line)
                print(line, flush=True)
    print("wrote", write_results(args.stem, {"machine": machine(), "results": results}, markdown))


if __name__ == "__main__":
    main()
