"""Output of any size: rows drawn batch by batch straight into a file, the same rows as one
``sample`` call, with ids unique and rules kept across batches."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from synthvae import DataError, Schema, Synthesizer, read_table
from synthvae.cli import cli


@pytest.fixture(scope="module")
def with_ids(penguins):
    frame = penguins.copy()
    frame.insert(0, "penguin_id", range(1, len(frame) + 1))
    schema = Schema.from_dict(
        {
            **_inferred(frame),
            "constraints": [{"kind": "inequality", "low": "bill_depth_mm", "high": "bill_length_mm"}],
        }
    )
    return Synthesizer(schema, epochs=2, hidden_dims=(16,), latent_dim=4, seed=0).fit(frame)


def _inferred(frame: pd.DataFrame) -> dict:
    from synthvae import infer_schema

    schema = infer_schema(frame).to_dict()
    for column in schema["columns"]:
        if column["name"] == "penguin_id":
            column.update({"kind": "id"})
            for key in ("min", "max", "nullable"):
                column.pop(key, None)
    return schema


@pytest.mark.parametrize("suffix", ["parquet", "csv", "csv.gz"])
def test_sample_to_writes_exactly_the_rows_of_sample(with_ids, tmp_path, suffix):
    path = with_ids.reset_sampling().sample_to(tmp_path / f"out.{suffix}", 1050, seed=3, batch_size=200)
    expected = with_ids.reset_sampling().sample(1050, seed=3, batch_size=200)  # ids from the same point
    written = read_table(path)
    assert len(written) == 1050
    assert written["penguin_id"].is_unique
    both = written[["bill_depth_mm", "bill_length_mm"]].dropna()
    assert len(both) > 900 and (both["bill_depth_mm"] <= both["bill_length_mm"]).all()
    if suffix == "parquet":
        assert pq.ParquetFile(path).metadata.num_row_groups == math.ceil(1050 / 200)
        pd.testing.assert_frame_equal(written, expected, check_dtype=False)
    else:
        pd.testing.assert_frame_equal(written, read_table(_csv(expected, tmp_path / f"expected.{suffix}")))


def _csv(frame: pd.DataFrame, path):
    from synthvae import write_table

    return write_table(frame, path)


def test_batches_continue_index_and_ids(with_ids):
    batches = list(with_ids.iter_sample(450, seed=1, batch_size=200))
    assert [len(b) for b in batches] == [200, 200, 50]
    assert [b.index[0] for b in batches] == [0, 200, 400]
    ids = pd.concat(batches)["penguin_id"]
    assert ids.is_unique and ids.is_monotonic_increasing


def test_zero_rows_and_bad_arguments_fail_before_any_file(with_ids, tmp_path):
    empty = read_table(with_ids.sample_to(tmp_path / "empty.parquet", 0))
    assert len(empty) == 0 and list(empty.columns) == list(with_ids.schema_.names)
    with pytest.raises(Exception, match="batch_size"):
        with_ids.iter_sample(10, batch_size=0)
    assert not (tmp_path / "x.parquet").exists()


def test_cli_sample_streams_to_the_file(with_ids, tmp_path):
    model = with_ids.save(tmp_path / "m.synthvae")
    out = tmp_path / "big.parquet"
    result = CliRunner().invoke(cli, ["sample", str(model), "-n", "120000", "-o", str(out), "--seed", "2"])
    assert result.exit_code == 0, result.output
    meta = pq.ParquetFile(out).metadata
    assert meta.num_rows == 120000 and meta.num_row_groups == 3
    assert read_table(out)["penguin_id"].is_unique


def test_shards_together_are_exactly_one_sample(with_ids, tmp_path, caplog):
    import pyarrow.dataset as ds

    whole = with_ids.reset_sampling().sample(1000, seed=7, batch_size=150)
    with_ids.reset_sampling()  # shards take the ids one sample of them would, from where sampling stands
    # Out of order, as independent processes would finish.
    for index in (2, 0, 3, 1):
        with_ids.sample_to(tmp_path / "ds", 1000, seed=7, batch_size=150, shard=(index, 4))
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == [f"part-0000{i}-of-00004.parquet" for i in range(4)]
    together = ds.dataset(tmp_path / "ds").to_table().to_pandas()
    pd.testing.assert_frame_equal(together, whole, check_dtype=False)
    assert together["penguin_id"].is_unique
    # More shards than batches: the extra shards are empty, not an error, and it is said how to
    # give every shard rows (it was silent).
    with caplog.at_level("WARNING", logger="synthvae"):
        parts = [pd.concat(list(with_ids.iter_sample(300, seed=1, batch_size=150, shard=(i, 5)))) for i in range(5)]
    assert [len(p) for p in parts] == [0, 0, 150, 0, 150]
    assert "3 of the 5 shards get no rows; give every shard a batch size of at most 60" in caplog.text


def test_rows_per_file_writes_a_complete_folder(with_ids, tmp_path):
    import pyarrow.dataset as ds

    out = tmp_path / "parts"
    out.mkdir()
    (out / "part-00009.parquet").write_bytes(b"old run")  # an earlier run's parts are replaced whole
    with_ids.reset_sampling().sample_to(out, 1000, seed=2, batch_size=100, rows_per_file=300)
    assert sorted(p.name for p in out.iterdir()) == [f"part-0000{i}.parquet" for i in range(4)]
    assert [pq.ParquetFile(p).metadata.num_rows for p in sorted(out.iterdir())] == [300, 300, 300, 100]
    pd.testing.assert_frame_equal(
        ds.dataset(out).to_table().to_pandas(), with_ids.reset_sampling().sample(1000, seed=2, batch_size=100), check_dtype=False
    )
    assert [p.name for p in tmp_path.iterdir()] == ["parts"], "no temporary folder left"
    # Files cut across batches: the rows of sample() with the same batch size (a file at most a
    # batch used to become the batch size, and other rows; 250 was refused).
    for rows_per_file, batch_size in ((300, 1000), (250, 100)):
        out = tmp_path / f"cut{rows_per_file}"
        with_ids.reset_sampling().sample_to(out, 1000, seed=7, batch_size=batch_size, rows_per_file=rows_per_file)
        sizes = [pq.ParquetFile(p).metadata.num_rows for p in sorted(out.iterdir())]
        assert sizes == [rows_per_file] * (1000 // rows_per_file) + ([1000 % rows_per_file] if 1000 % rows_per_file else [])
        pd.testing.assert_frame_equal(
            ds.dataset(out).to_table().to_pandas(), with_ids.reset_sampling().sample(1000, seed=7, batch_size=batch_size), check_dtype=False
        )
    with_ids.sample_to(tmp_path / "empty", 0, rows_per_file=10)
    assert [p.name for p in (tmp_path / "empty").iterdir()] == ["part-00000.parquet"]
    # A folder holding anything else (the model, the real data) is not deleted.
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "part-00000.parquet").write_bytes(b"old")
    (mixed / "model.synthvae").write_bytes(b"precious")
    with pytest.raises(DataError, match=r"holds \['model.synthvae'\], which are not parts"):
        with_ids.sample_to(mixed, 1000, seed=2, batch_size=100, rows_per_file=300)
    assert (mixed / "model.synthvae").read_bytes() == b"precious"
    # A real dataset pyarrow wrote (part-0.parquet, part-1.parquet, ...) was taken for parts of a
    # sample and replaced by the synthetic rows (a user review).
    import pyarrow as pa

    real = tmp_path / "real"
    ds.write_dataset(pa.table({"x": list(range(50))}), real, format="parquet", max_rows_per_file=20, max_rows_per_group=20)
    names = sorted(p.name for p in real.iterdir())
    assert names == ["part-0.parquet", "part-1.parquet", "part-2.parquet"]
    with pytest.raises(DataError, match=r"holds \['part-0.parquet', 'part-1.parquet', 'part-2.parquet'\], which are not "
                                        r"parts of a sample"):
        with_ids.sample_to(real, 10, seed=2, rows_per_file=5)
    assert sorted(p.name for p in real.iterdir()) == names and ds.dataset(real).count_rows() == 50
    # Past 99,999 parts the numbers have six digits: such a folder is still a sample's (a review).
    many = tmp_path / "many"
    many.mkdir()
    for name in ("part-00000.parquet", "part-100000.parquet"):
        (many / name).write_bytes(b"old")
    with_ids.sample_to(many, 10, seed=2, rows_per_file=5)
    assert sorted(p.name for p in many.iterdir()) == ["part-00000.parquet", "part-00001.parquet"]


def test_parts_take_the_folders_csv_kind(with_ids, tmp_path):
    # A folder named like a compressed CSV or a TSV file got Parquet parts.
    for name in ("rows.csv.gz", "rows.tsv"):
        out = tmp_path / name
        with_ids.sample_to(out, 500, seed=2, batch_size=100, rows_per_file=200)
        end = name[len("rows"):]
        assert sorted(p.name for p in out.iterdir()) == [f"part-0000{i}{end}" for i in range(3)]
        together = pd.concat([read_table(p) for p in sorted(out.iterdir())], ignore_index=True)
        assert len(together) == 500
        with_ids.sample_to(out, 300, seed=2, batch_size=100, rows_per_file=200)  # its own parts are replaced
        assert len(list(out.iterdir())) == 2


def test_a_unique_rule_cannot_be_sharded(weather):
    from synthvae import infer_schema

    schema = infer_schema(weather).to_dict()
    schema["constraints"] = [{"kind": "unique", "columns": ["date"]}]
    synth = Synthesizer(Schema.from_dict(schema), epochs=1, hidden_dims=(8,), latent_dim=2, conditional=False).fit(weather)
    with pytest.raises(Exception, match="unique rule cannot be sampled in shards"):
        synth.iter_sample(100, shard=(0, 2))
    assert len(synth.sample(100)) == 100


def test_shards_of_another_split_are_not_mixed_in(weather, tmp_path):
    synth = Synthesizer(epochs=1, hidden_dims=(8,), latent_dim=2, conditional=False).fit(weather)
    out = tmp_path / "parts"
    synth.sample_to(out, 300, seed=1, batch_size=100, shard=(0, 3))
    synth.sample_to(out, 300, seed=1, batch_size=100, shard=(1, 3))  # the same split: fine
    with pytest.raises(DataError, match=r"holds files that are no parts of this split \['part-00000-of-00003.parquet'"):
        synth.sample_to(out, 300, seed=1, batch_size=100, shard=(0, 2))  # was written beside them
    assert sorted(p.name for p in out.iterdir()) == ["part-00000-of-00003.parquet", "part-00001-of-00003.parquet"]
    # Nor a finished rows_per_file dataset, nor other files: read back as one dataset with them
    # (10,000 rows and a shard of another run read as 12,000: a user review).
    whole = tmp_path / "whole"
    synth.sample_to(whole, 300, seed=1, rows_per_file=100)
    with pytest.raises(DataError, match=r"holds files that are no parts of this split \['part-00000.parquet', 'part-00001.parquet'"):
        synth.sample_to(whole, 300, seed=7, batch_size=100, shard=(1, 2))
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match=r"\['keep.txt'\]"):
        synth.sample_to(tmp_path / "notes", 300, seed=7, batch_size=100, shard=(1, 2))


@pytest.mark.parametrize("shard", [(0.5, 2), ("0", "2"), (True, 2), (0, 2, 1), 3])
def test_a_shard_must_be_two_integers(weather, shard):
    synth = Synthesizer(epochs=1, hidden_dims=(8,), latent_dim=2, conditional=False).fit(weather)
    with pytest.raises(Exception, match="shard must be a pair"):  # (0.5, 2) ran shard 0 before
        synth.iter_sample(100, shard=shard)


def test_cli_shards_and_parts(with_ids, tmp_path):
    import pyarrow.dataset as ds

    model = with_ids.save(tmp_path / "m.synthvae")
    runner = CliRunner()
    for index in range(2):
        result = runner.invoke(cli, ["sample", str(model), "-n", "500", "-o", str(tmp_path / "ds"),
                                     "--shard", f"{index}/2", "--batch-size", "100", "--seed", "9"])
        assert result.exit_code == 0, result.output
    one = runner.invoke(cli, ["sample", str(model), "-n", "500", "-o", str(tmp_path / "one.parquet"),
                              "--batch-size", "100", "--seed", "9"])
    assert one.exit_code == 0, one.output
    pd.testing.assert_frame_equal(ds.dataset(tmp_path / "ds").to_table().to_pandas(), read_table(tmp_path / "one.parquet"))
    bad = runner.invoke(cli, ["sample", str(model), "-n", "5", "-o", str(tmp_path / "z"), "--shard", "2/2"])
    assert bad.exit_code == 2 and "need 0 <= I < K" in bad.output


def test_a_folder_of_row_files_has_the_umasks_mode_or_the_replaced_folders(with_ids, tmp_path):
    # mkdtemp's 0700 closed a dataset written for other readers to them.
    import os
    import stat

    old = os.umask(0o022)
    try:
        with_ids.sample_to(tmp_path / "new", 20, seed=0, rows_per_file=10)
        assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o755
        (tmp_path / "kept").mkdir(mode=0o750)
        os.chmod(tmp_path / "kept", 0o750)
        with_ids.sample_to(tmp_path / "kept", 20, seed=0, rows_per_file=10)
        assert stat.S_IMODE((tmp_path / "kept").stat().st_mode) == 0o750
    finally:
        os.umask(old)


def test_a_stopped_shard_leaves_no_empty_folder_it_made(tmp_path):
    # An interrupted `sample --shard` left an empty folder behind.
    import os
    import subprocess
    import time

    from conftest import SYNTHVAE_INTERRUPTIBLE, stop_with_sigint

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=200), "c": rng.choice(["a", "b"], 200)})
    Synthesizer(epochs=1, hidden_dims=(8,), latent_dim=2, conditional=False, seed=0).fit(frame).save(tmp_path / "m.synthvae")
    process = subprocess.Popen([*SYNTHVAE_INTERRUPTIBLE, "sample", str(tmp_path / "m.synthvae"), "-n", "100000000000",
                                "--shard", "0/2", "-o", str(tmp_path / "parts")], env={**os.environ, "OMP_NUM_THREADS": "1"},
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "parts").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "parts").exists(), "the shard never made its folder"
        time.sleep(0.5)
        assert process.poll() is None, "the shard ended before it was stopped"
    finally:
        stop_with_sigint(process)
    assert process.returncode == 130 and not (tmp_path / "parts").exists()


def test_partitioned_output_reads_back_as_one_table_in_every_command(weather, tmp_path):
    # sample --rows-per-file wrote folders that evaluate, impute and read_table refused ("is a
    # directory", "cannot tell the format"): only fit read Parquet folders (a user review).
    from click.testing import CliRunner

    from synthvae import read_table
    from synthvae.cli import cli

    synth = Synthesizer(epochs=1, hidden_dims=(8,), latent_dim=2).fit(weather)
    for suffix in (".parquet", ".csv.gz"):
        synth.sample_to(tmp_path / f"one{suffix}", 250, seed=3, batch_size=100)
        synth.sample_to(tmp_path / f"parts{suffix}", 250, seed=3, batch_size=100, rows_per_file=100)
        pd.testing.assert_frame_equal(read_table(tmp_path / f"parts{suffix}"), read_table(tmp_path / f"one{suffix}"))
        holed = read_table(tmp_path / f"parts{suffix}")
        assert synth.impute(tmp_path / f"parts{suffix}", seed=0).shape == holed.shape
    weather.to_csv(tmp_path / "real.csv", index=False)
    result = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "real.csv"), str(tmp_path / "parts.csv.gz"), "--metrics", "quality"])
    assert result.exit_code == 0, result.output
    (tmp_path / "parts.csv.gz" / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match=r"holds 'notes.txt', which is no CSV or Parquet file"):
        read_table(tmp_path / "parts.csv.gz")
    (tmp_path / "parts.csv.gz" / "notes.txt").unlink()
    synth.sample(10, seed=0).to_parquet(tmp_path / "parts.csv.gz" / "part-00009.parquet")
    with pytest.raises(DataError, match=r"holds both CSV .* and Parquet \['part-00009.parquet'\] files"):
        read_table(tmp_path / "parts.csv.gz")
