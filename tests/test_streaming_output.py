"""Output of any size: rows drawn batch by batch straight into a file, the same rows as one
``sample`` call, with ids unique and rules kept across batches."""

from __future__ import annotations

import math

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from synthvae import Schema, Synthesizer, read_table
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
    path = with_ids.sample_to(tmp_path / f"out.{suffix}", 1050, seed=3, batch_size=200)
    expected = with_ids.sample(1050, seed=3, batch_size=200)
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
