"""The fit section of the scale benchmark (issue 7), run by ``bench_scale.py --fit``.

Inputs: flights (``../shared/datasets/flights.csv.gz``, 19 columns) for 10^4 and 10^5 rows (seeded
samples of its 336,776 rows), and for 10^6 (10^7 with ``--long``) rows drawn from a model fitted on
flights (2 epochs), since flights has fewer rows. Each is written as a Parquet dataset folder
(files of 262,144 rows, row groups of 65,536).

Each fit runs in its own process(es), alone, with a fixed number of epochs (3) and no conditional prior (its cost does not depend on the table size):

- ``streamed``: ``Synthesizer.fit(folder)`` (streamed: scan, then shuffled batches from disk);
- ``in_memory``: the same rows read whole (``pandas.read_parquet``) and fitted as a DataFrame;
- ``processes``: 1, or 2 under ``torchrun --nproc-per-node 2`` (gloo; one torch thread each, as
  torchrun sets).

Reported: ``seconds_per_epoch`` (median time between the ends of consecutive epochs, from the
fit's callback), ``first_epoch_end`` (seconds from the start of ``fit`` to the end of epoch 1:
reading, the scan, codecs, the first epoch), ``fit_seconds`` (the whole fit, priors included) and
``peak_rss_mb`` (each process's own ``VmHWM``; for 2 processes the larger one and the sum).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FLIGHTS = ROOT.parent / "shared" / "datasets" / "flights.csv.gz"
FIT_SIZES = (10_000, 100_000, 1_000_000)
LONG_FIT_SIZES = FIT_SIZES + (10_000_000,)

_RUNNER = r"""
import json, os, sys, time
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[5])
import pandas as pd
from synthvae import Synthesizer
data, out, epochs, mode, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[6]
ends = []
start = time.perf_counter()
table = pd.read_parquet(data) if mode == "in_memory" else data
syn = Synthesizer(epochs=epochs, seed=0, conditional=False, batch_size=None if batch == "auto" else int(batch))
syn.fit(table, streaming=None if mode == "in_memory" else True, callback=lambda p: ends.append(time.perf_counter()))
done = time.perf_counter()
with open("/proc/self/status") as status:
    hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
rank = int(os.environ.get("RANK", "0"))
result = {"rank": rank, "hwm_kb": hwm, "ends": [e - start for e in ends], "fit_seconds": done - start,
          "import_seconds": start - t0, "rows": syn.fit_info_.rows, "batch_size": syn.train_config_.resolve_batch_size(syn.fit_info_.rows)}
with open(f"{out}.{rank}.json", "w") as handle:
    json.dump(result, handle)
"""


def prepare_inputs(sizes: list[int], workdir: Path, seed: int = 0) -> dict[int, Path]:
    """A Parquet dataset folder per size (see the module's text)."""
    from synthvae import Synthesizer

    flights = pd.read_csv(FLIGHTS)
    folders = {}
    model = None
    for n in sizes:
        folder = workdir / f"flights-{n}"
        folders[n] = folder
        if folder.exists():
            continue
        if n <= len(flights):
            frame = flights.sample(n, random_state=seed).reset_index(drop=True)
            folder.mkdir(parents=True)
            for i, start in enumerate(range(0, n, 262_144)):
                frame.iloc[start : start + 262_144].to_parquet(folder / f"part-{i:05d}.parquet", row_group_size=65_536)
        else:
            if model is None:
                started = time.perf_counter()
                model = Synthesizer(epochs=2, seed=seed, conditional=False).fit(flights)
                print(f"  fitted the input model on flights in {time.perf_counter() - started:.0f} s", flush=True)
            started = time.perf_counter()
            model.sample_to(folder, n, seed=seed, batch_size=65_536, rows_per_file=262_144)
            print(f"  drew {n:,} input rows in {time.perf_counter() - started:.0f} s", flush=True)
    return folders


def fit_once(folder: Path, mode: str, processes: int, epochs: int, batch: str, workdir: Path) -> dict:
    """One fit in fresh process(es); its timings and memory."""
    runner = workdir / "fit_runner.py"
    runner.write_text(_RUNNER)
    out = workdir / f"fit-{folder.name}-{mode}-{processes}-{batch}"
    for old in workdir.glob(out.name + ".*.json"):
        old.unlink()
    args = [str(folder), str(out), str(epochs), mode, str(ROOT), batch]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if processes == 1:
        command = [sys.executable, str(runner), *args]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes), str(runner), *args]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"fit failed ({' '.join(command)}):\n{done.stderr[-3000:]}")
    ranks = [json.loads(p.read_text()) for p in sorted(workdir.glob(out.name + ".*.json"))]
    main = next(r for r in ranks if r["rank"] == 0)
    gaps = [b - a for a, b in zip(main["ends"], main["ends"][1:])]
    hwm = [r["hwm_kb"] / 1024 for r in ranks]
    return {
        "rows": main["rows"],
        "mode": mode,
        "processes": processes,
        "batch_size": main["batch_size"],
        "epochs": len(main["ends"]),
        "seconds_per_epoch": round(statistics.median(gaps), 3) if gaps else None,
        "first_epoch_end": round(main["ends"][0], 2),
        "fit_seconds": round(main["fit_seconds"], 2),
        "wall_seconds": round(wall, 2),
        "peak_rss_mb": round(max(hwm), 1),
        "peak_rss_mb_all_processes": round(sum(hwm), 1),
    }


def measure_fit(sizes: list[int], workdir: Path, epochs: int = 3, large_batch: int = 4096) -> dict:
    """Streamed and in-memory fits, 1 and 2 processes, over ``sizes``; one larger batch at the
    largest size (memory should follow the batch, not the table)."""
    workdir.mkdir(parents=True, exist_ok=True)
    folders = prepare_inputs(sizes, workdir)
    plan = []
    for n in sizes:
        plan += [(n, "streamed", 1, "auto"), (n, "in_memory", 1, "auto")]
        if n >= 100_000:
            plan.append((n, "streamed", 2, "auto"))
    plan.append((max(sizes), "streamed", 1, str(large_batch)))
    runs = []
    for n, mode, processes, batch in plan:
        run = fit_once(folders[n], mode, processes, epochs, batch, workdir)
        runs.append(run)
        print(
            f"  fit {n:>10,} rows {mode:>9} x{processes} batch {run['batch_size']:>5}: "
            f"{run['seconds_per_epoch']} s/epoch, first epoch ends at {run['first_epoch_end']} s, "
            f"peak RSS {run['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    return {"table": "flights (19 columns); 10^6+ rows drawn from a model fitted on it", "epochs": epochs, "runs": runs}


def fit_markdown(fit: dict) -> list[str]:
    lines = [
        "## Fit (seconds per epoch and peak memory)",
        "",
        f"Input: {fit['table']}; {fit['epochs']} epochs, no conditional prior; each fit in fresh processes.",
        "",
        "| rows | input | processes | batch | s / epoch | epoch 1 ends (s) | fit s | peak RSS MB (per process) | all processes |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in fit["runs"]:
        lines.append(
            f"| {run['rows']:,} | {run['mode']} | {run['processes']} | {run['batch_size']} | {run['seconds_per_epoch']} | "
            f"{run['first_epoch_end']} | {run['fit_seconds']} | {run['peak_rss_mb']:.0f} | {run['peak_rss_mb_all_processes']:.0f} |"
        )
    return lines + [""]
