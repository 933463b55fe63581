"""Fitting from input larger than memory (synthvae.streaming) and data-parallel fits (torchrun)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from conftest import dataset_path
from synthvae import DataError, ParameterError, Synthesizer, evaluate, infer_schema, read_table
from synthvae.streaming import TableSource, TableStream, open_source, scan

SMALL = dict(epochs=4, latent_dim=8, hidden_dims=(64, 64), prior_components=3, conditional=False)


def _write_dataset(frame: pd.DataFrame, folder, files: int, row_group: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), files)):
        table = pa.Table.from_pandas(frame.iloc[rows], preserve_index=False)
        pq.write_table(table, folder / f"part-{i:03d}.parquet", row_group_size=row_group)


@pytest.fixture(scope="module")
def diamonds() -> pd.DataFrame:
    return read_table(dataset_path("diamonds.csv")).sample(6000, random_state=3).reset_index(drop=True)


def test_scan_does_not_depend_on_how_the_table_is_cut(tmp_path, diamonds):
    _write_dataset(diamonds, tmp_path / "a", files=1, row_group=6000)
    _write_dataset(diamonds, tmp_path / "b", files=5, row_group=317)
    first = scan(TableSource(tmp_path / "a"), seed=4, reservoir_rows=700)
    second = scan(TableSource(tmp_path / "b"), seed=4, reservoir_rows=700)
    assert len(first.reservoir) == 700
    pd.testing.assert_frame_equal(first.reservoir, second.reservoir)
    pd.testing.assert_frame_equal(first.validation, second.validation)
    assert 500 <= len(first.validation) <= 700  # 10% of 6000, by hash
    assert sum(first.train_rows.values()) + len(first.validation) == 6000
    assert first.stats["price"].low == diamonds["price"].min()
    assert first.stats["cut"].counts == diamonds["cut"].value_counts().to_dict()
    other = scan(TableSource(tmp_path / "a"), seed=5, reservoir_rows=700)
    assert not other.reservoir.index.equals(first.reservoir.index)


def test_streamed_fit_matches_in_memory_quality(tmp_path, diamonds):
    _write_dataset(diamonds, tmp_path / "ds", files=3, row_group=500)
    streamed = Synthesizer(seed=2, **SMALL).fit(tmp_path / "ds")
    in_memory = Synthesizer(seed=2, **SMALL).fit(diamonds)
    assert streamed.fit_info_.rows == 6000
    scores = {}
    for name, syn in (("streamed", streamed), ("in_memory", in_memory)):
        fake = syn.sample(3000, seed=1)
        assert list(fake.columns) == list(diamonds.columns)
        scores[name] = evaluate(diamonds, fake, metrics=["quality"]).score
    assert scores["streamed"] > 0.85
    assert abs(scores["streamed"] - scores["in_memory"]) < 0.03, scores


def test_streamed_fit_is_reproducible(tmp_path, diamonds):
    _write_dataset(diamonds.head(2000), tmp_path / "ds", files=2, row_group=300)
    first = Synthesizer(seed=7, **SMALL).fit(tmp_path / "ds", reservoir_rows=500)
    second = Synthesizer(seed=7, **SMALL).fit(tmp_path / "ds", reservoir_rows=500)
    for key, value in first.model_.state_dict().items():
        assert torch.equal(value, second.model_.state_dict()[key]), key
    pd.testing.assert_frame_equal(first.sample(200, seed=3), second.sample(200, seed=3))


def test_a_long_epoch_logs_how_far_it_is(tmp_path, diamonds, monkeypatch, caplog):
    # A streamed epoch of 6M rows ran for minutes without a line, -v or not (a review). The
    # period is a setting of the training loop; at 0 s every batch says how far its epoch is.
    import synthvae.training

    monkeypatch.setattr(synthvae.training, "EPOCH_LOG_SECONDS", 0.0)
    _write_dataset(diamonds.head(2000), tmp_path / "ds", files=2, row_group=300)
    settings = {**SMALL, "epochs": 1, "batch_size": 256}
    with caplog.at_level("INFO", logger="synthvae"):
        Synthesizer(seed=7, **settings).fit(tmp_path / "ds", reservoir_rows=500)
    rows = re.search(r"epoch 1: 256 of ([\d,]+) rows, loss \d", caplog.text)
    assert rows is not None and 1_700 < int(rows.group(1).replace(",", "")) < 1_900, caplog.text
    assert f"epoch 1: 512 of {rows.group(1)} rows" in caplog.text
    caplog.clear()
    with caplog.at_level("INFO", logger="synthvae"):
        Synthesizer(seed=7, **settings).fit(diamonds.head(2000))
    assert "epoch 1: 256 of 1,800 rows, loss " in caplog.text


def test_values_the_sample_missed_come_from_the_exact_statistics(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "x": rng.normal(size=3000),
        "k": rng.integers(0, 50, 3000),
        "colour": rng.choice(["red", "green", "blue"], 3000),
    })
    # One rare category and one null, in rows a small sample is unlikely to hold.
    frame.loc[1234, "colour"] = "violet"
    frame.loc[2345, "x"] = np.nan
    frame.loc[99, "k"] = 1000
    _write_dataset(frame, tmp_path / "ds", files=3, row_group=250)
    found = scan(TableSource(tmp_path / "ds"), seed=0, reservoir_rows=50)
    assert 1234 not in found.reservoir.index and 2345 not in found.reservoir.index
    syn = Synthesizer(seed=0, **SMALL).fit(tmp_path / "ds", reservoir_rows=50)
    schema = syn.schema_
    assert "violet" in schema["colour"].categories
    assert "4 distinct values" in schema["colour"].description  # said 3, the sample's
    assert schema["x"].nullable
    assert schema["k"].max == 1000
    fake = syn.sample(500, seed=0)
    assert set(fake["colour"].dropna()) <= {"red", "green", "blue", "violet"}


def test_an_id_column_with_nulls_the_sample_missed_becomes_nullable(tmp_path):
    # Flights' tail numbers (an id from a sample of 200 rows) and their blanks outside it: the
    # schema said nullable: false, and encoding the held-out rows failed the fit.
    flights = pd.read_csv(dataset_path("flights.csv.gz"), nrows=5000, usecols=["tailnum", "carrier", "distance"])
    assert flights["tailnum"].isna().any()
    flights.to_csv(tmp_path / "flights.csv", index=False)
    syn = Synthesizer(seed=0, **SMALL).fit(tmp_path / "flights.csv", streaming=True, reservoir_rows=200)
    assert syn.schema_["tailnum"].nullable
    assert syn.sample(300, seed=0)["tailnum"].notna().any()


def test_whole_number_categories_the_sample_missed_stay_exact(tmp_path):
    # Shards near 2**62 are categories (one float holds all three); a fourth, on one row the
    # sample missed, was added through a float (as 2**62) and then as its text.
    shard = 2**62 + np.arange(3000) % 3
    shard[1234] = 2**62 + 7
    frame = pd.DataFrame({"shard": shard.astype("int64"), "x": np.random.default_rng(0).normal(size=3000)})
    _write_dataset(frame, tmp_path / "ds", files=3, row_group=250)
    syn = Synthesizer(seed=0, **SMALL).fit(tmp_path / "ds", reservoir_rows=50)
    assert syn.schema_["shard"].categories == (2**62, 2**62 + 1, 2**62 + 2, 2**62 + 7)


def test_streams_a_csv_and_refuses_what_it_cannot_stream(tmp_path, diamonds):
    csv = tmp_path / "d.csv.gz"
    diamonds.head(1500).to_csv(csv, index=False)
    syn = Synthesizer(seed=0, **SMALL).fit(csv, streaming=True)
    assert syn.fit_info_.rows == 1500
    assert len(syn.sample(10, seed=0)) == 10

    bad = tmp_path / "bad"
    _write_dataset(diamonds.head(100), bad, files=1, row_group=100)
    diamonds.head(100).drop(columns=["price"]).to_parquet(bad / "part-999.parquet")
    with pytest.raises(DataError, match=r"part-999.parquet.*missing \['price'\]"):
        Synthesizer(**SMALL).fit(bad)
    (bad / "part-999.parquet").unlink()
    (bad / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="not Parquet.*notes.txt"):
        Synthesizer(**SMALL).fit(bad)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no Parquet files"):
        open_source(tmp_path / "empty", tmp_path)
    with pytest.raises(ParameterError, match="not a DataFrame"):
        Synthesizer(**SMALL).fit(diamonds, streaming=True)


def test_streamed_fit_refuses_a_chunk_outside_a_given_schema(tmp_path, diamonds):
    from synthvae import infer_schema

    schema = infer_schema(diamonds)
    bad = diamonds.copy()
    bad.loc[4321, "price"] = 10**7  # above the schema's max, in a row the small sample misses
    _write_dataset(bad, tmp_path / "ds", files=2, row_group=1000)
    assert 4321 not in scan(TableSource(tmp_path / "ds"), seed=_fit_scan_seed(0), reservoir_rows=100).reservoir.index
    with pytest.raises(DataError, match=r"ds/part-001.parquet'.*'price'.*10000000"):
        Synthesizer(schema=schema, seed=0, **SMALL).fit(tmp_path / "ds", reservoir_rows=100)


def test_streamed_fit_with_another_tables_schema_names_the_columns_first(tmp_path, diamonds):
    # Another table's schema with rules was told "the schema's rules cannot be learned from a
    # streamed input yet; drop the rules", sending the user to fix the wrong thing (a user review).
    churn = pd.read_csv(dataset_path("churn.csv"))
    schema = infer_schema(churn.head(500))
    assert schema.constraints
    _write_dataset(diamonds.head(300), tmp_path / "ds", files=2, row_group=100)
    with pytest.raises(DataError, match=r"columns \['state', 'account_length', .* are in the schema but not in the data"):
        Synthesizer(schema=schema, seed=0, **SMALL).fit(tmp_path / "ds", reservoir_rows=100)


def _fit_scan_seed(seed: int) -> int:
    """The seed of a fit's scan (the sixth of the fit's seeds)."""
    return int(np.random.SeedSequence(seed).generate_state(6)[5])


def _two_processes(program: list[str], cwd=None, timeout: int = 600) -> subprocess.CompletedProcess:
    """``program`` (a script and its arguments, or ``-m module ...``) run by torchrun in 2 processes."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", *program]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _torchrun(args: list[str], cwd) -> subprocess.CompletedProcess:
    return _two_processes(["-m", "synthvae", *args], cwd)


def test_two_process_fit_of_a_table_without_numbers(tmp_path):
    # The decoder's (empty) log_sigma took no part in the loss: DDP failed on the first step
    # ("parameters that were not used in producing loss").
    data = tmp_path / "cats.csv"
    read_table(dataset_path("churn.csv")).head(300)[["state", "area_code", "international_plan", "voice_mail_plan", "churn"]].to_csv(data, index=False)
    done = _torchrun(["fit", str(data), "-o", str(tmp_path / "m.synthvae"), "--epochs", "2", "-q"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(Synthesizer.load(tmp_path / "m.synthvae").sample(50, seed=0)) == 50


_RANKED_FIT = """
import os, sys
from synthvae import Synthesizer
Synthesizer(epochs=1, seed=0).fit(sys.argv[1 + int(os.environ["RANK"])])
"""


def test_processes_that_read_different_tables_are_refused_clearly(tmp_path):
    # DDP stopped them with "params[0] in this process with sizes [5] appears not to match".
    (tmp_path / "fit.py").write_text(_RANKED_FIT)
    churn, penguins = read_table(dataset_path("churn.csv")).head(200), read_table(dataset_path("penguins.csv"))
    churn.to_csv(tmp_path / "churn.csv", index=False)
    penguins.to_csv(tmp_path / "penguins.csv", index=False)
    done = _two_processes([str(tmp_path / "fit.py"), str(tmp_path / "churn.csv"), str(tmp_path / "penguins.csv")], tmp_path)
    assert done.returncode != 0
    assert "process 1 of 2 read another table than process 0 (rows 344 against 200; columns ['species'" in done.stderr, done.stderr[-3000:]
    assert "appears not to match" not in done.stderr


@pytest.mark.parametrize("streamed", [False, True], ids=["csv-in-memory", "parquet-folder"])
def test_two_process_torchrun_fit(tmp_path, streamed, monkeypatch):
    churn = read_table(dataset_path("churn.csv")).head(2000)
    if streamed:
        data = tmp_path / "ds"
        _write_dataset(churn, data, files=4, row_group=250)
    else:
        data = tmp_path / "churn.csv"
        churn.to_csv(data, index=False)
    model = tmp_path / "model.synthvae"
    done = _torchrun(["fit", str(data), "-o", str(model), "--epochs", "12", "--seed", "3", "-q"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 processes" in done.stderr
    syn = Synthesizer.load(model)
    fake = syn.sample(2000, seed=0)
    assert list(fake.columns) == list(churn.columns)
    assert len(fake) == 2000 and not fake.isna().any().any()
    parallel = evaluate(churn, fake, metrics=["quality"]).score
    alone = Synthesizer(epochs=12, seed=3).fit(data).sample(2000, seed=0)
    single = evaluate(churn, alone, metrics=["quality"]).score
    assert parallel > single - 0.03, (parallel, single)
    if not streamed:  # sampling under torchrun: each process writes its shard of one run's rows
        done = _torchrun(["sample", str(model), "-n", "1200", "-o", str(tmp_path / "parts"), "--batch-size", "500", "--seed", "4"], tmp_path)
        assert done.returncode == 0, done.stderr[-3000:]
        parts = sorted(p.name for p in (tmp_path / "parts").iterdir())
        assert parts == ["part-00000-of-00002.parquet", "part-00001-of-00002.parquet"]
        together = pd.concat([read_table(tmp_path / "parts" / p) for p in parts], ignore_index=True)
        expected = syn.sample(1200, seed=4, batch_size=500).reset_index(drop=True)
        pd.testing.assert_frame_equal(together, expected, check_dtype=False)
        # Review: with --rows-per-file every process drew and wrote all the rows, into one folder.
        # Refused from torchrun's variables, before any process group: checked in this process
        # with them set, as torchrun sets them for rank 0 (a torchrun launch costs 8 s here).
        from click.testing import CliRunner
        from synthvae.cli import cli

        for name, value in {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0"}.items():
            monkeypatch.setenv(name, value)
        done = CliRunner().invoke(cli, ["sample", str(model), "-n", "1200", "-o", str(tmp_path / "rpf"), "--rows-per-file", "500"])
        assert done.exit_code == 2 and "--rows-per-file would make every process write the same rows" in done.output
        assert not (tmp_path / "rpf").exists()


_SCAN_SCRIPT = """
import sys
import torch
from synthvae.distributed import Parallel
from synthvae.streaming import TableSource, scan
parallel = Parallel.from_environment()
parallel.start(torch.device("cpu"))
found = scan(TableSource(sys.argv[1]), seed=4, reservoir_rows=700, parallel=parallel)
found.reservoir.to_parquet(f"{sys.argv[2]}/reservoir-{parallel.rank}.parquet")
found.validation.to_parquet(f"{sys.argv[2]}/validation-{parallel.rank}.parquet")
assert sum(found.train_rows.values()) + len(found.validation) == found.rows
parallel.stop()
"""


def test_two_process_scan_is_the_one_process_scan(tmp_path, diamonds):
    _write_dataset(diamonds, tmp_path / "ds", files=3, row_group=400)
    script = tmp_path / "scan.py"
    script.write_text(_SCAN_SCRIPT)
    done = _two_processes([str(script), str(tmp_path / "ds"), str(tmp_path)], timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    alone = scan(TableSource(tmp_path / "ds"), seed=4, reservoir_rows=700)
    for rank in (0, 1):  # each process read half the row groups, and all hold the whole scan
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"reservoir-{rank}.parquet"), alone.reservoir)
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"validation-{rank}.parquet"), alone.validation)


def test_a_streamed_fit_links_pooled_categories_from_its_sample(tmp_path):
    # The codecs see a sample (here 3,000 of 8,000 rows); the pools are refitted from the whole
    # table's counts and the tail numbers stay linked to the carrier: a pooled plane the sample
    # never saw is drawn only through the smoothing, rarely.
    flights = pd.read_csv(dataset_path("flights.csv.gz"), nrows=8000, usecols=["carrier", "tailnum", "origin", "distance"])
    _write_dataset(flights, tmp_path / "ds", files=4, row_group=1000)
    syn = Synthesizer(seed=0, max_categories=50, **SMALL).fit(tmp_path / "ds", reservoir_rows=3000)
    codec = next(c for c in syn.preprocessor_.codecs_ if c.column.name == "tailnum")
    assert codec.parent_ == "carrier"
    plane_carrier = flights.dropna(subset=["tailnum"]).groupby("tailnum")["carrier"].agg(lambda s: s.mode().iloc[0])
    kept = {codec.column.categories[i] for i in codec.kept_}
    fake = syn.sample(4000, seed=1)
    tails = fake["tailnum"].astype(object)
    pooled = tails.map(lambda t: t == t and t not in kept).to_numpy(bool)
    assert pooled.sum() > 1000
    assert (tails[pooled].map(plane_carrier).to_numpy() == fake["carrier"].astype(object).to_numpy()[pooled]).mean() > 0.95



_KILLED_FIT = """
import sys, time, pandas as pd
from synthvae import Synthesizer
marker = sys.argv[1]
def wait(progress):
    open(marker, "w").close()
    time.sleep(120)
frame = pd.read_csv(sys.argv[2]).head(500)
Synthesizer(seed=0, epochs=4, latent_dim=8, hidden_dims=(64, 64), prior_components=3, conditional=False).fit(frame, callback=wait)
"""


def test_a_killed_in_memory_fit_leaves_no_temporary_folder(tmp_path):
    # A folder made for every fit was left behind by each fit that was killed (127 empty
    # synthvae-fit-* folders in /tmp after a day of benchmarks): an in-memory fit makes none.
    import signal
    import time

    spill, marker = tmp_path / "tmp", tmp_path / "training"
    spill.mkdir()
    env = {**os.environ, "TMPDIR": str(spill), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-c", _KILLED_FIT, str(marker), str(dataset_path("diamonds.csv"))], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), "the fit never reached its first epoch"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert [p.name for p in spill.iterdir()] == []


def test_a_streamed_fit_removes_its_temporary_folder(tmp_path, monkeypatch, diamonds):
    import tempfile

    spill = tmp_path / "tmp"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    _write_dataset(diamonds.head(1000), tmp_path / "ds", files=2, row_group=250)
    Synthesizer(seed=0, **SMALL).fit(tmp_path / "ds")
    assert list(spill.iterdir()) == []
    with pytest.raises(ParameterError, match="stop here"):
        Synthesizer(seed=0, **SMALL).fit(tmp_path / "ds", callback=_refuse_second_epoch)
    assert list(spill.iterdir()) == []


def _refuse_second_epoch(progress) -> None:
    if progress.epoch >= 2:
        raise ParameterError("stop here")


class _Stop(Exception):
    pass


def _stop_at(epoch: int):
    def callback(progress) -> None:
        if progress.epoch == epoch:
            raise _Stop(f"stopped at epoch {epoch}")
    return callback


def _same_weights(a: Synthesizer, b: Synthesizer) -> None:
    first, second = a.model_.state_dict(), b.model_.state_dict()
    assert first.keys() == second.keys()
    for key, value in first.items():
        assert torch.equal(value, second[key]), key


def test_a_streamed_csv_fit_resumes_from_its_checkpoint(tmp_path):
    # The checkpoint was tied to the CSV's temporary Parquet parts (new files in every fit), so
    # the same fit with resume=True was always refused as "other data".
    csv = tmp_path / "penguins.csv"
    read_table(dataset_path("penguins.csv")).to_csv(csv, index=False)
    whole = Synthesizer(seed=3, **SMALL).fit(csv, streaming=True)
    with pytest.raises(_Stop):
        Synthesizer(seed=3, **SMALL).fit(csv, streaming=True, checkpoint_dir=tmp_path / "ck", checkpoint_every=0,
                                         callback=_stop_at(2))
    resumed = Synthesizer(seed=3, **SMALL).fit(csv, streaming=True, checkpoint_dir=tmp_path / "ck", resume=True)
    _same_weights(whole, resumed)
    assert resumed.history_ == whole.history_


def test_a_streamed_resume_takes_any_spelling_of_the_path_and_no_checkpoint_inside_the_data(tmp_path, monkeypatch, diamonds):
    _write_dataset(diamonds.head(1200), tmp_path / "ds", files=2, row_group=300)
    whole = Synthesizer(seed=1, **SMALL).fit(tmp_path / "ds")
    with pytest.raises(_Stop):
        Synthesizer(seed=1, **SMALL).fit(tmp_path / "ds", checkpoint_dir=tmp_path / "ck", checkpoint_every=0,
                                         callback=_stop_at(2))
    monkeypatch.chdir(tmp_path)  # the same folder, now as a relative path (it was refused as other data)
    resumed = Synthesizer(seed=1, **SMALL).fit("ds", checkpoint_dir="ck", resume=True)
    _same_weights(whole, resumed)
    # A checkpoint folder inside the dataset was accepted, and its checkpoint then read as data
    # ("holds files that are not Parquet") by the resume; now refused before the fit starts.
    with pytest.raises(ParameterError, match=r"checkpoint_dir 'ds/ck' is inside the dataset folder 'ds'.*outside"):
        Synthesizer(seed=1, **SMALL).fit("ds", checkpoint_dir="ds/ck")
    assert not (tmp_path / "ds" / "ck").exists()
    Synthesizer(seed=1, **SMALL).fit("ds", checkpoint_dir="ds/_ck")  # names with '_' are not read


def test_two_process_streamed_csv_fit(tmp_path):
    # Every process converts the CSV into its own temporary folder; the scan's training rows
    # were keyed by those paths, so rank 1 looked up rank 0's files (KeyError), and a CSV of
    # one row group was refused as "too few row groups (1) for 2 processes". 66,000 rows make
    # two row groups of 65,536 and 464 rows.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=66_000).round(3), "k": rng.integers(0, 5, 66_000),
                          "c": rng.choice(["a", "b"], 66_000)})
    csv = tmp_path / "big.csv"
    frame.to_csv(csv, index=False)
    model = tmp_path / "model.synthvae"
    done = _torchrun(["fit", str(csv), "--streaming", "--reservoir-rows", "2000", "-o", str(model), "--epochs", "1",
                      "--seed", "3", "-q"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "fitted 66000 rows" in done.stderr and "2 processes" in done.stderr
    fake = Synthesizer.load(model).sample(500, seed=0)
    assert list(fake.columns) == ["x", "k", "c"] and set(fake["c"]) <= {"a", "b"}


_EPOCH_SCRIPT = """
import sys
import numpy as np
import torch
from synthvae.distributed import Parallel
from synthvae.streaming import TableSource, TableStream, scan
parallel = Parallel.from_environment()
parallel.start(torch.device("cpu"))
source = TableSource(sys.argv[1])
found = scan(source, seed=4, reservoir_rows=100, parallel=parallel)
stream = TableStream(source, found, lambda frame, where: frame[["row"]].to_numpy(np.float64), seed=1, buffer_rows=1024,
                     rank=parallel.rank, world=parallel.world)
for epoch in (1, 2, 3):
    rows = np.concatenate(list(stream.batches(epoch, 100)))[:, 0]  # this rank's half of each batch of 200
    np.save(f"{sys.argv[2]}/rows-{epoch}-{parallel.rank}.npy", rows)
parallel.stop()
"""


def test_two_processes_train_on_the_rows_of_one_process(tmp_path):
    # Row groups of 5,000, 800 and 200 rows. Each rank read whole row groups, and the steps were
    # those of the rank with the fewest rows: 2 processes trained on as few as 200 of the 5,400
    # training rows in an epoch. Now the epoch's order of row groups is cut into two runs of
    # equal training rows (inside a row group where need be): together they train on as many
    # rows as one process, each once.
    sizes, start = (5000, 800, 200), 0
    (tmp_path / "ds").mkdir()
    for i, size in enumerate(sizes):
        part = pd.DataFrame({"row": np.arange(start, start + size), "x": np.random.default_rng(i).normal(size=size)})
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), tmp_path / "ds" / f"part-{i}.parquet")
        start += size
    script = tmp_path / "epoch.py"
    script.write_text(_EPOCH_SCRIPT)
    done = _two_processes([str(script), str(tmp_path / "ds"), str(tmp_path)], timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    source = TableSource(tmp_path / "ds")
    found = scan(source, seed=4, reservoir_rows=100)
    training = set(range(6000)) - set(found.validation.index)
    alone = TableStream(source, found, lambda frame, where: frame[["row"]].to_numpy(np.float64), seed=1, buffer_rows=1024)
    for epoch in (1, 2, 3):
        ranks = [np.load(tmp_path / f"rows-{epoch}-{rank}.npy") for rank in (0, 1)]
        one = np.concatenate(list(alone.batches(epoch, 200)))[:, 0]
        assert len(ranks[0]) == len(ranks[1]) == len(one) // 2 == len(training) // 200 * 100
        together = np.concatenate(ranks)
        assert len(set(together)) == len(together) and set(together) <= training


def test_torchrun_edge_cases_fit_or_are_refused_clearly(tmp_path, monkeypatch):
    penguins = read_table(dataset_path("penguins.csv"))
    # One row group: rank 1 had none to read and the fit died in epoch 1 (a DataError on rank 1,
    # a raw gloo traceback on rank 0); now the two processes split the row group's rows.
    pq.write_table(pa.Table.from_pandas(penguins, preserve_index=False), tmp_path / "one-group.parquet")
    done = _torchrun(["fit", str(tmp_path / "one-group.parquet"), "--streaming", "-o", str(tmp_path / "m.synthvae"),
                      "--epochs", "2", "-q"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "fitted 344 rows" in done.stderr and "2 processes" in done.stderr
    # One row for two processes: rank 1 stepped on an empty batch ("the loss became nan").
    penguins.head(1).to_csv(tmp_path / "one.csv", index=False)
    done = _torchrun(["fit", str(tmp_path / "one.csv"), "-o", str(tmp_path / "m1.synthvae"), "--epochs", "2"], tmp_path)
    assert done.returncode != 0
    assert "one.csv' has 1 rows, fewer than the 2 data-parallel processes: each needs rows to train on" in done.stderr
    assert "nan" not in done.stderr
    # torchrun's variables set by hand, without the address: a raw "MASTER_ADDR expected" ValueError.
    from click.testing import CliRunner
    from synthvae.cli import cli

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    for name in ("MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["fit", str(tmp_path / "one.csv"), "-o", str(tmp_path / "m2.synthvae")])
    assert result.exit_code == 1
    assert "Error: WORLD_SIZE is 2 but MASTER_ADDR and MASTER_PORT are not set" in result.output
    monkeypatch.setenv("RANK", "2")
    result = CliRunner().invoke(cli, ["fit", str(tmp_path / "one.csv"), "-o", str(tmp_path / "m2.synthvae")])
    assert result.exit_code == 1 and "Error: RANK is 2, outside 0 to 1" in result.output


def test_a_streamed_fit_infers_types_and_decimals_from_every_row(tmp_path):
    # The type and decimals came from the sample alone: one fraction among whole numbers made
    # the fit fail in epoch 1 ("the schema says integer but found [5050.25]", a schema the user
    # never gave), and one value with 3 decimals among 1-decimal ones was rounded to 1.
    from synthvae import infer_schema

    penguins = read_table(dataset_path("penguins.csv")).dropna().reset_index(drop=True)
    penguins["body_mass_g"] = penguins["body_mass_g"].astype(float)
    penguins.loc[200, "body_mass_g"] += 0.25
    penguins.loc[201, "bill_length_mm"] = 45.123
    _write_dataset(penguins, tmp_path / "ds", files=2, row_group=100)
    found = scan(TableSource(tmp_path / "ds"), seed=_fit_scan_seed(0), reservoir_rows=20)
    assert not {200, 201} & set(found.reservoir.index)
    syn = Synthesizer(seed=0, **SMALL).fit(tmp_path / "ds", reservoir_rows=20)
    whole = infer_schema(penguins)
    for name, kind, decimals in (("body_mass_g", "float", 2), ("bill_length_mm", "float", 3)):
        column = syn.schema_[name]
        assert (column.type.value, column.decimals) == (kind, decimals) == (whole[name].type.value, whole[name].decimals)
        assert (column.min, column.max) == (whole[name].min, whole[name].max)
    assert syn.schema_["flipper_length_mm"].type.value == "integer"  # whole numbers everywhere stay integers


def test_a_streamed_fit_keeps_the_decimals_most_numbers_have(tmp_path):
    # Amounts in cents beside 4% with float noise (loans' paid_total) keep 2 decimals in memory;
    # streamed, one noisy number anywhere in the table left the column unrounded, and every
    # synthetic amount carried 13 decimals.
    from synthvae import infer_schema

    rng = np.random.default_rng(0)
    amount = rng.gamma(2.0, 500.0, 1000).round(2)
    noisy = rng.choice(1000, 40, replace=False)
    amount[noisy] += rng.uniform(0.001, 0.004, 40)  # 41630.443684235
    frame = pd.DataFrame({"amount": amount, "x": rng.normal(size=1000).round(3)})
    _write_dataset(frame, tmp_path / "ds", files=2, row_group=250)
    syn = Synthesizer(seed=0, **SMALL).fit(tmp_path / "ds", reservoir_rows=50)
    assert syn.schema_["amount"].decimals == infer_schema(frame)["amount"].decimals == 2
    sampled = syn.sample(500, seed=1)["amount"].to_numpy()
    assert np.allclose(sampled, sampled.round(2), rtol=0, atol=1e-9)


def test_a_streamed_fit_keeps_levels_several_rows_hold(tmp_path):
    # As in memory (randhie's physlm): 0 or 1 on 95% of rows and 5 levels of 7 decimals on the
    # rest were rounded to one decimal, counted by rows alone.
    from synthvae import infer_schema

    rng = np.random.default_rng(0)
    levels = np.array([0.1442925, 0.1572505, 0.0221239, 0.3513271, 0.5278211])
    physlm = np.where(rng.random(2000) < 0.95, rng.integers(0, 2, 2000).astype(float), rng.choice(levels, 2000))
    frame = pd.DataFrame({"physlm": physlm, "x": rng.normal(size=2000).round(3)})
    _write_dataset(frame, tmp_path / "ds", files=2, row_group=250)
    syn = Synthesizer(seed=0, **SMALL).fit(tmp_path / "ds", reservoir_rows=50)
    assert syn.schema_["physlm"].decimals is infer_schema(frame)["physlm"].decimals is None


def test_a_streamed_fit_takes_datetime_bounds_from_every_row(tmp_path):
    # Only numeric bounds were widened: seattle's dates with a 30-row sample had bounds
    # 2012-01-16..2015-12-03 (the table's are 2012-01-01..2015-12-31).
    from synthvae import infer_schema

    seattle = dataset_path("seattle_weather.csv")
    whole = infer_schema(read_table(seattle))["date"]
    text = Synthesizer(seed=0, **SMALL).fit(seattle, streaming=True, reservoir_rows=30).schema_["date"]
    assert (text.min, text.max, text.unit) == (whole.min, whole.max, whole.unit)
    # Parquet datetimes, one of them not at midnight (the sample's are: days)
    frame = read_table(seattle)
    frame["date"] = pd.to_datetime(frame["date"])
    frame.loc[700, "date"] += pd.Timedelta(hours=6)
    _write_dataset(frame, tmp_path / "ds", files=2, row_group=200)
    column = Synthesizer(seed=0, **SMALL).fit(tmp_path / "ds", reservoir_rows=30).schema_["date"]
    # The values' own grid, hours, as in memory: the scan knew only that not every value was a
    # midnight and chose seconds, and flights' hourly times were sampled off the hour (a user review).
    assert (column.min, column.max, column.unit) == (whole.min, whole.max, "h") and column.description.endswith("resolution h")
    assert infer_schema(frame)["date"].unit == "h"
    sampled = Synthesizer(seed=0, **SMALL).fit(tmp_path / "ds", reservoir_rows=30).sample(300, seed=0)["date"]
    assert (sampled == sampled.dt.floor("h")).all()
    # Whole minutes: the schema's "m", which pandas reads as month ends (the fit crashed).
    frame["date"] += pd.to_timedelta(np.arange(len(frame)) % 4 * 15, unit="min")
    _write_dataset(frame, tmp_path / "minutes", files=2, row_group=200)
    column = Synthesizer(seed=0, **SMALL).fit(tmp_path / "minutes", reservoir_rows=30).schema_["date"]
    assert (column.unit, column.min) == ("m", infer_schema(frame)["date"].min) and infer_schema(frame)["date"].unit == "m"


def test_datetime_bounds_past_the_counted_values_come_from_a_read_of_the_column(tmp_path):
    # Text timestamps with more distinct values than the scan counts (100,000) are parsed in
    # one more read of that column alone.
    from synthvae import infer_schema
    from synthvae.streaming import widen_schema

    rng = np.random.default_rng(0)
    stamps = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.permutation(110_000) * 61, unit="s")
    frame = pd.DataFrame({"at": stamps.strftime("%Y-%m-%d %H:%M:%S"), "x": rng.normal(size=110_000)})
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "t.parquet", row_group_size=40_000)
    source = TableSource(tmp_path / "t.parquet")
    found = scan(source, seed=1, reservoir_rows=50)
    assert found.stats["at"].counts is None
    sampled = infer_schema(found.reservoir, derived=False)
    widened = widen_schema(sampled, found, source)["at"]
    assert sampled["at"].min > stamps.min()
    assert (widened.min, widened.max) == (stamps.min(), stamps.max())


def _free_port() -> int:
    """A port no process listens on now (a fixed one collided with another run's)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_processes_started_by_hand_say_in_one_line_when_another_one_fails(tmp_path):
    # Without torchrun's agent, the process whose peer failed printed torch's raw communication
    # traceback; the failing one printed its own error.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()), "WORLD_SIZE": "2"}
    command = [sys.executable, "-m", "synthvae", "fit", str(dataset_path("penguins.csv")), "-o", str(tmp_path / "m.synthvae"),
               "--epochs", "3", "-q"]
    first = subprocess.Popen(command, env={**env, "RANK": "0", "LOCAL_RANK": "0"}, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    # A memory budget too small for the fit: this process refuses it.
    failing = subprocess.run(command, env={**env, "RANK": "1", "LOCAL_RANK": "1", "SYNTHVAE_MEMORY_LIMIT": "1000"},
                             capture_output=True, text=True, timeout=120)
    _, err = first.communicate(timeout=120)
    assert failing.returncode == 1 and failing.stderr.startswith("Error: ")
    assert first.returncode == 1 and "Traceback" not in err, err[-2000:]
    assert "Error: process 0 of 2: the parallel fit stopped" in err and "another process probably failed" in err


def test_options_that_do_nothing_for_the_input_are_refused(tmp_path, diamonds):
    # reservoir_rows beside a fit that reads its data whole was accepted and did nothing.
    with pytest.raises(ParameterError, match=r"reservoir_rows \(--reservoir-rows\) sets the sample a streamed fit infers the schema from"):
        Synthesizer(seed=0, **SMALL).fit(diamonds.head(200), reservoir_rows=50)
    diamonds.head(200).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(ParameterError, match="reservoir_rows"):
        Synthesizer(seed=0, **SMALL).fit(tmp_path / "d.csv", reservoir_rows=50)
    assert Synthesizer(seed=0, **SMALL).fit(tmp_path / "d.csv", streaming=True, reservoir_rows=50).schema_ is not None


def test_a_streamed_fit_names_the_derived_rules_it_cannot_keep(tmp_path, caplog):
    # Flights streamed sampled time_hour 05:00 beside hour 6 without a word.
    _, parts = _parts_with_a_sum(tmp_path)
    with caplog.at_level("WARNING", logger="synthvae.synthesizer"):
        Synthesizer(epochs=1, seed=0).fit(parts)
    assert any("1 rule found on the streamed sample (total = a + b)" in r.getMessage() for r in caplog.records)


def test_a_folder_of_parts_read_whole_keeps_the_schemas_rules(tmp_path):
    # A folder was always streamed, and a streamed fit keeps no rules: a folder with rules could
    # not be fitted at all ("fit in memory", then "a folder is always streamed").
    from synthvae import infer_schema

    frame, parts = _parts_with_a_sum(tmp_path)
    schema = infer_schema(frame)
    assert schema.constraints
    with pytest.raises(ParameterError, match="read the file or folder whole"):
        Synthesizer(schema, epochs=1, seed=0).fit(parts)
    syn = Synthesizer(schema, epochs=1, seed=0).fit(parts, streaming=False)
    out = syn.sample(50, seed=0)
    assert syn.fit_info_.rows == 400 and (out["total"] == out["a"] + out["b"]).all()


def _parts_with_a_sum(tmp_path):
    """400 rows in two Parquet parts, in which total = a + b on every row; and their folder."""
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 100, 400), rng.integers(0, 100, 400)
    frame = pd.DataFrame({"a": a, "b": b, "total": a + b, "x": rng.normal(size=400)})
    (tmp_path / "parts").mkdir()
    frame.iloc[:150].to_parquet(tmp_path / "parts" / "part-0.parquet")
    frame.iloc[150:].to_parquet(tmp_path / "parts" / "part-1.parquet")
    return frame, tmp_path / "parts"


def test_a_hive_partitioned_folder_keeps_the_columns_its_folder_names_give(tmp_path, penguins):
    # pq.write_to_dataset(partition_cols=...) (and Spark, Hive) keep species and year in the
    # folder names only: both were silently left out of the model, streamed and in memory.
    pq.write_to_dataset(pa.Table.from_pandas(penguins, preserve_index=False), tmp_path / "hive", partition_cols=["species", "year"])
    source = TableSource(tmp_path / "hive")
    assert source.columns[-2:] == ["species", "year"] and source.rows == len(penguins)
    for streaming in (True, False):
        syn = Synthesizer(seed=0, **SMALL).fit(tmp_path / "hive", streaming=streaming)
        assert syn.schema_["species"].kind.value == "categorical" and set(syn.schema_["species"].categories) == set(penguins["species"])
        assert syn.schema_["year"].kind.value == "numeric" and (syn.schema_["year"].min, syn.schema_["year"].max) == (2007, 2009)
        rows = syn.sample(300, seed=0)
        assert set(rows["species"].astype(object)) == set(penguins["species"]) and rows["year"].between(2007, 2009).all()
    # Digits with a leading zero stay text (zip 02139 became 2139), as do digits that are no
    # number ("--5", "²" raised a bare ValueError).
    for value, kept in (("02139", "02139"), ("--5", "--5"), ("%C2%B2", "²"), ("-12", -12)):
        zipped = tmp_path / f"zip{len(kept) if isinstance(kept, str) else 'n'}" / f"zip={value}"
        zipped.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pandas(penguins.head(3), preserve_index=False), zipped / "p.parquet")
        assert TableSource(zipped.parent).partitions[zipped / "p.parquet"] == {"zip": kept}
    # A folder whose files sit under different keys is refused, naming both.
    other = tmp_path / "hive" / "extra=1"
    other.mkdir()
    pq.write_table(pa.Table.from_pandas(penguins.drop(columns=["species", "year"]).head(5), preserve_index=False), other / "p.parquet")
    with pytest.raises(DataError, match=r"\['extra'\].*gives every file the same keys"):
        TableSource(tmp_path / "hive")


def test_numbers_stored_as_text_are_judged_on_every_row_not_the_sample(tmp_path, caplog):
    rng = np.random.default_rng(0)
    for name, placeholder in (("ok", False), ("bad", True)):
        for i in range(3):
            frame = pd.DataFrame({"x": rng.normal(size=2000), "code": rng.integers(10000, 99999, 2000).astype(str)})
            if i == 2:
                frame.loc[4, "code"] = "5"  # the table's least number, outside the sample
                if placeholder:
                    frame.loc[3, "code"] = "N/A-7"
            (tmp_path / name).mkdir(exist_ok=True)
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / name / f"part-{i}.parquet")
    # Bounds came from the sample alone (min 10,0xx); now from every row.
    code = Synthesizer(seed=0, **SMALL).fit(tmp_path / "ok", reservoir_rows=300).schema_["code"]
    assert code.kind.value == "numeric" and code.min == 5
    # A value that is no number outside the sample failed the fit in its first epoch; the
    # column is now categorical, as inference makes it of the table in memory, and says why.
    with caplog.at_level("WARNING", logger="synthvae"):
        syn = Synthesizer(seed=0, **SMALL).fit(tmp_path / "bad", reservoir_rows=300)
    assert syn.schema_["code"].kind.value == "categorical" and "N/A-7" in syn.schema_["code"].categories
    assert "rows outside it hold ['N/A-7'], which are no numbers" in caplog.text


def test_a_stopped_streamed_csv_fit_leaves_no_copy_of_the_csv(tmp_path, monkeypatch, diamonds):
    # SIGTERM (a scheduler, timeout, torchrun stopping the others) skipped the clean-up: the
    # CSV's Parquet copy stayed in the temporary folder; a SIGKILLed fit's copy is removed by
    # the next streamed fit.
    import signal
    import time

    spill = tmp_path / "tmp"
    spill.mkdir()
    diamonds.to_csv(tmp_path / "d.csv", index=False)
    env = {**os.environ, "TMPDIR": str(spill), "OMP_NUM_THREADS": "1"}
    for stop in (signal.SIGTERM, signal.SIGKILL):
        process = subprocess.Popen([sys.executable, "-m", "synthvae", "fit", str(tmp_path / "d.csv"), "--streaming", "-o",
                                    str(tmp_path / "m.synthvae"), "--epochs", "1000", "-q"], env=env, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 120
            while not list(spill.glob("synthvae-fit-*/csv-parts/*.parquet")) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert list(spill.glob("synthvae-fit-*")), "the fit never copied its CSV"
            time.sleep(0.5)
        finally:
            process.send_signal(stop)
            process.wait(timeout=60)
        said = process.stderr.read().decode()
        process.stderr.close()
        if stop == signal.SIGTERM:  # it exited in silence
            assert process.returncode == 128 + signal.SIGTERM and list(spill.iterdir()) == []
            assert said.strip().endswith("Error: stopped by SIGTERM"), said
    assert list(spill.glob("synthvae-fit-*"))  # what SIGKILL leaves
    _write_dataset(diamonds.head(600), tmp_path / "ds", files=2, row_group=300)
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    Synthesizer(seed=0, **SMALL).fit(tmp_path / "ds")
    assert list(spill.iterdir()) == []


def test_a_process_whose_peers_never_come_says_what_it_waits_for(tmp_path):
    # Started by hand (WORLD_SIZE=2, no second process), the fit waited 30 minutes in silence.
    port = _free_port()
    env = {**os.environ, "WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
           "OMP_NUM_THREADS": "1"}
    program = ("import synthvae.distributed as d; d._SAY_WAITING_AFTER = 1\n"
               "from synthvae import Synthesizer\nfrom synthvae.datasets import load_penguins\n"
               "Synthesizer(epochs=1).fit(load_penguins())\n")
    process = subprocess.Popen([sys.executable, "-c", program], env=env, stderr=subprocess.PIPE, text=True)
    with pytest.raises(subprocess.TimeoutExpired):  # still waiting for its peer
        process.communicate(timeout=12)
    process.kill()
    _, said = process.communicate()
    assert f"process 0 of 2 has waited 1 s for the others at 127.0.0.1:{port}" in said


def test_a_streamed_fit_judges_min_category_rows_by_the_whole_tables_counts(tmp_path):
    # Fitted first on a 200-row sample, every one of 8 categories of ~370 rows looked rare and
    # the fit was refused ("the most by 28").
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=3000), "c": rng.choice([f"k{i}" for i in range(8)], 3000)})
    frame.loc[:29, "c"] = "rare"  # 30 rows: below 50 in the table
    _write_dataset(frame, tmp_path / "ds", files=2, row_group=500)
    syn = Synthesizer(seed=0, min_category_rows=50, **SMALL).fit(tmp_path / "ds", reservoir_rows=200)
    codec = next(c for c in syn.preprocessor_.codecs_ if c.column.name == "c")
    assert codec.suppressed_categories == ["rare"]
    assert set(syn.sample(500, seed=0)["c"].astype(object)) == {f"k{i}" for i in range(8)}


def test_a_stored_pandas_index_streams_as_read_table_reads_it(tmp_path):
    # Review: a file pandas wrote with its index (a filtered or shuffled table's: a column
    # __index_level_0__; a named one) crashed a streamed fit with a raw ValueError, where the
    # in-memory fit read the index as columns. It now gives those columns, with their values.
    penguins = read_table(dataset_path("penguins.csv")).dropna().reset_index(drop=True)
    shuffled = penguins.sample(frac=1.0, random_state=0)
    named = penguins.rename_axis("rid")
    shuffled.to_parquet(tmp_path / "shuffled.parquet")
    named.to_parquet(tmp_path / "named.parquet")
    (tmp_path / "ds").mkdir()
    shuffled.iloc[:150].to_parquet(tmp_path / "ds" / "a.parquet")
    shuffled.iloc[150:].to_parquet(tmp_path / "ds" / "b.parquet")
    for path in (tmp_path / "shuffled.parquet", tmp_path / "named.parquet", tmp_path / "ds"):
        whole = read_table(path) if path.is_file() else pd.concat([read_table(p) for p in sorted(path.glob("*.parquet"))], ignore_index=True)
        source = TableSource(path)
        assert source.columns == list(whole.columns)
        rows = pd.concat([frame for unit in source.units for _, frame in source.read(unit, chunk_rows=64)], ignore_index=True)
        pd.testing.assert_frame_equal(rows, whole, check_dtype=False)
        syn = Synthesizer(seed=0, **SMALL).fit(path, streaming=True, reservoir_rows=100)
        assert syn.schema_.names == list(whole.columns)
    # An index named as a column: refused as read_table refuses it (a raw ValueError streamed).
    penguins.set_index(penguins["species"].rename("island")).to_parquet(tmp_path / "clash.parquet")
    for streaming in (True, False):
        with pytest.raises(DataError, match=r"the table's index \['island'\] has the name of a column"):
            Synthesizer(seed=0, **SMALL).fit(tmp_path / "clash.parquet", streaming=streaming)


def test_a_streamed_fit_reads_columns_as_an_in_memory_fit_does(tmp_path):
    # Review: a given schema's categories "1.10" and "2.50" were read from a streamed CSV as the
    # numbers 1.1 (merged with "1.1", never sampled) and 2.5 (refused); and a true/false column
    # empty in a first part (floats there) joined the sample as 1.0 / 0.0: a 0-1 integer column.
    from synthvae import Schema, infer_schema

    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({"v": rng.normal(size=n).round(3), "version": rng.choice(["1.1", "1.10", "1.2"], n),
                          "band": rng.choice(["2.50", "3.75"], n)})
    frame.to_csv(tmp_path / "t.csv", index=False)
    document = infer_schema(frame).to_dict()
    # Labels, not numbers (inference reads them as numbers): the user's schema says so.
    document["columns"] = [document["columns"][0],
                           {"name": "version", "kind": "categorical", "categories": ["1.1", "1.10", "1.2"]},
                           {"name": "band", "kind": "categorical", "categories": ["2.50", "3.75"]}]
    schema = Schema.from_dict(document)
    syn = Synthesizer(schema, seed=0, **SMALL).fit(tmp_path / "t.csv", streaming=True, reservoir_rows=200)
    drawn = syn.sample(600, seed=0)
    assert set(drawn["version"]) == {"1.1", "1.10", "1.2"} and set(drawn["band"]) == {"2.50", "3.75"}

    flags = pd.DataFrame({"v": rng.normal(size=400), "flag": [None] * 200 + list(rng.choice([True, False], 200))})
    (tmp_path / "ds").mkdir()
    flags.iloc[:200].astype({"flag": "float64"}).to_parquet(tmp_path / "ds" / "a.parquet", index=False)
    flags.iloc[200:].astype({"flag": bool}).to_parquet(tmp_path / "ds" / "b.parquet", index=False)
    streamed = Synthesizer(seed=0, **SMALL).fit(tmp_path / "ds", streaming=True, reservoir_rows=300)
    assert streamed.schema_["flag"].kind.value == "boolean"
    assert set(streamed.sample(200, seed=0)["flag"].dropna()) <= {True, False}


@pytest.mark.parametrize("kind, values", [
    ("list", pa.array([[1, 2], [3]] * 10)),
    ("record", pa.array([{"a": 1, "b": "x"}] * 20)),
    ("record", pa.array([[("k", 1)]] * 20, type=pa.map_(pa.string(), pa.int64()))),
    ("bytes", pa.array([b"ab"] * 20)),
])
def test_a_streamed_fit_refuses_columns_no_kind_holds_before_reading_rows(tmp_path, kind, values):
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(pa.table({"x": pa.array(np.arange(20.0)), "odd": values}), folder / "part-0.parquet")
    # A raw "TypeError: unhashable type" from the scan, for a folder even without --streaming.
    with pytest.raises(DataError, match=rf"part-0.parquet', column 'odd': {kind} values .* are not supported"):
        Synthesizer(epochs=1).fit(folder, streaming=True)


def test_a_file_rewritten_during_a_streamed_fit_is_refused(tmp_path, diamonds):
    # Other rows in as many row groups were read from epoch 2 on without a word (the rows held
    # out for validation among them).
    _write_dataset(diamonds.head(1000), tmp_path / "ds", files=2, row_group=250)
    first = sorted((tmp_path / "ds").iterdir())[0]

    def rewrite(progress) -> None:
        if progress.epoch == 1:
            table = pq.read_table(first)
            pq.write_table(table.take(np.random.default_rng(0).permutation(table.num_rows)), first, row_group_size=250)

    with pytest.raises(DataError, match=f"{str(first)!r} changed during the fit .* leave the data as it is until the fit ends"):
        Synthesizer(seed=0, **SMALL).fit(tmp_path / "ds", callback=rewrite)


def test_a_category_column_past_the_scans_count_is_counted_by_a_read_of_its_own(tmp_path, monkeypatch):
    # A streamed fit refused a column of more distinct values than the scan counts (100,000),
    # which the in-memory fit learns with its rare categories pooled; so a number column with a
    # few words late in the file (categorical in memory).
    import synthvae.streaming as streaming

    rng = np.random.default_rng(0)
    n = 3000
    frame = pd.DataFrame({"city": rng.choice([f"c{i}" for i in range(400)], n), "x": rng.normal(size=n).round(3),
                          "amount": rng.normal(size=n).round(5).astype(object)})
    frame.loc[n - 2:, "amount"] = "unknown"
    frame.to_csv(tmp_path / "t.csv", index=False)
    whole = Synthesizer(seed=0, **SMALL).fit(tmp_path / "t.csv", streaming=False).schema_
    counted = Synthesizer(seed=0, **SMALL).fit(tmp_path / "t.csv", streaming=True, reservoir_rows=500)
    monkeypatch.setattr(streaming, "_MAX_TRACKED", 50)
    # From a sample of 500 rows: the slots (kept and pooled categories) come from the second
    # read's counts too (they came from the sample, and an epoch's row of another city failed).
    read_again = Synthesizer(seed=0, **SMALL).fit(tmp_path / "t.csv", streaming=True, reservoir_rows=500)
    streamed = Synthesizer(seed=0, **SMALL).fit(tmp_path / "t.csv", streaming=True).schema_
    for name in ("city", "amount"):
        assert streamed[name].kind.value == "categorical" and streamed[name].categories == whole[name].categories, name
        assert read_again.schema_[name].categories == whole[name].categories, name
    assert read_again.preprocessor_.layout_.width == counted.preprocessor_.layout_.width
    assert read_again.sample(200, seed=0).equals(counted.sample(200, seed=0))
    monkeypatch.setattr(streaming, "_MAX_COUNTED", 100)
    with pytest.raises(DataError, match="column 'city' holds more than 100 distinct values, too many to learn as categories"):
        Synthesizer(seed=0, **SMALL).fit(tmp_path / "t.csv", streaming=True)


def test_a_value_past_a_given_schema_names_its_file_of_the_folder(tmp_path, diamonds):
    frame = diamonds.head(2000).reset_index(drop=True)
    schema = infer_schema(frame, derived=False)
    # Found in the validation rows, in the sample, or by an epoch's read: the file (the whole
    # folder was named, and "(a sample of 2000 rows)" for a sample that was the whole table).
    for row in (1700, 1900, 1990):
        broken = frame.copy()
        broken.loc[row, "carat"] = 1e6
        _write_dataset(broken, tmp_path / "ds", files=4, row_group=250)
        for reservoir in (100, 2000):
            with pytest.raises(DataError, match=f"^{str(tmp_path / 'ds' / 'part-003.parquet')!r}, column 'carat': 1 values above"):
                Synthesizer(schema=schema, seed=0, **SMALL).fit(tmp_path / "ds", streaming=True, reservoir_rows=reservoir)
