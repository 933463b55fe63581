"""The Gaussian conditional that imputation mixes with its draws: against least squares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthvae.inference import infer_schema
from synthvae.linear_conditional import LinearConditional
from synthvae.preprocessing import TablePreprocessor
from synthvae.validation import conform


def _fitted(frame: pd.DataFrame):
    """The table conformed to its inferred schema, and its fitted codecs by column."""
    schema = infer_schema(frame)
    rows = conform(frame, schema, "penguins")
    preprocessor = TablePreprocessor(schema).fit(rows)
    return rows, {c.column.name: c for c in preprocessor.codecs_}


@pytest.fixture(scope="module")
def penguin_rows(penguins):
    return _fitted(penguins.dropna().reset_index(drop=True))


def _least_squares(rows: pd.DataFrame, target: str, inputs: list[str], at: pd.DataFrame) -> np.ndarray:
    """Ordinary least squares of ``target`` on ``inputs`` (numbers, and one-hots of the others)."""
    design = pd.get_dummies(rows[inputs], dtype=float)
    query = pd.get_dummies(at[inputs], dtype=float).reindex(columns=design.columns, fill_value=0.0)
    design.insert(0, "one", 1.0)
    query.insert(0, "one", 1.0)
    coef = np.linalg.lstsq(design.to_numpy(), rows[target].to_numpy(float), rcond=None)[0]
    return query.to_numpy() @ coef


def test_prediction_is_the_least_squares_line_for_each_rows_pattern(penguin_rows):
    rows, codecs = penguin_rows
    names = ["species", "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"]
    linear = LinearConditional([codecs[n] for n in names], rows)
    at = rows.iloc[:6].reset_index(drop=True)
    # Rows 0-2 hide the body mass alone; rows 3-5 hide it and the flipper length.
    hidden = {n: np.zeros(len(at), bool) for n in names}
    hidden["body_mass_g"][:] = True
    hidden["flipper_length_mm"][3:] = True
    predicted = linear.predict(at, hidden, ["body_mass_g", "flipper_length_mm", "sex"])
    others = [n for n in names if n not in ("body_mass_g", "flipper_length_mm")]
    expected = np.concatenate([
        _least_squares(rows, "body_mass_g", others + ["flipper_length_mm"], at.iloc[:3]),
        _least_squares(rows, "body_mass_g", others, at.iloc[3:]),
    ])
    # The ridge on the standardised covariance (1e-3) moves the line by a few grams (sd 800).
    np.testing.assert_allclose(predicted["body_mass_g"], expected, atol=5.0)
    assert np.isnan(predicted["flipper_length_mm"][:3]).all()
    np.testing.assert_allclose(predicted["flipper_length_mm"][3:],
                               _least_squares(rows, "flipper_length_mm", others, at.iloc[3:]), atol=0.2)
    # Categorical columns are inputs only.
    assert np.isnan(predicted["sex"]).all()


def test_prediction_beats_the_column_mean_on_held_out_rows(penguin_rows):
    rows, codecs = penguin_rows
    fit, held = rows.iloc[::2].reset_index(drop=True), rows.iloc[1::2].reset_index(drop=True)
    linear = LinearConditional(list(codecs.values()), fit)
    hidden = {n: np.zeros(len(held), bool) for n in codecs}
    hidden["body_mass_g"][:] = True
    guess = linear.predict(held, hidden, ["body_mass_g"])["body_mass_g"]
    truth = held["body_mass_g"].to_numpy(float)
    assert np.sqrt(np.mean((guess - truth) ** 2)) < 0.5 * truth.std()


def test_nullable_columns_and_null_inputs(penguins):
    # Penguins' sex and measurements hold nulls: a null input is a flag, not an error.
    rows, codecs = _fitted(penguins)
    linear = LinearConditional(list(codecs.values()), rows)
    at = rows.iloc[:10].reset_index(drop=True)
    hidden = {name: np.zeros(len(at), bool) for name in codecs}
    hidden["bill_depth_mm"][:] = True
    guess = linear.predict(at, hidden, ["bill_depth_mm"])["bill_depth_mm"]
    assert np.isfinite(guess).all()
    low, high = penguins["bill_depth_mm"].min(), penguins["bill_depth_mm"].max()
    assert ((guess > low - 2) & (guess < high + 2)).all()
