"""Time zones and durations, measured against the same data without them.

1. Time zones: seattle_weather's daily dates as midnights in ``--zones`` (Europe/Paris,
   America/New_York, Asia/Kathmandu), each fitted at the defaults with fit seeds 0, 1, 2, beside
   the same dates without a zone. For each: the inferred ``timezone`` and ``unit``, the share of
   sampled dates (as many rows as the table) at a midnight of the zone, and our evaluator's
   quality score against the real rows. Before the schema kept zones (2026-12-06), the Paris
   dates were converted to UTC, inferred hourly, and 3.6% of 2,000 dates sampled from a 5-epoch
   fit fell at a Paris midnight.
2. Durations: flights' ``air_time`` (minutes) as a timedelta column beside the same minutes as
   numbers, in a sample of ``--rows`` rows (seed 0) of flights with ``distance``: the inferred
   ``duration`` unit, the quality score, and the correlation of air time with distance in the
   sampled rows against the real one.

Run: ``python benchmarks/bench_zones.py [--zones Europe/Paris ...] [--rows 20000]``.
Writes ``benchmarks/results/zones.{json,md}``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load, machine, write_results  # noqa: E402

from synthvae import Synthesizer, evaluate  # noqa: E402

SEEDS = (0, 1, 2)


def zoned(data: pd.DataFrame, zone: str | None) -> dict:
    """Fits of seattle_weather with its dates as midnights of ``zone`` (``None``: naive)."""
    frame = data.copy()
    frame["date"] = pd.to_datetime(frame["date"])
    if zone is not None:
        frame["date"] = frame["date"].dt.tz_localize(zone)
    fits = []
    for seed in SEEDS:
        started = time.perf_counter()
        syn = Synthesizer(seed=seed).fit(frame)
        seconds = time.perf_counter() - started
        rows = syn.sample(len(frame), seed=1)
        dates = rows["date"]
        quality = evaluate(frame, rows, schema=syn.schema_, metrics=["quality"]).to_dict()["quality"]["score"]
        fits.append({"seed": seed, "fit_seconds": seconds, "timezone": syn.schema_["date"].timezone,
                     "unit": syn.schema_["date"].unit, "dtype": str(dates.dtype),
                     "share_at_midnight": float((dates == dates.dt.normalize()).mean()), "quality": float(quality)})
    return {"zone": zone, "fits": fits}


def durations(rows: int) -> dict:
    """flights' air time as durations and as numbers, side by side."""
    flights = load("flights100k").dropna(subset=["air_time", "distance"])
    sample = flights.sample(rows, random_state=0)[["air_time", "distance", "origin", "carrier"]].reset_index(drop=True)
    as_duration = sample.assign(air_time=pd.to_timedelta(sample["air_time"], unit="min"))
    real_r = float(np.corrcoef(sample["air_time"], sample["distance"])[0, 1])
    out = {"rows": rows, "real_correlation": real_r}
    for name, frame in (("numbers", sample), ("durations", as_duration)):
        started = time.perf_counter()
        syn = Synthesizer(seed=0).fit(frame)
        seconds = time.perf_counter() - started
        made = syn.sample(rows, seed=1).dropna()
        minutes = made["air_time"].dt.total_seconds() / 60 if name == "durations" else made["air_time"].astype(float)
        quality = evaluate(frame, syn.sample(rows, seed=1), schema=syn.schema_, metrics=["quality"]).to_dict()["quality"]["score"]
        out[name] = {"fit_seconds": seconds, "duration_unit": syn.schema_["air_time"].duration,
                     "dtype": str(made["air_time"].dtype), "quality": float(quality),
                     "correlation": float(np.corrcoef(minutes, made["distance"].astype(float))[0, 1])}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zones", nargs="+", default=["Europe/Paris", "America/New_York", "Asia/Kathmandu"])
    parser.add_argument("--rows", type=int, default=20_000, help="flights rows of the durations comparison")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load("seattle_weather")
    zones = [zoned(data, None)] + [zoned(data, zone) for zone in args.zones]
    timed = durations(args.rows)

    lines = ["# Time zones and durations", "",
             "seattle_weather's daily dates as midnights of a zone, default fits (seeds 0, 1, 2), as many rows sampled "
             "as the table; quality: our evaluator against the real rows. Before the schema kept zones, the Paris dates "
             "were converted to UTC and inferred hourly: 3.6% of 2,000 dates sampled (5 epochs) at a Paris midnight.", "",
             "| zone | inferred timezone / unit | sampled dtype | share at the zone's midnight (per seed) | quality (per seed) |",
             "| --- | --- | --- | --- | --- |"]
    for z in zones:
        first = z["fits"][0]
        shares = " / ".join(format(f["share_at_midnight"], ".3f") for f in z["fits"])
        qualities = " / ".join(format(f["quality"], ".4f") for f in z["fits"])
        lines.append(f"| {z['zone'] or 'none (naive dates)'} | {first['timezone']} / {first['unit']} | {first['dtype']} | "
                     f"{shares} | {qualities} |")
    lines += ["", f"flights' air time ({timed['rows']:,} rows, with distance, origin and carrier; default fit, seed 0); "
                  f"real correlation of air time and distance {timed['real_correlation']:.3f}:", "",
              "| air_time as | duration unit | sampled dtype | quality | sampled correlation with distance | fit s |",
              "| --- | --- | --- | ---: | ---: | ---: |"]
    for name in ("numbers", "durations"):
        t = timed[name]
        lines.append(f"| {name} | {t['duration_unit'] or '-'} | {t['dtype']} | {t['quality']:.4f} | {t['correlation']:.3f} | "
                     f"{t['fit_seconds']:.1f} |")
    lines += ["", f"Machine: {machine()}"]
    write_results("zones", {"zones": zones, "durations": timed, "machine": machine()}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
