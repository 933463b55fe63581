"""Conditions on the dates of a calendar datetime, measured on seattle_weather (all rows, the
default fit, seed 0).

1. One date: ``sample(5000, conditions={"date": d})`` for 20 dates drawn at random and 6 at a
   wave's end (the days of the year where the angle's cosine or sine is at its greatest or
   least: January 1st, April 1st, July 2nd, October 1st, December 31st), against the model's
   own rows on that date (``--own`` unconditional rows filtered to it): the largest KS statistic
   of the numeric columns and weather's total variation distance, and the seconds.
2. Several dates: seconds for ``--rows`` rows of 2, 10 and 60 dates drawn at random, of two
   dates three years and five months apart (the first training date among them), of three
   dates with ``weather = sun``, and of 10 and 200 consecutive dates from 2013-03-01, with
   how many rows each date got and the largest difference between a date's share of them and
   its share of the model's own rows on those dates.
3. Several exact times: an event log of minutes (2,000 rows over 180 days; shops open 9:00 to
   19:00, the web all day; default fit, seed 0): seconds for 100 and 2,000 rows of two
   minutes of one day, of consecutive days and a month apart, of 10 minutes of one hour, and
   each time's share.

Run: ``python benchmarks/bench_dates.py [--own 3000000] [--rows 20000]``.
Writes ``benchmarks/results/dates.{json,md}``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import ks_2samp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load, machine, write_results  # noqa: E402

from synthvae import Synthesizer  # noqa: E402

WAVE_ENDS = ["2012-01-01", "2013-01-01", "2014-04-01", "2014-07-02", "2013-10-01", "2015-12-31"]
NUMERIC = ["temp_max", "temp_min", "precipitation", "wind"]


def one_date(syn: Synthesizer, own: pd.DataFrame, day: pd.Timestamp) -> dict:
    mine = own[own["date"] == day]
    started = time.perf_counter()
    drawn = syn.sample(5000, conditions={"date": str(day.date())}, seed=0)
    seconds = time.perf_counter() - started
    shares = mine["weather"].value_counts(normalize=True).sub(drawn["weather"].value_counts(normalize=True), fill_value=0)
    return {"date": str(day.date()), "own_rows": len(mine), "seconds": seconds,
            "max_ks": max(float(ks_2samp(mine[c], drawn[c]).statistic) for c in NUMERIC),
            "weather_tvd": float(shares.abs().sum() / 2)}


def several(syn: Synthesizer, own: pd.DataFrame, dates: list[str], rows: int, **extra: str) -> dict:
    started = time.perf_counter()
    try:
        drawn = syn.sample(rows, conditions={"date": dates, **extra}, seed=0)
    except Exception as error:  # a failure is a result here
        return {"dates": len(dates), "seconds": time.perf_counter() - started, "failed": str(error)[:200]}
    seconds = time.perf_counter() - started
    counts = drawn["date"].value_counts()
    mine = own[own["date"].isin(pd.to_datetime(dates))]
    for column, value in extra.items():
        mine = mine[mine[column] == value]
    error = counts.div(counts.sum()).sub(mine["date"].value_counts(normalize=True), fill_value=0).abs().max()
    return {"dates": len(dates), "seconds": seconds, "all_on_them": bool(drawn["date"].isin(pd.to_datetime(dates)).all()),
            "dates_drawn": int(counts.size), "fewest_rows": int(counts.min()), "most_rows": int(counts.max()),
            "own_rows": len(mine), "largest_share_error": float(error)}


def event_log(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Purchases by the minute over 180 days: shops open 9:00 to 19:00, the web all day."""
    rng = np.random.default_rng(seed)
    day = pd.Timestamp("2023-01-02") + pd.to_timedelta(rng.integers(0, 180, n), unit="D")
    shop = rng.random(n) < 0.6
    hour = np.where(shop, rng.integers(9, 19, n), rng.integers(0, 24, n))
    stamps = (day + pd.to_timedelta(hour * 60 + rng.integers(0, 60, n), unit="min")).astype("datetime64[s]")
    return pd.DataFrame({"ts": stamps, "channel": np.where(shop, "shop", "web"), "amount": np.round(rng.gamma(2, 12, n), 2)})


def exact_times() -> tuple[float, list[dict]]:
    frame = event_log()
    started = time.perf_counter()
    syn = Synthesizer(seed=0).fit(frame)
    fit_seconds = time.perf_counter() - started
    requests = {"03:05 and 10:05 of one day": ["2023-03-15 03:05", "2023-03-15 10:05"],
                "10:05 and 10:50 of one day": ["2023-03-15 10:05", "2023-03-15 10:50"],
                "10:05 and 10:50 of consecutive days": ["2023-03-15 10:05", "2023-03-16 10:50"],
                "10:05 and 10:50 a month apart": ["2023-03-15 10:05", "2023-04-15 10:50"],
                "10 minutes of one hour": [f"2023-03-15 10:{m:02d}" for m in range(5, 55, 5)]}
    found = []
    for name, times in requests.items():
        for rows in (100, 2000):
            started = time.perf_counter()
            drawn = syn.sample(rows, conditions={"ts": times}, seed=0)
            shares = drawn["ts"].value_counts(normalize=True).reindex(pd.to_datetime(times), fill_value=0)
            found.append({"request": name, "rows": rows, "seconds": time.perf_counter() - started,
                          "all_on_them": bool(drawn["ts"].isin(pd.to_datetime(times)).all()),
                          "shares": [round(float(v), 3) for v in shares]})
    return fit_seconds, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--own", type=int, default=3_000_000, help="Unconditional rows the model's own rows on a date come from.")
    parser.add_argument("--rows", type=int, default=20_000, help="Rows of each request for several dates.")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load("seattle_weather")
    started = time.perf_counter()
    syn = Synthesizer(seed=0).fit(data)
    fit_seconds = time.perf_counter() - started
    syn.sample(10, conditions={"date": "2013-05-01"}, seed=0)  # the conditional prior, fitted on first use
    own = syn.sample(args.own, seed=11)
    days = pd.date_range("2012-01-01", "2015-12-31", freq="D")
    picked = list(days[np.random.default_rng(0).choice(len(days), 20, replace=False)]) + [pd.Timestamp(d) for d in WAVE_ENDS]
    singles = pd.DataFrame([one_date(syn, own, day) for day in picked])
    sets = []
    for k in (2, 10, 60):
        dates = list(days[np.random.default_rng(k).choice(len(days), k, replace=False)].strftime("%Y-%m-%d"))
        sets.append({"request": f"{k} dates at random", **several(syn, own, dates, args.rows)})
    sets.append({"request": "2012-01-01 and 2015-06-01", **several(syn, own, ["2012-01-01", "2015-06-01"], args.rows)})
    sets.append({"request": "2012-01-10, 2012-07-10, 2013-02-10 with sun",
                 **several(syn, own, ["2012-01-10", "2012-07-10", "2013-02-10"], args.rows, weather="sun")})
    for k in (10, 200):
        consecutive = list(pd.date_range("2013-03-01", periods=k).strftime("%Y-%m-%d"))
        sets.append({"request": f"{k} consecutive dates", **several(syn, own, consecutive, args.rows)})
    unconditional = time.perf_counter()
    syn.sample(args.rows, seed=0)
    unconditional = time.perf_counter() - unconditional

    lines = ["# Conditions on dates (seattle_weather, calendar datetime)", "",
             f"Default fit ({fit_seconds:.1f} s), seed 0; the model's own rows on a date: {args.own:,} unconditional rows "
             "filtered to it. One date: 5,000 rows.", "",
             "| date | own rows | largest numeric KS | weather TVD | seconds |", "| --- | ---: | ---: | ---: | ---: |"]
    for row in singles.itertuples():
        lines.append(f"| {row.date}{' (wave end)' if row.date in WAVE_ENDS else ''} | {row.own_rows:,} | {row.max_ks:.3f} | "
                     f"{row.weather_tvd:.3f} | {row.seconds:.3f} |")
    lines += ["", f"Median / mean / worst largest KS: {singles.max_ks.median():.3f} / {singles.max_ks.mean():.3f} / "
                  f"{singles.max_ks.max():.3f}; weather TVD median / mean: {singles.weather_tvd.median():.3f} / "
                  f"{singles.weather_tvd.mean():.3f}; median seconds {singles.seconds.median():.3f}.", "",
              f"Several dates, {args.rows:,} rows (unconditional: {unconditional:.3f} s):", "",
              "| request | seconds | rows on the dates | dates drawn | fewest / most rows a date | own rows on them | "
              "largest share error |", "| --- | ---: | --- | ---: | --- | ---: | ---: |"]
    for s in sets:
        if "failed" in s:
            lines.append(f"| {s['request']} | {s['seconds']:.2f} | failed: {s['failed']} | | | | |")
        else:
            lines.append(f"| {s['request']} | {s['seconds']:.2f} | {s['all_on_them']} | {s['dates_drawn']} | "
                         f"{s['fewest_rows']:,} / {s['most_rows']:,} | {s['own_rows']:,} | {s['largest_share_error']:.3f} |")
    times_fit, times = exact_times()
    lines += ["", f"Several exact times of an event log of minutes (default fit, {times_fit:.1f} s):", "",
              "| request | rows | seconds | rows on the times | shares |", "| --- | ---: | ---: | --- | --- |"]
    lines += [f"| {t['request']} | {t['rows']:,} | {t['seconds']:.2f} | {t['all_on_them']} | {' / '.join(f'{v:.3f}' for v in t['shares'])} |"
              for t in times]
    lines += ["", f"Machine: {machine()}"]
    write_results("dates", {"fit_seconds": fit_seconds, "own_rows": args.own, "one_date": singles.to_dict("records"),
                            "several_dates": sets, "unconditional_seconds": unconditional, "exact_times_fit_seconds": times_fit,
                            "exact_times": times, "machine": machine()}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
