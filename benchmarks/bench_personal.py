"""Sampling a table with personal columns: what the made-up names, e-mails and phones cost.

Personal columns are never learned: sampling makes their values with Faker (see
``synthvae.preprocessing.codecs.PersonalCodec``). This script builds a customer table of
``--rows`` rows (Faker in another locale and seed, as the tests' ``people`` table), with a name,
an e-mail, a phone, notes, an age, a credit limit at least the age (an inequality rule, so
sampling checks rows) and a plan. It fits synthvae once (1 torch thread) and times, median of
``--repeats``:

* ``sample(n)`` for each ``--sizes`` n, with the personal columns and with them dropped
  (``strategy: drop``, the same model otherwise): the difference is what the personal values cost;
* ``sample(2000)`` given ``limit >= 130``, a condition on the rule's rebuilt column that only a
  check after drawing meets (most drawn rows are rejected).

Run: ``python benchmarks/bench_personal.py [--rows 2000] [--sizes 10000 100000] [--repeats 3]``.
Writes ``benchmarks/results/personal.{json,md}``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, write_results  # noqa: E402

from synthvae import Schema, Synthesizer, infer_schema  # noqa: E402

PERSONAL = ["name", "email", "phone", "notes"]
CONDITION = {"limit": {">=": 130}}


def people(rows: int) -> pd.DataFrame:
    """The customer table (see the module docstring)."""
    from faker import Faker

    fake = Faker("en_GB")
    fake.seed_instance(11)
    rng = np.random.default_rng(3)
    age = rng.integers(18, 90, rows)
    return pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(rows)],
        "name": [fake.name() for _ in range(rows)],
        "email": [fake.free_email() for _ in range(rows)],
        "phone": [fake.phone_number() for _ in range(rows)],
        "notes": [fake.paragraph(nb_sentences=2) for _ in range(rows)],
        "age": age,
        "limit": age + rng.integers(0, 60, rows),
        "plan": rng.choice(["basic", "plus", "pro"], rows),
    })


def schema_of(frame: pd.DataFrame, drop: bool) -> Schema:
    document = infer_schema(frame).to_dict()
    for column in document["columns"]:
        if column["name"] in PERSONAL:
            assert column["kind"] == "personal", column
            if drop:
                column["strategy"] = "drop"
    document["constraints"] = [{"kind": "inequality", "low": "age", "high": "limit"}]
    return Schema.from_dict(document)


def median_seconds(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stem", default="personal")
    args = parser.parse_args()
    torch.set_num_threads(1)
    frame = people(args.rows)
    fits = {drop: Synthesizer(schema_of(frame, drop), epochs=20, seed=0).fit(frame) for drop in (False, True)}
    results = []
    for n in args.sizes:
        kept = median_seconds(lambda: fits[False].sample(n, seed=1), args.repeats)
        dropped = median_seconds(lambda: fits[True].sample(n, seed=1), args.repeats)
        results.append({"case": f"sample({n:,})", "seconds": kept, "seconds_dropped": dropped, "drawn": n})
    fits[False].sample(10, conditions=CONDITION, seed=0)  # the conditional prior, trained on first use
    fits[True].sample(10, conditions=CONDITION, seed=0)
    kept = median_seconds(lambda: fits[False].sample(2000, conditions=CONDITION, seed=1), args.repeats)
    drawn = fits[False].last_resampling_["drawn"]
    dropped = median_seconds(lambda: fits[True].sample(2000, conditions=CONDITION, seed=1), args.repeats)
    results.append({"case": "sample(2,000) given limit >= 130", "seconds": kept, "seconds_dropped": dropped, "drawn": drawn})
    lines = ["# Sampling with personal columns", "",
             f"Table: {args.rows} rows, personal columns {', '.join(PERSONAL)}; medians of {args.repeats}, 1 torch thread.", "",
             "| case | rows drawn | seconds | personal columns dropped | personal share |", "|---|---:|---:|---:|---:|"]
    for r in results:
        share = (r["seconds"] - r["seconds_dropped"]) / r["seconds"]
        lines.append(f"| {r['case']} | {r['drawn']:,} | {r['seconds']:.2f} | {r['seconds_dropped']:.2f} | {share:.0%} |")
    lines += ["", f"Machine: {machine()}"]
    print("\n".join(lines))
    write_results(args.stem, {"machine": machine(), "args": vars(args), "results": results}, lines)


if __name__ == "__main__":
    main()
