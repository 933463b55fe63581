"""The evaluator: known answers, report layout, determinism, bad input, import boundary."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from synthvae.errors import DataError
from synthvae.evaluation import (
    EvaluationReport,
    contingency_similarity,
    correlation_similarity,
    evaluate,
    ks_complement,
    privacy_check,
    tv_complement,
)

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return pd.read_csv(DATASETS / "penguins.csv")


@pytest.fixture(scope="module")
def split(penguins):
    rng = np.random.default_rng(0)
    order = rng.permutation(len(penguins))
    train = penguins.iloc[order[:240]].reset_index(drop=True)
    holdout = penguins.iloc[order[240:]].reset_index(drop=True)
    # A crude "generator": resample the training rows and jitter the numbers.
    synth = train.sample(n=240, replace=True, random_state=1).reset_index(drop=True)
    noise = np.random.default_rng(2).normal(0, 2.0, size=len(synth))
    synth["bill_length_mm"] = synth["bill_length_mm"] + noise
    return train, holdout, synth


@pytest.fixture(scope="module")
def full_report(split) -> EvaluationReport:
    train, holdout, synth = split
    return evaluate(train, synth, holdout=holdout, target="species", seed=0)


# --- known answers -----------------------------------------------------------------------


def test_identical_frames_score_one(penguins):
    report = evaluate(penguins, penguins.copy(), metrics=["quality"])
    quality = report["quality"]
    assert quality["column_shapes"] == pytest.approx(1.0)
    assert quality["column_pair_trends"] == pytest.approx(1.0)
    assert quality["score"] == pytest.approx(1.0)
    assert all(c["score"] == pytest.approx(1.0) for c in quality["columns"])
    assert quality["missing_values"] == pytest.approx(1.0)


def test_disjoint_supports_score_zero():
    real = pd.DataFrame({"x": np.arange(10.0), "c": list("ab") * 5})
    synth = pd.DataFrame({"x": np.arange(100.0, 110.0), "c": list("cd") * 5})
    assert ks_complement(real["x"], synth["x"]) == 0.0
    assert tv_complement(real["c"], synth["c"]) == 0.0
    report = evaluate(real, synth, metrics=["quality"])
    assert report["quality"]["column_shapes"] == 0.0
    cov = {c["column"]: c["coverage"] for c in report["quality"]["columns"]}
    assert cov["c"]["category_coverage"] == 0.0
    assert cov["c"]["synthetic_categories_not_in_real"] == ["c", "d"]
    assert cov["c"]["synthetic_rows_with_new_category"] == 1.0
    assert cov["x"]["synthetic_outside_real_range"] == 1.0


def test_hand_computed_two_by_three_contingency():
    # Real joint frequencies: (x,p) 1/4, (x,q) 1/4, (y,r) 1/2.
    real = pd.DataFrame({"a": list("xxyy"), "b": list("pqrr")})
    # Synthetic: (x,p) 1/3, (x,q) 1/6, (y,r) 1/3, (y,q) 1/6.
    synth = pd.DataFrame({"a": list("xxxyyy"), "b": list("ppqrrq")})
    # |diff|: 1/12 + 1/12 + 1/6 + 1/6 = 1/2, TVD = 1/4, score = 3/4.
    assert contingency_similarity(real, synth) == pytest.approx(0.75)
    report = evaluate(real, synth, metrics=["quality"])
    (pair,) = report["quality"]["pairs"]
    assert pair["metric"] == "ContingencySimilarity"
    assert pair["score"] == pytest.approx(0.75)


def test_correlation_similarity_known_answers():
    x = np.arange(20.0)
    real = pd.DataFrame({"u": x, "v": 2 * x + 1})
    assert correlation_similarity(real, real) == pytest.approx(1.0)
    assert correlation_similarity(real, pd.DataFrame({"u": x, "v": -x})) == pytest.approx(0.0)


def test_matches_scipy_and_pandas_references(penguins, split):
    train, holdout, _ = split
    report = evaluate(train, holdout, metrics=["quality"])
    numeric = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"]
    shapes = {c["column"]: c["score"] for c in report["quality"]["columns"]}
    for name in numeric:
        expected = 1 - ks_2samp(train[name].dropna(), holdout[name].dropna()).statistic
        assert shapes[name] == pytest.approx(expected, abs=1e-12)
    corr_real, corr_hold = train[numeric].corr(), holdout[numeric].corr()
    for pair in report["quality"]["pairs"]:
        a, b = pair["columns"]
        if pair["metric"] == "CorrelationSimilarity":
            assert pair["real"] == pytest.approx(corr_real.loc[a, b], abs=1e-10)
            assert pair["synthetic"] == pytest.approx(corr_hold.loc[a, b], abs=1e-10)


# --- the report --------------------------------------------------------------------------


def test_json_has_the_promised_keys(full_report, tmp_path):
    path = tmp_path / "report.json"
    full_report.to_json(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    for dotted in ("quality.score", "quality.column_shapes", "quality.column_pair_trends",
                   "quality.columns", "quality.pairs", "ceiling.quality.score",
                   "ceiling.detection.auc", "utility.tstr", "utility.trtr", "detection.auc",
                   "privacy.dcr_closer_to_train_share", "privacy.exact_copy_rate",
                   "privacy.holdout_exact_copy_rate"):
        node = data
        for key in dotted.split("."):
            assert key in node, dotted
            node = node[key]
    assert data["utility"]["task"] == "multiclass" and data["utility"]["metric"] == "macro_f1"
    assert 0.0 <= data["detection"]["auc"] <= 1.0
    assert 0.0 <= data["privacy"]["dcr_closer_to_train_share"] <= 1.0
    column = data["quality"]["columns"][0]
    assert {"column", "metric", "score", "ceiling", "null_rate", "coverage"} <= set(column)
    assert len(data["quality"]["pairs"]) == 8 * 7 // 2
    assert data == full_report.to_dict()


def test_summary_is_a_short_table(full_report):
    text = full_report.summary()
    assert "quality score" in text and "detection AUC" in text and "exact copy rate" in text
    assert len(text.splitlines()) < 20
    # 0.5 is the closer-to-train share's ideal, not a ceiling the holdout scored.
    share = next(line for line in text.splitlines() if line.startswith("DCR closer-to-train share"))
    assert share.split()[-2:] == ["-", "0.5"]


def test_deterministic_with_a_seed(split):
    train, holdout, synth = split
    kwargs = dict(holdout=holdout, target="species", seed=3, max_rows=200)
    first = evaluate(train, synth, **kwargs).to_dict()
    second = evaluate(train, synth, **kwargs).to_dict()
    first.pop("seconds"), second.pop("seconds")
    assert first == second


def test_large_inputs_are_subsampled_and_the_report_says_so(penguins):
    report = evaluate(penguins, penguins, max_rows=100, metrics=["quality"])
    assert report["tables"]["real"] == {"rows": 344, "rows_used": 100, "subsampled": True}
    assert any("subsampled" in note for note in report["notes"])


def test_copies_are_detected_as_copies(split):
    train, holdout, _ = split
    report = evaluate(train, train.copy(), holdout=holdout, metrics=["privacy"])
    assert report["privacy"]["exact_copy_rate"] == 1.0
    assert report["privacy"]["dcr_synthetic_to_train"]["median"] == 0.0
    assert report["privacy"]["dcr_closer_to_train_share"] > 0.6
    assert report["quality"] is None


def test_id_columns_are_skipped(penguins):
    frame = penguins.assign(row_id=np.arange(len(penguins)))
    report = evaluate(frame, frame.drop(columns="row_id"), metrics=["quality"])
    assert "row_id" not in [c["name"] for c in report["columns"]]


def test_extra_synthetic_columns_are_ignored_and_noted(penguins):
    report = evaluate(penguins, penguins.assign(score=1.0), metrics=["quality"])
    assert "score" not in [c["name"] for c in report["columns"]]
    assert any("'score'" in note for note in report["notes"])


def test_own_range_binning_reproduces_sdmetrics_quirk():
    real = pd.DataFrame({"x": np.arange(10.0), "c": list("ab") * 5})
    shifted = real.assign(x=real["x"] + 100)
    # Each table binned over its own range: a shifted copy has the same bins.
    own = evaluate(real, shifted, metrics=["quality"], binning="own_range")
    assert own["quality"]["pairs"][0]["score"] == pytest.approx(1.0)
    same = evaluate(real, shifted, metrics=["quality"])
    assert same["quality"]["pairs"][0]["score"] < 1.0


def test_pair_trends_of_fifty_columns_take_seconds():
    rng = np.random.default_rng(0)
    n = 5_000
    data = {f"n{i}": rng.normal(size=n) for i in range(30)}
    data.update({f"c{i}": rng.choice(list("abcdefgh"), size=n) for i in range(20)})
    real = pd.DataFrame(data)
    synth = real.sample(frac=1.0, replace=True, random_state=0).reset_index(drop=True)
    start = time.perf_counter()
    report = evaluate(real, synth, metrics=["quality"])
    assert time.perf_counter() - start < 10
    assert len(report["quality"]["pairs"]) == 50 * 49 // 2


# --- bad input ---------------------------------------------------------------------------


def test_missing_column_is_named(penguins):
    with pytest.raises(DataError, match="body_mass_g"):
        evaluate(penguins, penguins.drop(columns="body_mass_g"), metrics=["quality"])


def test_wrong_kind_is_named(penguins):
    bad = penguins.astype({"year": object})
    bad.loc[0, "year"] = "soon"
    with pytest.raises(DataError, match="year"):
        evaluate(penguins, bad, metrics=["quality"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target": "nope"}, "nope"),
        ({"metrics": ["beauty"]}, "beauty"),
        ({"max_rows": 0}, "max_rows"),
        ({"binning": "quantile"}, "quantile"),
    ],
)
def test_bad_arguments(penguins, kwargs, match):
    with pytest.raises(DataError, match=match):
        evaluate(penguins, penguins, **kwargs)


def test_not_a_dataframe(penguins):
    with pytest.raises(DataError, match="synthetic data"):
        evaluate(penguins, penguins.to_numpy())


# --- boundaries --------------------------------------------------------------------------


def test_evaluator_imports_no_torch():
    code = "import sys, synthvae.evaluation; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_kind_with_nulls_runs_end_to_end():
    rng = np.random.default_rng(0)
    n = 300

    def table(shift: float) -> pd.DataFrame:
        frame = pd.DataFrame({
            "amount": rng.normal(shift, 1.0, n),
            "flag": rng.random(n) < 0.3,
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
            "label": rng.choice(["a", "b", "c"], n),
        })
        frame.loc[rng.random(n) < 0.1, "amount"] = np.nan
        return frame

    real, holdout, synth = table(0.0), table(0.0), table(0.5)
    report = evaluate(real, synth, holdout=holdout, target="flag", seed=1)
    kinds = {c["name"]: c["kind"] for c in report["columns"]}
    assert kinds == {"amount": "numeric", "flag": "boolean", "when": "datetime", "label": "categorical"}
    assert report["utility"]["task"] == "binary" and report["utility"]["metric"] == "roc_auc"
    nulls = {c["column"]: c["null_rate"] for c in report["quality"]["columns"]}
    assert 0.05 < nulls["amount"]["real"] < 0.15
    when = next(c for c in report["quality"]["columns"] if c["column"] == "when")
    assert when["coverage"]["real_range"][0].startswith("2024-01")
    assert report["quality"]["column_shapes"] < 1.0
    assert "<svg" in report.to_html()


# ---------------------------------------------------------------- found by tests/test_fuzz.py


@pytest.mark.parametrize("binning", ["real_range", "own_range"])
def test_numbers_across_the_whole_float_range_are_evaluated(binning):
    # Overflow (RuntimeWarnings) in KS rounding, Pearson's r, the range coverage, the histogram
    # edges of the plots and the privacy embedding.
    real = pd.DataFrame({"x": [-1.7976931348623157e308, 1e-300, 2.6e194, 1.7976931348623157e308] * 3,
                         "y": np.arange(12.0)})
    synthetic = pd.DataFrame({"x": [1.7e308, -2.6e194, 0.0] * 3, "y": np.arange(9.0)})
    data = evaluate(real, synthetic, holdout=real.iloc[:6], binning=binning, metrics=["quality", "privacy"]).to_dict()
    assert 0 <= data["quality"]["score"] <= 1
    assert data["privacy"]["exact_copy_rate"] is not None


def test_a_continuous_range_too_narrow_for_bins_is_evaluated():
    # np.histogram_bin_edges refused one datetime (ns since 1970: x - 0.5 == x + 0.5) with
    # "Too many bins for data range".
    real = pd.DataFrame({"t": pd.to_datetime(["2222-01-04T00:01:03.000138"] * 2), "c": ["a", "b"]})
    synthetic = pd.DataFrame({"t": pd.to_datetime(["2222-01-04T00:01:03"] * 5), "c": ["a"] * 5})
    for binning in ("real_range", "own_range"):
        assert evaluate(real, synthetic, metrics=["quality"], binning=binning).to_dict()["quality"]["score"] >= 0


def test_categories_are_widened_as_validation_matches_them():
    # The evaluator widened the categories "" "0" "a" with the real value 0.0 (text "0.0"), which
    # the schema refuses as a repeat of "0": a SchemaError from evaluate.
    from synthvae.schema import Column, ColumnKind, Schema

    real = pd.DataFrame({"c": pd.Series(["", 0.0, "a"] * 4, dtype=object)})
    synthetic = pd.DataFrame({"c": ["0", "a", ""] * 3})
    schema = Schema((Column("c", ColumnKind.CATEGORICAL, categories=("", "0", "a")),))
    assert evaluate(real, synthetic, schema=schema, metrics=["quality"]).to_dict()["quality"]["score"] == pytest.approx(1.0)


def test_utility_and_detection_skip_a_feature_null_in_every_row():
    # HistGradientBoosting's binning failed on it ("window shape cannot be larger than input
    # array shape").
    real = pd.DataFrame({"x": np.arange(20.0) / 4, "empty": [np.nan] * 20, "y": ["a", "b"] * 10})
    synthetic = pd.DataFrame({"x": np.arange(20.0) / 3, "empty": [np.nan] * 20, "y": ["b", "a"] * 10})
    data = evaluate(real, synthetic, holdout=real, target="y", metrics=["utility", "detection"]).to_dict()
    assert data["utility"]["tstr"] is not None and data["detection"]["auc"] is not None


def test_utility_and_detection_of_numbers_near_the_largest_floats():
    # Overflow in the models' sums and in R^2 (RuntimeWarnings).
    big = np.tile([1.7976931348623157e308, -1.7976931348623157e308, 1e300, 3.0], 5)
    real = pd.DataFrame({"x": big, "y": big[::-1].copy()})
    synthetic = pd.DataFrame({"x": big[::-1].copy(), "y": big})
    data = evaluate(real, synthetic, holdout=real, target="y", metrics=["utility", "detection"]).to_dict()
    assert data["utility"]["tstr"] is not None and data["detection"]["auc"] is not None


def test_a_closer_to_train_share_from_few_rows_says_chance_moves_it():
    # 69 held-out penguins: the share of fresh real rows ranged 0.39-0.67 over 20 splits, with
    # a note about the membership AUC only.
    rng = np.random.default_rng(0)

    def table(n):
        return pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["a", "b", "c"], n)})

    notes = evaluate(table(300), table(300), holdout=table(69), metrics=["privacy"]).to_dict()["notes"]
    assert any(note.startswith("closer-to-train share from 300 training, 69 holdout and 300 synthetic rows") for note in notes), notes
    assert any(note.startswith("no membership-inference AUC") for note in notes), notes
    notes = evaluate(table(300), table(300), holdout=table(250), metrics=["privacy"]).to_dict()["notes"]
    assert not any("closer-to-train share from" in note or "membership" in note for note in notes), notes
    # One synthetic row: the membership AUC too (it scored 0.502 without a word, a user review).
    notes = evaluate(table(300), table(1), holdout=table(250), metrics=["privacy"]).to_dict()["notes"]
    assert any(note.startswith("closer-to-train share and membership-inference AUC from 300 training, 250 holdout and 1 "
                               "synthetic rows") for note in notes), notes


def test_a_class_that_chance_leaves_out_of_one_side_skips_utility_not_the_report():
    # One "yes" in 100 rows: at seed 1 it fell in the 20% test split and the training split's
    # single class aborted the whole evaluate; a holdout with no "yes" did so at every seed.
    rng = np.random.default_rng(0)

    def table(n, positives):
        return pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n),
                             "fraud": np.where(np.arange(n) < positives, "yes", "no")})

    real, synthetic = table(100, 1), table(100, 3)
    sides = set()
    for seed in range(6):
        data = evaluate(real, synthetic, target="fraud", seed=seed).to_dict()
        assert data["quality"]["score"] is not None and data["utility"]["tstr"] is None
        sides.add(data["utility"]["skipped"].split(" holds one value of 'fraud'")[0])
    assert sides == {"the 20% test split of the real rows", "the 80% training split of the real rows"}
    # One value in every real row, no holdout: skipped, as it always was.
    for y in ("a", 5.0):
        data = evaluate(real.assign(fraud=y), synthetic.assign(fraud=y), target="fraud").to_dict()
        assert data["quality"]["score"] is not None and "holds one value of 'fraud'" in data["utility"]["skipped"]
    data = evaluate(table(1000, 10), table(1000, 10), holdout=table(60, 0), target="fraud").to_dict()
    assert data["quality"]["score"] is not None and data["privacy"] is not None
    assert data["utility"]["skipped"].startswith("the holdout holds one value of 'fraud', so no score is defined")


@pytest.mark.parametrize("real, message", [
    (pd.DataFrame({"y": np.arange(12.0)}), ": no other column to predict it from"),  # sklearn: 0 features
    (pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1.0, np.nan, np.nan]}), ": R\\^2 needs at least two test rows"),
    # scikit-learn's UserWarning (more classes than half the rows), and a model per class.
    (pd.DataFrame({"x": np.arange(30.0) / 7, "y": [f"c{i % 25}" for i in range(30)]}), " has 25 classes in 30 rows"),
    # scikit-learn's R^2 of a constant truth is 1 or 0 (force_finite): reported as a score.
    (pd.DataFrame({"x": np.arange(30.0) / 7, "y": 5.0}), ": every test row holds 5.0, so R\\^2 is undefined"),
])
def test_utility_refuses_a_target_it_cannot_score(real, message):
    # Were scikit-learn's ValueError and UndefinedMetricWarning.
    with pytest.raises(DataError, match=f"target column 'y'{message}"):
        evaluate(real, real, holdout=real, target="y", metrics=["utility"])


# --- defects from a review (each failed before its fix) -------------------------------------


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return pd.read_csv(DATASETS / "churn.csv")


def test_detection_keeps_copies_in_one_fold(churn):
    # Real rows copied into the synthetic table were learned with one label and tested with the
    # other: AUC 0.02, "perfectly indistinguishable". A repeated row is still told apart.
    real = churn.iloc[:1500].reset_index(drop=True)
    copies = real.sample(frac=1, random_state=0).reset_index(drop=True)
    auc = evaluate(real, copies, metrics=["detection"]).to_dict()["detection"]["auc"]
    assert 0.45 <= auc <= 0.55
    one_row = pd.concat([real.iloc[:1]] * 1500, ignore_index=True)
    assert evaluate(real, one_row, metrics=["detection"]).to_dict()["detection"]["auc"] > 0.95
    # Near copies too: the day minutes jittered by 0.05 scored AUC 0.039 ("indistinguishable").
    jittered = copies.assign(total_day_minutes=(copies["total_day_minutes"] + np.random.default_rng(0).normal(0, 0.05, 1500)).round(2))
    assert 0.45 <= evaluate(real, jittered, metrics=["detection"]).to_dict()["detection"]["auc"] <= 0.55
    # Also where 2% of the real rows have an exact twin (the near-copy scale was then 0: AUC 0.09).
    twins = pd.concat([real, real.iloc[:30]], ignore_index=True)
    jittered = twins.assign(total_day_minutes=(twins["total_day_minutes"] + np.random.default_rng(0).normal(0, 0.05, len(twins))).round(2))
    assert 0.45 <= evaluate(twins, jittered, metrics=["detection"]).to_dict()["detection"]["auc"] <= 0.55
    # Rows that copy nothing are still told apart: each column shuffled on its own.
    rng = np.random.default_rng(1)
    shuffled = real.apply(lambda column: column.to_numpy()[rng.permutation(len(column))])
    assert evaluate(real, shuffled, metrics=["detection"]).to_dict()["detection"]["auc"] > 0.9


def test_closer_to_train_share_is_a_half_for_fresh_rows_whatever_the_holdout_size(churn):
    # With 4x more held-out rows than training rows, fresh real rows scored 0.23 (0.5 is ideal).
    rows = churn.sample(frac=1, random_state=1).reset_index(drop=True)
    train, synthetic, holdout = rows.iloc[:500], rows.iloc[500:1000], rows.iloc[1000:3000]
    share = evaluate(train, synthetic, holdout=holdout, metrics=["privacy"]).to_dict()["privacy"]["dcr_closer_to_train_share"]
    assert 0.42 <= share <= 0.58


def test_membership_auc_is_a_half_for_fresh_rows_and_sees_copies_of_part_of_the_table(churn):
    rows = churn.sample(frac=1, random_state=2).reset_index(drop=True)
    train, holdout, fresh = rows.iloc[:2000], rows.iloc[2000:2500], rows.iloc[2500:4500]
    privacy = evaluate(train, fresh, holdout=holdout, metrics=["privacy"]).to_dict()["privacy"]
    assert 0.45 <= privacy["membership_auc"] <= 0.55 and privacy["membership_attack_rows"] == 500
    # Half the synthetic table copies training rows: the closer-to-train share sees a quarter
    # of the copied rows among its 500 training rows, the attack every attacked one.
    half = pd.concat([train.sample(1000, random_state=0), fresh.iloc[:1000]], ignore_index=True)
    report = evaluate(train, half, holdout=holdout, metrics=["privacy"])
    privacy = report.to_dict()["privacy"]
    assert privacy["membership_auc"] > 0.7 > privacy["dcr_closer_to_train_share"]
    assert report.to_dict()["ceiling"]["privacy"]["membership_auc"] == 0.5
    assert "membership-inference AUC" in report.summary()
    # The same attack as the privacy check's.
    check = {c.name: c.value for c in privacy_check(train, half, holdout).checks}
    assert abs(check["membership_auc"] - privacy["membership_auc"]) < 0.05
    assert any("membership-inference AUC 0.7" in note and "can tell who was in the training data" in note for note in report["notes"])
    # Far below 0.5 is no better: synthetic rows that copy the holdout.
    report = evaluate(train, holdout.sample(2000, replace=True, random_state=0), holdout=holdout, metrics=["privacy"])
    assert report["privacy"]["membership_auc"] < 0.2
    assert any("wrong way round" in note for note in report["notes"])


def test_membership_auc_needs_200_holdout_rows_and_says_so(split):
    train, holdout, synth = split
    report = evaluate(train, synth, holdout=holdout, metrics=["privacy"]).to_dict()
    assert report["privacy"]["membership_auc"] is None
    assert any("membership-inference AUC" in note and "200" in note for note in report["notes"])


def test_small_tables_are_still_modelled():
    # A 20-row leaf cannot split fewer than 40 rows: plainly fake rows scored AUC 0.5 and a
    # target that one feature decides scored TRTR 0.5.
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"amount": rng.normal(100, 10, 20), "x": rng.normal(size=20)})
    fake = pd.DataFrame({"amount": rng.normal(1e7, 10, 20), "x": rng.normal(size=20)})
    assert evaluate(real, fake, metrics=["detection"]).to_dict()["detection"]["auc"] > 0.9
    x = rng.normal(size=60)
    table = pd.DataFrame({"x": x, "noise": rng.normal(size=60), "y": np.where(x > 0, "up", "down")})
    data = evaluate(table.iloc[:30], table.iloc[:30], holdout=table.iloc[30:], target="y", metrics=["utility"]).to_dict()
    assert data["utility"]["trtr"] > 0.9


def test_an_emptied_or_constant_synthetic_column_lowers_the_score(churn):
    real = churn.iloc[:800].reset_index(drop=True)
    good = churn.iloc[800:1600].reset_index(drop=True)
    base = evaluate(real, good, metrics=["quality"]).to_dict()["quality"]
    emptied = good.assign(total_day_minutes=np.nan, state=None)
    broken = evaluate(real, emptied, metrics=["quality"]).to_dict()["quality"]
    scores = {c["column"]: c["score"] for c in broken["columns"]}
    assert scores["total_day_minutes"] == 0.0 and scores["state"] == 0.0
    assert broken["column_shapes"] < base["column_shapes"] - 0.05
    flat = evaluate(real, good.assign(total_day_minutes=180.0), metrics=["quality"]).to_dict()["quality"]
    pair = next(p for p in flat["pairs"] if p["columns"] == ["total_day_minutes", "total_day_charge"])
    assert pair["synthetic"] is None and pair["score"] == pytest.approx(1 - abs(pair["real"]) / 2)
    assert flat["column_pair_trends"] < base["column_pair_trends"]


def test_columns_left_out_as_ids_are_named_in_a_note():
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"comment": [f"remark {i}" for i in range(200)], "city": rng.choice(["a", "b"], 200)})
    report = evaluate(real, real.assign(comment="x"), metrics=["quality"])
    assert any("'comment'" in n and "not evaluated" in n for n in report.to_dict()["notes"])
    assert "not evaluated" in report.summary()


def test_schema_as_a_path_or_a_dict(penguins, tmp_path):
    from synthvae import infer_schema

    schema = infer_schema(penguins)
    schema.save(tmp_path / "penguins.json")
    expected = evaluate(penguins, penguins, schema=schema, metrics=["quality"]).score
    for given in (str(tmp_path / "penguins.json"), tmp_path / "penguins.json", schema.to_dict()):
        assert evaluate(penguins, penguins, schema=given, metrics=["quality"]).score == expected
    with pytest.raises(DataError, match="schema must be a Schema"):
        evaluate(penguins, penguins, schema=3, metrics=["quality"])


def test_numbered_columns_widen_their_categories_as_named_ones_do():
    real = pd.DataFrame({0: ["a", "b"] * 50, 1: np.tile(np.arange(10.0), 10)})
    synthetic = pd.DataFrame({0: ["a", "c"] * 50, 1: np.tile(np.arange(10.0), 10)})
    data = evaluate(real, synthetic, metrics=["quality"]).to_dict()
    assert data["quality"]["columns"][0]["coverage"]["synthetic_categories_not_in_real"] == ["c"]


def test_repeated_column_names_and_list_cells_are_refused_clearly(penguins):
    with pytest.raises(DataError, match=r"synthetic data: columns \['island'\] appear more than once"):
        evaluate(penguins, pd.concat([penguins, penguins[["island"]]], axis=1), metrics=["quality"])
    listed = penguins.astype({"island": object})
    listed.loc[0, "island"] = ["Biscoe"]
    with pytest.raises(DataError, match="column 'island': cells hold \\['list'\\] values"):
        evaluate(penguins, listed, metrics=["quality"])


def test_a_zero_one_number_target_is_a_class(churn):
    table = churn.assign(churn=(churn["churn"] == "yes").astype(int))
    data = evaluate(table.iloc[:2000], table.iloc[:2000], holdout=table.iloc[2000:], target="churn",
                    metrics=["utility"]).to_dict()["utility"]
    assert (data["task"], data["metric"]) == ("binary", "roc_auc") and data["trtr"] > 0.85


def test_no_metric_group_is_refused(penguins):
    with pytest.raises(DataError, match="no metric group"):
        evaluate(penguins, penguins, metrics=[])


def test_out_of_range_dates_are_the_ones_named():
    real = pd.DataFrame({"born": ["1700-01-01", "1800-05-05", "1650-03-01"] * 4, "x": range(12)})
    with pytest.raises(DataError, match="1650-03-01") as info:
        evaluate(real, real, metrics=["quality"])
    assert "1700" not in str(info.value)


def test_a_numeric_target_of_two_values_is_scored_as_a_class():
    # 0.0 / 0.1 labels were "continuous" to the classifier, and a synthetic 0.05 a third class:
    # evaluate crashed with scikit-learn's "Unknown label type" (found by the fuzz test).
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"a": [0.0, 0.0, 0.1] * 10, "b": rng.normal(size=30)})
    fake = pd.DataFrame({"a": np.linspace(-0.02, 0.12, 30), "b": rng.normal(size=30)})
    utility = evaluate(real, fake, holdout=real, target="a", seed=0).to_dict()["utility"]
    assert utility["task"] == "binary" and 0 <= utility["tstr"] <= 1 and 0 <= utility["trtr"] <= 1


def test_a_utility_score_that_cannot_be_had_is_shown_with_its_reason():
    # Synthetic rows whose target is null everywhere: TSTR is None, and the summary and the
    # HTML dropped the utility row (TRTR too) without a word.
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=200), "y": rng.choice(["a", "b", "c"], 200)})
    synthetic = real.assign(y=None)
    report = evaluate(real, synthetic, holdout=real.head(60), target="y", metrics=["utility"])
    data = report.to_dict()["utility"]
    assert data["tstr"] is None and data["trtr"] is not None and "no TSTR score" in data["skipped"]
    summary = report.summary()
    assert "utility TSTR (macro_f1, y)" in summary and "no TSTR score" in summary
    html = report.to_html()
    assert "Utility TSTR (macro_f1)" in html and "no TSTR score" in html


def test_a_histogram_of_hours_of_one_day_labels_its_ends_with_the_time():
    # Labelled "2024-05-01 ... 2024-05-01" for a span of 08:01 to 17:58.
    rng = np.random.default_rng(0)
    when = pd.Timestamp("2024-05-01 08:00") + pd.to_timedelta(rng.integers(0, 8 * 3600, 300), unit="s")
    real = pd.DataFrame({"when": when, "v": rng.normal(size=300)})
    html = evaluate(real, real.assign(when=real["when"] + pd.Timedelta(hours=2)), metrics=["quality"]).to_html()
    assert "2024-05-01 08:01:18" in html and "2024-05-01 17:58:34" in html
    days = pd.DataFrame({"when": pd.Timestamp("2024-05-01") + pd.to_timedelta(rng.integers(0, 90, 300), unit="D"),
                         "v": rng.normal(size=300)})
    html = evaluate(days, days, metrics=["quality"]).to_html()
    assert "2024-05-01 00:00:00" not in html and "2024-05-01" in html


def test_the_html_report_holds_the_score_at_the_holdouts_size_against_the_ceiling():
    # Review: the cards set the full table's score against a ceiling of fewer holdout rows (the
    # report's own note says not to), the distributions were headed "worst column first" where
    # no quality gave an order, and a constant column's axis read 5 to 6.
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=1000), "y": rng.choice(["a", "b"], 1000), "const": 5.0})
    synthetic = real.sample(frac=1.0, random_state=1).reset_index(drop=True).assign(x=lambda d: d["x"] + 0.1)
    report = evaluate(real.head(800), synthetic, holdout=real.tail(200), metrics=["quality"])
    same = report.to_dict()["quality"]["at_holdout_size"]
    html = report.to_html()
    assert f"<div class='v'>{same['score']:.3f}</div>" in html
    assert "at the holdout&#x27;s 200 rows (all rows:" in html
    assert "Distributions, worst column first" in html and "'4.5'" not in html and ">4.5<" in html and ">5.5<" in html
    html = evaluate(real.head(800), synthetic, holdout=real.tail(200), metrics=["detection"]).to_html()
    assert "<h2>Distributions</h2>" in html


def test_a_holdout_cut_from_the_training_rows_is_named_even_when_the_tables_are_subsampled():
    # Diff review: the overlap was looked for in the subsampled real table only (max_rows), and
    # only with the privacy metrics; the privacy ceiling still said 0.5.
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=4000).round(6), "y": rng.choice(list("abcd"), 4000)})
    for metrics, max_rows in ((["privacy"], 1000), (["quality"], None)):
        report = evaluate(real, real.head(800), holdout=real.tail(400), metrics=metrics, max_rows=max_rows).to_dict()
        assert any(note.startswith("the holdout holds training rows: 400 of 400") for note in report["notes"]), metrics
        if "privacy" in metrics:
            assert report["privacy"]["membership_auc"] is None and report["privacy"]["dcr_closer_to_train_share"] is None
            assert "membership_auc" not in report["ceiling"]["privacy"]
    fresh = evaluate(real.head(3000), real.head(800), holdout=real.tail(1000), metrics=["privacy"], max_rows=1000).to_dict()
    assert not any("holds training rows" in note for note in fresh["notes"])


def test_a_subsampled_synthetic_table_is_noted_to_understate_copies():
    # A copy of every training row among 270,000 synthetic rows scored a membership AUC of 0.535
    # on the 50,000 that evaluate kept, with no word of it (a user review).
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=3000), "y": rng.choice(list("abcd"), 3000)})
    train, holdout = real.head(2000), real.tail(1000)
    copies = pd.concat([train] * 4, ignore_index=True)
    notes = evaluate(train, copies, holdout=holdout, metrics=["privacy"], max_rows=2000)["notes"]
    assert any(note.startswith("the synthetic table was subsampled (2,000 of 8,000 rows): the closer-to-train share and "
                               "the membership AUC see copies of training rows only among the rows kept (25%)")
               for note in notes), notes
    notes = evaluate(train, copies.head(2000), holdout=holdout, metrics=["privacy"], max_rows=2000)["notes"]
    assert not any("synthetic table was subsampled" in note for note in notes)


def test_a_test_split_of_one_target_value_skips_utility_not_the_report():
    # A target of few values: the 20% split (no holdout) held only zeros, and the constant-target
    # refusal aborted every metric.
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"a": rng.normal(size=200), "t": np.where(rng.random(200) < 0.985, 0.0, 5.0)})
    report = evaluate(real, real.sample(frac=1, random_state=1), target="t", seed=0)
    data = report.to_dict()
    assert data["quality"]["score"] is not None and data["utility"]["tstr"] is None
    assert "test split of the real rows holds one value of 't'" in data["utility"]["skipped"]


def test_a_binary_target_whose_test_rows_lack_the_scored_class_is_refused_clearly():
    # The held-out rows hold "no" and a value the real rows lack, never "yes": ROC AUC was NaN,
    # reported as None with no reason, scikit-learn's warnings printed and the summary row gone.
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=300), "t": rng.choice(["no", "yes"], 300)})
    holdout = pd.DataFrame({"x": rng.normal(size=100), "t": rng.choice(["no", "other"], 100)})
    with pytest.raises(DataError, match=r"target column 't': the test rows hold no rows of the class 'yes'"):
        evaluate(real, real, holdout=holdout, target="t", metrics=["utility"])


def test_pair_correlations_do_not_depend_on_the_blas_threads():
    # OpenBLAS splits its sums by thread count: with 1 thread against 2, about 200 of loans' pair
    # correlations moved in the last bit, where the report promises the same numbers.
    from threadpoolctl import threadpool_limits

    from synthvae.evaluation.fidelity import _pairwise_pearson

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1500, 30)) @ rng.normal(size=(30, 30)) + 100
    x[rng.random(x.shape) < 0.05] = np.nan
    results = []
    for threads in (1, 2, 4):
        with threadpool_limits(limits=threads, user_api="blas"):
            results.append(_pairwise_pearson(x))
    assert all(np.array_equal(results[0], other, equal_nan=True) for other in results[1:])


def test_the_synthetic_score_to_hold_against_the_ceiling_is_at_the_holdouts_size():
    # A perfect generator (fresh real rows) scored above the ceiling, whose 200-row holdout
    # scores lower by chance alone (a table with no correlations at all beat it on loans).
    rows = pd.read_csv(DATASETS / "diamonds.csv").sample(1800, random_state=0).reset_index(drop=True)
    train, holdout, fresh = rows.iloc[:800], rows.iloc[800:1000], rows.iloc[1000:].reset_index(drop=True)
    report = evaluate(train, fresh, holdout=holdout, metrics=["quality"], seed=0).to_dict()
    ceiling, same = report["ceiling"]["quality"]["score"], report["quality"]["at_holdout_size"]
    assert same["rows"] == 200 and abs(same["score"] - ceiling) < 0.03
    assert report["quality"]["score"] > ceiling + 0.01
    assert any("quality.at_holdout_size" in note for note in report["notes"])
    # As large as the holdout, the synthetic table needs no second score.
    alike = evaluate(train, fresh.head(200), holdout=holdout, metrics=["quality"], seed=0).to_dict()
    assert "at_holdout_size" not in alike["quality"]


def test_float32_output_is_judged_at_the_numbers_it_holds(penguins):
    # A generator's float32 output, widened bit for bit, matched no real row (exact copies
    # 0.1 -> 0.0) and was told from the real rows by its last digits (detection AUC ~1).
    rows = penguins.dropna().reset_index(drop=True)
    train, holdout = rows.iloc[:250], rows.iloc[250:].reset_index(drop=True)
    copies = train.sample(200, random_state=0)
    narrow = copies.astype({c: "float32" for c in copies.select_dtypes("number").columns if c != "year"})
    for table in (copies, narrow):  # float32 was 0.08 and 0.66
        report = evaluate(train, table, holdout=holdout, metrics=["privacy", "detection"], seed=0).to_dict()
        assert report["privacy"]["exact_copy_rate"] == 1.0
        assert report["detection"]["auc"] < 0.6


def test_a_detection_auc_below_chance_in_every_fold_is_named_not_called_indistinguishable():
    # Training rows jittered by sd 0.05 scored AUC 0.296 in every fold: "score 1.0".
    rng = np.random.default_rng(0)
    a = rng.normal(size=1250)
    table = pd.DataFrame({"a": a, "b": a * 0.6 + rng.normal(size=1250) * 0.8})
    train, holdout = table.iloc[:1000].reset_index(drop=True), table.iloc[1000:].reset_index(drop=True)
    jittered = train.assign(a=train["a"] + rng.normal(0, 0.05, 1000))
    report = evaluate(train, jittered, holdout=holdout, metrics=["detection"], seed=0).to_dict()
    assert report["detection"]["below_chance"] and max(report["detection"]["fold_aucs"]) < 0.45
    assert any("below 0.5 in every fold" in note for note in report["notes"])
    fresh = pd.DataFrame({"a": (z := rng.normal(size=1000)), "b": z * 0.6 + rng.normal(size=1000) * 0.8})
    assert "below_chance" not in evaluate(train, fresh, holdout=holdout, metrics=["detection"], seed=0).to_dict()["detection"]


def test_numbers_written_otherwise_as_text_match_their_categories():
    # A synthetic table whose codes went through floats holds "1.0" for the category 1: scored
    # as three new categories (coverage 0, shape 0.0) in the API, where the CLI matched them.
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"grade": pd.Categorical(rng.integers(1, 4, 300)), "x": rng.normal(size=300)})
    synthetic = real.assign(grade=real["grade"].astype(float).astype(str))
    column = next(c for c in evaluate(real, synthetic, metrics=["quality"])["quality"]["columns"] if c["column"] == "grade")
    assert column["score"] == 1.0 and column["coverage"]["synthetic_categories_not_in_real"] == []
    # Text that is another number, or no number, is still a new category.
    odd = synthetic.assign(grade=synthetic["grade"].where(synthetic.index > 1, ["4.0", "x"] + [None] * (len(real) - 2)))
    coverage = next(c for c in evaluate(real, odd, metrics=["quality"])["quality"]["columns"] if c["column"] == "grade")["coverage"]
    assert sorted(coverage["synthetic_categories_not_in_real"]) == ["4.0", "x"]


def test_text_matches_a_number_category_only_at_its_exact_value():
    # Matched through floats, "9007199254740992" became the category 9007199254740993 (another
    # id, silently) and "1_0" the category 10 (float() reads underscores and other digits).
    from synthvae.schema import Column, ColumnKind, Schema
    from synthvae.validation import conform

    def conformed(categories, values):
        schema = Schema((Column("c", ColumnKind.CATEGORICAL, categories=tuple(categories)),))
        return conform(pd.DataFrame({"c": pd.Series(values, dtype=object)}), schema)["c"].tolist()

    assert conformed([1, 7], ["1.0", " 7 ", "1e0", "007"]) == [1, 7, 1, 7]
    assert conformed([0.1, 0.2], ["0.10", "2e-1"]) == [0.1, 0.2]
    assert conformed([2**53 + 1, 5], [str(2**53 + 1)]) == [2**53 + 1]
    for categories, value in (([2**53 + 1, 5], str(2**53)), ([10, 7], "1_0"), ([1.0, 2.0], "\u0661"),
                              ([0.1, 0.2], "0.10000000000000001"), ([0, 1], "nan")):
        with pytest.raises(DataError, match="not among the schema's categories"):
            conformed(categories, [value])


def test_public_pair_metrics_agree_with_the_report():
    from synthvae.evaluation import contingency_similarity, correlation_similarity, tv_complement

    real = pd.DataFrame({"age": [1.0, 2, 3, 4], "ag": list("abab")})
    # One name alone is that column: "age" took the text column "ag" for numbers (DataError).
    assert contingency_similarity(real, real.assign(ag=list("aabb")), continuous="age") == \
        contingency_similarity(real, real.assign(ag=list("aabb")), continuous=["age"]) == 0.5
    # A constant synthetic column relates to nothing, as evaluate's pair trends score it (was NaN).
    pair = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [1.0, 2, 3, 4]})
    report = evaluate(pair, pair.assign(b=1.0), metrics=["quality"]).to_dict()
    assert correlation_similarity(pair, pair.assign(b=1.0)) == report["quality"]["pairs"][0]["score"] == 0.5
    with pytest.raises(DataError, match="tv_complement needs hashable values"):
        tv_complement([[1], [2]], [[1]])


def test_detection_on_few_rows_is_noted_as_noise(penguins):
    # 5 rows a side scored AUC 0.200, "indistinguishable", with nothing said: each fold tested
    # one real row against one synthetic row (a user review).
    rows = penguins.dropna().sample(15, random_state=0).reset_index(drop=True)
    report = evaluate(rows.iloc[:5], rows.iloc[5:10], holdout=rows.iloc[10:], metrics=["detection"], seed=0)
    assert report.to_dict()["detection"]["rows_per_side"] == 5
    assert any(re.search(r"detection compares only 5 rows a side: its AUC moves by about 0.22 around 0.5 by chance "
                         r"alone, so \d.\d{3} says little; give at least 200 rows a side", note) for note in report.to_dict()["notes"])
    many = evaluate(penguins.iloc[:300], penguins.iloc[:300].sample(frac=1, random_state=1), metrics=["detection"], seed=0)
    assert not any("rows a side" in note for note in many.to_dict()["notes"])
    # Far from chance on few rows the note said "says little" all the same (0.937 on 175 rows).
    real = penguins.dropna().iloc[:150].reset_index(drop=True)
    shifted = real.assign(body_mass_g=real["body_mass_g"] + 2000, bill_length_mm=real["bill_length_mm"] * 1.5)
    report = evaluate(real, shifted, metrics=["detection"], seed=0).to_dict()
    assert report["detection"]["auc"] > 0.9
    assert any(re.search(r"detection compares only 150 rows a side, where its AUC moves by about 0.0\d around 0.5 by "
                         r"chance alone: (0.9\d\d|1.000) is beyond that, so the rows are told apart even at this size", note)
               for note in report["notes"])
    assert not any("says little" in note for note in report["notes"])
    # Below 0.5 is no telling apart: two real halves of 150 rows each scored 0.428 and were "told apart".
    rows = penguins.dropna().sample(300, random_state=0).reset_index(drop=True)
    halves = evaluate(rows.iloc[:150], rows.iloc[150:].reset_index(drop=True), metrics=["detection"], seed=0).to_dict()
    assert halves["detection"]["auc"] < 0.5 + 3 * 0.03
    assert not any("told apart" in note for note in halves["notes"]) and any("says little" in note for note in halves["notes"])


def test_a_synthetic_table_without_columns_of_the_real_one_is_named_against_it():
    # The schema was inferred from the real table, but the refusal said the columns "are in the
    # schema but not in the data", a schema the user never gave, and named no fix.
    real = pd.read_csv(DATASETS / "seattle_weather.csv")
    synthetic = real.drop(columns=["wind"]).rename(columns={"temp_max": "tmax"})
    with pytest.raises(DataError, match=r"synthetic data: columns \['temp_max', 'wind'\] of the real data are not in it "
                                        r"\(it has \['date', 'precipitation', 'tmax', 'temp_min', 'weather'\]\); give both "
                                        r"tables the same columns \(rename or add them\), or pass a schema"):
        evaluate(real, synthetic, metrics=["quality"])
    with pytest.raises(DataError, match=r"holdout data: columns \['wind'\] of the real data are not in it"):
        evaluate(real, real, holdout=real.drop(columns=["wind"]), metrics=["quality"])
    # An id column is not evaluated: a synthetic table may leave it out.
    keyed = real.assign(row_id=[f"r{i:05d}" for i in range(len(real))])
    assert evaluate(keyed, real, metrics=["quality"]).to_dict()["quality"]["score"] > 0.99


def test_columns_permuted_on_their_own_are_noted_and_each_score_is_given_at_the_holdouts_size(churn):
    # A review: every column of churn permuted on its own scored 0.960 at the holdout's size
    # against a ceiling of 0.964, with no note (its related pairs 0.678 against 0.976); and each
    # column's score on 4,000 synthetic rows beside a ceiling on 1,000 passed it (19 of 20).
    train, holdout = churn.iloc[:2500].reset_index(drop=True), churn.iloc[2500:3000].reset_index(drop=True)
    fresh = churn.iloc[3000:].reset_index(drop=True)  # a perfect generator's rows: 2,000 unseen real ones
    rng = np.random.default_rng(0)
    permuted = fresh.apply(lambda column: column.to_numpy()[rng.permutation(len(column))])
    reports = {name: evaluate(train, synthetic, holdout=holdout, metrics=["quality"], seed=0).to_dict()
               for name, synthetic in (("permuted", permuted), ("fresh", fresh))}
    notes = {name: [note for note in report["notes"] if "related in the real data" in note] for name, report in reports.items()}
    assert len(notes["permuted"]) == 1 and "lose relationships" in notes["permuted"][0] and not notes["fresh"]
    columns = reports["fresh"]["quality"]["columns"]
    # All 2,000 fresh rows pass most ceilings on 500; at the holdout's size they sit around them.
    assert sum(c["score"] > c["ceiling"] for c in columns) >= 15
    assert 4 <= sum(c["at_holdout_size"] > c["ceiling"] for c in columns) <= 16
    assert all(0.0 <= p["at_holdout_size"] <= 1.0 for p in reports["fresh"]["quality"]["pairs"] if p["at_holdout_size"] is not None)
    html = evaluate(train, permuted, holdout=holdout, metrics=["quality"], seed=0).to_html()
    assert "at 500 rows</th>" in html
    # Only against a holdout: related pairs of many categories score low between real tables too
    # (two halves of loans: 0.722, all pairs 0.957), so without one no note.
    alone = evaluate(train, permuted, metrics=["quality"], seed=0).to_dict()["notes"]
    assert not any("related in the real data" in note for note in alone)


def test_null_rates_far_from_the_real_ones_are_named_in_a_note(churn):
    # A review: 29% nulls in a column churn always fills moved the quality score by 0.003, and an
    # emptied column scored 0, each without a word.
    train, holdout = churn.iloc[:4000].reset_index(drop=True), churn.iloc[4000:].reset_index(drop=True)
    holey = holdout.copy()
    holey.loc[holey.sample(frac=0.29, random_state=2).index, "total_day_minutes"] = np.nan
    holey["total_eve_calls"] = np.nan
    notes = [note for note in evaluate(train, holey, metrics=["quality"]).to_dict()["notes"] if "null rates differ" in note]
    assert len(notes) == 1
    assert "total_eve_calls (0.0% real, 100.0% synthetic)" in notes[0] and "total_day_minutes (0.0% real, 29." in notes[0]
    assert "['" not in notes[0]  # phrases, not a list's repr
    # Fresh rows of a table with many nulls (loans: up to 85% a column) are within chance: no note.
    loans = pd.read_csv(DATASETS / "loans.csv").sample(frac=1.0, random_state=0).reset_index(drop=True)
    fresh = evaluate(loans.iloc[:5000], loans.iloc[5000:].reset_index(drop=True), metrics=["quality"]).to_dict()["notes"]
    assert not any("null rates differ" in note for note in fresh)


def test_a_synthetic_table_holding_the_holdouts_rows_is_named(churn):
    # A review: the holdout given as the synthetic table scored TSTR 1.0 (tested on the rows it
    # trained on), with only the membership note to hint at it.
    train, holdout = churn.iloc[:2500].reset_index(drop=True), churn.iloc[2500:3000].reset_index(drop=True)
    fresh = churn.iloc[3000:3500].reset_index(drop=True)
    notes = {name: [n for n in evaluate(train, synthetic, holdout=holdout, metrics=["quality"]).to_dict()["notes"]
                    if "the synthetic table holds held-out rows" in n]
             for name, synthetic in (("holdout", holdout), ("fresh", fresh), ("half", pd.concat([holdout.head(250), fresh.head(250)])))}
    assert len(notes["holdout"]) == 1 and "500 of 500 (100.0%)" in notes["holdout"][0]
    assert len(notes["half"]) == 1 and "250 of 500 (50.0%)" in notes["half"][0]
    assert notes["fresh"] == []


def test_datetimes_with_a_zone_beside_datetimes_without_one_are_noted():
    # A review: naive real dates against the same dates in UTC scored 1.0 without a word.
    weather = pd.read_csv(DATASETS / "seattle_weather.csv", parse_dates=["date"])
    real, rest = weather.iloc[:700], weather.iloc[700:].reset_index(drop=True)
    zoned = rest.assign(date=rest["date"].dt.tz_localize("UTC"))
    notes = evaluate(real, zoned, metrics=["quality"]).to_dict()["notes"]
    assert any(n.startswith("column 'date': synthetic data's datetimes have a time zone (UTC), real data's none: compared "
                            "as clock times of UTC") for n in notes), notes
    assert not any("have a time zone" in n for n in evaluate(real, rest, metrics=["quality"]).to_dict()["notes"])


def test_whole_float32_numbers_beyond_float32s_digits_match_the_categories_inferred_from_them():
    # A fuzz case: a float32 column of codes 0 and 123456792 was inferred as those categories
    # (widened exactly), then evaluate read it as printed, 1.2345679e+08 = 123456790, which
    # matched none. Fractions are still read as printed (0.3, not 0.30000001192...).
    frame = pd.DataFrame({"id": np.array([0, 0, 0, 0, 123456792], dtype=np.float32),
                          "x": np.array([0.3, 0.1, 0.2, 0.7, 0.3], dtype=np.float32)})
    report = evaluate(frame, frame.copy(), metrics=["quality", "privacy"])
    assert report["quality"]["score"] == 1.0 and report["privacy"]["exact_copy_rate"] == 1.0


def test_the_worst_pairs_are_those_furthest_below_their_ceiling(churn):
    # Ordered by score alone, pairs of a constant column (0.5 between real tables too) filled the
    # list, and the broken total_day_minutes ~ total_day_charge (0.505 against a ceiling of 1.000)
    # ranked 24th while the note said "see the worst pairs" (an HTML review).
    train, holdout = churn.iloc[:3000].reset_index(drop=True), churn.iloc[3000:4000].reset_index(drop=True)
    bad = churn.iloc[4000:].reset_index(drop=True).copy()
    for column in ("total_day_charge", "churn"):
        bad[column] = bad[column].sample(frac=1.0, random_state=0).to_numpy()
    report = evaluate(train, bad, holdout=holdout, metrics=["quality"], seed=0)
    worst = report.summary().split("worst pairs: ")[1].splitlines()[0]
    assert worst.startswith("total_day_minutes ~ total_day_charge"), worst
    page = report.to_html()
    table = page[page.index("<h2>Worst pairs</h2>"):]
    table = table[:table.index("</table>")]
    # the pairs of the shuffled churn (voice_mail_plan ~ churn 0.923 against 0.985), not pairs of
    # many categories that score as low between real tables (state ~ account_length 0.721, 0.719)
    assert "total_day_minutes ~ total_day_charge" in table and "plan ~ churn" in table, table
    assert "state ~ account_length" not in table, table


def test_headline_scores_far_from_their_ceilings_are_said_first(churn):
    # Four columns broken: detection 1.000 against the holdout's 0.5 and TSTR 0.538 against 0.914
    # showed as plain numbers, with no note (an HTML review).
    train, holdout = churn.iloc[:3000].reset_index(drop=True), churn.iloc[3000:4000].reset_index(drop=True)
    bad = churn.iloc[4000:].reset_index(drop=True).copy()
    bad["state"], bad["account_length"] = bad["state"].iloc[0], 100
    for column in ("total_day_minutes", "churn"):
        bad[column] = bad[column].sample(frac=1.0, random_state=0).to_numpy()
    report = evaluate(train, bad, holdout=holdout, target="churn", metrics=["quality", "utility", "detection"], seed=0)
    notes = report["notes"]
    assert notes[0].startswith("detection AUC") and "a classifier tells the synthetic rows from real ones" in notes[0]
    assert notes[1].startswith("a model trained on the synthetic rows scores") and "'churn'" in notes[1]
    assert report.to_html().count("class='v bad'") == 2
    # Fresh real rows are no failure.
    fine = evaluate(train, churn.iloc[4000:].reset_index(drop=True), holdout=holdout, target="churn",
                    metrics=["utility", "detection"], seed=0)
    assert not any(n.startswith(("detection AUC", "a model trained on")) for n in fine["notes"])
    assert "class='v bad'" not in fine.to_html()


def test_the_association_heatmaps_say_what_they_show():
    # Loans' 55 columns showed 30 with nothing said; the colours had no key; labels cut at 15
    # characters named two columns "months_since_la…" alike (an HTML review).
    loans = pd.read_csv(DATASETS / "loans.csv").iloc[:1200]
    page = evaluate(loans.iloc[:600], loans.iloc[600:].reset_index(drop=True), metrics=["quality"], seed=0).to_html()
    heat = page[page.index("<h2>Associations</h2>"):]
    learned = heat.count("<div class='fig'><h3>Real</h3>")
    assert learned == 1 and "red positive, blue negative" in heat
    assert re.search(r"The 30 of \d+ columns whose pairs are reproduced worst", heat)
    assert "<title>months_since_last_delinq</title>" in heat and "<title>months_since_90d_late</title>" in heat
