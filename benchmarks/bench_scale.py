"""Scale (issue 7): sampling rows/s and peak memory from 10^5 to 10^7 (10^8) rows to Parquet.

The table is churn (``../shared/datasets/churn.csv``): 5,000 rows and exactly 20 columns,
15 numeric (integers and 1-2 decimals) and 5 categorical (``state`` with 51 categories). A
Synthesizer is fitted once with few epochs (speed does not depend on them; the network is the
default one) and saved; then, for each n, ``python -m synthvae sample MODEL -n N -o out.parquet``
runs in its own process, alone:

- ``sample_seconds``: the CLI's own figure (``wrote N rows ... in X s``): drawing, decoding,
  writing; ``rows_per_second`` is n over it. ``wall_seconds`` adds the process start, imports and
  model load (about 1.5 s), so ``rows_per_second_wall`` is lower at 10^5 rows.
- ``peak_rss_mb``: the process's own high-water mark (``VmHWM`` of ``/proc/self/status``, read at
  exit by a wrapper; ``ru_maxrss`` would count the parent's pages inherited at exec).
- ``others_cpu_share``: the share of the machine's CPUs that other processes used meanwhile
  (from ``/proc/stat``); on 2 cores any other load shows up in the rows/s (torch's OpenMP teams
  stall when a core is taken), so each run first waits for the machine to be idle
  (``--wait-idle``), and runs with this share above a few percent should not be compared.
- the output is checked: Parquet metadata row count == n, the schema's columns in order.

``--baseline REV`` runs the same commands on the package as of git revision ``REV`` (extracted
with ``git archive``, nothing in the checkout changes), interleaved with the current code run by
run, so that both see the same machine load: before/after side by side (``--code NAME=FOLDER``
adds any other copy of the package, e.g. one with a proposed change). ``--repeats`` (default 3)
runs of each n up to 10^6, one beyond; the tables report the median.

``--breakdown`` times each stage of sampling 1M rows in this process (batches of
``--batch-size``): latent draw, decoder (matrix products and activations), the draws from the
decoder's outputs, the inverse transform per codec kind, table assembly, rules and ids, Arrow
conversion, Parquet write; and the floor: the decoder's three matrix products alone, with 1 and
2 torch threads.

Run: ``python benchmarks/bench_scale.py [--baseline REV] [--long] [--breakdown] [--sizes 1e5 1e6]``.
Writes ``benchmarks/results/scale_sampling.{json,md,png}`` (``--stem`` to change).

The fit section of issue 7 (seconds per epoch and peak RSS for 10^4..10^6 rows streamed from
Parquet, 1 vs 2 processes) plugs in at :func:`measure_fit`; :func:`plot` draws its panels when
the results hold a ``"fit"`` entry.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, load, machine, write_results  # noqa: E402

sys.path.insert(0, str(ROOT))  # this checkout's synthvae, whatever is installed

TABLE = "churn"
SIZES = (100_000, 1_000_000, 10_000_000)
LONG_SIZES = SIZES + (100_000_000,)

# Runs `python -m synthvae ...` and, at exit, writes the process's own peak RSS (VmHWM) to the
# file named by SYNTHVAE_BENCH_HWM. Imports of this wrapper are the standard library only.
_WRAPPER = r"""
import atexit, os, runpy, sys
def _report():
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    with open(os.environ["SYNTHVAE_BENCH_HWM"], "w") as out:
        out.write(str(kb))
atexit.register(_report)
sys.argv = ["synthvae", *sys.argv[1:]]
runpy.run_module("synthvae", run_name="__main__", alter_sys=True)
"""
_CLI_SECONDS = re.compile(r"wrote .* in ([0-9.]+) s")


# --------------------------------------------------------------------------- the model
def fit_model(path: Path, epochs: int) -> dict:
    """Fit the benchmark's model on the whole churn table and save it to ``path``."""
    from synthvae import Synthesizer

    frame = load(TABLE)
    started = time.perf_counter()
    syn = Synthesizer(epochs=epochs, seed=0).fit(frame)
    seconds = time.perf_counter() - started
    syn.save(path)
    config = syn.model_.config
    return {
        "table": TABLE,
        "rows": len(frame),
        "columns": frame.shape[1],
        "column_kinds": {kind: sum(c.kind.value == kind for c in syn.schema_) for kind in sorted({c.kind.value for c in syn.schema_})},
        "encoded_width": int(config.data_dim),
        "latent_dim": int(config.latent_dim),
        "hidden_dims": list(config.hidden_dims),
        "prior_components": None if syn.prior_ is None else syn.prior_.n_components,
        "epochs": epochs,
        "fit_seconds": round(seconds, 2),
    }


def extract_revision(revision: str, folder: Path) -> Path:
    """The ``synthvae`` package as of ``revision``, extracted under ``folder`` (git archive)."""
    archive = subprocess.run(["git", "archive", "--format=tar", revision, "synthvae"], cwd=ROOT, check=True, capture_output=True).stdout
    target = folder / f"rev-{revision}"
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


# --------------------------------------------------------------------------- one sampling run
def _cpu_busy() -> tuple[float, float]:
    """Busy and total jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [float(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def wait_until_idle(timeout: float, threshold: float = 0.08) -> float:
    """Wait until the machine's CPUs are busy less than ``threshold`` of a 3-second window (other
    processes: on 2 shared cores they decide the rows/s), at most ``timeout`` seconds; returns the
    seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        busy0, total0 = _cpu_busy()
        time.sleep(3)
        busy1, total1 = _cpu_busy()
        if (busy1 - busy0) / max(total1 - total0, 1.0) < threshold:
            break
    return time.monotonic() - started


def sample_once(model: Path, n: int, code: Path, workdir: Path, batch_size: int | None, threads: int | None) -> dict:
    """Run the CLI's ``sample`` on ``model`` for ``n`` rows with the package at ``code``; check and
    remove the output."""
    import pyarrow.parquet as pq

    out = workdir / f"out-{n}.parquet"
    hwm = workdir / "hwm.txt"
    hwm.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(code), "SYNTHVAE_BENCH_HWM": str(hwm)}
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    command = [sys.executable, "-c", _WRAPPER, "sample", str(model), "-n", str(n), "-o", str(out), "--seed", "0"]
    if batch_size:
        command += ["--batch-size", str(batch_size)]
    busy0, total0 = _cpu_busy()
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    busy1, total1 = _cpu_busy()
    process.stdout.read()  # the rows go to a file; stdout is only drained
    stderr = process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"sample -n {n} failed ({process.returncode}): {stderr[-2000:]}")
    match = _CLI_SECONDS.search(stderr)
    sample_seconds = float(match.group(1)) if match else float("nan")
    metadata = pq.ParquetFile(out).metadata
    columns = list(pq.ParquetFile(out).schema_arrow.names)
    size_mb = out.stat().st_size / 2**20
    out.unlink()
    ncpu = os.cpu_count() or 1
    cpu_seconds = usage.ru_utime + usage.ru_stime
    # /proc/stat counts in jiffies of all CPUs; its total advances ncpu * wall seconds.
    jiffy = (total1 - total0) / max(wall * ncpu, 1e-9)
    others = max(0.0, ((busy1 - busy0) / jiffy - cpu_seconds) / (wall * ncpu)) if jiffy > 0 else float("nan")
    return {
        "n": n,
        "rows_written": int(metadata.num_rows),
        "rows_ok": int(metadata.num_rows) == n,
        "row_groups": int(metadata.num_row_groups),
        "columns": columns,
        "file_mb": round(size_mb, 1),
        "sample_seconds": sample_seconds,
        "wall_seconds": round(wall, 3),
        "rows_per_second": round(n / sample_seconds) if sample_seconds > 0 else None,
        "rows_per_second_wall": round(n / wall),
        "peak_rss_mb": round(int(hwm.read_text()) / 1024, 1),
        "cpu_seconds": round(cpu_seconds, 2),
        "others_cpu_share": round(others, 3),
    }


def sampling(model: Path, sizes: list[int], codes: dict[str, Path], repeats: int, workdir: Path,
             batch_size: int | None, threads: int | None, expected_columns: list[str], wait_idle: float) -> dict:
    """Every size, ``repeats`` runs up to 10^6 rows (one beyond), the code versions interleaved;
    each run first waits (up to ``wait_idle`` seconds) for the machine to be idle."""
    runs: dict[str, dict[int, list[dict]]] = {name: {} for name in codes}
    for n in sizes:
        for rep in range(repeats if n <= 1_000_000 else 1):
            for name, code in codes.items():
                waited = wait_until_idle(wait_idle) if wait_idle else 0.0
                run = sample_once(model, n, code, workdir, batch_size, threads)
                run["waited_for_idle_seconds"] = round(waited, 1)
                if run["columns"] != expected_columns:
                    raise RuntimeError(f"{name}: columns {run['columns']} are not the schema's {expected_columns}")
                runs[name].setdefault(n, []).append(run)
                print(f"  {name:>8} n={n:>11,} rep {rep}: {run['rows_per_second']:>9,} rows/s "
                      f"(wall {run['wall_seconds']:.1f} s), peak RSS {run['peak_rss_mb']:.0f} MB, "
                      f"others' CPU {run['others_cpu_share']:.0%}", flush=True)
    summary = {}
    for name, by_n in runs.items():
        summary[name] = {}
        for n, reps in by_n.items():
            summary[name][str(n)] = {
                "runs": len(reps),
                "rows_ok": all(r["rows_ok"] for r in reps),
                "sample_seconds": statistics.median(r["sample_seconds"] for r in reps),
                "rows_per_second": round(statistics.median(r["rows_per_second"] for r in reps)),
                "rows_per_second_wall": round(statistics.median(r["rows_per_second_wall"] for r in reps)),
                "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in reps),
                "file_mb": reps[0]["file_mb"],
                "others_cpu_share_max": max(r["others_cpu_share"] for r in reps),
            }
    return {"summary": summary, "runs": runs}


# --------------------------------------------------------------------------- stage breakdown
def breakdown(model: Path, n: int, batch_size: int, threads: int | None) -> dict:
    """Seconds per stage for ``n`` rows, drawn as ``Synthesizer.sample_to`` draws them (this
    package's internals), one batch at a time, without overlap; and the decoder's GEMM floor."""
    from collections import defaultdict

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    import torch

    from synthvae import Synthesizer
    from synthvae.model import SAMPLE_CHUNK

    if threads:
        torch.set_num_threads(threads)
    syn = Synthesizer.load(model)
    pre, vae = syn.preprocessor_, syn.model_
    seconds: dict[str, float] = defaultdict(float)
    clock = [time.perf_counter()]

    def lap(stage: str) -> None:
        now = time.perf_counter()
        seconds[stage] += now - clock[0]
        clock[0] = now

    with tempfile.TemporaryDirectory() as folder, torch.inference_mode():
        writer = None
        for batch in range(-(-n // batch_size)):
            rows = min(batch_size, n - batch * batch_size)
            generator, rng = syn._batch_streams(0, batch)
            clock[0] = time.perf_counter()
            z = syn.prior_.sample(rows, generator, syn.device_) if syn.prior_ is not None else torch.randn((rows, vae.config.latent_dim), generator=generator)
            lap("latent draw")
            out = torch.empty((vae.config.data_dim, rows))
            for start in range(0, rows, SAMPLE_CHUNK):
                vae._decode_into(z[start : start + SAMPLE_CHUNK], out[:, start : start + SAMPLE_CHUNK])
            lap("decoder (GEMMs + SiLU)")
            matrix = vae._draw_columns(out, generator).numpy().T
            lap("draws (noise, one-hot spans)")
            columns, start = {}, 0
            for codec in pre.codecs_:
                block = matrix[:, start : start + codec.width]
                columns[codec.column.name] = codec.reverse_transform(block, rng).reset_index(drop=True)
                start += codec.width
                lap(f"inverse: {codec.column.kind.value}")
            frame = pd.DataFrame(columns, index=pd.RangeIndex(rows))
            lap("table assembly")
            frame = pre.finalize(syn.constraints_.reverse(frame).set_axis(pd.RangeIndex(batch * batch_size, batch * batch_size + rows)), offset=batch * batch_size)
            lap("rules and ids")
            table = pa.Table.from_pandas(frame, preserve_index=False)
            lap("Arrow conversion")
            if writer is None:
                writer = pq.ParquetWriter(Path(folder) / "out.parquet", table.schema, write_page_checksum=True)
            writer.write_table(table)
            lap("Parquet write")
        writer.close()
    total = sum(seconds.values())
    config = vae.config
    dims = [config.latent_dim, *reversed(config.hidden_dims), config.data_dim]
    flops = 2 * n * sum(a * b for a, b in zip(dims[:-1], dims[1:]))
    floor = {}
    for count in (1, 2):
        torch.set_num_threads(count)
        weights = [torch.randn(b, a) for a, b in zip(dims[:-1], dims[1:])]
        z = torch.randn(SAMPLE_CHUNK, dims[0])

        def gemms() -> None:
            for _ in range(-(-n // SAMPLE_CHUNK)):
                h = z
                for w in weights:
                    h = h @ w.T

        gemms()
        times = []
        for _ in range(3):
            started = time.perf_counter()
            gemms()
            times.append(time.perf_counter() - started)
        floor[f"{count}_threads"] = round(min(times), 3)
    return {
        "rows": n,
        "batch_size": batch_size,
        "torch_threads": threads or torch.get_num_threads(),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "total_seconds": round(total, 3),
        "rows_per_second_serial": round(n / total),
        "decoder_gflop": round(flops / 1e9, 1),
        "gemm_floor_seconds": floor,
    }


# --------------------------------------------------------------------------- fit (hook)
def measure_fit(args: argparse.Namespace, workdir: Path) -> dict | None:
    """The fit section: :func:`scale_fit.measure_fit` (streamed vs in-memory fits of flights,
    10^4..10^6 rows, 10^7 with ``--long``; 1 vs 2 torchrun processes)."""
    import scale_fit

    sizes = list(scale_fit.LONG_FIT_SIZES if args.long else scale_fit.FIT_SIZES)
    return scale_fit.measure_fit(sizes, workdir / "fit")


def fit_markdown(fit: dict) -> list[str]:
    import scale_fit

    return scale_fit.fit_markdown(fit)


# --------------------------------------------------------------------------- output
def plot(results: dict, path: Path) -> Path | None:
    """Rows/s and peak RSS against n (log scale), one line per code version; the fit panels when
    ``results`` holds them."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fit = results.get("fit")
    panels = 2 + (2 if fit else 0)
    figure, axes = plt.subplots(1, panels, figsize=(5 * panels, 4))
    for name, by_n in results["sampling"]["summary"].items():
        sizes = sorted(int(n) for n in by_n)
        axes[0].plot(sizes, [by_n[str(n)]["rows_per_second"] for n in sizes], marker="o", label=name)
        axes[1].plot(sizes, [by_n[str(n)]["peak_rss_mb"] for n in sizes], marker="o", label=name)
    axes[0].axhline(500_000, color="grey", linestyle="--", linewidth=1, label="goal 500k rows/s")
    axes[0].set(xscale="log", xlabel="rows sampled to Parquet", ylabel="rows / s (sampling, median)", title=f"Sampling speed ({TABLE}, 20 columns)")
    axes[1].set(xscale="log", xlabel="rows sampled to Parquet", ylabel="peak RSS (MB)", title="Sampling memory")
    axes[0].set_ylim(bottom=0, top=max(axes[0].get_ylim()[1], 550_000))
    axes[1].set_ylim(bottom=0)
    if fit:
        for processes in sorted({r["processes"] for r in fit["runs"]}):
            runs = sorted((r for r in fit["runs"] if r["processes"] == processes), key=lambda r: r["rows"])
            axes[2].plot([r["rows"] for r in runs], [r["seconds_per_epoch"] for r in runs], marker="o", label=f"{processes} process(es)")
            axes[3].plot([r["rows"] for r in runs], [r["peak_rss_mb"] for r in runs], marker="o", label=f"{processes} process(es)")
        axes[2].set(xscale="log", xlabel="training rows (streamed from Parquet)", ylabel="seconds / epoch", title="Fit speed")
        axes[3].set(xscale="log", xlabel="training rows (streamed from Parquet)", ylabel="peak RSS (MB)", title="Fit memory")
        axes[3].set_ylim(bottom=0)
    for axis in axes:
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def markdown(results: dict) -> list[str]:
    model = results["model"]
    lines = [
        "# Scale: sampling to Parquet",
        "",
        f"Table {model['table']} ({model['columns']} columns: {model['column_kinds']}), encoded width "
        f"{model['encoded_width']}, network {model['latent_dim']}-{'-'.join(map(str, reversed(model['hidden_dims'])))}-"
        f"{model['encoded_width']} decoder, {model['prior_components']}-component latent prior. "
        f"`python -m synthvae sample MODEL -n N -o out.parquet`, one process per run; rows/s over the CLI's "
        f"sampling seconds (median of the runs), wall rows/s including start-up and model load.",
        "",
        "| code | n | runs | rows/s | rows/s (wall) | peak RSS MB | file MB | rows ok | others' CPU (max) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for name, by_n in results["sampling"]["summary"].items():
        for n in sorted(by_n, key=int):
            s = by_n[n]
            lines.append(
                f"| {name} | {int(n):,} | {s['runs']} | {s['rows_per_second']:,} | {s['rows_per_second_wall']:,} | "
                f"{s['peak_rss_mb']:.0f} | {s['file_mb']} | {s['rows_ok']} | {s['others_cpu_share_max']:.0%} |"
            )
    lines.append("")
    for name, by_n in results["sampling"]["summary"].items():
        if "1000000" in by_n:
            ratios = [f"{by_n[n]['peak_rss_mb'] / by_n['1000000']['peak_rss_mb']:.2f}x at {int(n):,}" for n in sorted(by_n, key=int) if int(n) > 1_000_000]
            if ratios:
                lines.append(f"- {name}: peak RSS against 1,000,000 rows: {', '.join(ratios)} (goal: within 1.5x at 10^7)")
    if "breakdown" in results:
        b = results["breakdown"]
        lines += [
            "",
            f"## Where the time goes ({b['rows']:,} rows, batches of {b['batch_size']:,}, {b['torch_threads']} torch threads, stages run one after another)",
            "",
            "| stage | seconds | share |",
            "| --- | ---: | ---: |",
        ]
        for stage, secs in b["seconds"].items():
            lines.append(f"| {stage} | {secs:.3f} | {secs / b['total_seconds']:.0%} |")
        lines += [
            f"| total | {b['total_seconds']:.3f} | {b['rows_per_second_serial']:,} rows/s |",
            "",
            f"Decoder floor: its three matrix products alone ({b['decoder_gflop']} GFLOP for these rows) take "
            + ", ".join(f"{v} s with {k.replace('_', ' ')}" for k, v in b["gemm_floor_seconds"].items())
            + ".",
        ]
    if results.get("fit"):
        lines += ["", *fit_markdown(results["fit"])]
    lines += ["", f"Machine: {results['machine']}"]
    return lines


def redraw(stem: str) -> None:
    """Rewrite ``RESULTS/stem.md`` and ``stem.png`` from ``stem.json`` (after a change of layout)."""
    results = json.loads((RESULTS / f"{stem}.json").read_text())
    write_results(stem, results, markdown(results))
    plot(results, RESULTS / f"{stem}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=None, help="Row counts (default 1e5 1e6 1e7; with --long also 1e8).")
    parser.add_argument("--long", action="store_true", help="Also 10^8 rows.")
    parser.add_argument("--repeats", type=int, default=3, help="Runs per size up to 10^6 rows (median reported).")
    parser.add_argument("--baseline", metavar="REV", help="Also run the package as of this git revision, interleaved.")
    parser.add_argument("--code", action="append", default=[], metavar="NAME=FOLDER",
                        help="Also run the synthvae package found in FOLDER (a folder holding synthvae/), as NAME.")
    parser.add_argument("--breakdown", action="store_true", help="Time each stage on --breakdown-rows rows.")
    parser.add_argument("--breakdown-rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=None, help="--batch-size of the CLI (default: its own).")
    parser.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS of the sampling processes (default: torch's).")
    parser.add_argument("--epochs", type=int, default=5, help="Epochs of the benchmark's model.")
    parser.add_argument("--model", type=Path, help="Use this saved model instead of fitting one.")
    parser.add_argument("--wait-idle", type=float, default=600, metavar="SECONDS",
                        help="Before each run wait up to this long for other processes to leave the CPUs (0: do not wait).")
    parser.add_argument("--fit", action="store_true", help="Run the fit section (measure_fit).")
    parser.add_argument("--stem", default="scale_sampling")
    parser.add_argument("--redraw", action="store_true", help="Only rewrite the markdown and plot from the stem's JSON.")
    args = parser.parse_args()
    if args.redraw:
        redraw(args.stem)
        return
    sizes = [int(s) for s in args.sizes] if args.sizes else list(LONG_SIZES if args.long else SIZES)
    results: dict = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="synthvae-scale-") as folder:
        workdir = Path(folder)
        model = args.model or workdir / "churn.synthvae"
        if args.model is None:
            results["model"] = fit_model(model, args.epochs)
        else:
            from synthvae import Synthesizer

            syn = Synthesizer.load(model)
            config = syn.model_.config
            kinds = [c.kind.value for c in syn.schema_]
            results["model"] = {"table": TABLE, "columns": len(syn.schema_), "column_kinds": {k: kinds.count(k) for k in sorted(set(kinds))},
                                "encoded_width": config.data_dim,
                                "latent_dim": config.latent_dim, "hidden_dims": list(config.hidden_dims),
                                "prior_components": None if syn.prior_ is None else syn.prior_.n_components, "model": str(model)}
        print(f"model: {results['model']}", flush=True)
        from synthvae import Synthesizer

        expected = list(Synthesizer.load(model).schema_.names)
        codes = {f"baseline {args.baseline}": extract_revision(args.baseline, workdir)} if args.baseline else {}
        codes["current"] = ROOT
        for spec in args.code:
            name, _, folder = spec.partition("=")
            codes[name] = Path(folder).resolve()
        results["settings"] = {"sizes": sizes, "repeats": args.repeats, "batch_size": args.batch_size, "threads": args.threads,
                               "baseline": args.baseline, "wait_idle": args.wait_idle}
        results["sampling"] = sampling(model, sizes, codes, args.repeats, workdir, args.batch_size, args.threads, expected, args.wait_idle)
        if args.breakdown:
            if args.wait_idle:
                wait_until_idle(args.wait_idle)
            results["breakdown"] = breakdown(model, args.breakdown_rows, args.batch_size or 50_000, args.threads)
            print(json.dumps(results["breakdown"], indent=1), flush=True)
        if args.fit:
            results["fit"] = measure_fit(args, workdir)
    lines = markdown(results)
    path = write_results(args.stem, results, lines)
    picture = plot(results, RESULTS / f"{args.stem}.png")
    print("\n".join(lines))
    print(f"wrote {path}" + (f" and {picture}" if picture else " (matplotlib missing: no plot)"))


if __name__ == "__main__":
    main()
