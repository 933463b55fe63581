"""Core benchmark: fit seconds, sampling rows/s and per-column marginals, real vs synthetic.

For each table: fit a Synthesizer at its defaults on the whole table, sample as many rows as the
table has (plus a large draw for rows/s), and compare per-column null rates and category
frequencies. Prints a markdown table and writes JSON + markdown to benchmarks/results/.

Run: python benchmarks/bench_core.py [--tables churn german_credit diamonds] [--sample-rows 1000000]
     [--flush-denormal-ab]  (also fit with denormal flushing on, to measure what it buys)
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time

from common import FILES, load, machine, write_results

from synthvae import Synthesizer, infer_schema
from synthvae.demo import marginal_summary


def run_table(name: str, sample_rows: int, ab: bool) -> dict:
    real = load(name)
    schema = infer_schema(real)
    started = time.perf_counter()
    syn = Synthesizer(schema=schema, seed=0).fit(real)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = syn.sample(len(real), seed=1)
    same_size_seconds = time.perf_counter() - started
    started = time.perf_counter()
    syn.sample(sample_rows, seed=2)
    big_seconds = time.perf_counter() - started
    columns = marginal_summary(real, synthetic, schema)
    result = {
        "table": name,
        "rows": len(real),
        "columns": real.shape[1],
        "encoded_width": syn.fit_info_.encoded_width,
        "epochs_run": syn.fit_info_.epochs_run,
        "epochs_planned": syn.fit_info_.epochs_planned,
        "fit_seconds": round(fit_seconds, 2),
        "sample_rows_per_second_same_size": round(len(real) / same_size_seconds),
        "sample_rows": sample_rows,
        "sample_rows_per_second": round(sample_rows / big_seconds),
        "max_null_rate_gap": round(max(abs(c["null_rate_real"] - c["null_rate_synthetic"]) for c in columns), 4),
        "mean_category_tvd": round(
            sum(c["tvd"] for c in columns if "tvd" in c) / max(1, sum("tvd" in c for c in columns)), 4
        ),
        "columns_compared": columns,
    }
    if ab:
        flushed = Synthesizer(schema=schema, seed=0)
        started = time.perf_counter()
        # Same fit with denormal flushing on (the default is off): only the flag differs.
        default_config = flushed._train_config
        flushed._train_config = lambda *a: dataclasses.replace(default_config(*a), flush_denormal=True)  # type: ignore[method-assign]
        flushed.fit(real)
        result["fit_seconds_with_flush_denormal"] = round(time.perf_counter() - started, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=["german_credit", "churn", "loans", "diamonds", "flights100k"], choices=sorted(FILES))
    parser.add_argument("--sample-rows", type=int, default=1_000_000)
    parser.add_argument("--flush-denormal-ab", action="store_true")
    args = parser.parse_args()
    results = []
    header = "| table | rows | cols | width | epochs | fit s | sample rows/s (n=rows) | rows/s (n=%d) | max null gap | mean cat TVD |" % args.sample_rows
    lines = [header, "|" + "---|" * 10]
    for name in args.tables:
        r = run_table(name, args.sample_rows, args.flush_denormal_ab)
        results.append(r)
        line = (
            f"| {name} | {r['rows']} | {r['columns']} | {r['encoded_width']} | {r['epochs_run']}/{r['epochs_planned']} | "
            f"{r['fit_seconds']} | {r['sample_rows_per_second_same_size']:,} | {r['sample_rows_per_second']:,} | "
            f"{r['max_null_rate_gap']} | {r['mean_category_tvd']} |"
        )
        if "fit_seconds_without_flush_denormal" in r:
            line += f" no-flush fit s: {r['fit_seconds_without_flush_denormal']}"
        lines.append(line)
        print(line, flush=True)
    meta = {**machine(), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    write_results("core", {"meta": meta, "results": results}, lines)


if __name__ == "__main__":
    main()
