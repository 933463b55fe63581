"""The continuous outputs' noise correlation: estimated from the training rows' residuals after a
fit, used by every draw, kept by the model file, never taken from rows of a private fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors import safe_open

from synthvae import ModelFileError, Synthesizer
from tests.conftest import dataset_path, rewritten_model


@pytest.fixture(scope="module")
def diamonds() -> pd.DataFrame:
    return pd.read_csv(dataset_path("diamonds.csv")).sample(4000, random_state=0)


@pytest.fixture(scope="module")
def fitted_diamonds(diamonds) -> Synthesizer:
    return Synthesizer(seed=0, epochs=15).fit(diamonds)


def _spread(frame: pd.DataFrame) -> float:
    """How far a diamond's width and length lie apart (within 0.1 mm in 90% of real rows)."""
    return float((frame["y"] - frame["x"]).std())


def test_sampled_rows_keep_what_the_decoder_error_shares_between_columns(diamonds, fitted_diamonds):
    model = fitted_diamonds.model_
    factor = model.noise_factor
    assert factor is not None and factor.shape == (7, 7)  # carat, depth, table, price, x, y, z
    correlation = factor @ factor.T
    assert torch.allclose(torch.diagonal(correlation), torch.ones(7), atol=1e-5)
    assert torch.equal(factor, torch.tril(factor))
    correlated = fitted_diamonds.sample(20_000, seed=1)
    model.noise_factor = None  # the noise as trained: each column's alone
    try:
        independent = fitted_diamonds.sample(20_000, seed=1)
    finally:
        model.noise_factor = factor
    # Measured: real 0.052 mm, correlated 0.130, independent 0.318.
    assert _spread(correlated) < 0.6 * _spread(independent)
    # Each column keeps its own spread: only the noise's correlation changed.
    for name in ("carat", "depth", "table", "price", "x", "y", "z"):
        assert correlated[name].std() == pytest.approx(independent[name].std(), rel=0.05)


def test_the_noise_correlation_travels_in_the_model_file(fitted_diamonds, tmp_path):
    path = tmp_path / "d.synthvae"
    fitted_diamonds.save(path)
    with safe_open(str(path), framework="pt") as handle:
        assert torch.equal(handle.get_tensor("noise.factor"), fitted_diamonds.model_.noise_factor)
    loaded = Synthesizer.load(path)
    pd.testing.assert_frame_equal(fitted_diamonds.sample(2000, seed=4), loaded.sample(2000, seed=4), check_exact=True)


def test_a_model_file_from_before_samples_as_it_did(fitted_diamonds, tmp_path):
    """Files of format version 1 hold no noise correlation: their columns' noise stays independent."""
    fitted_diamonds.save(tmp_path / "new.synthvae")
    rewritten_model(tmp_path / "new.synthvae", tmp_path / "old.synthvae", tensors=lambda t: t.pop("noise.factor"), version="1")
    old = Synthesizer.load(tmp_path / "old.synthvae")
    assert old.model_.noise_factor is None
    factor = fitted_diamonds.model_.noise_factor
    fitted_diamonds.model_.noise_factor = None
    try:
        expected = fitted_diamonds.sample(1000, seed=2)
    finally:
        fitted_diamonds.model_.noise_factor = factor
    pd.testing.assert_frame_equal(old.sample(1000, seed=2), expected, check_exact=True)


def test_a_noise_factor_of_another_shape_is_a_model_file_error(fitted_diamonds, tmp_path):
    fitted_diamonds.save(tmp_path / "ok.synthvae")

    def shrink(tensors):
        tensors["noise.factor"] = tensors["noise.factor"][:3, :3].contiguous()

    rewritten_model(tmp_path / "ok.synthvae", tmp_path / "bad.synthvae", tensors=shrink)
    with pytest.raises(ModelFileError, match=r"bad\.synthvae' is corrupt: .*noise\.factor has shape \(3, 3\) for 7 continuous outputs"):
        Synthesizer.load(tmp_path / "bad.synthvae")


def test_null_cells_do_not_enter_the_correlation():
    """A nullable column's null rows hold a fill value in its value slot: left out, the two
    columns' shared error is found from the rows that hold both. (Weaker than without nulls,
    where the same fit keeps the gap at 0.056: the decoder's mean for ``y`` also answers for
    the null rows' fill value, an error ``x`` does not share.)"""
    rng = np.random.default_rng(0)
    x = rng.normal(size=3000)
    y = x + rng.normal(scale=0.05, size=3000)
    frame = pd.DataFrame({"x": x, "y": np.where(rng.random(3000) < 0.4, np.nan, y), "c": rng.choice(list("abc"), 3000)})
    syn = Synthesizer(seed=0, epochs=10).fit(frame)
    factor = syn.model_.noise_factor
    assert factor is not None and bool(torch.isfinite(factor).all())
    rows = syn.sample(20_000, seed=0)
    assert rows["y"].isna().mean() == pytest.approx(0.4, abs=0.03)
    syn.model_.noise_factor = None
    independent = syn.sample(20_000, seed=0)

    def gap(frame):
        both = frame.dropna()
        return float((both["y"] - both["x"]).std())

    # Measured: 0.268 with the correlation, 0.409 without it (real 0.050); 0.313 when a null
    # counted as a residual of 0 (the pairs' correlation 0.77 times as strong).
    assert gap(rows) < 0.75 * gap(independent)


def test_a_conditional_draw_uses_the_correlated_noise(fitted_diamonds):
    """Draws that check a few columns (conditions on a range) take those columns' share of the
    correlated noise: rows meeting the condition keep width and length together too."""
    rows = fitted_diamonds.sample(3000, conditions=["carat>=0.3", "carat<=0.6"], seed=0)
    assert rows["carat"].between(0.3, 0.6).all()
    factor = fitted_diamonds.model_.noise_factor
    fitted_diamonds.model_.noise_factor = None
    try:
        independent = fitted_diamonds.sample(3000, conditions=["carat>=0.3", "carat<=0.6"], seed=0)
    finally:
        fitted_diamonds.model_.noise_factor = factor
    assert _spread(rows) < 0.8 * _spread(independent)



def _volume_gap(frame: pd.DataFrame) -> float:
    """How far a diamond's weight lies from its volume's (log carat - log(x y z); real rows 0.02)."""
    frame = frame[(frame["x"] > 0) & (frame["y"] > 0) & (frame["z"] > 0)]
    return float((np.log(frame["carat"]) - np.log(frame["x"] * frame["y"] * frame["z"])).std())


def test_rows_drawn_under_a_condition_are_the_models_own_rows_meeting_it(fitted_diamonds):
    """A range's cells are drawn first; the rest of each row is drawn given their residuals, as
    the model's own rows have them. Drawn without them, the conditional rows' weight against
    volume spread 0.158 while the model's own rows meeting the range held 0.055."""
    own = fitted_diamonds.sample(60_000, seed=1)
    own = own[own["carat"].between(0.3, 0.6)]
    conditional = fitted_diamonds.sample(len(own), conditions=["carat>=0.3", "carat<=0.6"], seed=2)
    # Measured: 0.0541 against 0.0547.
    assert _volume_gap(conditional) == pytest.approx(_volume_gap(own), rel=0.15)
    exact = fitted_diamonds.sample(2000, conditions={"carat": 0.5}, seed=3)
    assert (exact["carat"] == 0.5).all()
    assert _volume_gap(exact) < 1.3 * _volume_gap(own)  # measured 0.069


def test_imputed_numbers_follow_the_known_ones(diamonds, fitted_diamonds):
    """Hidden x, y and z drawn given a known carat's residual keep the weight-volume relation
    (0.058; 0.157 drawn without it, 0.096 before the noise was correlated at all)."""
    rows = diamonds.head(500).reset_index(drop=True)
    holed = rows.copy()
    holed[["x", "y", "z"]] = np.nan
    filled = fitted_diamonds.impute(holed, method="draw", seed=0)
    pd.testing.assert_series_equal(filled["carat"], rows["carat"])
    assert _volume_gap(filled) < 0.08


def test_a_nullable_dates_calendar_parts_take_its_null_flag():
    """A null date is a null year; its other parts hold fill values there, left out of the
    residuals like a nullable number's."""
    rng = np.random.default_rng(0)
    days = rng.integers(0, 365, 600)
    when = pd.Series(pd.Timestamp("2021-01-01") + pd.to_timedelta(days, unit="D")).where(rng.random(600) > 0.4)
    frame = pd.DataFrame({"when": when, "temp": 10 - 8 * np.cos(2 * np.pi * days / 365) + rng.normal(scale=0.3, size=600)})
    syn = Synthesizer(seed=0, epochs=3, conditional=False).fit(frame)
    layout = syn.preprocessor_.layout_
    names = [s.column for s in layout.spans if s.kind.value == "continuous"]
    flags = dict(zip(names, layout.observed_index(syn.constraints_.null_owners())))
    year_flag = flags["when~year"]
    assert year_flag >= 0
    assert flags["when~cos"] == flags["when~sin"] == year_flag
    assert flags["temp"] == -1


def test_a_file_without_a_noise_correlation_stays_readable_by_format_1(fitted_diamonds, tmp_path):
    from synthvae.modelfile import FORMAT_VERSION

    fitted_diamonds.save(tmp_path / "numbers.synthvae")
    rng = np.random.default_rng(0)
    Synthesizer(seed=0, epochs=2, conditional=False).fit(
        pd.DataFrame({"a": rng.choice(list("xyz"), 300), "b": rng.choice(list("pq"), 300)})).save(tmp_path / "words.synthvae")
    versions = {}
    for name in ("numbers", "words"):
        with safe_open(str(tmp_path / f"{name}.synthvae"), framework="pt") as handle:
            versions[name] = int(handle.metadata()["format_version"])
    assert versions == {"numbers": 2, "words": 1} and FORMAT_VERSION == 2
    assert Synthesizer.load(tmp_path / "words.synthvae").sample(5, seed=0).shape == (5, 2)


def test_a_null_dates_calendar_parts_are_no_evidence_for_imputation():
    """A row without a date holds another row's day in its calendar parts: imputing its
    temperature from them gave the filler's season (mean 4.0 against 10.0 for the model's own
    rows without a date)."""
    from dataclasses import replace

    from synthvae import infer_schema

    rng = np.random.default_rng(0)
    days = rng.integers(0, 365, 3000)
    when = pd.Series(pd.Timestamp("2021-01-01") + pd.to_timedelta(days, unit="D")).where(rng.random(3000) > 0.4)
    frame = pd.DataFrame({"when": when, "temp": np.round(10 - 8 * np.cos(2 * np.pi * days / 365) + rng.normal(scale=0.5, size=3000), 2),
                          "k": rng.choice(list("xyz"), 3000)})
    schema = infer_schema(frame)
    schema = schema.replace_column(replace(schema["when"], nullable=True, meaningful_nulls=True))
    syn = Synthesizer(schema, seed=0, epochs=30, datetime_encoding="calendar").fit(frame)
    own = syn.sample(50_000, seed=1)
    undated = frame[frame["when"].isna()].head(500).reset_index(drop=True)
    filled = syn.impute(undated.assign(temp=np.nan), method="draw", seed=0)
    assert filled["when"].isna().all()
    expected = own.loc[own["when"].isna(), "temp"].mean()
    assert filled["temp"].mean() == pytest.approx(expected, abs=1.0)  # measured 9.96 against 9.97
