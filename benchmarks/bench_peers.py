"""synthvae against SDV's TVAE, CTGAN and GaussianCopula: same tables, split, machine and scorer.

The protocol of ``../shared/DESIGN.md`` ("The benchmark protocol"), for issue 4. For each table:
split it 80/20 with a fixed seed; for each model, in its own subprocess (so that peak memory and
imports are its own), fit on the training split and sample as many rows as the training split,
then time a second, large draw (``--sample-rows``, 1,000,000 by default) for rows/s. The parent
then scores every model's training-size sample with synthvae's evaluator against the training
split with the held-out split (quality, TSTR vs TRTR, detection, privacy, the ceiling) and with
SDMetrics' QualityReport where sdmetrics is importable. One JSON and one markdown table per run
go to ``benchmarks/results/`` (``peers`` or, with ``--quick``, ``peers_quick``).

Models: synthvae at its defaults; the peers at SDV's defaults (TVAE and CTGAN: 300 epochs, batch
500) with ``torch.set_flush_denormal(True)`` in their process (``--no-flush-denormal`` to run them
exactly as shipped). SDV's detected metadata is used, except that columns it detects as PII or
other special sdtypes (``administrative_unit``, ``email``, ``ordinal``...) are set to the column
kind synthvae's evaluator uses (``--sdv-metadata detected`` keeps SDV's choice).

Run (in an environment with both synthvae and sdv, see benchmarks/README.md)::

    python benchmarks/bench_peers.py                 # the full run, hours on 2 cores
    python benchmarks/bench_peers.py --quick         # 2,000 rows per table, 5 epochs: minutes
    python benchmarks/bench_peers.py --tables churn --models synthvae tvae --epochs 50
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_TABLES = ["churn", "german_credit", "seattle_weather", "loans", "diamonds", "flights100k"]
MODELS = ["synthvae", "tvae", "ctgan", "gaussiancopula"]
PEERS = {"tvae": "TVAESynthesizer", "ctgan": "CTGANSynthesizer",
         "gaussiancopula": "GaussianCopulaSynthesizer"}
SAMPLE_BATCH = 50_000  # rows per sampling batch of the peers (synthvae's default too)
QUICK = {"rows": 2_000, "epochs": 5, "sample_rows": 10_000}
SDV_TABLE = "table"
SDV_SDTYPE = {"numeric": "numerical", "categorical": "categorical", "boolean": "boolean",
              "datetime": "datetime"}
PACKAGES = ["synthvae", "torch", "sdv", "ctgan", "rdt", "sdmetrics", "pandas", "numpy", "pyarrow",
            "scikit-learn", "scipy"]


def leakage_columns(name: str, columns) -> list[str]:
    """Features dropped for TSTR/TRTR because they give the target away (datasets/README.md)."""
    if name == "loans":
        return [c for c in columns
                if c in ("grade", "sub_grade", "installment") or c.startswith("paid_")]
    if name in ("flights", "flights100k"):
        return [c for c in columns if c in ("air_time", "arr_time")]
    return []


# --------------------------------------------------------------------------- worker process
def run_worker(spec_path: str) -> int:
    """Fit one model and sample from it; write the rows and a JSON of timings. Exit 1 on error."""
    spec = json.loads(Path(spec_path).read_text())
    out = Path(spec["out_dir"])
    result: dict = {"model": spec["model"], "torch_threads": None}
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _fit_and_sample(spec, out, result)
        code = 0
    except Exception as error:  # noqa: BLE001 - any failure is recorded, the run goes on
        result["error"] = f"{type(error).__name__}: {error}"
        result["traceback"] = traceback.format_exc(limit=8)
        code = 1
    result["warnings"] = _unique_warnings(caught)
    (out / "result.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    return code


def _fit_and_sample(spec: dict, out: Path, result: dict) -> None:
    import torch

    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    result["torch_threads"] = torch.get_num_threads()
    # Import before the clock starts: fit seconds are the fit's, not the imports'.
    if spec["model"] == "synthvae":
        import synthvae.synthesizer  # noqa: F401
    else:
        import sdv.metadata  # noqa: F401
        import sdv.single_table  # noqa: F401
    train = pd.read_parquet(spec["train"])
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    if spec["model"] == "synthvae":
        model, fit_info = _fit_synthvae(spec, train)
    else:
        model, fit_info = _fit_peer(spec, train, result)
    result["fit_seconds"] = time.perf_counter() - started
    result["others_cpu_share_during_fit"] = _others_share(cpu_before, _cpu_seconds(),
                                                          result["fit_seconds"])
    result.update(fit_info)
    result["peak_rss_mb_fit"] = _peak_rss_mb()

    started = time.perf_counter()
    synthetic = model(len(train), spec["seed"] + 1)
    seconds = time.perf_counter() - started
    result["sample_seconds"] = seconds
    result["sample_rows_per_second"] = len(train) / seconds
    result["peak_rss_mb"] = _peak_rss_mb()
    result["synthetic_path"] = _write_rows(synthetic, out)
    del synthetic

    if spec["sample_rows"] > 0:
        started = time.perf_counter()
        big = model(spec["sample_rows"], spec["seed"] + 2)
        seconds = time.perf_counter() - started
        result["large_sample_rows"] = len(big)
        result["large_sample_seconds"] = seconds
        result["large_sample_rows_per_second"] = len(big) / seconds
        result["peak_rss_mb_with_large_sample"] = _peak_rss_mb()


def _fit_synthvae(spec: dict, train: pd.DataFrame):
    from synthvae import Synthesizer

    params = spec.get("synthvae_params") or {}
    syn = Synthesizer(epochs=spec["epochs"], seed=spec["seed"], device=spec["device"], **params).fit(train)
    info = syn.fit_info_
    fit_info = {"epochs_planned": info.epochs_planned, "epochs_run": info.epochs_run,
                "best_epoch": info.best_epoch, "encoded_width": info.encoded_width,
                "flush_denormal": "synthvae default (TrainConfig.flush_denormal=False)"}
    return (lambda n, seed: syn.sample(n, seed=seed)), fit_info


def _fit_peer(spec: dict, train: pd.DataFrame, result: dict):
    import torch
    from sdv import single_table

    # SDV's fit reads the process-wide random state: seed it so that runs repeat.
    random.seed(spec["seed"])
    np.random.seed(spec["seed"])
    torch.manual_seed(spec["seed"])
    flush = {"requested": spec["flush_denormal"], "supported": None}
    if spec["flush_denormal"]:
        flush["supported"] = bool(torch.set_flush_denormal(True))
    started = time.perf_counter()
    sdv_metadata, overrides = _sdv_metadata(train, spec)
    result["metadata_seconds"] = time.perf_counter() - started
    result["sdv_metadata_overrides"] = overrides
    result["sdv_sdtypes"] = {name: column["sdtype"] for name, column in
                             sdv_metadata.to_dict()["tables"][SDV_TABLE]["columns"].items()}
    kwargs = {}
    if spec["model"] in ("tvae", "ctgan"):
        kwargs["enable_gpu"] = spec["device"] != "cpu"
        if spec["epochs"] is not None:
            kwargs["epochs"] = spec["epochs"]
    synthesizer = getattr(single_table, PEERS[spec["model"]])(sdv_metadata, **kwargs)
    synthesizer.fit({SDV_TABLE: train})  # SDV 2 takes and returns {table name: frame}
    params = synthesizer.get_parameters()
    fit_info = {"epochs_planned": params.get("epochs"), "epochs_run": params.get("epochs"),
                "batch_size": params.get("batch_size"), "flush_denormal": flush}
    fit_info["sample_batch_size"] = SAMPLE_BATCH

    def sample(n: int, seed: int) -> pd.DataFrame:
        # Batches of decoded rows, as synthvae samples by default: SDV's default (one batch)
        # would hold a 1M x width float matrix (16 GB at loans' and flights' one-hot width).
        return synthesizer.sample(num_rows=n, batch_size=min(n, SAMPLE_BATCH))[SDV_TABLE]

    return sample, fit_info


def _sdv_metadata(train: pd.DataFrame, spec: dict):
    from sdv.metadata import Metadata

    sdv_metadata = Metadata.detect_from_dataframes({SDV_TABLE: train})
    overrides = {}
    if spec["sdv_metadata"] == "aligned":
        detected = sdv_metadata.to_dict()["tables"][SDV_TABLE]["columns"]
        for name, kind in spec["column_kinds"].items():
            sdtype = detected[name]["sdtype"]
            if sdtype not in SDV_SDTYPE.values() and kind in SDV_SDTYPE:
                sdv_metadata.update_column(column_name=name, table_name=SDV_TABLE,
                                           sdtype=SDV_SDTYPE[kind])
                overrides[name] = f"{sdtype} -> {SDV_SDTYPE[kind]}"
    return sdv_metadata, overrides


def _write_rows(frame: pd.DataFrame, out: Path) -> str:
    path = out / "synthetic.parquet"
    try:
        frame.to_parquet(path, index=False)
    except Exception:  # noqa: BLE001 - a column Arrow cannot type (mixed objects): keep the rows
        path = out / "synthetic.pkl"
        frame.to_pickle(path)
    return str(path)


def _cpu_seconds() -> tuple[float, float] | None:
    """(CPU seconds busy on the whole machine, CPU seconds of this process), or None."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    busy = sum(fields[:3]) + sum(fields[5:8])  # user nice system, irq softirq steal
    own = resource.getrusage(resource.RUSAGE_SELF)
    return busy / os.sysconf("SC_CLK_TCK"), own.ru_utime + own.ru_stime


def _others_share(before, after, seconds: float) -> float | None:
    """Share of the machine's CPU time that other processes used meanwhile: 0 on a quiet
    machine; 0.5 on 2 cores means another process held one core (timings are then inflated)."""
    if before is None or after is None or seconds <= 0:
        return None
    others = (after[0] - before[0]) - (after[1] - before[1])
    return round(max(0.0, others) / (seconds * (os.cpu_count() or 1)), 3)


def _peak_rss_mb() -> float:
    """This process's peak resident memory. Linux's ``ru_maxrss`` survives ``exec``, so a worker
    would report the parent's size at spawn time; ``VmHWM`` belongs to the worker's own memory."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _unique_warnings(caught) -> list[str]:
    seen: dict[str, None] = {}
    for w in caught or []:
        seen.setdefault(f"{w.category.__name__}: {str(w.message)[:300]}", None)
    return list(seen)


# --------------------------------------------------------------------------- parent process
def run_model(model: str, table: str, train_path: Path, work: Path, args, kinds: dict) -> dict:
    """Fit and sample one model in a fresh subprocess; its timings, or its error."""
    from common import target_of

    out = work / f"{table}-{model}"
    out.mkdir()
    spec = {"model": model, "train": str(train_path), "out_dir": str(out), "seed": args.seed,
            "epochs": args.epochs, "sample_rows": args.sample_rows, "device": args.device,
            "synthvae_params": {**(args.synthvae_params or {}), **({"target": target_of(table)} if args.synthvae_target else {})},
            "threads": args.threads,
            "flush_denormal": not args.no_flush_denormal, "sdv_metadata": args.sdv_metadata,
            "column_kinds": kinds}
    spec_path = out / "spec.json"
    spec_path.write_text(json.dumps(spec))
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(spec_path)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"model": model, "error": f"timed out after {args.timeout} s"}
    result_path = out / "result.json"
    if not result_path.exists():
        return {"model": model, "error": f"worker exited {done.returncode}",
                "stderr_tail": done.stderr[-2000:]}
    result = json.loads(result_path.read_text())
    result["process_seconds"] = time.perf_counter() - started
    result["measured"] = _stamp()
    return result


def _stamp() -> dict:
    """When and at which commit a model row was measured (rows of merged runs differ)."""
    changed = _git("status", "--porcelain", "--", "synthvae")
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "git_commit": _git("rev-parse", "HEAD"),
            "synthvae_uncommitted_changes": bool(changed)}


def fidelity_tables(train, holdout, synthetic, seed: int, against: str):
    """The real and synthetic rows quality and detection compare, and the real rows of their
    ceiling: ``"train"``: the training rows against all the synthetic ones, the ceiling the
    training rows against the held-out ones; ``"holdout"`` (DESIGN.md: "measured on data the
    model did not train on"): the held-out rows against as many synthetic rows, the ceiling
    the held-out rows against as many training rows (same sizes on both sides)."""
    if against == "train":
        return train, synthetic, holdout
    n = len(holdout)
    return (holdout, synthetic.sample(min(n, len(synthetic)), random_state=seed).reset_index(drop=True),
            train.sample(min(n, len(train)), random_state=seed).reset_index(drop=True))


def score(name: str, train, holdout, synthetic, schema, target: str, seed: int, against: str = "train") -> dict:
    """Our evaluator's scores of one synthetic table (and the ceiling), leakage columns dropped
    for utility only; quality and detection against the rows ``against`` says
    (:func:`fidelity_tables`), privacy always training rows against held-out ones."""
    from synthvae import Schema, evaluate

    started = time.perf_counter()
    if against == "train":
        main = evaluate(train, synthetic, schema=schema, holdout=holdout, seed=seed,
                        metrics=["quality", "detection", "privacy"]).to_dict()
    else:
        real, fake, ceiling_rows = fidelity_tables(train, holdout, synthetic, seed, against)
        main = evaluate(real, fake, schema=schema, holdout=ceiling_rows, seed=seed,
                        metrics=["quality", "detection"]).to_dict()
        private = evaluate(train, synthetic, schema=schema, holdout=holdout, seed=seed, metrics=["privacy"]).to_dict()
        main["privacy"], main["notes"] = private["privacy"], main["notes"] + private["notes"]
    drop = leakage_columns(name, train.columns)
    kept = Schema([c for c in schema if c.name not in drop])
    util = evaluate(train.drop(columns=drop), synthetic.drop(columns=drop, errors="ignore"),
                    schema=kept, holdout=holdout.drop(columns=drop), target=target, seed=seed,
                    metrics=["utility"]).to_dict()
    q, u, p = main["quality"], util["utility"], main["privacy"]
    ceiling = main["ceiling"]
    return {
        "quality": {k: q[k] for k in ("score", "column_shapes", "column_pair_trends",
                                      "missing_values", "sdmetrics_default")},
        "utility": {k: u.get(k) for k in ("tstr", "trtr", "metric", "task", "target")}
        | {"dropped_features": drop},
        "detection_auc": main["detection"]["auc"],
        "privacy": {k: p.get(k) for k in ("dcr_closer_to_train_share", "exact_copy_rate",
                                          "holdout_exact_copy_rate")},
        "ceiling": {"quality": ceiling["quality"], "detection_auc": ceiling["detection"]["auc"],
                    "tstr": u.get("trtr"),
                    "exact_copy_rate": p.get("holdout_exact_copy_rate")},
        "notes": main["notes"] + util["notes"],
        "seconds": time.perf_counter() - started,
    }


def sdmetrics_quality(train, synthetic, schema, seed: int) -> dict | None:
    """SDMetrics' QualityReport on the same conformed rows as ours: its default (thresholded)
    score and the score over all pairs; ``None`` when sdmetrics is not importable."""
    with warnings.catch_warnings(record=True) as import_warnings:
        # 0.32 calls this single-table report deprecated (FutureWarning), yet it is the one
        # compare_sdmetrics.py checked our scores against; the unified report takes dicts.
        warnings.simplefilter("always")
        try:
            from sdmetrics.reports.single_table import QualityReport
        except ImportError:
            return None
    from synthvae.evaluation.tables import evaluation_schema, prepare

    started = time.perf_counter()
    eval_schema = evaluation_schema(schema, train, [synthetic])
    rng = np.random.default_rng(seed)
    real = _plain(prepare(train, eval_schema, "real", max_rows=50_000, rng=rng).frame)
    fake = _plain(prepare(synthetic, eval_schema, "synthetic", max_rows=50_000, rng=rng).frame)
    sdm_metadata = {"columns": {c.name: {"sdtype": SDV_SDTYPE[c.kind.value]} for c in eval_schema}}
    out: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for label, thresholds in (("default", True), ("all_pairs", False)):
            report = QualityReport()
            if not thresholds:
                report.real_correlation_threshold = report.real_association_threshold = 0
            report.generate(real, fake, sdm_metadata, verbose=False)
            props = report.get_properties().set_index("Property")["Score"]
            out[label] = {"score": report.get_score(),
                          "column_shapes": props["Column Shapes"],
                          "column_pair_trends": props["Column Pair Trends"]}
    out["seconds"] = time.perf_counter() - started
    out["warnings"] = _unique_warnings(list(import_warnings) + list(caught))
    return out


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals and nullable booleans as objects, as SDMetrics expects."""
    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.CategoricalDtype) or str(out[name].dtype) == "boolean":
            out[name] = out[name].astype(object)
    return out


def read_rows(path: str) -> pd.DataFrame:
    return pd.read_pickle(path) if path.endswith(".pkl") else pd.read_parquet(path)


def run_table(name: str, args, work: Path) -> dict:
    """Every model on one table: split, fit/sample in subprocesses, score in this process."""
    from common import load, split, target_of

    from synthvae import infer_schema

    started = time.perf_counter()
    frame = load(name)
    if args.rows and len(frame) > args.rows:
        frame = frame.sample(args.rows, random_state=args.seed).reset_index(drop=True)
    train, holdout = split(frame, args.seed)
    # The evaluation's schema: the columns' kinds only (synthvae's fit infers its own, derived
    # rules included).
    schema = infer_schema(train, derived=False)
    target = target_of(name)
    train_path = work / f"{name}-train.parquet"
    train.to_parquet(train_path, index=False)
    kinds = {c.name: c.kind.value for c in schema}
    table = {"table": name, "rows": len(frame), "columns": frame.shape[1], "target": target,
             "train_rows": len(train), "holdout_rows": len(holdout), "models": []}
    sdm_ceiling_done = False
    for model in args.models:
        print(f"[{time.strftime('%H:%M:%S')}] {name}: {model} ...", flush=True)
        result = run_model(model, name, train_path, work, args, kinds)
        if "error" not in result:
            try:
                synthetic = read_rows(result["synthetic_path"])
                result["scores"] = score(name, train, holdout, synthetic, schema, target, args.seed, args.against)
                real, fake, ceiling_rows = fidelity_tables(train, holdout, synthetic, args.seed, args.against)
                result["sdmetrics"] = sdmetrics_quality(real, fake, schema, args.seed)
                table["ceiling"] = result["scores"]["ceiling"]
                if not sdm_ceiling_done:
                    table["ceiling_sdmetrics"] = sdmetrics_quality(real, ceiling_rows, schema, args.seed)
                    sdm_ceiling_done = True
            except Exception as error:  # noqa: BLE001 - record it, go on with the next model
                result["evaluation_error"] = f"{type(error).__name__}: {error}"
                result["traceback"] = traceback.format_exc(limit=8)
        result.pop("synthetic_path", None)
        print("    " + _progress(result), flush=True)
        table["models"].append(result)
    table["seconds"] = time.perf_counter() - started
    return table


def _progress(r: dict) -> str:
    if "error" in r:
        return f"FAILED: {r['error']}"
    text = f"fit {r['fit_seconds']:.1f} s, peak {r['peak_rss_mb']:.0f} MB"
    if "scores" in r:
        text += f", score {r['scores']['quality']['score']:.4f}"
    if "evaluation_error" in r:
        text += f", evaluation FAILED: {r['evaluation_error']}"
    return text


# --------------------------------------------------------------------------- merging runs
# What must match for rows of two runs to sit in one table: the protocol's settings and the
# versions of every package a peer's numbers depend on (synthvae's own rows carry their commit).
MERGE_SETTINGS = ("quick", "rows", "epochs", "sample_rows", "seed", "device", "threads",
                  "sdv_metadata", "peers_flush_denormal", "against")
SETTING_DEFAULTS = {"against": "train"}  # what files written before a setting existed measured
MERGE_VERSIONS = ("torch", "sdv", "ctgan", "rdt", "sdmetrics", "scikit-learn")


def load_for_merge(stem: str, info: dict) -> list[dict]:
    """The tables of the existing ``stem.json``, when its settings and versions match ours."""
    from common import RESULTS

    path = RESULTS / f"{stem}.json"
    if not path.exists():
        return []
    old = json.loads(path.read_text())
    old_meta = old["meta"]
    def then(key):
        return old_meta["settings"].get(key, SETTING_DEFAULTS.get(key))

    diffs = [f"{k}: {then(k)!r} there, {info['settings'][k]!r} now"
             for k in MERGE_SETTINGS if then(k) != info["settings"][k]]
    diffs += [f"{k} {old_meta['versions'].get(k)} there, {info['versions'][k]} now"
              for k in MERGE_VERSIONS if old_meta["versions"].get(k) != info["versions"][k]]
    if diffs:
        raise SystemExit(f"--merge: {path} was measured differently ({'; '.join(diffs)}); "
                         f"run without --merge to replace it, or give another --stem")
    return old["tables"]


def merge_tables(earlier: list[dict], now: list[dict]) -> list[dict]:
    """Earlier tables with this run's models (and ceiling) in place of theirs; models in
    MODELS order, tables in the order they were first measured."""
    out = {t["table"]: t for t in earlier}
    for table in now:
        old = out.get(table["table"])
        if old is not None:
            if (old["train_rows"], old["holdout_rows"]) != (table["train_rows"], table["holdout_rows"]):
                raise SystemExit(f"--merge: {table['table']} split differs from the earlier run's")
            models = {r["model"]: r for r in old["models"]} | {r["model"]: r for r in table["models"]}
            # Keys this run lacks (a ceiling, when all its models failed) stay the earlier run's.
            table = {**old, **table,
                     "models": sorted(models.values(), key=lambda r: MODELS.index(r["model"]))}
        out[table["table"]] = table
    return list(out.values())


# --------------------------------------------------------------------------- goals of issue 4
def _quality(row_or_table: dict, scorer: str, ceiling: bool = False) -> dict | None:
    """The quality scores (score, column_shapes, column_pair_trends) of a model row, or of a
    table's ceiling, by our evaluator (``"ours"``) or SDMetrics' QualityReport with its default
    thresholds (``"sdmetrics"``, DESIGN.md's reference scorer; ``None`` where not measured)."""
    if scorer == "ours":
        return row_or_table["ceiling"]["quality"] if ceiling else row_or_table["scores"]["quality"]
    found = row_or_table.get("ceiling_sdmetrics") if ceiling else row_or_table.get("sdmetrics")
    return (found or {}).get("default")


def goal_checks(t: dict, scorer: str = "ours") -> dict[str, bool | None]:
    """Issue 4's goals on one table: True met, False missed, None not measurable (synthvae's or
    TVAE's row missing or failed). Goals against every peer are judged against the peers
    measured; :func:`peers_measured` says how many that is. ``scorer``: whose quality scores
    judge the three quality goals (see :func:`_quality`)."""
    rows = {r["model"]: r for r in t["models"] if "scores" in r}
    ours = rows.get("synthvae")
    ceiling = (_quality(t, scorer, ceiling=True) if t.get("ceiling") is not None else None)
    peers = [rows[m] for m in PEERS if m in rows]
    tvae = rows.get("tvae")
    out: dict[str, bool | None] = dict.fromkeys(GOALS)
    if ours is None:
        return out
    q = _quality(ours, scorer)
    util = ours["scores"]["utility"]
    scored = q is not None and all(_quality(p, scorer) is not None for p in peers)
    if peers and ceiling is not None and scored:
        best = max(_quality(p, scorer)["score"] for p in peers)
        out["score > best peer"] = q["score"] > best
        out["closes half to ceiling"] = (q["score"] >= best + (ceiling["score"] - best) / 2)
    if peers and t.get("ceiling") is not None:
        out["TSTR > every peer"] = all(util["tstr"] > p["scores"]["utility"]["tstr"] for p in peers)
        out["detection < every peer"] = all(ours["scores"]["detection_auc"]
                                            < p["scores"]["detection_auc"] for p in peers)
    if tvae is not None:
        tq = _quality(tvae, scorer)
        if q is not None and tq is not None:
            out["trend error <= TVAE's / 2"] = (1 - q["column_pair_trends"]) <= (1 - tq["column_pair_trends"]) / 2
        out["fit <= TVAE's / 5"] = ours["fit_seconds"] <= tvae["fit_seconds"] / 5
        ours_rate = ours.get("large_sample_rows_per_second") or ours["sample_rows_per_second"]
        tvae_rate = tvae.get("large_sample_rows_per_second") or tvae["sample_rows_per_second"]
        out["sampling >= 10x TVAE"] = ours_rate >= 10 * tvae_rate
        out["peak memory < TVAE's"] = ours["peak_rss_mb"] < tvae["peak_rss_mb"]
    if util.get("task") in ("binary", "multiclass") and util.get("trtr") is not None:
        out["TSTR within 2% of TRTR"] = util["tstr"] >= 0.98 * util["trtr"]
    p = ours["scores"]["privacy"]
    out["closer share 0.5 +- 0.05"] = abs(p["dcr_closer_to_train_share"] - 0.5) <= 0.05
    if p.get("holdout_exact_copy_rate") is not None:
        out["copies <= held-out's"] = p["exact_copy_rate"] <= p["holdout_exact_copy_rate"]
    return out


GOALS = ("score > best peer", "closes half to ceiling", "trend error <= TVAE's / 2",
         "TSTR within 2% of TRTR", "TSTR > every peer", "detection < every peer",
         "fit <= TVAE's / 5", "sampling >= 10x TVAE", "peak memory < TVAE's",
         "closer share 0.5 +- 0.05", "copies <= held-out's")


PEER_GOALS = ("score > best peer", "closes half to ceiling", "TSTR > every peer", "detection < every peer")


def peers_measured(t: dict) -> int:
    return sum(1 for r in t["models"] if r["model"] in PEERS and "scores" in r)


def goals_markdown(tables: list[dict], scorer: str = "sdmetrics") -> list[str]:
    mark = {True: "yes", False: "**no**", None: "-"}
    checks = [(t["table"], goal_checks(t, scorer), peers_measured(t)) for t in tables]
    by = ("SDMetrics' QualityReport (default thresholds; DESIGN.md's reference scorer)" if scorer == "sdmetrics"
          else "our evaluator (all pairs)")

    def cell(goal: str, check: dict, measured: int) -> str:
        text = mark[check[goal]]
        if goal in PEER_GOALS and check[goal] is not None and measured < len(PEERS):
            text += f" ({measured}/{len(PEERS)} peers)"
        return text

    lines = ["", f"## Issue 4's goals, per table: quality judged by {by}", "",
             "yes: met; **no**: missed; -: not measurable here (a model missing or failed, or "
             "not a classification target). (2/3 peers): judged against the peers measured "
             "only. TSTR within 2% applies to classification targets only; sampling compares "
             "the large draw's rows/s.", "",
             "| goal | " + " | ".join(name for name, _, _ in checks) + " |",
             "|---|" + "---|" * len(checks)]
    lines += [f"| {goal} | " + " | ".join(cell(goal, c, k) for _, c, k in checks) + " |"
              for goal in GOALS]
    return lines


# --------------------------------------------------------------------------- output
def versions() -> dict:
    out = {}
    for package in PACKAGES:
        try:
            out[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            out[package] = None
    return out


def meta(args) -> dict:
    from common import machine

    commit, changed = _git("rev-parse", "HEAD"), _git("status", "--porcelain", "--", "synthvae")
    return {**machine(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "versions": versions(), "git_commit": commit,
            "synthvae_uncommitted_changes": changed.splitlines() if changed else [],
            "settings": {"quick": args.quick, "rows": args.rows, "epochs": args.epochs,
                         "sample_rows": args.sample_rows, "seed": args.seed,
                         "device": args.device, "threads": args.threads, "sdv_metadata": args.sdv_metadata,
                         "peers_flush_denormal": not args.no_flush_denormal,
                         "synthvae_params": args.synthvae_params, "synthvae_target": args.synthvae_target,
                         "against": args.against, "models": args.models, "tables": args.tables}}


def _git(*command: str) -> str | None:
    try:
        done = subprocess.run(["git", *command], capture_output=True, text=True,
                              cwd=Path(__file__).parent)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _f(value, digits=3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _n(value) -> str:
    return "-" if value is None else f"{value:,.0f}"


def markdown(info: dict, tables: list[dict]) -> list[str]:
    s, v = info["settings"], info["versions"]
    flush = ("on (`torch.set_flush_denormal(True)` in the peers' processes)"
             if s["peers_flush_denormal"] else "off (peers as shipped)")
    lines = [
        f"# synthvae vs SDV peers{' (quick mode)' if s['quick'] else ''}", "",
        f"Machine: {info['cpus']} CPUs, {info['platform']}, Python {info['python']}, "
        f"torch threads per model process {s['threads'] or info['torch_threads']}, "
        f"device {s['device']}; share of the CPUs other processes used during the fits "
        f"{_load_range(tables)} (0 on a quiet machine; above 0 the fit times are inflated).",
        "Versions: " + ", ".join(f"{k} {v[k]}" for k in v if v[k]) + ".",
        f"Settings: seed {s['seed']}, rows per table {s['rows'] or 'all'}, epochs "
        f"{s['epochs'] or 'defaults (synthvae: from the table size; TVAE/CTGAN: 300)'}, "
        f"large draw {s['sample_rows']:,} rows; peers' denormal flushing {flush}; "
        f"SDV metadata {s['sdv_metadata']}; "
        f"{'synthvae parameters ' + json.dumps(s['synthvae_params']) + '; ' if s.get('synthvae_params') else ''}"
        f"{'synthvae told each table target (Synthesizer(target=...)); ' if s.get('synthvae_target') else ''}"
        f"commit {info['git_commit']}"
        f"{' with uncommitted changes to synthvae/' if info['synthvae_uncommitted_changes'] else ''}.",
        "",
        "Score, shapes, trends: synthvae's evaluator (SDMetrics definitions, all pairs); SDM: "
        "SDMetrics QualityReport score with its default thresholds. TSTR: model trained on the "
        "synthetic rows, tested on the held-out rows (ROC AUC or R^2); the ceiling row gives "
        "TRTR. Closer: share of synthetic rows closer to a training row than to a held-out one "
        "(0.5 ideal). Copies: exact copies of training rows (ceiling: held-out rows that equal a "
        "training row). Peak MB: fit + sampling the training size, each model in its own process.",
        "",
        ("Score, shapes, trends, SDM and detection compare the held-out rows with as many synthetic "
         "rows (a seeded subsample), the ceiling the held-out rows with as many training rows "
         "(`--against holdout`: DESIGN.md's data the model did not train on). "
         if s.get("against", "train") == "holdout" else
         "Read with care (a review of 2026-12-03): score, shapes, trends and detection compare the "
         "synthetic rows with the *training* rows, while the ceiling compares the training rows with "
         "the held-out rows, a quarter as many (binned scores fall with fewer rows), so a score above "
         "the ceiling is partly that; DESIGN.md asks for data the model did not train on (`--against "
         "holdout`). ") +
        "Detection "
        "AUC below 0.5 is not better than 0.5. The closer share compares with as many training rows "
        "as held-out ones (a synthetic row's own source is among them one time in four), so it "
        "moves about a quarter of the share of rows that hug training rows. TSTR of a multi-class "
        "target is macro F1 (DESIGN.md), which issue 4 states as ROC AUC. synthvae's fit seconds "
        "leave out the conditional prior, trained on first conditional use, impute or save. "
        "SDMetrics 0.32's QualityReport bins each table's numeric columns over that table's own "
        "range, so its numeric x categorical pair trends compare mismatched bins wherever two "
        "samples' extremes differ (diamonds' cut x table: 0.006 for real rows against real rows, "
        "0.961 by the pair metric called directly); DESIGN.md's definition, our evaluator's, bins "
        "both over the real range.",
    ]
    head = ("| model | fit s | epochs | rows/s (train size) | rows/s (large) | peak MB | score | "
            "shapes | trends | SDM | TSTR | detection AUC | closer | copies |")
    for t in tables:
        lines += ["", f"## {t['table']}: {t['train_rows']:,} train / {t['holdout_rows']:,} "
                      f"held-out rows, {t['columns']} columns, target `{t['target']}`", "",
                  head, "|" + "---|" * 14]
        lines += [_model_row(r) for r in t["models"]]
        lines.append(_ceiling_row(t))
        stamps = [f"{r['model']} {r['measured']['date']} at {r['measured']['git_commit'][:8]}"
                  f"{'+changes' if r['measured']['synthvae_uncommitted_changes'] else ''}"
                  for r in t["models"] if r.get("measured") and r["measured"].get("git_commit")]
        if stamps:
            lines += ["", "Measured: " + "; ".join(stamps) + "."]
    return lines + goals_markdown(tables, "sdmetrics") + goals_markdown(tables, "ours")


def _load_range(tables: list[dict]) -> str:
    loads = [r["others_cpu_share_during_fit"] for t in tables for r in t["models"]
             if r.get("others_cpu_share_during_fit") is not None]
    return f"{min(loads):.2f}-{max(loads):.2f}" if loads else "-"


def _model_row(r: dict) -> str:
    if "error" in r:
        return f"| {r['model']} | failed: {r['error'][:120]} |" + " |" * 12
    epochs = "-" if r.get("epochs_run") is None else (
        f"{r['epochs_run']}/{r['epochs_planned']}" if r["model"] == "synthvae" else str(r["epochs_run"]))
    cells = [r["model"], _f(r["fit_seconds"], 1), epochs, _n(r["sample_rows_per_second"]),
             _n(r.get("large_sample_rows_per_second")), _n(r["peak_rss_mb"])]
    sc = r.get("scores")
    if sc is None:
        cells += [f"evaluation failed: {r.get('evaluation_error', '')[:100]}"] + [""] * 7
    else:
        q, p = sc["quality"], sc["privacy"]
        sdm = (r.get("sdmetrics") or {}).get("default", {}).get("score")
        cells += [_f(q["score"], 4), _f(q["column_shapes"], 4), _f(q["column_pair_trends"], 4),
                  _f(sdm, 4), _f(sc["utility"]["tstr"]), _f(sc["detection_auc"]),
                  _f(p["dcr_closer_to_train_share"]), _f(p["exact_copy_rate"], 4)]
    return "| " + " | ".join(cells) + " |"


def _ceiling_row(t: dict) -> str:
    c = t.get("ceiling")
    if c is None:
        return "| ceiling (train vs held-out) |" + " |" * 13
    sdm = (t.get("ceiling_sdmetrics") or {}).get("default", {}).get("score")
    q = c["quality"]
    cells = ["ceiling (train vs held-out)", "", "", "", "", "", _f(q["score"], 4),
             _f(q["column_shapes"], 4), _f(q["column_pair_trends"], 4), _f(sdm, 4),
             _f(c["tstr"]) + " (TRTR)", _f(c["detection_auc"]), "0.5",
             _f(c["exact_copy_rate"], 4)]
    return "| " + " | ".join(cells) + " |"


# --------------------------------------------------------------------------- entry point
def parse_args(argv=None):
    from common import FILES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=DEFAULT_TABLES, choices=sorted(FILES))
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK['rows']:,} rows per table, {QUICK['epochs']} epochs for "
                             f"every model, --sample-rows {QUICK['sample_rows']:,}")
    parser.add_argument("--rows", type=int, default=None,
                        help="seeded sample of at most this many rows per table, before the split")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs for synthvae, TVAE and CTGAN (default: each model's own)")
    parser.add_argument("--sample-rows", type=int, default=None,
                        help="rows of the large draw timed for rows/s (default 1,000,000; 0 skips)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                        help="synthvae's device; the peers get enable_gpu=(device == 'cuda')")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads in every model's process (default: torch's own)")
    parser.add_argument("--no-flush-denormal", action="store_true",
                        help="run the peers without torch.set_flush_denormal(True)")
    parser.add_argument("--sdv-metadata", default="aligned", choices=["aligned", "detected"],
                        help="aligned: special sdtypes SDV detects are set to our column kinds")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per model process")
    parser.add_argument("--synthvae-params", type=json.loads, default=None,
                        help='synthvae settings other than its defaults, a JSON object, e.g. '
                             '\'{"categorical_balance": 5}\' (with --merge, use another --stem: '
                             'the rows of other settings are not told apart)')
    parser.add_argument("--synthvae-target", action="store_true",
                        help="fit synthvae with Synthesizer(target=<the table's target>) (use another --stem)")
    parser.add_argument("--against", default="train", choices=["train", "holdout"],
                        help="what quality and detection compare the synthetic rows with: the training rows "
                             "(default, as every committed table) or the held-out rows, with as many synthetic "
                             "rows, the ceiling as many training rows (DESIGN.md; use another --stem)")
    parser.add_argument("--stem", default=None, help="results file stem (peers / peers_quick)")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite the markdown of the existing results file from its JSON")
    parser.add_argument("--merge", action="store_true",
                        help="keep the rows of the existing results file that this run does not "
                             "measure again (same settings and peer versions required): the "
                             "peers' hours-long fits run once, synthvae again after each change")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows = args.rows or QUICK["rows"]
        args.epochs = args.epochs or QUICK["epochs"]
        args.sample_rows = QUICK["sample_rows"] if args.sample_rows is None else args.sample_rows
    if args.sample_rows is None:
        args.sample_rows = 1_000_000
    args.stem = args.stem or ("peers_quick" if args.quick else "peers")
    return args


def main(argv=None) -> int:
    if argv is None and len(sys.argv) == 3 and sys.argv[1] == "--worker":
        return run_worker(sys.argv[2])
    args = parse_args(argv)
    from common import RESULTS, write_results

    if args.render:
        saved = json.loads((RESULTS / f"{args.stem}.json").read_text())
        path = write_results(args.stem, saved, markdown(saved["meta"], saved["tables"]))
        print(f"rewrote {path.with_suffix('.md')}")
        return 0

    info = meta(args)
    if args.merge:
        load_for_merge(args.stem, info)  # refuse a file measured differently before any work
    tables: list[dict] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="synthvae-peers-") as tmp:
        for name in args.tables:
            tables.append(run_table(name, args, Path(tmp)))
            info["seconds"] = round(time.perf_counter() - started, 1)
            # Read the file again just before writing: another run merging into it meanwhile
            # (one model per process, side by side) keeps its rows.
            merged = merge_tables(load_for_merge(args.stem, info) if args.merge else [], tables)
            path = write_results(args.stem, {"meta": info, "tables": merged},
                                 markdown(info, merged))
    tables = merged  # --tables takes at least one table
    print("\n".join(markdown(info, tables)))
    print(f"wrote {path} in {info['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
