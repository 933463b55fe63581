"""Datetime encodings side by side: ``datetime_encoding="timestamp"`` against ``"calendar"`` and
the default ``"auto"`` on tables whose datetimes carry different structure.

The shared tables hold one datetime of a finer unit than a day, flights' ``time_hour``, which its
own year, month, day and hour columns compose (derived rules), so no encoding touches it. So the
tables here are generated, seeded, each for one kind of structure:

- ``event_log``: 20,000 purchases over 2023 in minutes: shop hours for the store channel,
  evenings for the web, a quarter of the volume on weekends, amounts larger in the evening and
  on Fridays. Measured: hour-of-day TVD, weekday TVD, the web share by 3-hour block (mean
  absolute error) and Friday's median amount.
- ``sensor``: hourly readings of two years in Europe/Paris (its clock changes included):
  temperature by season and hour, load in working hours. Measured: the mean absolute error of
  the mean temperature and load by hour of the day.
- ``uniform``: 6,000 times spread evenly over three years in seconds beside unrelated columns
  (no structure to find).
- ``burst``: 5,000 request times within one hour, in milliseconds.
- ``signup``: 6,000 signup times in seconds over five years and a customer number that grows
  with them; ``signup_days``: the same in whole days over twelve years (where "auto" chose the
  calendar before too). Measured: the Spearman correlation of the time with the number.
- ``inflation``: 5,000 daily prices over twenty years, 4% a year and a seasonal swing.
  Measured: the Spearman correlation of date and price.

Each table is split 80/20 at random (seed 0); each encoding is fitted at the defaults with fit
seeds ``--seeds``; quality and detection compare as many sampled rows as the held-out rows with
them, the closer share a training-size sample with the training and held-out rows.

Run: ``python benchmarks/bench_datetime_encoding.py [--seeds 0 1] [--tables event_log ...]``
(1 torch thread). Writes ``benchmarks/results/datetime_encoding.{json,md}``.
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
from common import machine, write_results  # noqa: E402

from synthvae import Synthesizer, evaluate  # noqa: E402

ENCODINGS = ("timestamp", "calendar", "auto")


def event_log(rng: np.random.Generator, n: int = 20_000) -> pd.DataFrame:
    days = pd.date_range("2023-01-01", "2023-12-31", freq="D")
    weekday = days.day_of_week.to_numpy()
    weight = np.where(weekday >= 5, 0.25, 1.0) * (1 + 0.3 * np.sin(2 * np.pi * np.arange(len(days)) / 365))
    day = rng.choice(len(days), n, p=weight / weight.sum())
    store = rng.random(n) < 0.6
    hour = np.where(store, np.clip(rng.normal(13, 3, n), 8, 21), rng.normal(21, 3, n) % 24)
    stamps = days[day] + pd.to_timedelta((hour * 60).astype(int), unit="min")
    amount = np.round(np.exp(rng.normal(3 + 0.05 * (hour - 12) + 0.3 * (weekday[day] == 4), 0.5)), 2)
    return pd.DataFrame({"ts": stamps, "channel": np.where(store, "store", "web"), "amount": amount,
                         "items": rng.poisson(1 + amount / 30)})


def sensor(rng: np.random.Generator, n: int = 2 * 365 * 24) -> pd.DataFrame:
    stamps = pd.date_range("2021-01-01", periods=n, freq="h", tz="Europe/Paris")
    day, hour = stamps.day_of_year.to_numpy(), stamps.hour.to_numpy()
    temp = 12 - 8 * np.cos(2 * np.pi * day / 365) - 4 * np.cos(2 * np.pi * (hour - 3) / 24) + rng.normal(0, 2, n)
    load = 50 + 20 * ((hour >= 8) & (hour < 19)) + rng.normal(0, 5, n)
    return pd.DataFrame({"ts": stamps, "temp": temp.round(1), "load": load.round(1)})


def uniform(rng: np.random.Generator, n: int = 6000) -> pd.DataFrame:
    stamps = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365 * 86400, n), unit="s")
    return pd.DataFrame({"ts": stamps, "x": rng.normal(0, 1, n).round(3), "c": rng.choice(list("abc"), n)})


def burst(rng: np.random.Generator, n: int = 5000) -> pd.DataFrame:
    stamps = pd.Timestamp("2024-05-03 14:00") + pd.to_timedelta(np.sort(rng.integers(0, 3600 * 1000, n)), unit="ms")
    return pd.DataFrame({"ts": stamps, "latency": np.exp(rng.normal(3, 0.7, n)).round(2),
                         "status": rng.choice(["200", "404", "500"], n, p=[0.9, 0.07, 0.03])})


def signup(rng: np.random.Generator, n: int = 6000, unit: str = "s", years: int = 5) -> pd.DataFrame:
    per_year = 365 * (86400 if unit == "s" else 1)
    stamps = pd.Timestamp("2018-01-01") + pd.to_timedelta(np.sort(rng.integers(0, years * per_year, n)), unit=unit)
    number = np.arange(n) * 3 + rng.integers(0, 3, n) + 10000
    return pd.DataFrame({"ts": stamps, "customer_no": number.astype(float), "spend": np.exp(rng.normal(4, 1, n)).round(2)})


def inflation(rng: np.random.Generator, n: int = 5000) -> pd.DataFrame:
    stamps = pd.Timestamp("2000-01-01") + pd.to_timedelta(rng.integers(0, 20 * 365, n), unit="D")
    years = (stamps - pd.Timestamp("2000-01-01")).days / 365.25
    price = 100 * 1.04**years * np.exp(rng.normal(0, 0.05, n)) * (1 + 0.1 * np.cos(2 * np.pi * stamps.day_of_year / 365))
    return pd.DataFrame({"ts": stamps, "price": np.round(price, 2), "region": rng.choice(["n", "s"], n)})


TABLES = {
    "event_log": event_log, "sensor": sensor, "uniform": uniform, "burst": burst, "signup": signup,
    "signup_days": lambda rng: signup(rng, unit="D", years=12), "inflation": inflation,
}


def _tvd(a: pd.Series, b: pd.Series) -> float:
    return float(0.5 * a.value_counts(normalize=True).sub(b.value_counts(normalize=True), fill_value=0).abs().sum())


def structure(table: str, real: pd.DataFrame, rows: pd.DataFrame) -> dict:
    """The table's own measures of its datetime's structure, the sampled rows against the real."""
    a, b = real["ts"], rows["ts"]
    if table == "event_log":
        web = lambda f: f.groupby(f["ts"].dt.hour // 3)["channel"].apply(lambda s: (s == "web").mean())  # noqa: E731
        friday = lambda f: float(f.loc[f["ts"].dt.day_of_week == 4, "amount"].median())  # noqa: E731
        return {"hour_tvd": _tvd(a.dt.hour, b.dt.hour), "weekday_tvd": _tvd(a.dt.day_of_week, b.dt.day_of_week),
                "web_share_by_3h_error": float((web(real) - web(rows)).abs().mean()),
                "friday_median_amount": friday(rows), "friday_median_amount_real": friday(real)}
    if table == "sensor":
        by_hour = lambda f, c: f.groupby(f["ts"].dt.hour)[c].mean()  # noqa: E731
        return {"temp_by_hour_error": float((by_hour(real, "temp") - by_hour(rows, "temp")).abs().mean()),
                "load_by_hour_error": float((by_hour(real, "load") - by_hour(rows, "load")).abs().mean())}
    if table in ("signup", "signup_days", "inflation"):
        other = real.columns[1]
        return {f"spearman_{other}": float(b.rank().corr(rows[other].rank())),
                f"spearman_{other}_real": float(a.rank().corr(real[other].rank()))}
    return {}


def run(table: str, encoding: str, seed: int, train: pd.DataFrame, holdout: pd.DataFrame) -> dict:
    syn = Synthesizer(seed=seed, datetime_encoding=encoding)
    started = time.perf_counter()
    syn.fit(train)
    seconds = time.perf_counter() - started
    rows = syn.sample(len(holdout), seed=0)
    held = evaluate(holdout, rows, seed=0, metrics=["quality", "detection"]).to_dict()
    privacy = evaluate(train, syn.sample(len(train), seed=0), holdout=holdout, seed=0, metrics=["privacy"]).to_dict()
    return {"table": table, "encoding": encoding, "seed": seed, "fit_seconds": seconds,
            "as_parts": "ts~year" in syn.preprocessor_.schema.names,
            "quality": held["quality"]["score"], "detection_auc": held["detection"]["auc"],
            "closer_share": privacy["privacy"]["dcr_closer_to_train_share"], **structure(table, holdout, rows)}


def markdown(tables: list[str], seeds: list[int], runs: list[dict]) -> list[str]:
    """The results table of each table: ranges over the seeds per encoding."""
    lines = ["# Datetime encodings side by side", "",
             f"Fit seeds {seeds}, generated tables (see the script's docstring), 80/20 split; quality and detection: "
             "sampled rows against the held-out rows; closer: training-size sample. Ranges over the seeds; fit seconds "
             "at 1 thread beside other work (inflated, not compared).", ""]
    for table in tables:
        mine = [r for r in runs if r["table"] == table]
        extra = [k for k in mine[0] if k not in ("table", "encoding", "seed", "fit_seconds", "as_parts", "quality",
                                                 "detection_auc", "closer_share") and not k.endswith("_real")]
        reals = {k: mine[0][k] for k in mine[0] if k.endswith("_real")}
        lines += [f"## {table}" + (" (real: " + ", ".join(f"{k[:-5]} {v:.4g}" for k, v in reals.items()) + ")" if reals else ""), "",
                  "| encoding | parts | fit s | quality | detection AUC | closer |" + "".join(f" {k} |" for k in extra),
                  "|---|---|---|---|---|---|" + "---|" * len(extra)]
        for encoding in ENCODINGS:
            got = [r for r in mine if r["encoding"] == encoding]
            span = lambda k: f"{min(r[k] for r in got):.4g}-{max(r[k] for r in got):.4g}"  # noqa: E731
            lines.append(f"| {encoding} | {'yes' if got[0]['as_parts'] else 'no'} | {span('fit_seconds')} | {span('quality')} | "
                         f"{span('detection_auc')} | {span('closer_share')} |" + "".join(f" {span(k)} |" for k in extra))
        lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--tables", nargs="+", choices=sorted(TABLES), default=list(TABLES))
    parser.add_argument("--stem", default="datetime_encoding")
    args = parser.parse_args()
    torch.set_num_threads(1)
    runs = []
    for table in args.tables:
        frame = TABLES[table](np.random.default_rng(0)).sample(frac=1.0, random_state=0).reset_index(drop=True)
        cut = int(0.8 * len(frame))
        train, holdout = frame.iloc[:cut].reset_index(drop=True), frame.iloc[cut:].reset_index(drop=True)
        for encoding in ENCODINGS:
            for seed in args.seeds:
                runs.append(run(table, encoding, seed, train, holdout))
                print({k: round(v, 4) if isinstance(v, float) else v for k, v in runs[-1].items()}, flush=True)
    lines = markdown(args.tables, args.seeds, runs)
    lines.append(f"Machine: {machine()}")
    write_results(args.stem, {"machine": machine(), "seeds": args.seeds, "runs": runs}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
