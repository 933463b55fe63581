"""Shared fixtures: the real tables in ../shared/datasets and small fitted models."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
SCHEMAS = ROOT / "schemas"
# No example database, and Hypothesis' caches (and the patch files it writes on a failure)
# outside the repository: a test run leaves no .hypothesis folder behind.
settings.register_profile("synthvae", database=None)
settings.load_profile("synthvae")
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "synthvae-hypothesis")

# The suite runs in pytest-xdist workers (pyproject's addopts: -n auto). Each worker gets its
# share of the cores, and the processes it starts (CLI runs, torchrun) inherit it: two workers
# at 2 torch threads each on 2 cores slowed one another down many times over, not 2x.
if "PYTEST_XDIST_WORKER_COUNT" in os.environ:
    _share = max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    os.environ.setdefault("OMP_NUM_THREADS", str(_share))
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

# ``python -m synthvae`` for a child a test stops with SIGINT, as Ctrl-C in a terminal would: it
# takes Python's own SIGINT handler, unblocked, whatever this process passes on. A suite started
# as a background job (``pytest &`` in a script) runs with SIGINT and SIGQUIT ignored, and its
# children inherit that: the stopped demo finished with exit 0, the stopped shard ran on.
SYNTHVAE_INTERRUPTIBLE = [
    sys.executable, "-c",
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); sys.argv[0] = 'synthvae'; "
    "runpy.run_module('synthvae', run_name='__main__', alter_sys=True)",
]


def stop_with_sigint(process: subprocess.Popen, timeout: float = 60) -> None:
    """SIGINT to ``process``, then wait for it; killed (and the test failed) if it ignores it."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"the process ran on {timeout} s after SIGINT: {process.args}") from None


# Lines a test module wants at the end of the pytest output (the fuzz suite's counts). A worker
# hands its lines to the controlling process, which prints them.
TERMINAL_SUMMARY: list[str] = []


def pytest_sessionfinish(session) -> None:
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["terminal_summary"] = list(TERMINAL_SUMMARY)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    TERMINAL_SUMMARY.extend(getattr(node, "workeroutput", {}).get("terminal_summary", []))


def pytest_terminal_summary(terminalreporter) -> None:
    for line in TERMINAL_SUMMARY:
        terminalreporter.write_line(line)


def dataset_path(name: str) -> Path:
    """Path of a shared dataset; skip (with the reason) when the shared folder is absent."""
    path = DATASETS / name
    if not path.exists():
        pytest.skip(f"shared dataset {path} not found (tests expect ../shared beside the repo)")
    return path


def inferred_by_cli(frame: pd.DataFrame, folder: Path, *flags: str) -> tuple[str, dict]:
    """``synthvae infer-schema`` of ``frame`` (written to a CSV in ``folder``) with ``flags``:
    what it printed and the schema it wrote (as a dict), its exit status checked."""
    import json

    from click.testing import CliRunner

    from synthvae.cli import cli

    data, out = folder / "table.csv", folder / "schema.json"
    frame.to_csv(data, index=False)
    result = CliRunner().invoke(cli, ["infer-schema", str(data), "-o", str(out), *flags])
    assert result.exit_code == 0, result.output
    return result.output, json.loads(out.read_text())


def rewritten_model(source: Path, target: Path, payload=None, tensors=None, version: str | None = None) -> None:
    """Write the model file ``source`` again at ``target`` as a file edited by hand: no checksum,
    its JSON payload edited in place by ``payload``, its tensors by ``tensors``, its format
    version set to ``version`` (each when given)."""
    import json

    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(source), framework="pt") as handle:
        metadata, weights = handle.metadata(), {name: handle.get_tensor(name) for name in handle.keys()}
    metadata = {k: v for k, v in metadata.items() if k != "checksum"}
    if payload is not None:
        document = json.loads(metadata["payload"])
        payload(document)
        metadata["payload"] = json.dumps(document)
    if tensors is not None:
        tensors(weights)
    if version is not None:
        metadata["format_version"] = version
    save_file(weights, str(target), metadata=metadata)


@pytest.fixture(scope="session")
def penguins() -> pd.DataFrame:
    from synthvae.datasets import load_penguins

    return load_penguins()


@pytest.fixture(scope="session")
def weather() -> pd.DataFrame:
    return pd.read_csv(dataset_path("seattle_weather.csv"))


@pytest.fixture(scope="session")
def churn_small() -> pd.DataFrame:
    return pd.read_csv(dataset_path("churn.csv")).iloc[:600].reset_index(drop=True)


@pytest.fixture(scope="session")
def mixed_frame() -> pd.DataFrame:
    """Every column kind, nulls in each nullable kind, 300 rows, deterministic."""
    import numpy as np

    rng = np.random.default_rng(7)
    n = 300
    frame = pd.DataFrame(
        {
            "user_id": np.arange(1000, 1000 + n),
            "age": rng.integers(18, 90, n).astype(float),
            "income": np.round(np.exp(rng.normal(10, 1, n)), 2),
            "score": np.where(rng.random(n) < 0.5, rng.normal(-3, 0.5, n), rng.normal(3, 0.5, n)).round(3),
            "city": rng.choice(["Oslo", "Lima", "Pune", "Kyoto"], n, p=[0.5, 0.3, 0.15, 0.05]),
            "member": rng.random(n) < 0.3,
            "joined": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
        }
    )
    frame.loc[rng.random(n) < 0.1, "age"] = np.nan
    frame.loc[rng.random(n) < 0.2, "city"] = None
    frame["member"] = frame["member"].astype("boolean")
    frame.loc[rng.random(n) < 0.05, "member"] = pd.NA
    frame.loc[rng.random(n) < 0.1, "joined"] = pd.NaT
    return frame


@pytest.fixture(scope="session")
def fitted_mixed(mixed_frame):
    from synthvae import Synthesizer

    return Synthesizer(epochs=15, hidden_dims=(64, 64), latent_dim=16, seed=3).fit(mixed_frame)


@pytest.fixture(scope="session")
def fitted_penguins(penguins):
    from synthvae import Synthesizer

    return Synthesizer(epochs=20, hidden_dims=(64, 64), latent_dim=16, seed=1).fit(penguins)
