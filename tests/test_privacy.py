"""Differentially private fitting and the privacy check, on real tables."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from synthvae import DataError, ParameterError, SchemaError, Synthesizer, evaluate, infer_schema
from synthvae.evaluation import PrivacyLimits, privacy_check
from synthvae.privacy import PrivacySpec
from synthvae.schema import ColumnKind
from synthvae.privacy.accounting import Mechanism, plan_noise, spent_epsilon, subsampled_gaussian_rdp
from synthvae.privacy.dpsgd import check_compatible
from synthvae.privacy.statistics import leak_warnings
from synthvae.schema import Schema

# Bounds a biologist would give without looking at this table: wider than the data's range.
PUBLIC_BOUNDS = {
    "bill_length_mm": (20.0, 80.0),
    "bill_depth_mm": (5.0, 30.0),
    "flipper_length_mm": (150, 250),
    "body_mass_g": (1500, 8000),
    "year": (2000, 2020),
}


@pytest.fixture(scope="module")
def public_schema(penguins) -> Schema:
    document = infer_schema(penguins).to_dict()
    for column in document["columns"]:
        if column["name"] in PUBLIC_BOUNDS:
            column["min"], column["max"] = PUBLIC_BOUNDS[column["name"]]
    return Schema.from_dict(document)


@pytest.fixture(scope="module")
def private_fit(penguins, public_schema) -> Synthesizer:
    return Synthesizer(public_schema, privacy={"epsilon": 3.0, "epochs": 5}, seed=0).fit(penguins)


def test_epsilon_is_recorded_and_within_budget(private_fit):
    record = private_fit.privacy_
    assert 0 < record["epsilon"] <= 3.0
    assert record["epsilon"] > 2.9  # the noise is calibrated to use the budget, not waste it
    assert record["delta"] == pytest.approx(min(1e-5, 0.1 / 344))
    assert record["statistics_epsilon"] < record["epsilon"]
    assert record["steps"] > 0 and record["sgd_noise_multiplier"] > 0
    assert record["warnings"] == []  # public bounds, no category of 1-2 rows


def test_a_private_fit_takes_no_noise_correlation_from_the_rows(private_fit):
    # The residuals it would be estimated from are the real rows', outside the accounting.
    assert private_fit.model_.noise_factor is None


def test_epsilon_grows_with_epochs(penguins, public_schema):
    spent = []
    for epochs in (1, 4):
        syn = Synthesizer(public_schema, privacy={"noise_multiplier": 1.0, "epochs": epochs}, conditional=False, seed=0)
        spent.append(syn.fit(penguins).privacy_["epsilon"])
    assert spent[0] < spent[1]
    # The accountant itself: more steps, or less noise, spend more.
    base = spent_epsilon([Mechanism(1.0, 0.1, 100)], 1e-5)
    assert spent_epsilon([Mechanism(1.0, 0.1, 200)], 1e-5) > base
    assert spent_epsilon([Mechanism(0.8, 0.1, 100)], 1e-5) > base


@pytest.mark.parametrize(("q", "sigma"), [(0.05, 1.0), (0.004, 0.6), (0.3, 12.0), (1e-5, 0.05), (0.5, 5000.0), (1.0, 2.0), (0.0, 1.0)])
def test_the_renyi_curve_is_opacus_own(q, sigma):
    # The terms summed by numpy, as Opacus sums them one at a time (25x faster per plan of the
    # noise): equal within rounding, and infinite at the same orders (Opacus: inf or nan where the
    # binomial coefficients overflow: orders 2,048 and up whenever 0 < q < 1).
    from synthvae.privacy.accounting import _ALPHAS
    from synthvae.privacy.opacus_names import compute_rdp

    theirs = np.asarray(compute_rdp(q=q, noise_multiplier=sigma, steps=1, orders=_ALPHAS))
    ours = subsampled_gaussian_rdp(q, sigma, _ALPHAS)
    finite = np.isfinite(theirs)
    assert np.array_equal(np.isfinite(ours), finite) and not np.isnan(ours).any()
    assert (np.abs(ours[finite] - theirs[finite]) <= 1e-11 * np.maximum(1.0, np.abs(theirs[finite]))).all()
    if 0 < q < 1:
        assert np.array_equal(~finite, np.asarray(_ALPHAS) >= 2048)


def test_noise_calibration_meets_the_budget():
    plan = plan_noise(1.0, 1e-5, 0.05, 600, statistics_share=0.1)
    assert plan.epsilon == pytest.approx(1.0, abs=0.01) and plan.epsilon <= 1.0
    assert plan.statistics_epsilon == pytest.approx(0.1, abs=0.005)
    stronger = plan_noise(3.0, 1e-5, 0.05, 600, statistics_share=0.1)
    assert stronger.sgd_noise < plan.sgd_noise


def test_private_fit_samples_valid_rows_and_conditions(private_fit, penguins, public_schema):
    fake = private_fit.sample(500, seed=1)
    assert list(fake.columns) == list(penguins.columns)
    for name, (low, high) in PUBLIC_BOUNDS.items():
        present = fake[name].dropna()
        assert present.between(low, high).all()
    assert set(fake["species"]) <= {"Adelie", "Chinstrap", "Gentoo"}
    # The conditional prior was fitted on synthetic rows: conditioning still works exactly.
    gentoo = private_fit.sample(50, conditions={"species": "Gentoo"}, seed=2)
    assert (gentoo["species"] == "Gentoo").all()


def test_a_range_a_private_fit_never_learned_is_refused_as_such(private_fit, penguins):
    # No penguin weighs 1,600 g or less; the public bounds start at 1,500. The private fit knows
    # the column from a noisy histogram whose bins there are taken as empty unless their noise
    # exceeds two of its standard deviations (about 1 fit in 40).
    assert penguins["body_mass_g"].min() > 1600
    try:
        rows = private_fit.sample(5, conditions={"body_mass_g": {"<=": 1600}}, seed=0)
    except ParameterError as exc:
        assert "no training value of column 'body_mass_g'" in str(exc)
        assert "differential privacy" in str(exc) and "noisy histogram" in str(exc)
    else:
        assert (rows["body_mass_g"] <= 1600).all()


def test_private_noise_cannot_be_replayed_from_the_seed(penguins, public_schema, private_fit):
    # The seed is stored in the model file: noise drawn from it could be subtracted by anyone
    # holding the file. Same table, same seed: other histograms' noise, other weights.
    again = Synthesizer(public_schema, privacy={"epsilon": 3.0, "epochs": 5}, seed=0).fit(penguins)
    assert not torch.equal(again.model_.decoder[1].weight, private_fit.model_.decoder[1].weight)
    codecs = zip(again.preprocessor_.codecs_, private_fit.preprocessor_.codecs_)
    assert any(not np.array_equal(a.counts_, b.counts_) for a, b in codecs if hasattr(a, "counts_"))
    # What is drawn from a fitted model still follows the sampling seed.
    pd.testing.assert_frame_equal(private_fit.sample(200, seed=5), private_fit.sample(200, seed=5))


def test_private_fit_runs_and_reports_the_epochs_asked(private_fit, penguins, public_schema):
    # 344 rows, batches of 64 (rate 0.186): 27 steps for 5 epochs; they were reported as 6.
    assert private_fit.privacy_["steps"] == 27
    assert [h["epoch"] for h in private_fit.history_] == [1, 2, 3, 4, 5]
    assert private_fit.fit_info_.epochs_planned == private_fit.fit_info_.epochs_run == 5
    syn = Synthesizer(public_schema, privacy={"epsilon": 3.0, "epochs": 3}, conditional=False, seed=0).fit(penguins.iloc[:99])
    assert len(syn.history_) == 3  # 99 rows, rate 0.646: 5 steps, reported as 8 epochs before


def test_epochs_outside_the_privacy_spec_are_refused(penguins, public_schema):
    with pytest.raises(ParameterError, match="takes its epochs and batch size from privacy"):
        Synthesizer(public_schema, epochs=5, privacy=3.0).fit(penguins)  # ran the spec's 30 epochs before


def test_private_fit_with_an_autoregressive_categorical_head(penguins, public_schema):
    # The per-row loss decodes given the row's own categories (it drew them inside vmap: crash).
    syn = Synthesizer(public_schema, privacy={"epsilon": 3.0, "epochs": 1}, categorical_head=16, autoregressive=4,
                      conditional=False, seed=0).fit(penguins)
    assert syn.model_.ar_in is not None
    assert set(syn.sample(100, seed=0)["species"]) <= {"Adelie", "Chinstrap", "Gentoo"}


def test_pooled_categories_whose_noisy_counts_are_zero_still_encode_the_real_rows():
    from synthvae.preprocessing import TablePreprocessor
    from synthvae.privacy.statistics import proxy_table, release
    from synthvae.validation import conform

    rows = pd.DataFrame({"c": ["A"] * 498 + ["B", "C"], "x": np.linspace(20.0, 80.0, 500).round(1)})
    schema = Schema.from_dict({"columns": [
        {"name": "c", "kind": "categorical", "categories": ["A", "B", "C", "D"], "nullable": False},
        {"name": "x", "kind": "numeric", "type": "float", "decimals": 1, "min": 0, "max": 100, "nullable": False}]})
    released = release(conform(rows, schema, "rows"), schema, 50.0, np.random.default_rng(0))
    released.counts["c"] = np.array([498.0, 0.0, 0.0, 0.0])  # B and C's noise took them to 0
    proxy = proxy_table(released, schema)
    assert (proxy["c"].value_counts() >= 1).all() and len(proxy) == 10_000
    preprocessor = TablePreprocessor(schema, max_categories=2, link_pools=False, point_masses=False)
    preprocessor.fit_transform(proxy)
    encoded = preprocessor.transform(rows)  # B and C go to the pooled slot (a DataError before)
    assert encoded.shape[0] == 500


def test_private_fit_refuses_a_delta_of_one_over_rows_or_more(penguins, public_schema):
    with pytest.raises(ParameterError, match=r"delta 0.9 is not below 1 / rows \(1 / 344"):
        Synthesizer(public_schema, privacy={"epsilon": 1.0, "delta": 0.9, "epochs": 1}).fit(penguins)


def test_private_fit_warns_of_a_loose_delta_or_epsilon_and_never_advises_bounds_read_from_the_table(penguins, public_schema,
                                                                                                   caplog):
    # delta 0.5 / rows and epsilon 1e6 passed without a word; a value beyond a public bound was
    # refused with "raise max", i.e. set the bound from one row (a user review).
    with caplog.at_level("WARNING", logger="synthvae"):
        Synthesizer(public_schema, privacy={"epsilon": 1e6, "delta": 0.5 / len(penguins), "epochs": 1}).fit(penguins)
    assert "delta 0.00145 is above 0.1 / rows (0.1 / 344" in caplog.text
    assert "epsilon 1e+06 is above 20: a guarantee that loose bounds little in practice" in caplog.text
    # The same epsilon spent by a fixed noise_multiplier (0.01 spent 33,056) was not warned of.
    caplog.clear()
    with caplog.at_level("WARNING", logger="synthvae"):
        Synthesizer(public_schema, privacy={"noise_multiplier": 0.01, "epochs": 1}, conditional=False).fit(penguins)
    assert re.search(r"noise_multiplier 0.01 spends epsilon [\d.e+]+, above 20", caplog.text), caplog.text
    narrow = public_schema.replace_column(dataclasses.replace(public_schema["body_mass_g"], max=6000))
    with pytest.raises(DataError, match=r"above the schema's max 6000.*must be public knowledge.*clip\(") as caught:
        Synthesizer(narrow, privacy={"epsilon": 3.0, "epochs": 1}).fit(penguins)
    assert "raise max" not in str(caught.value)


@pytest.mark.parametrize("settings, message", [
    ({"epsilon": 1.0, "delta": "1e-5"}, "delta must be a number"),
    ({"epsilon": 1.0, "max_grad_norm": float("inf")}, "max_grad_norm must be a positive number"),
    ({"epsilon": 1.0, "statistics_share": "0.5"}, "statistics_share must be a number"),
    ({"epsilon": 1.0, "epochs": True}, "epochs must be a positive integer"),
    ({"epsilon": 1.0, "batch_size": True}, "batch_size must be a positive integer"),
])
def test_privacy_settings_of_the_wrong_type_are_refused(settings, message):
    with pytest.raises(ParameterError, match=message):
        PrivacySpec.parse(settings)
    spec = PrivacySpec.parse({"epsilon": np.float64(2.0), "epochs": np.int64(3)})
    assert json.dumps(spec.to_dict())  # numpy numbers kept as plain ones


def test_a_budget_too_small_names_the_share_it_cannot_meet():
    with pytest.raises(ParameterError, match=r"epsilon 0.0001 is too small: the column histograms' share"):
        plan_noise(1e-4, 1e-5, 0.1, 300, statistics_share=0.25)


def test_model_file_keeps_the_guarantee_and_no_losses(private_fit, tmp_path):
    path = private_fit.save(tmp_path / "private.svae")
    loaded = Synthesizer.load(path)
    # The leak warnings are read from the rows: reported at fit time, never saved.
    assert loaded.privacy_ == {k: v for k, v in private_fit.privacy_.items() if k != "warnings"}
    assert loaded.history_ == []  # training losses are read from the rows: not saved
    pd.testing.assert_frame_equal(loaded.sample(100, seed=3), private_fit.sample(100, seed=3))


def test_private_fit_refuses_an_inferred_schema(penguins):
    with pytest.raises(ParameterError, match="needs a schema given by you"):
        Synthesizer(privacy=1.0).fit(penguins)


def test_private_fit_refuses_missing_bounds(penguins, public_schema):
    document = public_schema.to_dict()
    for column in document["columns"]:
        if column["name"] == "body_mass_g":
            del column["min"]
    with pytest.raises(ParameterError, match=r"public bounds.*'body_mass_g'"):
        Synthesizer(Schema.from_dict(document), privacy=1.0).fit(penguins)


def test_schema_read_from_the_data_is_refused_or_with_refuse_leaks_false_reported(penguins, caplog):
    schema = infer_schema(penguins)  # exact min / max of the table
    # Refused by default: followed as the docs said, an inferred schema passed on put job titles
    # one person held into 83% of a private fit's rows, with warnings only (a review).
    with pytest.raises(ParameterError, match=r"refusing a private fit: the schema holds 4 fact\(s\) that look read from "
                                             r"training data.*'bill_length_mm'.*refuse_leaks=False \(synthvae fit --allow-leaks\)"):
        Synthesizer(schema, privacy={"epsilon": 1.0}).fit(penguins)
    syn = Synthesizer(schema, privacy={"epsilon": 1.0, "epochs": 1, "refuse_leaks": False}, conditional=False).fit(penguins)
    flagged = " ".join(syn.privacy_["warnings"])
    assert "'bill_length_mm'" in flagged and "exact min and max" in flagged
    assert "bill_length_mm" in caplog.text


def test_a_private_fit_on_an_inferred_id_gives_no_real_id(penguins):
    # infer_schema set an id's start at the least real id, and a private fit (which reads no
    # row) counts synthetic ids from the start: the first synthetic id was always a real
    # customer's (3 of 2,400 rows, a review). The start is now one past the largest real id,
    # which the leak warnings name (it reveals that id).
    rng = np.random.default_rng(0)
    table = penguins.assign(customer_id=[f"CUS-{n:07d}" for n in rng.choice(10**7, len(penguins), replace=False)])
    schema = infer_schema(table)
    assert schema["customer_id"].start == max(int(v[4:]) for v in table["customer_id"]) + 1
    syn = Synthesizer(schema, privacy={"epsilon": 1.0, "epochs": 1, "refuse_leaks": False}, conditional=False).fit(table)
    assert not set(syn.sample(len(table), seed=0)["customer_id"]) & set(table["customer_id"])
    assert any("'customer_id'" in w and "one past the largest real id" in w for w in syn.privacy_["warnings"])
    low = Schema.from_dict({**schema.to_dict(), "columns": [
        {**c.to_dict(), "start": 1} if c.name == "customer_id" else c.to_dict() for c in schema]})
    assert any("real ids reach the schema's start 1" in w for w in leak_warnings(low, table))


def test_the_cli_refuses_leaks_unless_allowed(penguins, tmp_path):
    # refuse_leaks was Python's alone: a CLI fit with 9 leak warnings exited 0 (a user review);
    # then it was asked for, and an inferred schema passed on put real rare values in the rows.
    from click.testing import CliRunner

    from synthvae.cli import cli

    data, schema = tmp_path / "penguins.csv", tmp_path / "schema.json"
    penguins.to_csv(data, index=False)
    infer_schema(penguins).save(schema)  # exact bounds of the table
    fit = ["fit", str(data), "--schema", str(schema), "-o", str(tmp_path / "m.synthvae"), "--epsilon", "1", "--epochs", "1", "-q"]
    for flags in ([], ["--refuse-leaks"]):
        result = CliRunner().invoke(cli, fit + flags)
        assert result.exit_code == 1 and "refusing a private fit" in result.output and "exact min and max" in result.output
        assert "--allow-leaks" in result.output and not (tmp_path / "m.synthvae").exists()
        assert f"Edit the schema {str(schema)!r} into public knowledge" in result.output  # the file to mend
    result = CliRunner().invoke(cli, fit + ["--allow-leaks", "--no-conditional"])
    assert result.exit_code == 0 and "not covered by the guarantee" in result.output and (tmp_path / "m.synthvae").exists()
    for flag in ("--refuse-leaks", "--allow-leaks"):
        result = CliRunner().invoke(cli, ["fit", str(data), "-o", str(tmp_path / "m.synthvae"), flag])
        assert result.exit_code == 2 and "need --epsilon" in result.output
    # A value outside a private fit's categories: the advice was to list it, which the privacy
    # warning says not to do.
    document = infer_schema(penguins).to_dict()
    for column in document["columns"]:
        if column["name"] == "island":
            column["categories"] = ["Biscoe", "Dream"]
    with pytest.raises(DataError, match=r"'Torgersen'.*lists only categories known in public: map those values"):
        Synthesizer(Schema.from_dict(document), privacy={"epsilon": 1.0, "epochs": 1}).fit(penguins)


def test_one_bound_at_a_value_only_one_row_holds_is_refused_unless_round(penguins, public_schema):
    # Found by review: only both bounds at the data's extremes were reported; one bound read from
    # the table (the other widened) revealed a row's value without a word. Refused unless it is a
    # round value, as a public bound may be that 1-2 rows meet (churn's 0 minutes, seattle's
    # 2012-01-01): warned of then.
    document = public_schema.to_dict()
    lightest = float(penguins["body_mass_g"].min())
    assert (penguins["body_mass_g"] == lightest).sum() == 1
    for column in document["columns"]:
        if column["name"] == "body_mass_g":
            column["min"] = lightest
    schema = Schema.from_dict(document)
    with pytest.raises(ParameterError, match=r"'body_mass_g': the schema's min 2700.0 is the exact min of the data"):
        Synthesizer(schema, privacy={"epsilon": 1.0, "epochs": 1}, conditional=False).fit(penguins)
    syn = Synthesizer(schema, privacy={"epsilon": 1.0, "epochs": 1, "refuse_leaks": False}, conditional=False).fit(penguins)
    assert any("'body_mass_g'" in w and "exact min" in w for w in syn.privacy_["warnings"])
    # The public min 1500 that one row meets: a round value, warned of only.
    lightest_at_bound = penguins.assign(body_mass_g=penguins["body_mass_g"].where(penguins.index != 0, 1500.0))
    syn = Synthesizer(public_schema, privacy={"epsilon": 1.0, "epochs": 1}, conditional=False).fit(lightest_at_bound)
    assert any("'body_mass_g'" in w and "min 1500" in w for w in syn.privacy_["warnings"])
    # Both bounds at extremes many rows reach (a public 0-10 scale) reveal nothing.
    scaled = penguins.assign(flipper_length_mm=np.clip(penguins["flipper_length_mm"], 180, 220))
    document = public_schema.to_dict()
    for column in document["columns"]:
        if column["name"] == "flipper_length_mm":
            column["min"], column["max"] = 180, 220
    flagged = leak_warnings(Schema.from_dict(document), scaled)
    assert not any("flipper_length_mm" in w for w in flagged)
    # The public schema itself (bounds many rows reach, or none) is not reported.
    clean = Synthesizer(public_schema, privacy={"epsilon": 1.0, "epochs": 1}, conditional=False).fit(penguins)
    assert not any("exact" in w for w in clean.privacy_["warnings"])


def test_rare_categories_are_reported(penguins, public_schema):
    frame = penguins.copy()
    frame.loc[0, "island"] = "Deception"  # one row on an island of its own
    document = public_schema.to_dict()
    for column in document["columns"]:
        if column["name"] == "island":
            column["categories"] = [*column["categories"], "Deception"]
    syn = Synthesizer(Schema.from_dict(document), privacy={"epsilon": 1.0, "epochs": 1, "refuse_leaks": False}, conditional=False)
    warnings = syn.fit(frame).privacy_["warnings"]
    assert any("'island'" in w and "Deception" in w for w in warnings)


@pytest.mark.parametrize(
    "value, match",
    [(0, "epsilon must be a positive"), ({"epsilon": 1, "delta": 2}, "delta"), ({"epsilon": 1, "noise_multiplier": 1}, "exactly one"),
     ({"epsilon": 1, "color": "red"}, "unknown settings"), ("high", "must be an epsilon"),
     ({"noise_multiplier": 1, "statistics_share": 0.5}, "with noise_multiplier there is no budget")],
)
def test_bad_privacy_settings(value, match):
    with pytest.raises(ParameterError, match=match):
        PrivacySpec.parse(value)


def test_a_numpy_number_is_an_epsilon_as_documented():
    assert PrivacySpec.parse(np.int64(3)).epsilon == 3.0 and PrivacySpec.parse(np.float32(2.5)).epsilon == 2.5
    with pytest.raises(ParameterError, match="must be an epsilon"):
        PrivacySpec.parse(np.True_)


def test_private_fit_keeps_linear_categorical_logits(private_fit):
    # the categorical head is not measured under DP-SGD, so a private fit does not build it
    assert private_fit.model_.categorical_head is None and private_fit.model_.config.categorical_head == 0


def test_model_is_opacus_compatible(private_fit):
    check_compatible(private_fit.model_)  # raises on BatchNorm and other per-batch layers
    from torch import nn

    with pytest.raises(ParameterError, match="differential privacy"):
        check_compatible(nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3)))


# ------------------------------------------------------------------ privacy check
@pytest.fixture(scope="module")
def churn_split():
    from conftest import dataset_path

    frame = pd.read_csv(dataset_path("churn.csv"))
    return frame.iloc[:1500].reset_index(drop=True), frame.iloc[1500:2500].reset_index(drop=True), frame.iloc[2500:4000].reset_index(drop=True)


def test_privacy_check_fails_on_copied_rows(churn_split):
    train, holdout, _ = churn_split
    copied = train.sample(800, random_state=0)
    result = privacy_check(train, copied, holdout, sensitive=["churn"])
    failed = {c.name for c in result.failures()}
    assert not result.passed
    assert {"exact_copies", "membership_auc", "attribute_advantage[churn]"} <= failed
    assert result.checks[0].value == 1.0
    # One column's name is that column, not its letters (a user review).
    assert {c.name for c in privacy_check(train, copied, holdout, sensitive="churn").failures()} == failed
    closer = next(c for c in result.checks if c.name == "closer_to_train_share")
    assert "averaged over 1 part of 1,000 training rows (1,000 of 1,500), each as many as the holdout rows" in closer.detail


def test_copies_whose_numbers_moved_in_their_last_bits_are_copies(churn_split):
    # A float64 round trip (standardised and back) or x * (1 + 1e-12) made verbatim copies
    # "new" rows: 0.882 and 0.002 copies where every row was one (a user review).
    train, holdout, _ = churn_split
    copied = train.sample(800, random_state=0)
    minutes = copied["total_day_minutes"]
    mean, sd = minutes.mean(), minutes.std()
    moved = copied.assign(total_day_minutes=((minutes - mean) / sd) * sd + mean,
                          total_eve_minutes=copied["total_eve_minutes"] * (1 + 1e-12))
    assert not (moved["total_day_minutes"] == minutes).all() or not (moved["total_eve_minutes"] == copied["total_eve_minutes"]).all()
    # Numbers within a billionth of their column's spread are one value (a value on the edge of
    # that grid may fall either side: one of 800 here).
    assert privacy_check(train, moved, holdout).checks[0].value > 0.99
    report = evaluate(train, moved, holdout=holdout, metrics=["privacy"]).to_dict()["privacy"]
    assert report["exact_copy_rate"] > 0.99
    other = copied.assign(total_eve_minutes=copied["total_eve_minutes"] * (1 + 1e-7))
    assert privacy_check(train, other, holdout).checks[0].value < 0.05
    # Large numbers keep their own differences: float Unix times with milliseconds, rows a
    # second apart, were "copies" at 30 significant bits (18% of distinct rows; a session's review).
    rng = np.random.default_rng(0)
    log = lambda n: pd.DataFrame({"unix_time": 1.6e9 + rng.uniform(0, 86_400, n).round(3),  # noqa: E731
                                  "event": rng.choice(["click", "view", "buy"], n)})
    train, holdout, fresh = log(6000), log(2000), log(2940)
    assert privacy_check(train, fresh, holdout).checks[0].value == 0
    leaky = pd.concat([fresh, train.head(60)], ignore_index=True)
    copies = privacy_check(train, leaky, holdout).checks[0]
    assert copies.value == 0.02 and not copies.passed


def test_synthetic_labels_that_share_no_value_with_the_real_ones_are_refused_or_noted(churn_split):
    # A copy of the training rows with churn upper-cased passed every check, the attribute
    # attack "right on 0.0%" of rows; evaluate gave a TSTR of 0.5 without a word (a user review).
    train, holdout, fresh = churn_split
    upper = train.sample(800, random_state=0).assign(churn=lambda t: t["churn"].str.upper())
    with pytest.raises(DataError, match=r"synthetic data: columns share no value with those of real data: 'churn' "
                                        r"\(\['NO', 'YES'\] against \['no', 'yes'\]; they differ in capitals or spaces\)"):
        privacy_check(train, upper, holdout, sensitive=["churn"])
    notes = evaluate(train, fresh.assign(churn=fresh["churn"].map({"no": 0, "yes": 1})), holdout=holdout, target="churn")["notes"]
    assert any(note.startswith("synthetic columns share no value with the real ones: 'churn' ([0, 1] against ['no', 'yes'])")
               for note in notes), notes
    assert not any("share no value" in note for note in evaluate(train, fresh, holdout=holdout, metrics=["quality"])["notes"])


def test_privacy_check_passes_fresh_rows(churn_split):
    train, holdout, fresh = churn_split  # real rows the "generator" never saw: the ideal
    result = privacy_check(train, fresh, holdout, sensitive=["churn", "total_day_minutes"])
    assert result.passed, result.summary()
    auc = next(c for c in result.checks if c.name == "membership_auc").value
    assert abs(auc - 0.5) < 0.06


def test_evaluate_and_the_privacy_check_give_the_same_attack_numbers_for_one_seed(churn_split):
    # Each drew its own rows: one table's membership AUC read 0.547 in evaluate's report and
    # 0.529 in the privacy check gating the same release.
    from synthvae.evaluation import evaluate

    train, holdout, fresh = churn_split
    rows = pd.concat([fresh.iloc[:600], train.iloc[:200]], ignore_index=True)  # some copies: away from 0.5
    for seed in (0, 1):
        section = evaluate(train, rows, holdout=holdout, metrics=["privacy"], seed=seed).to_dict()["privacy"]
        checks = {c.name: c.value for c in privacy_check(train, rows, holdout, seed=seed).checks}
        assert section["membership_auc"] == checks["membership_auc"]
        assert section["dcr_closer_to_train_share"] == checks["closer_to_train_share"]
    assert section["membership_auc"] > 0.55


def test_the_closer_to_train_share_uses_every_training_row_not_one_draw_of_them():
    # Against one draw of as many training rows as held-out ones, the share of one table of
    # fresh rows moved from 0.48 to 0.53 over 8 evaluation seeds; averaged over the parts of
    # the training rows 0.500 to 0.512.
    from conftest import dataset_path
    from synthvae.evaluation import evaluate

    frame = pd.read_csv(dataset_path("churn.csv"))
    train, holdout, fresh = frame.iloc[:3000], frame.iloc[3000:3400], frame.iloc[3400:]
    shares = [evaluate(train, fresh, holdout=holdout, metrics=["privacy"], seed=seed).to_dict()["privacy"]["dcr_closer_to_train_share"]
              for seed in range(8)]
    assert max(shares) - min(shares) < 0.02 and abs(np.mean(shares) - 0.5) < 0.03, shares


def test_one_extreme_value_does_not_blind_the_attribute_attack(churn_split):
    # A right guess of a number lay within a tenth of the column's standard deviation: one value
    # of 1e9 made every guess right, on held-out rows too, and a table pairing each training
    # row's exact minutes with its other columns slightly moved passed (a user review).
    train, holdout, _ = churn_split
    train = train.copy()
    train.loc[0, "total_day_minutes"] = 1e9
    rng = np.random.default_rng(0)
    leaked = train.copy()
    for column in ("account_length", "total_eve_minutes", "total_night_minutes", "total_intl_minutes"):
        leaked[column] = leaked[column] * rng.uniform(0.97, 1.03, len(leaked))
    result = privacy_check(train, leaked.iloc[1:], holdout, sensitive=["total_day_minutes"])
    check = next(c for c in result.checks if c.name == "attribute_advantage[total_day_minutes]")
    assert not check.passed and check.value > 0.3, check.detail


def test_one_extreme_value_does_not_squeeze_its_column_out_of_the_distances(churn_split):
    # The distances scaled a column by its range: beside one value of 1e9, rows that differ from
    # training rows in that column alone (by a standard deviation) sat at distance ~0, as copies.
    from synthvae.evaluation import evaluate

    train, holdout, _ = churn_split
    train = train.copy()
    train.loc[0, "total_day_minutes"] = 1e9
    moved = train.iloc[1:].assign(total_day_minutes=lambda t: t["total_day_minutes"] + 55.0)
    section = evaluate(train, moved, holdout=holdout, metrics=["privacy"]).to_dict()["privacy"]
    assert section["dcr_synthetic_to_train"]["median"] > 0.05, section["dcr_synthetic_to_train"]


def test_privacy_check_catches_a_few_copies_among_good_rows(churn_split):
    train, holdout, fresh = churn_split
    leaky = pd.concat([fresh.iloc[:1400], train.iloc[:100]], ignore_index=True)
    result = privacy_check(train, leaky, holdout)
    assert [c.name for c in result.failures()] == ["exact_copies", "near_copies"]  # an exact copy is a near one too
    # The limit is the highest copy rate that would pass (it showed the holdout's collision rate).
    copies = result.checks[0]
    assert copies.value > copies.limit >= 0


def test_the_membership_attack_sees_near_copies_among_many_synthetic_rows():
    # Near-copies of a third of the training rows among 60,000 fresh synthetic rows: measured
    # to a sample of 20,000 synthetic rows, the attack saw a third of them and passed (0.535
    # for such a flights table, 0.674 to all of them: a user review).
    rng = np.random.default_rng(0)
    table = lambda n: pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])  # noqa: E731
    train, holdout = table(2000), table(2000)
    near = train.sample(700, random_state=0).assign(a=lambda t: t["a"] + 1e-3)
    synthetic = pd.concat([table(60_000), near], ignore_index=True)
    checks = {c.name: c for c in privacy_check(train, synthetic, holdout).checks}
    assert checks["exact_copies"].passed and checks["membership_auc"].value > 0.6 and not checks["membership_auc"].passed
    fresh = {c.name: c for c in privacy_check(train, table(60_700), holdout).checks}
    assert abs(fresh["membership_auc"].value - 0.5) < 0.05


def test_privacy_check_limits_and_errors(churn_split):
    train, holdout, fresh = churn_split
    # A verdict from a handful of rows is chance (a 1-row holdout scored membership AUC 1.0, FAIL).
    with pytest.raises(Exception, match=r"at least 200 training, 200 holdout and 200 synthetic rows \(holdout data 150 rows\)"):
        privacy_check(train, fresh, holdout.iloc[:150])
    # So from a handful of synthetic rows: five fresh real rows failed the closer-to-train share
    # one time in three.
    with pytest.raises(Exception, match=r"\(synthetic data 20 rows\).*check at least 200 synthetic rows"):
        privacy_check(train, fresh.iloc[:20], holdout)
    strict = PrivacyLimits(max_membership_auc=0.3)
    assert not privacy_check(train, fresh, holdout, limits=strict).passed
    with pytest.raises(Exception, match="sensitive columns \\['salary'\\]"):
        privacy_check(train, fresh, holdout, sensitive=["salary"])


def test_privacy_check_cli_gates_a_pipeline(churn_split, tmp_path):
    train, holdout, fresh = churn_split
    paths = {}
    for name, frame in (("train", train), ("holdout", holdout), ("fresh", fresh), ("copy", train.iloc[:500])):
        paths[name] = tmp_path / f"{name}.parquet"
        frame.to_parquet(paths[name])

    def run(synthetic: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "synthvae", "privacy-check", str(paths["train"]), str(paths[synthetic]),
             "--holdout", str(paths["holdout"]), "--sensitive", "churn", "--json", str(tmp_path / f"{synthetic}.json")],
            capture_output=True, text=True,
        )

    good, bad = run("fresh"), run("copy")
    assert good.returncode == 0, good.stdout + good.stderr
    assert bad.returncode == 3 and "FAIL" in bad.stdout
    assert json.loads((tmp_path / "copy.json").read_text())["passed"] is False
    missing = subprocess.run([sys.executable, "-m", "synthvae", "privacy-check", str(paths["train"]), str(paths["fresh"])],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "--holdout" in missing.stderr


def test_fit_cli_with_epsilon(penguins, public_schema, tmp_path):
    data, schema = tmp_path / "penguins.csv", tmp_path / "schema.json"
    penguins.to_csv(data, index=False)
    public_schema.save(schema)
    out = subprocess.run(
        [sys.executable, "-m", "synthvae", "fit", str(data), "--schema", str(schema), "-o", str(tmp_path / "m.svae"),
         "--epsilon", "2", "--epochs", "2", "-q"],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "differential privacy: epsilon" in out.stderr and "one row replaced, the count public: epsilon" in out.stderr
    assert Synthesizer.load(tmp_path / "m.svae").privacy_["epsilon_budget"] == 2.0
    out = subprocess.run(
        [sys.executable, "-m", "synthvae", "fit", str(data), "--schema", str(schema), "-o", str(tmp_path / "r.svae"),
         "--epsilon", "2", "--epochs", "2", "--adjacency", "replace", "-q"],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "neighbours one row replaced (the row count public)" in out.stderr
    record = Synthesizer.load(tmp_path / "r.svae").privacy_
    assert record["adjacency"] == "replace" and record["epsilon"] <= 2.0
    # The histograms' share of the budget (Python's statistics_share) had no flag.
    out = subprocess.run(
        [sys.executable, "-m", "synthvae", "fit", str(data), "--schema", str(schema), "-o", str(tmp_path / "s.svae"),
         "--epsilon", "2", "--epochs", "2", "--statistics-share", "0.5", "-q"],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr
    half = Synthesizer.load(tmp_path / "s.svae").privacy_
    quarter = Synthesizer.load(tmp_path / "m.svae").privacy_
    assert half["statistics_noise_multiplier"] < quarter["statistics_noise_multiplier"]
    assert half["sgd_noise_multiplier"] > quarter["sgd_noise_multiplier"] and half["epsilon"] <= 2.0
    out = subprocess.run([sys.executable, "-m", "synthvae", "fit", str(data), "-o", str(tmp_path / "x.svae"),
                          "--statistics-share", "0.5"], capture_output=True, text=True)
    assert out.returncode == 2 and "--statistics-share and --refuse-leaks/--allow-leaks set a private fit: they need --epsilon" in out.stderr


def test_fit_cli_with_noise_multiplier(penguins, public_schema, tmp_path):
    # A fixed noise instead of a budget was Python's privacy={"noise_multiplier": ...} only.
    data, schema = tmp_path / "penguins.csv", tmp_path / "schema.json"
    penguins.to_csv(data, index=False)
    public_schema.save(schema)
    fit = [sys.executable, "-m", "synthvae", "fit", str(data), "--schema", str(schema), "--epochs", "2", "-q"]
    out = subprocess.run(fit + ["-o", str(tmp_path / "m.svae"), "--noise-multiplier", "1"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    record = Synthesizer.load(tmp_path / "m.svae").privacy_
    python = Synthesizer(public_schema, privacy={"noise_multiplier": 1.0, "epochs": 2}, conditional=False, seed=0).fit(penguins).privacy_
    assert record["epsilon_budget"] is None and record["sgd_noise_multiplier"] == 1.0
    assert record["statistics_noise_multiplier"] == 10.0 and record["epsilon"] == pytest.approx(python["epsilon"])
    assert f"differential privacy: epsilon {record['epsilon']:.3f} spent (no budget: DP-SGD's noise fixed at 1)" in out.stderr
    assert "(--adjacency replace reports that)" in out.stderr
    for flags, message in [(["--epsilon", "2"], "give one of them"),
                           (["--statistics-share", "0.5"], "with --noise-multiplier there is no budget"),
                           (["--target", "species"], "--target with --noise-multiplier")]:
        out = subprocess.run(fit + ["-o", str(tmp_path / "x.svae"), "--noise-multiplier", "1"] + flags, capture_output=True, text=True)
        assert out.returncode == 2 and message in out.stderr, out.stderr
    assert not (tmp_path / "x.svae").exists()


# ------------------------------------------------------------ ids and personal columns
@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    """A customer table with direct identifiers (written by Faker in another locale and seed)."""
    from faker import Faker

    fake = Faker("en_GB")
    fake.seed_instance(11)
    rng = np.random.default_rng(3)
    n = 240
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(100, 100 + n)],
            "account": np.arange(5000, 5000 + n),
            "name": [fake.name() for _ in range(n)],
            "email": [fake.free_email() for _ in range(n)],
            "phone": [fake.phone_number() for _ in range(n)],
            "notes": [fake.paragraph(nb_sentences=2) for _ in range(n)],
            "age": rng.integers(18, 90, n),
            "plan": rng.choice(["basic", "plus", "pro"], n),
        }
    )


def test_infer_schema_flags_personal_columns(people):
    schema = infer_schema(people)
    kinds = {c.name: (c.kind.value, c.personal.value if c.personal else None) for c in schema}
    assert kinds["name"] == ("personal", "name")
    assert kinds["email"] == ("personal", "email")
    assert kinds["phone"] == ("personal", "phone")
    assert kinds["notes"] == ("personal", "text")
    assert kinds["customer_id"][0] == "id" and kinds["account"][0] == "id"
    assert kinds["age"][0] == "numeric" and kinds["plan"][0] == "categorical"


def test_ids_and_personal_columns_never_hold_a_real_value(people):
    schema = infer_schema(people)
    syn = Synthesizer(schema, epochs=2, conditional=False, seed=0).fit(people)
    fake = syn.sample(1000, seed=4)
    for column in ("customer_id", "account", "name", "email", "phone", "notes"):
        assert not set(fake[column].astype(str)) & set(people[column].astype(str)), column
    assert fake["customer_id"].is_unique and fake["account"].is_unique
    assert fake["customer_id"].str.fullmatch(r"C\d{5}").all()  # the real format
    assert fake["email"].str.fullmatch(r"[^@\s]+@example\.(com|net|org)").all()  # reserved domains
    assert fake["name"].str.fullmatch(r"\S+( \S+)+").all()
    # Same seed, same generated values, but for the ids: each sample takes the next ones, so
    # that samples of several calls (one per condition) share none, until reset_sampling().
    first, second = syn.sample(50, seed=9), syn.sample(50, seed=9)
    assert not set(first["customer_id"]) & set(second["customer_id"]) and not set(first["account"]) & set(second["account"])
    pd.testing.assert_frame_equal(first.drop(columns=["customer_id", "account"]), second.drop(columns=["customer_id", "account"]))
    pd.testing.assert_frame_equal(syn.reset_sampling().sample(1000, seed=4), fake)


def test_personal_columns_can_be_dropped_and_are_not_conditioned(people, tmp_path):
    document = infer_schema(people).to_dict()
    for column in document["columns"]:
        if column["name"] == "notes":
            column["strategy"] = "drop"
        if column["name"] == "name":
            column["locale"] = "de_DE"
    schema = Schema.from_dict(document)
    syn = Synthesizer(schema, epochs=2, seed=0).fit(people)
    fake = syn.sample(20, seed=1)
    assert "notes" not in fake.columns and "name" in fake.columns
    loaded = Synthesizer.load(syn.save(tmp_path / "people.svae"))
    pd.testing.assert_frame_equal(loaded.sample(20, seed=1), fake)
    with pytest.raises(ParameterError, match="personal columns are regenerated"):
        syn.sample(5, conditions={"name": "Anna"})
    document["columns"][2]["locale"] = "xx_XX"
    with pytest.raises(SchemaError, match="unknown locale 'xx_XX'"):  # at load: schema check passed it
        Schema.from_dict(document)
    # A locale Faker has that makes no phone numbers: fit passed, sampling raised AttributeError.
    document["columns"][2]["locale"] = "en_GB"
    document["columns"][4]["locale"] = "en_PH"
    with pytest.raises(ParameterError, match="'phone': Faker's locale 'en_PH' makes no phone values"):
        Synthesizer(Schema.from_dict(document), epochs=1).fit(people)


def test_nullable_ids_and_personal_columns_keep_their_share_of_nulls(people, tmp_path):
    # Review: a phone column 44% empty and a nullable id column came back filled in every row.
    holed = people.copy()
    rng = np.random.default_rng(0)
    holed["phone"] = holed["phone"].mask(rng.random(len(holed)) < 0.4)
    holed["customer_id"] = holed["customer_id"].mask(rng.random(len(holed)) < 0.25)
    schema = infer_schema(holed)
    assert schema["phone"].nullable and schema["customer_id"].kind.value == "id" and schema["customer_id"].nullable
    syn = Synthesizer(schema, epochs=2, conditional=False, seed=0).fit(holed)
    fake = syn.sample(4000, seed=1, batch_size=700)
    for column, share in (("phone", holed["phone"].isna().mean()), ("customer_id", holed["customer_id"].isna().mean())):
        assert abs(fake[column].isna().mean() - share) < 0.03, column
    assert fake["customer_id"].dropna().is_unique and fake["email"].notna().all()
    loaded = Synthesizer.load(syn.save(tmp_path / "m.synthvae"))
    pd.testing.assert_frame_equal(loaded.sample(300, seed=2), syn.reset_sampling().sample(300, seed=2))
    # augment renumbers new ids above the given rows' (prefix + 99999 here): its null rows stay null.
    prefix = schema["customer_id"].prefix
    given = pd.concat([holed, holed.head(1).assign(customer_id=f"{prefix}99999")], ignore_index=True)
    augmented = syn.augment(given, rows=2000, seed=0)
    added = augmented[augmented["synthetic"]]["customer_id"]
    assert abs(added.isna().mean() - holed["customer_id"].isna().mean()) < 0.04
    assert added.dropna().str.slice(len(prefix)).astype(int).min() > 99999


def test_personal_values_of_rows_a_check_keeps_keep_their_order_types_and_nulls(people, tmp_path):
    # Rows a condition on a rebuilt column rejects no longer get personal values (those are made
    # for the kept rows only), and the kept rows still hold them in the schema's order and
    # dtypes, at the column's share of nulls; a rule that reads a personal column still sees it.
    holed = people.assign(phone=people["phone"].mask(np.random.default_rng(0).random(len(people)) < 0.4),
                          limit=people["age"] + np.random.default_rng(1).integers(0, 40, len(people)))
    document = infer_schema(holed).to_dict()
    document["constraints"] = [{"kind": "inequality", "low": "age", "high": "limit"},
                               {"kind": "regex", "column": "email", "pattern": r"[^@]+@[^@]+"}]
    syn = Synthesizer(Schema.from_dict(document), epochs=3, seed=0).fit(holed)
    plain = syn.sample(50, seed=1)
    checked = syn.sample(3000, conditions={"limit": {">=": 80}}, seed=1, batch_size=1000)
    assert list(checked.columns) == list(plain.columns) == list(holed.columns) and (checked.dtypes == plain.dtypes).all()
    assert (plain.dtypes == syn.sample(50, seed=1, conditions={"plan": "pro"}).dtypes).all()
    assert (checked["limit"] >= 80).all() and (checked["limit"] >= checked["age"]).all()
    assert checked[["name", "email", "notes"]].notna().all().all() and checked["email"].str.contains("@").all()
    assert abs(checked["phone"].isna().mean() - 0.4) < 0.05
    assert checked["name"].nunique() > 2000  # a value a row, not a few repeated
    loaded = Synthesizer.load(syn.save(tmp_path / "m.synthvae"))
    pd.testing.assert_frame_equal(loaded.sample(300, conditions={"limit": {">=": 80}}, seed=2),
                                  syn.reset_sampling().sample(300, conditions={"limit": {">=": 80}}, seed=2))


def _people_schema(people: pd.DataFrame, account_start: int) -> Schema:
    """The inferred schema with public age bounds, the given start of the account ids and a
    public one of the customer ids."""
    document = infer_schema(people).to_dict()
    for column in document["columns"]:
        if column["name"] == "age":
            column["min"], column["max"] = 0, 120
        if column["name"] == "account":
            column["start"] = account_start
        if column["name"] == "customer_id":
            column["start"] = 90_000  # of our own, above the real ids
    return Schema.from_dict(document)


def test_private_fit_with_ids_warns_when_ids_could_collide(people):
    # Real ids 5000.. lie above a start of 0: generated ones could meet them.
    syn = Synthesizer(_people_schema(people, 0), privacy={"epsilon": 1.0, "epochs": 1, "refuse_leaks": False}, conditional=False)
    warnings = syn.fit(people).privacy_["warnings"]
    assert any("'account'" in w and "set start above" in w for w in warnings)


def test_report_shows_the_guarantee(private_fit, penguins, tmp_path):
    import synthvae

    fake = private_fit.sample(300, seed=0)
    report = synthvae.evaluate(penguins, fake, metrics=["quality"], guarantee=private_fit.privacy_)
    assert report["guarantee"]["epsilon"] == private_fit.privacy_["epsilon"]
    assert "differential privacy: epsilon" in report.summary()
    # What the headline covers, as fit says it (the report left the row count's caveat out).
    assert "not the row count, which the file records; one row replaced, the count public: epsilon" in report.summary()
    assert "Differential privacy: trained at epsilon" in report.to_html()
    assert "one row replaced, the count public: epsilon" in report.to_html()  # the text summary's, not in the page
    # The report reads the real rows (their exact ranges): shared beside the epsilon, it was
    # taken as covered too (a review).
    assert "covers the model and the rows sampled from it, not this report" in report.summary()
    assert synthvae.evaluate(penguins, fake, metrics=["quality"])["guarantee"] is None
    assert "not this report" not in synthvae.evaluate(penguins, fake, metrics=["quality"]).summary()
    # A category one real row holds, in synthetic rows: a private fit was told to refit with
    # min_category_rows, which it judges on noisy counts; its schema is what to mend.
    real = penguins.assign(island=penguins["island"].astype(object).where(penguins.index != 0, "Deception"))
    odd = fake.assign(island=fake["island"].astype(object).where(fake.index >= 5, "Deception"))
    for guarantee, advice in ((private_fit.privacy_, "the model is differentially private"), (None, "min_category_rows=3")):
        notes = synthvae.evaluate(real, odd, metrics=["privacy"], guarantee=guarantee)["notes"]
        said = [n for n in notes if "'island'" in n and "one training row holds" in n]
        assert len(said) == 1 and advice in said[0], notes
    # From the command line, the model file carries it into the report.
    paths = [tmp_path / "real.csv", tmp_path / "fake.csv", tmp_path / "m.svae", tmp_path / "r.json"]
    penguins.to_csv(paths[0], index=False)
    fake.to_csv(paths[1], index=False)
    private_fit.save(paths[2])
    out = subprocess.run([sys.executable, "-m", "synthvae", "evaluate", str(paths[0]), str(paths[1]), "--metrics", "quality",
                          "--model", str(paths[2]), "--json", str(paths[3])], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(paths[3].read_text())["guarantee"]["delta"] == private_fit.privacy_["delta"]


def test_histogram_release_keeps_point_masses_at_the_bounds():
    from synthvae.privacy.statistics import proxy_table, release
    from synthvae.validation import conform

    rng = np.random.default_rng(0)
    n = 5000
    rain = np.where(rng.random(n) < 0.6, 0.0, np.round(rng.exponential(5.0, n), 1)).clip(0, 60)
    frame = pd.DataFrame({"rain": rain})
    schema = Schema.from_dict({"columns": [{"name": "rain", "kind": "numeric", "type": "float", "decimals": 1,
                                            "min": 0, "max": 100}]})
    released = release(frame, schema, noise_multiplier=2.0, rng=np.random.default_rng(1))
    proxy = proxy_table(released, schema)["rain"]
    assert (proxy == 0).mean() == pytest.approx(0.6, abs=0.03)  # the zeros stay zeros
    # Empty bins of the wide public range do not turn their clipped noise into a flat floor.
    assert (proxy > 60).mean() < 0.01
    assert proxy.median() == 0 and proxy.mean() == pytest.approx(rain.mean(), rel=0.25)


def test_codec_calibration_maps_decoded_values_onto_its_distribution():
    from scipy.stats import ks_2samp

    from synthvae.preprocessing.codecs import NumericCodec
    from synthvae.schema import Column, ColumnKind

    rng = np.random.default_rng(0)
    values = pd.Series(rng.gamma(2.0, 3.0, 4000))
    codec = NumericCodec(Column("x", ColumnKind.NUMERIC, type="float", min=0.0, max=100.0)).fit(values)
    decoded = rng.normal(0.8, 0.4, (4000, 1))  # an underfitted decoder: shifted and too narrow
    before = codec.reverse_transform(decoded, rng)
    codec.calibrate(decoded)
    after = codec.reverse_transform(decoded, rng)
    assert ks_2samp(before, values, method="asymp").statistic > 0.3
    assert ks_2samp(after, values, method="asymp").statistic < 0.05
    restored = NumericCodec.from_state(codec.column, codec.get_state())
    np.testing.assert_array_equal(restored.reverse_transform(decoded, rng), after)


def test_private_ids_count_from_the_schema_start(people):
    # A start above every real id: nothing is read from the rows.
    syn = Synthesizer(_people_schema(people, 900_000), privacy={"epsilon": 1.0, "epochs": 1}, conditional=False, seed=0)
    fake = syn.fit(people).sample(30, seed=0)
    assert fake["account"].tolist() == list(range(900_000, 900_030))
    assert not any("'account'" in w for w in syn.privacy_["warnings"])


def test_infer_schema_cli_names_the_personal_columns(people, tmp_path):
    data = tmp_path / "people.csv"
    people.to_csv(data, index=False)
    out = subprocess.run([sys.executable, "-m", "synthvae", "infer-schema", str(data), "-o", str(tmp_path / "s.json")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "personal data suspected in 4 columns: name (name), email (email), phone (phone), notes (text)" in out.stderr
    assert json.loads((tmp_path / "s.json").read_text())["columns"][2]["kind"] == "personal"


def test_importing_the_private_training_leaves_the_root_logger_alone():
    # Importing opacus ran logging.basicConfig: after a private fit a user's own basicConfig did
    # nothing (their info lines lost, warnings in Opacus' format).
    import subprocess
    import sys

    code = ("import logging; import synthvae.privacy.dpsgd, synthvae.privacy.accounting; "
            "assert logging.root.handlers == [] and logging.root.level == logging.WARNING, logging.root.handlers")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_privacy_check_refuses_a_holdout_cut_from_the_training_rows(churn_split):
    train, holdout, _ = churn_split
    # A verbatim copy passed every check when the holdout was cut from the training rows.
    with pytest.raises(Exception, match=r"holdout data: 500 of 500 rows \(100.0%\) equal a row that occurs once in real data.*never saw"):
        privacy_check(train, train.copy(), train.iloc[:500])
    # Also where most rows repeat one common row (all rows: any holdout matched at its share).
    common = pd.concat([train.iloc[[0] * 1100], train.iloc[:900]], ignore_index=True)
    with pytest.raises(Exception, match=r"holdout data: \d+ of 400 rows .* equal a row that occurs once"):
        privacy_check(common, common.copy(), common.iloc[1100:1500])
    fresh = pd.concat([holdout.iloc[[0] * 550], holdout.iloc[:450]], ignore_index=True)
    privacy_check(common, holdout, fresh)  # rows it never saw, as often the common row: no refusal


def test_privacy_check_fails_below_chance_when_real_and_holdout_are_swapped(churn_split):
    train, holdout, _ = churn_split
    result = privacy_check(holdout, train.copy(), train)  # the copy of `train`, the tables the wrong way round
    failed = {c.name: c for c in result.failures()}
    assert {"closer_to_train_share", "membership_auc"} <= set(failed)
    assert failed["membership_auc"].value < 0.4 and "wrong way round" in failed["membership_auc"].detail


def test_privacy_check_fails_on_real_personal_values_and_passes_made_up_ones(churn_split):
    train, holdout, fresh = churn_split

    def with_emails(frame, start, domain):
        return frame.assign(email=[f"person{start + i}@{domain}" for i in range(len(frame))])

    train, holdout = with_emails(train, 0, "mail.org"), with_emails(holdout, 10_000, "mail.org")
    leaky = with_emails(fresh, 0, "mail.org")  # the training people's addresses, other rows
    made_up = with_emails(fresh, 50_000, "example.com")
    failed = {c.name: c for c in privacy_check(train, leaky, holdout).failures()}
    assert list(failed) == ["personal_values[email]"]
    assert failed["personal_values[email]"].value == 1.0 and "person0@" not in failed["personal_values[email]"].detail
    result = privacy_check(train, made_up, holdout)
    assert result.passed, result.summary()
    assert any(c.name == "personal_values[email]" for c in result.checks)


def test_privacy_check_finds_real_phone_numbers_whatever_their_type_or_spelling(churn_split):
    # A phone column with blanks reads as floats (4158293709.0): the real numbers copied as text
    # into the synthetic table matched none, nor did the same numbers written with dashes.
    train, holdout, fresh = churn_split
    rng = np.random.default_rng(0)
    numbers = 2_000_000_000 + rng.choice(10**6, 4000, replace=False) * 7919  # ten digits, distinct
    phones = pd.Series(numbers[:1500], dtype="float64").mask(rng.random(1500) < 0.05)
    train, holdout = train.assign(phone=phones), holdout.assign(phone=pd.Series(numbers[2000:3000], dtype="float64"))
    schema = infer_schema(train.assign(phone=[f"({n // 10**7}) {n // 10**4 % 1000:03d}-{n % 10**4:04d}" for n in numbers[:1500]]))
    assert schema["phone"].kind is ColumnKind.PERSONAL
    copied = [str(n) for n in numbers[:300]] + [f"{n // 10**7}-{n // 10**4 % 1000:03d}-{n % 10**4:04d}" for n in numbers[300:600]]
    made_up = [f"555-01{i:02d}" for i in range(600)]
    # With a country or trunk prefix and an extension, as Faker writes them (a privacy review:
    # +1 415-449-6846 for the real 415-449-6846 passed).
    prefixed = [f"+1 {n}" for n in numbers[:300]] + [f"001-{n // 10**7}-{n // 10**4 % 1000:03d}-{n % 10**4:04d}x{n % 97}"
                                                      for n in numbers[300:600]]
    for phones_out, leaked in ((copied, True), (made_up, False), (prefixed, True)):
        result = privacy_check(train, fresh.iloc[:600].assign(phone=phones_out), holdout, schema=schema)
        check = next(c for c in result.checks if c.name == "personal_values[phone]")
        assert (not check.passed) == leaked and (check.value > 0.9 if leaked else check.value == 0), check  # 5% of real ones null


def test_privacy_check_fails_on_rows_copied_with_an_amount_moved_by_a_cent(churn_split):
    # 1% of the synthetic rows copies of training rows with one charge moved by a cent: no exact
    # copy, and every check passed (a privacy review).
    train, holdout, fresh = churn_split
    moved = train.iloc[:15].assign(total_day_charge=lambda f: f["total_day_charge"] + 0.01)
    result = privacy_check(train, pd.concat([fresh.iloc[15:], moved], ignore_index=True), holdout)
    checks = {c.name: c for c in result.checks}
    assert checks["exact_copies"].passed and not checks["near_copies"].passed, checks["near_copies"]
    assert checks["near_copies"].value == 15 / 1500
    assert privacy_check(train, fresh, holdout).passed  # rows of the same table, none copied


def test_evaluate_reports_and_notes_rows_copied_with_an_amount_moved_by_a_cent(churn_split):
    # evaluate's privacy section showed an exact copy rate of 0 for them and said nothing more;
    # only privacy_check counted near copies.
    train, holdout, fresh = churn_split
    moved = train.iloc[:15].assign(total_day_charge=lambda f: f["total_day_charge"] + 0.01)
    metrics = ["privacy"]
    report = evaluate(train, pd.concat([fresh.iloc[15:], moved], ignore_index=True), holdout=holdout, metrics=metrics)
    privacy = report.to_dict()["privacy"]
    assert privacy["exact_copy_rate"] == 0 and privacy["near_copy_rate"] == 15 / 1500
    assert privacy["holdout_near_copy_rate"] == 0 and report.to_dict()["ceiling"]["privacy"]["near_copy_rate"] == 0
    notes = [n for n in report.to_dict()["notes"] if "training row but for numbers" in n]
    assert len(notes) == 1 and notes[0].startswith("15 of 1,500 synthetic rows"), report.to_dict()["notes"]
    assert "near copy rate" in report.summary() and "Near copy rate" in report.to_html()
    # The real rows subsampled (1,000 of 1,500), the 1,000 synthetic ones not: near copies are
    # still looked up among all training rows, a third of their sources left out of the sample.
    sub = evaluate(train, pd.concat([fresh.iloc[15:1000], moved], ignore_index=True), holdout=holdout, metrics=metrics,
                   max_rows=1000).to_dict()
    assert sub["tables"]["real"]["subsampled"] and not sub["tables"]["synthetic"]["subsampled"]
    assert sub["privacy"]["near_copy_rate"] == 15 / 1000
    clean = evaluate(train, fresh, holdout=holdout, metrics=metrics).to_dict()
    assert clean["privacy"]["near_copy_rate"] == 0
    assert not [n for n in clean["notes"] if "training row but for numbers" in n]


def test_privacy_check_notes_categories_one_person_holds_and_a_holdout_grouped_otherwise():
    # Job titles one training row holds filled half the synthetic rows and the check said only
    # "passed"; a holdout whose titles were not grouped as the training rows' failed the
    # distance checks with no word of why (a privacy review). Notes, no verdict: rows drawn
    # from the same table share its rare titles by chance too.
    from conftest import dataset_path

    loans = pd.read_csv(dataset_path("loans.csv"), usecols=["emp_title", "state", "annual_income", "loan_amount", "grade"])
    train, holdout, fresh = loans.iloc[:1200], loans.iloc[1200:1800], loans.iloc[1800:3000]
    result = privacy_check(train, fresh, holdout)
    notes = {note.split(":")[0]: note for note in result.settings["notes"]}
    assert "hold a category only one training row holds (684 such categories)" in notes["column 'emp_title'"]
    assert "min_category_rows=3" in result.summary()
    top = train["emp_title"].value_counts().index[:20]
    grouped = lambda frame: frame.assign(emp_title=frame["emp_title"].where(frame["emp_title"].isin(top), "other"))  # noqa: E731
    result = privacy_check(grouped(train), grouped(fresh), holdout)
    assert [n for n in result.settings["notes"] if "rows of holdout data" in n and "values no training row holds" in n]
    assert not [n for n in privacy_check(grouped(train), grouped(fresh), grouped(holdout)).settings["notes"]
                if "values no training row holds" in n]


def test_privacy_check_refuses_synthetic_columns_it_cannot_check_and_names_absent_personal_ones(churn_split):
    train, holdout, fresh = churn_split
    emails = lambda frame, start: frame.assign(email=[f"person{start + i}@mail.org" for i in range(len(frame))])  # noqa: E731
    train, holdout = emails(train, 0), emails(holdout, 10_000)
    # The training people's e-mails in a column named otherwise passed every check.
    with pytest.raises(DataError, match=r"columns \['Email'\] are not in the schema of real data.*drop them"):
        privacy_check(train, emails(fresh, 0).rename(columns={"email": "Email"}), holdout)
    # A DataFrame's index written with the table is named as such (a user review).
    with pytest.raises(DataError, match=r"\['index'\] looks like a DataFrame's index written to a file"):
        privacy_check(train, fresh.reset_index(), holdout)
    result = privacy_check(train, fresh, holdout)  # the column left out: nothing of it shared
    assert result.settings["personal_columns_absent"] == ["email"]
    assert "not in the synthetic table, so not checked: email" in result.summary()


def test_privacy_check_fails_on_copied_names_of_a_column_inferred_as_an_id(churn_split):
    train, holdout, fresh = churn_split
    rng = np.random.default_rng(0)
    names = [f"{first} {last}" for first in ("Ann", "Bo", "Cy", "Di", "Ed", "Flo") for last in map(str, rng.permutation(10**6)[:600])]
    names = [name.replace(name.split()[1], "".join(chr(97 + int(d)) for d in name.split()[1])) for name in names]
    train, holdout = train.assign(holder=names[:1500]), holdout.assign(holder=names[2000:3000])
    result = privacy_check(train, fresh.assign(holder=names[:1500]), holdout)
    assert [c.name for c in result.failures()] == ["id_values[holder]"]
    assert privacy_check(train, fresh.assign(holder=[f"holder_{i}" for i in range(1500)]), holdout).passed
    # Ids that count are another generator's too: "ORD-00001" ... counting from 1 is no leak.
    orders = [f"ORD-{i:05d}" for i in range(1, 4001)]
    result = privacy_check(train.assign(order=orders[:1500]), fresh.assign(order=orders[:1500]), holdout.assign(order=orders[2000:3000]))
    assert result.passed and "order" in result.settings["id_columns_not_checked"]
    assert "not checked value by value: order" in result.summary()
    # A sample of a counter's rows spreads wide: beside synthetic ids that count it is no leak
    # (127 of 1,000 shared by chance FAILED; a review).
    sampled = [f"C-{n}" for n in np.sort(np.random.default_rng(2).choice(np.arange(1, 30_001), 2500, replace=False))]
    result = privacy_check(train.assign(customer=sampled[:1500]), fresh.assign(customer=[f"C-{n}" for n in range(1, 1501)]),
                           holdout.assign(customer=sampled[1500:]))
    assert result.passed and "customer" in result.settings["id_columns_not_checked"]
    # Record numbers spread far wider than a count are no counter: the real ones in a synthetic
    # table passed, and the summary did not name the column (a user review).
    records = [f"PT-{n}" for n in np.random.default_rng(1).choice(np.arange(100_000, 1_000_000), 2500, replace=False)]
    result = privacy_check(train.assign(patient=records[:1500]), fresh.assign(patient=records[:1500]),
                           holdout.assign(patient=records[1500:]))
    assert [c.name for c in result.failures()] == ["id_values[patient]"]
    assert privacy_check(train.assign(patient=records[:1500]), fresh.assign(patient=[f"PT-{n}" for n in range(1, 1501)]),
                         holdout.assign(patient=records[1500:])).passed


def test_privacy_check_personal_values_are_judged_against_the_holdouts_sample_not_its_exact_rate(churn_split):
    # First names of one population in all three tables: no leak. A binomial test at the holdout's
    # rate failed 10-38% of such tables at a nominal 1%.
    train, holdout, fresh = churn_split
    failures = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        pool = np.array([f"name{i}" for i in range(300)])
        weights = 1.0 / np.arange(1, 301)
        draw = lambda n: rng.choice(pool, n, p=weights / weights.sum())  # noqa: E731
        hold = holdout.iloc[:250].assign(first_name=draw(250))
        result = privacy_check(train.assign(first_name=draw(1500)), fresh.assign(first_name=draw(1500)), hold,
                               schema=infer_schema(train.assign(first_name=draw(1500))))
        failures += not result.passed
    assert failures <= 1


# ------------------------------------------------------------------ rare categories
RARE_ROWS = 5


@pytest.fixture(scope="module")
def loans_small():
    from conftest import dataset_path

    frame = pd.read_csv(dataset_path("loans.csv"), usecols=["emp_title", "state", "grade", "annual_income", "homeownership"])
    return frame.iloc[:2000].reset_index(drop=True)


def _rare(frame: pd.DataFrame, column: str, k: int = RARE_ROWS) -> set:
    counts = frame[column].value_counts()
    return set(counts[counts < k].index)


@pytest.fixture(scope="module")
def suppressing_fit(loans_small):
    schema = infer_schema(loans_small.assign(emp_title=loans_small["emp_title"].astype(object)), warn=False).to_dict()
    for column in schema["columns"]:
        if column["name"] == "emp_title":  # inferred as categorical: 39% of rows hold a title of their own
            assert column["kind"] == "categorical"
    return Synthesizer(Schema.from_dict(schema), epochs=8, hidden_dims=(64, 64), latent_dim=8, min_category_rows=RARE_ROWS,
                       seed=0).fit(loans_small)


def test_categories_held_by_few_rows_are_never_generated_nor_listed(loans_small, suppressing_fit, tmp_path):
    rows = suppressing_fit.sample(4000, seed=1)
    for column in ("emp_title", "state"):
        rare = _rare(loans_small, column)
        assert rare, column
        assert not rows[column].isin(rare).any(), column
        assert not rare & set(rows[column].dtype.categories), column
    # The written file's dictionary lists no suppressed title either.
    path = tmp_path / "rows.parquet"
    suppressing_fit.sample_to(path, 4000, seed=1)
    import pyarrow.parquet as pq

    written = pq.read_table(path).column("emp_title").combine_chunks()
    assert not _rare(loans_small, "emp_title") & set(written.dictionary.to_pylist())
    # Without the option the same table's rare titles do reach the rows (what it prevents).
    plain = Synthesizer(suppressing_fit.schema_, epochs=8, hidden_dims=(64, 64), latent_dim=8, seed=0).fit(loans_small)
    assert plain.sample(4000, seed=1)["emp_title"].isin(_rare(loans_small, "emp_title")).mean() > 0.05


def test_suppressed_rows_take_kept_titles_in_their_shares_and_keep_their_nulls(loans_small, suppressing_fit):
    rows = suppressing_fit.sample(20_000, seed=2)
    real = loans_small["emp_title"].astype(object)
    sampled = rows["emp_title"].astype(object)
    # 52% of rows hold a title fewer than 5 rows hold: they take kept titles, never null (they
    # held a value), so the null share stays the real one and the kept titles keep their ratios.
    assert abs(sampled.isna().mean() - real.isna().mean()) < 0.03
    kept = real[~real.isin(_rare(loans_small, "emp_title"))].dropna()
    real_shares = kept.value_counts(normalize=True)
    sampled_shares = sampled.dropna().value_counts(normalize=True)
    top = real_shares.index[:5]
    assert np.abs(sampled_shares.reindex(top).fillna(0).to_numpy() - real_shares[top].to_numpy()).max() < 0.03
    assert sampled_shares.max() < real_shares.max() + 0.03  # no title absorbs the suppressed rows


def test_a_row_that_held_a_suppressed_category_takes_one_the_rest_of_it_makes_likely():
    # c is "lo" below 0 and, above, "hi" or one of a thousand titles two rows hold each. The
    # decoded block is a one-hot, so the codec's second choice was a draw from the marginal:
    # 27.6% of rows above 0.5 took "lo", which no real one holds.
    rng = np.random.default_rng(0)
    x = rng.normal(size=3000)
    titles = np.array([f"title {i}" for i in range(1500)])
    table = pd.DataFrame({"x": x, "c": np.where(x < 0, "lo", np.where(rng.random(3000) < 0.5, "hi", titles[rng.integers(0, 1500, 3000)]))})
    syn = Synthesizer(epochs=30, autoregressive=0, min_category_rows=RARE_ROWS, seed=0).fit(table)
    rows = syn.sample(6000, seed=1)
    assert not rows["c"].isin(_rare(table, "c")).any()
    assert (rows.loc[rows["x"] > 0.5, "c"] == "lo").mean() < 0.03
    assert (rows.loc[rows["x"] < -0.5, "c"] == "lo").mean() > 0.95


def test_a_column_whose_every_category_is_rare_is_refused_with_its_name(loans_small):
    with pytest.raises(DataError, match="'emp_title': every category is held by fewer than min_category_rows=100"):
        Synthesizer(epochs=1, min_category_rows=100, seed=0).fit(loans_small[["emp_title", "annual_income"]])


def test_a_condition_on_a_suppressed_category_is_refused_and_a_set_draws_the_others(loans_small, suppressing_fit):
    rare_state = sorted(_rare(loans_small, "state"))[0]
    with pytest.raises(ParameterError, match=f"min_category_rows={RARE_ROWS}"):
        suppressing_fit.sample(5, conditions={"state": rare_state})
    rows = suppressing_fit.sample(50, conditions={"state": [rare_state, "CA"]}, seed=0)
    assert set(rows["state"].astype(object)) == {"CA"}


def test_the_model_file_keeps_suppression_and_no_count_of_a_suppressed_category(suppressing_fit, loans_small, tmp_path):
    path = suppressing_fit.save(tmp_path / "model.synthvae")
    loaded = Synthesizer.load(path)
    assert loaded.fit_params_["min_category_rows"] == RARE_ROWS
    pd.testing.assert_frame_equal(loaded.sample(300, seed=4), suppressing_fit.sample(300, seed=4))
    codec = next(c for c in loaded.preprocessor_.codecs_ if c.column.name == "emp_title")
    assert set(codec.suppressed_categories) == _rare(loans_small, "emp_title") | {
        c for c in codec.column.categories if c not in set(loans_small["emp_title"])}
    assert not codec.counts_[codec.suppressed_].any()


def test_min_category_rows_must_be_a_positive_integer(loans_small):
    with pytest.raises(ParameterError, match="min_category_rows must be an integer of at least 1"):
        Synthesizer(min_category_rows=0).fit(loans_small)


def test_a_private_fit_judges_min_category_rows_by_its_noisy_training_counts(penguins, public_schema, caplog):
    # Torgersen: 52 of 344 rows, Dream 124. The codecs count a 10,000-row proxy table (Torgersen
    # about 1,500 of its rows), so the threshold is applied to those counts scaled back to rows.
    syn = Synthesizer(public_schema, privacy={"epsilon": 10.0, "epochs": 1}, conditional=False, min_category_rows=90)
    with caplog.at_level("WARNING", logger="synthvae"):
        rows = syn.fit(penguins).sample(2000, seed=0)
    assert set(rows["island"].astype(object)) == {"Biscoe", "Dream"}
    # Noisy counts: the fit says a rarer category may still be drawn (a user review found one
    # patient's diagnosis in 1.7-4% of the rows, where the help promised never).
    assert "min_category_rows=90 is judged on the private fit's noisy counts" in caplog.text


def test_a_private_fit_warns_that_a_personal_columns_nulls_are_not_kept(penguins, public_schema, caplog):
    # 37% of e-mails empty, none in a private model's rows, and nothing said (a user review).
    mails = pd.Series([f"user{i}@mail.org" for i in range(len(penguins))]).where(np.arange(len(penguins)) % 3 != 0)
    document = public_schema.to_dict()
    document["columns"].append({"name": "email", "kind": "personal", "personal": "email", "nullable": True})
    syn = Synthesizer(Schema.from_dict(document), privacy={"epsilon": 10.0, "epochs": 1}, conditional=False)
    with caplog.at_level("WARNING", logger="synthvae"):
        rows = syn.fit(penguins.assign(email=mails)).sample(300, seed=0)
    assert "the nulls of ['email'] are not reproduced by a private fit" in caplog.text
    assert rows["email"].notna().all()


def test_the_record_gives_the_guarantee_for_a_replaced_row_too(private_fit):
    # The file records the row count, so add/remove neighbours can be told apart by it; a
    # replaced row (the count public) is two add/remove steps: group privacy.
    record = private_fit.privacy_
    assert record["adjacency"] == "add_remove"
    assert record["add_remove"] == {"epsilon": record["epsilon"], "delta": record["delta"]}
    # At the delta asked (group privacy at delta itself gave deltas of 0.2-32 at epsilon 10-15):
    # two steps at the delta' with (1 + e^e') delta' = delta, so more than twice epsilon.
    assert record["replace_one"]["delta"] == record["delta"]
    assert record["replace_one"]["epsilon"] > 2 * record["epsilon"]
    assert "row count" in record["covers"] and "not" in record["covers"]
    from synthvae.privacy.accounting import Mechanism, replace_one_at

    mechanisms = [Mechanism(record["statistics_noise_multiplier"], 1.0, 1),
                  Mechanism(record["sgd_noise_multiplier"], record["sample_rate"], record["steps"])]
    two_steps = replace_one_at(mechanisms, record["delta"])
    assert two_steps == pytest.approx(record["replace_one"]["epsilon"])
    half = spent_epsilon(mechanisms, record["delta"] / (1 + np.exp(two_steps / 2)))
    assert half == pytest.approx(two_steps / 2, rel=1e-3)  # the delta' found meets (1 + e^e') delta' = delta


def test_a_budget_for_a_replaced_row_is_met_with_more_noise(penguins, public_schema, private_fit):
    syn = Synthesizer(public_schema, privacy={"epsilon": 3.0, "epochs": 5, "adjacency": "replace"}, conditional=False, seed=0)
    record = syn.fit(penguins).privacy_
    assert record["adjacency"] == "replace"
    assert 2.9 < record["epsilon"] <= 3.0 and record["delta"] == min(1e-5, 0.1 / 344)
    assert record["replace_one"]["epsilon"] == record["epsilon"] and record["add_remove"]["epsilon"] <= 1.5
    assert record["sgd_noise_multiplier"] > private_fit.privacy_["sgd_noise_multiplier"]
    with pytest.raises(ParameterError, match="adjacency must be one of"):
        PrivacySpec.parse({"epsilon": 1, "adjacency": "swap"})


def test_augment_adds_no_rows_of_a_suppressed_class_and_keeps_the_categorical_dtype(weather, caplog):
    # drizzle (53 rows) and snow (26) below 60: augment with a target failed on a condition the
    # user never gave, and without one returned the target as text.
    syn = Synthesizer(epochs=3, min_category_rows=60, seed=0).fit(weather)
    with caplog.at_level("WARNING", logger="synthvae"):
        out = syn.augment(weather, target="weather", balance=True, seed=0)
    assert "'drizzle'" in caplog.text and "never generated" in caplog.text
    added = out.loc[out["synthetic"], "weather"].astype(object).value_counts()
    assert set(added.index) <= {"rain", "sun", "fog"} and not out.loc[out["synthetic"], "weather"].isin(["drizzle", "snow"]).any()
    assert isinstance(out["weather"].dtype, pd.CategoricalDtype)
    assert isinstance(syn.augment(weather, rows=50, seed=0)["weather"].dtype, pd.CategoricalDtype)


TAIL_ROWS = 5


@pytest.fixture(scope="module")
def tail_fits(weather):
    """seattle_weather fitted with and without top- and bottom-coding (same seed, few epochs)."""
    coded = Synthesizer(epochs=5, min_tail_rows=TAIL_ROWS, seed=0).fit(weather)
    plain = Synthesizer(epochs=5, seed=0).fit(weather)
    return coded, plain


def _beyond(real: pd.Series, low, high) -> tuple[int, int]:
    """Training rows at or below ``low`` and at or above ``high``."""
    return int((real <= low).sum()), int((real >= high).sum())


def test_min_tail_rows_keeps_sampled_values_within_values_k_training_rows_reach(weather, tail_fits):
    # An income one person held (9,876,543, the next 2,300,000) came back as 9,687,514 from a
    # plain fit (a privacy review): the quantile codec draws up to the training extremes.
    coded, plain = tail_fits
    rows, plain_rows = coded.sample(20_000, seed=1), plain.sample(20_000, seed=1)
    real = weather.assign(date=pd.to_datetime(weather["date"]))
    names = ("precipitation", "temp_max", "temp_min", "wind", "date")  # the date learned as calendar parts
    for name in names:
        below, above = _beyond(real[name], rows[name].min(), rows[name].max())
        assert below >= TAIL_ROWS and above >= TAIL_ROWS, (name, below, above)
    # The cut lies between the 5th and 6th most extreme values (the 5th largest, one day's
    # rainfall of 46.7, was the cut, and every coded row took it): 45.0 of 46.7 and 43.4.
    top = np.sort(real["precipitation"].to_numpy())[-6:-4]
    assert top[0] <= rows["precipitation"].max() < top[1] and rows["precipitation"].max() not in set(real["precipitation"])
    # What the option prevents: the plain fit's rows reach beyond the five most extreme values.
    beyond = [name for name in names if min(_beyond(real[name], plain_rows[name].min(), plain_rows[name].max())) < TAIL_ROWS]
    assert len(beyond) >= 3, beyond


def test_min_tail_rows_holds_for_imputed_cells_conditions_and_the_model_file(weather, tail_fits, tmp_path):
    coded, _ = tail_fits
    cut = coded.sample(20_000, seed=1)["precipitation"]
    low, high = cut.min(), cut.max()
    holes = weather.copy()
    wettest = weather["precipitation"].nlargest(3).index  # beyond the tail, and kept observed
    holes.loc[holes.index[::4].difference(wettest), "precipitation"] = np.nan
    filled = coded.impute(holes, seed=0)
    imputed = filled.loc[holes["precipitation"].isna(), "precipitation"]
    assert imputed.notna().all() and imputed.between(low, high).all()
    observed = holes["precipitation"].notna()
    pd.testing.assert_series_equal(filled.loc[observed, "precipitation"], holes.loc[observed, "precipitation"])
    assert (filled.loc[wettest, "precipitation"] > high).all()  # observed cells are the user's, as given
    with pytest.raises(ParameterError, match=rf"the model's range is 0 to {high:g}"):
        coded.sample(10, conditions={"precipitation": {">": high}})
    path = coded.save(tmp_path / "coded.synthvae")
    loaded = Synthesizer.load(path)
    assert loaded.fit_params_["min_tail_rows"] == TAIL_ROWS
    # The inferred bounds were the extremes coded out of the rows, kept in the model file (a
    # user review): left out, the codecs keep the cuts. The plain fit's schema keeps them.
    assert loaded.schema_["precipitation"].max is None and tail_fits[1].schema_["precipitation"].max == 55.9
    pd.testing.assert_frame_equal(loaded.sample(500, seed=3), coded.sample(500, seed=3))


@pytest.mark.parametrize("k", [299, 400])
def test_min_tail_rows_near_half_the_rows_codes_a_calendar_date_to_its_middle(k):
    # Dates learned as calendar parts were drawn again until they fell within the cuts: near the
    # middle none did ("could produce only 0 of 300 rows ... widen the bounds", a user review).
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.sort(rng.choice(1500, 600, replace=False)), unit="D")
    frame = pd.DataFrame({"day": days, "x": rng.normal(size=600).round(2)})
    rows = Synthesizer(epochs=2, min_tail_rows=k, seed=0, conditional=False).fit(frame).sample(300, seed=1)
    if k == 400:  # more than half the rows: both cuts at the middle value
        assert (rows["day"] == days[299]).all() and (rows["x"] == np.sort(frame["x"])[299]).all()
    else:
        assert rows["day"].between(days[298], days[301]).all()


def test_min_tail_rows_must_be_a_positive_integer(weather):
    for bad in (0, 2.5, "3"):
        with pytest.raises(ParameterError, match="min_tail_rows must be an integer of at least 1"):
            Synthesizer(min_tail_rows=bad).fit(weather)


def test_privacy_check_and_evaluate_note_synthetic_values_near_an_extreme_one_training_row_holds():
    # Every check passed a table that brought back an income one training row held, far above
    # every other (a privacy review). A note, no verdict: it counts, and shows no value.
    from conftest import dataset_path

    loans = pd.read_csv(dataset_path("loans.csv"), usecols=["annual_income", "loan_amount", "grade", "term"])
    train, holdout, fresh = loans.iloc[:1200].copy(), loans.iloc[1200:1800], loans.iloc[1800:3000].copy()
    train.loc[7, "annual_income"] = 9_876_543.21
    # fresh rows kept in the bulk of incomes, so that only the rows placed below come near an extreme
    fresh["annual_income"] = fresh["annual_income"].clip(upper=train["annual_income"].quantile(0.99))
    near = fresh.copy()
    near.loc[near.index[:2], "annual_income"] = [9_687_514.28, 9_950_000.0]

    def extremes(notes):
        return [note for note in notes if "isolated training extremes" in note]

    result = privacy_check(train, near, holdout)
    [note] = extremes(result.settings["notes"])
    assert note.startswith("column 'annual_income': 2 of 1200 synthetic rows (0.17%) hold a value near 1 of its 2 "
                           "isolated training extremes")
    assert "where 0 of 600 rows of holdout data do" in note and "min_tail_rows=3" in note
    assert "9876543" not in note and "9,876,543" not in note  # counts only
    assert result.passed  # no verdict
    report = evaluate(train, near, holdout=holdout, metrics=["privacy"])
    assert extremes(report["notes"]) == [note]
    assert not extremes(privacy_check(train, fresh, holdout).settings["notes"])
    # Fresh real rows that reach there as often: the population's tail, no note.
    reaching = holdout.copy()
    reaching.loc[reaching.index[:1], "annual_income"] = 9_700_000.0
    assert not extremes(privacy_check(train, near, reaching).settings["notes"])
