"""Resource limits: very wide tables and columns with very many categories either work within
bounded memory or are refused up front, with advice, before the table is encoded."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from synthvae import DataError, ParameterError, Synthesizer, infer_schema
from synthvae.cli import cli
from synthvae.resources import estimate_fit_memory

TINY = dict(epochs=1, hidden_dims=(8,), latent_dim=2, conditional=False)


def test_a_thousand_columns_fit_and_sample():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, 990)), columns=[f"x{i}" for i in range(990)])
    for i in range(10):
        frame[f"c{i}"] = rng.choice(["a", "b", "c"], 200)
    synth = Synthesizer(**TINY).fit(frame)
    out = synth.sample(50, seed=0)
    assert list(out.columns) == list(frame.columns)
    assert out.notna().all().all()
    assert synth.fit_info_.encoded_width == 990 + 10 * 3


def test_a_hundred_thousand_distinct_categories_are_pooled():
    rng = np.random.default_rng(1)
    values = np.concatenate([np.arange(100_000), rng.integers(0, 1000, 20_000)])
    frame = pd.DataFrame({"code": [f"k{v}" for v in rng.permutation(values)], "x": rng.normal(size=values.size)})
    schema = infer_schema(frame)
    assert schema["code"].kind.value == "categorical" and len(schema["code"].categories) == 100_000
    synth = Synthesizer(schema, max_categories=100, **TINY).fit(frame)
    # The encoded width is bounded by max_categories, whatever the number of categories.
    assert synth.fit_info_.encoded_width == 100 + 1
    out = synth.sample(2000, seed=0)
    assert out["code"].isin(set(frame["code"])).all()
    assert out["code"].nunique() > 100, "the pooled rare categories are drawn too"


def test_a_table_too_wide_for_memory_is_refused_before_encoding(monkeypatch, tmp_path):
    rng = np.random.default_rng(2)
    cats = [f"v{j}" for j in range(250)]
    frame = pd.DataFrame({f"c{i}": pd.Categorical.from_codes(rng.integers(0, 250, 3000), cats) for i in range(60)})
    frame["small"] = rng.choice(["a", "b"], 3000)
    needed = estimate_fit_memory(3000, 60 * 200 + 2, (256, 256), 64, 187).total
    monkeypatch.setenv("SYNTHVAE_MEMORY_LIMIT", str(needed // 2))
    started = time.perf_counter()
    with pytest.raises(DataError) as error:
        Synthesizer(epochs=1).fit(frame)
    message = str(error.value)
    assert "3,000 rows x 61 columns would need about" in message
    assert "encoded width 12,002" in message
    assert "'c0' (200)" in message and "60 columns take more than 20" in message
    assert "Lower max_categories" in message and "mark high-cardinality columns as id or personal" in message
    assert time.perf_counter() - started < 30, "refused before encoding and training"
    # Following the advice works: fewer category slots fit in the same budget.
    Synthesizer(max_categories=20, **TINY).fit(frame)

    path = tmp_path / "wide.parquet"
    frame.to_parquet(path)
    result = CliRunner().invoke(cli, ["fit", str(path), "-o", str(tmp_path / "m.synthvae"), "-q"])
    assert result.exit_code == 1
    assert result.output.count("Error:") == 1 and "would need about" in result.output
    assert not (tmp_path / "m.synthvae").exists()
    # A budget under a megabyte read "the 0.0 MB it may use" (a review).
    monkeypatch.setenv("SYNTHVAE_MEMORY_LIMIT", "1000")
    with pytest.raises(DataError, match="more than the 1.0 kB it may use"):
        Synthesizer(epochs=1).fit(frame)


def test_the_memory_estimate_tracks_a_real_fit():
    """The estimate covers the bytes the encoded rows and the network really take, within 3x."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({f"c{i}": rng.choice([f"v{j}" for j in range(50)], 500) for i in range(40)})
    synth = Synthesizer(**TINY).fit(frame)
    width = synth.fit_info_.encoded_width
    real_matrix = 500 * width * 4
    real_network = sum(p.numel() for p in synth.model_.parameters()) * 4
    head = synth.model_.config.categorical_head  # by default as wide as the decoder's last layer
    assert head == 8
    estimate = estimate_fit_memory(500, width, (8,), 2, synth.train_config_.resolve_batch_size(500), head)
    assert real_matrix <= estimate.matrix <= 3 * real_matrix
    assert 4 * real_network <= estimate.network <= 6 * real_network


def test_a_sample_too_large_for_memory_is_refused_before_drawing(monkeypatch, tmp_path):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(["a", "b"], 300)})
    synth = Synthesizer(**TINY).fit(frame)
    monkeypatch.setenv("SYNTHVAE_MEMORY_LIMIT", str(200 * 2**20))
    started = time.perf_counter()
    # One table of 10^11 rows drew until the process was killed; a batch of 10^9 rows too.
    with pytest.raises(ParameterError, match=r"sampling 100,000,000,000 rows into one table would need about .* sample_to"):
        synth.sample(10**11)
    with pytest.raises(ParameterError, match=r"a batch of 1,000,000,000 rows would need .* lower batch_size"):
        next(synth.iter_sample(10**11, batch_size=10**9))
    assert time.perf_counter() - started < 5
    # Batch by batch into a file, the same count is only a matter of time: the first batch comes.
    assert len(next(synth.iter_sample(10**11, batch_size=1000))) == 1000
    assert len(synth.sample(20_000, seed=0)) == 20_000



@pytest.mark.parametrize("value", ["4GB", "abc", "-1", "0", "nan", "inf"])
def test_a_malformed_memory_limit_is_refused_naming_the_variable(tmp_path, monkeypatch, value):
    # "4GB" crashed the command line with a raw ValueError; "-1" refused every fit as needing
    # "more than the -0.0 GB".
    data = tmp_path / "small.csv"
    pd.DataFrame({"x": np.arange(60.0), "c": ["a", "b", "c"] * 20}).to_csv(data, index=False)
    synth = Synthesizer(**TINY).fit(pd.read_csv(data))
    result = CliRunner().invoke(cli, ["fit", str(data), "-o", str(tmp_path / "m.synthvae"), "--epochs", "1", "-q"],
                                env={"SYNTHVAE_MEMORY_LIMIT": value})
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1
    assert result.output.startswith(f"Error: SYNTHVAE_MEMORY_LIMIT={value!r} is not a positive number of bytes")
    assert "4000000000" in result.output and "4e9" in result.output
    monkeypatch.setenv("SYNTHVAE_MEMORY_LIMIT", value)
    with pytest.raises(ParameterError, match=f"SYNTHVAE_MEMORY_LIMIT={value!r}"):
        synth.sample(10)


def test_the_memory_limit_takes_bytes_as_digits_or_e_notation(monkeypatch):
    frame = pd.DataFrame({"x": np.arange(60.0), "c": ["a", "b", "c"] * 20})
    for value in ("4000000000", " 4e9 "):
        monkeypatch.setenv("SYNTHVAE_MEMORY_LIMIT", value)
        assert len(Synthesizer(**TINY).fit(frame).sample(10)) == 10


def test_a_streamed_fit_counts_its_shuffle_buffer_at_the_rows_it_holds(monkeypatch):
    # The check counted a full 65,536-row shuffle buffer: penguins (344 rows) fitted in memory
    # under a 3 MB budget but was refused when streamed.
    from conftest import dataset_path

    penguins = dataset_path("penguins.csv")
    monkeypatch.setenv("SYNTHVAE_MEMORY_LIMIT", "3000000")
    Synthesizer(**TINY).fit(penguins)
    streamed = Synthesizer(**TINY).fit(penguins, streaming=True)
    assert streamed.fit_info_.rows == 344
    # Refused, a streamed fit is told to hold a smaller sample, not to stream.
    monkeypatch.setenv("SYNTHVAE_MEMORY_LIMIT", "100000")
    with pytest.raises(DataError, match=r"penguins.csv': a fit of .*lower reservoir_rows \(synthvae fit --reservoir-rows\)$"):
        Synthesizer(**TINY).fit(penguins, streaming=True)


def test_a_whole_table_too_large_for_the_budget_points_to_sample_to(monkeypatch, penguins):
    # With a batch too large as well, the advice was only "lower batch_size", which led to a
    # second refusal; a 30 MB budget read "0.0 GB".
    synth = Synthesizer(**TINY).fit(penguins)
    monkeypatch.setenv("SYNTHVAE_MEMORY_LIMIT", "3e6")
    with pytest.raises(ParameterError, match=r"more than the 3.0 MB .*lower batch_size \(now 50,000\) and write them with sample_to"):
        synth.sample(1_000_000)


def test_a_categorical_head_too_wide_for_memory_is_refused_before_training(monkeypatch):
    """A wide categorical head's hidden values (per training row and per sampling row) are
    counted: a head of 100,000 units on nine columns peaks near 4 GB, which the estimate
    left out (0.6 GB)."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({f"c{i}": rng.choice([f"v{j}" for j in range(10)], 2000) for i in range(8)})
    frame["x"] = rng.normal(size=2000)
    monkeypatch.setenv("SYNTHVAE_MEMORY_LIMIT", str(2 * 10**9))
    started = time.perf_counter()
    with pytest.raises(DataError, match=r"categorical head of 100,000 units takes .* lower categorical_head"):
        Synthesizer(epochs=1, categorical_head=100_000).fit(frame)
    assert time.perf_counter() - started < 10, "refused before training"
    # A narrower head fits in the same budget.
    Synthesizer(epochs=1, categorical_head=1000, conditional=False).fit(frame)


def test_the_conditional_prior_and_conditional_draws_are_counted(monkeypatch):
    """The conditional prior encodes 20,000 rows of the model's own whatever the table's rows,
    and a conditional batch holds its pool's decoder outputs: on 2,000 rows of width 10,001
    they peaked at 2.6 GB (fit estimate 0.47 GB) and at 6.8 GB for 40,000 conditional rows
    (sample estimate 1.8 GB)."""
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({f"c{i}": rng.choice([f"v{j}" for j in range(50)], 300) for i in range(20)})
    frame["x"] = rng.normal(size=300)
    small = dict(epochs=1, hidden_dims=(8,), latent_dim=2)
    monkeypatch.setenv("SYNTHVAE_MEMORY_LIMIT", str(150 * 10**6))
    with pytest.raises(DataError, match=r"conditional prior .* trains on 20,000 rows .* conditional=False"):
        Synthesizer(**small).fit(frame)
    Synthesizer(**small, conditional=False).fit(frame)
    monkeypatch.setenv("SYNTHVAE_MEMORY_LIMIT", str(10**9))
    synth = Synthesizer(**small).fit(frame)
    monkeypatch.setenv("SYNTHVAE_MEMORY_LIMIT", str(250 * 10**6))
    assert len(synth.sample(20_000, seed=0)) == 20_000
    with pytest.raises(ParameterError, match=r"sampling 20,000 rows into one table would need about"):
        synth.sample(20_000, conditions=["x > 0"], seed=0)
