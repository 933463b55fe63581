"""The facade: the sampling contract, determinism, save / load, bad input."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from synthvae import DataError, NotFittedError, ParameterError, SchemaError, Synthesizer, infer_schema, read_table, write_table
from synthvae.model import segment_logsumexp

from conftest import dataset_path


def test_sampling_contract(fitted_mixed, mixed_frame):
    schema = fitted_mixed.schema_
    out = fitted_mixed.sample(2000, seed=5)
    assert len(out) == 2000
    assert list(out.columns) == list(mixed_frame.columns)
    assert out["user_id"].dtype == "Int64" and out["user_id"].is_unique
    assert out["age"].dtype == "Int64"
    assert out["income"].dtype == "float64"
    assert isinstance(out["city"].dtype, pd.CategoricalDtype)
    assert list(out["city"].cat.categories) == list(schema["city"].categories)
    assert out["member"].dtype == "boolean"
    assert out["joined"].dtype == "datetime64[ns]"
    # Inside bounds, integral, rounded.
    age = out["age"].dropna().astype(float)
    assert age.between(schema["age"].min, schema["age"].max).all()
    income = out["income"].dropna()
    assert income.between(schema["income"].min, schema["income"].max).all()
    assert np.allclose(income, income.round(2))
    joined = out["joined"].dropna()
    assert (joined >= schema["joined"].min).all() and (joined <= schema["joined"].max).all()
    assert (joined == joined.dt.normalize()).all()  # unit D
    # Null rates come back (within 0.04 after 15 epochs of a small model; 10,000 rows keep the
    # sampling noise of the check itself near 0.005).
    many = fitted_mixed.sample(10_000, seed=6)
    for column in ["age", "city", "joined"]:
        assert many[column].isna().mean() == pytest.approx(mixed_frame[column].isna().mean(), abs=0.04), column
    assert out["income"].notna().all()


def test_batches_are_invisible_in_the_contract(fitted_mixed):
    out = fitted_mixed.sample(250, seed=5, batch_size=64)
    assert len(out) == 250 and out["user_id"].is_unique and out["user_id"].dtype == "Int64"
    assert (out.dtypes == fitted_mixed.sample(3, seed=5).dtypes).all()


def test_sample_zero_rows_keeps_dtypes(fitted_mixed):
    empty = fitted_mixed.sample(0, seed=1)
    full = fitted_mixed.sample(3, seed=1)
    assert len(empty) == 0
    assert (empty.dtypes == full.dtypes).all()


def test_same_seed_same_rows_and_batching_is_invisible(fitted_mixed):
    a = fitted_mixed.reset_sampling().sample(500, seed=11)
    b = fitted_mixed.sample(500, seed=11)
    # The same rows but for the ids, which each call takes anew (as SDV's keys), until reset_sampling.
    assert set(a["user_id"]).isdisjoint(b["user_id"])
    pd.testing.assert_frame_equal(a.drop(columns="user_id"), b.drop(columns="user_id"))
    pd.testing.assert_frame_equal(a, fitted_mixed.reset_sampling().sample(500, seed=11))
    c = fitted_mixed.sample(500, seed=12)
    assert not a.equals(c)
    # Unseeded calls differ from each other.
    assert not fitted_mixed.sample(50).equals(fitted_mixed.sample(50))


def test_fit_is_deterministic_bit_for_bit(penguins):
    kwargs = dict(epochs=3, hidden_dims=(32,), latent_dim=8, seed=42)
    a = Synthesizer(**kwargs).fit(penguins)
    b = Synthesizer(**kwargs).fit(penguins)
    for (name, pa), (_, pb) in zip(a.model_.state_dict().items(), b.model_.state_dict().items()):
        assert torch.equal(pa, pb), name
    pd.testing.assert_frame_equal(a.sample(300, seed=1), b.sample(300, seed=1))
    c = Synthesizer(**{**kwargs, "seed": 43}).fit(penguins)
    assert not c.sample(300, seed=1).equals(a.sample(300, seed=1))


def test_fit_does_not_touch_global_rng(penguins):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    Synthesizer(epochs=1, hidden_dims=(16,), latent_dim=4).fit(penguins).sample(10, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_save_load_round_trip(fitted_mixed, tmp_path):
    path = tmp_path / "m.synthvae"
    fitted_mixed.save(path)
    loaded = Synthesizer.load(path)
    pd.testing.assert_frame_equal(loaded.sample(700, seed=9), fitted_mixed.reset_sampling().sample(700, seed=9))
    assert loaded.schema_ == fitted_mixed.schema_
    # Every fact but the wall time, which a file does not keep (the same fit gives the same bytes).
    assert loaded.fit_info_ == replace(fitted_mixed.fit_info_, seconds=0.0)


def test_progress_callback_and_history(penguins):
    seen = []
    syn = Synthesizer(epochs=4, hidden_dims=(16,), latent_dim=4).fit(penguins, callback=seen.append)
    assert [p.epoch for p in seen] == [1, 2, 3, 4]
    assert all(p.epochs == 4 for p in seen)
    assert len(syn.history_) == 4 and all(np.isfinite(h["train_loss"]) for h in syn.history_)


def test_early_stopping_stops_before_the_planned_epochs(penguins):
    syn = Synthesizer(epochs=300, patience=3, hidden_dims=(16,), latent_dim=4, learning_rate=0.05).fit(penguins)
    assert syn.fit_info_.epochs_run < 300
    assert syn.fit_info_.best_epoch == syn.fit_info_.epochs_run - 3


def test_fit_from_files_and_schema_path(tmp_path, penguins):
    data = tmp_path / "p.parquet"
    write_table(penguins, data)
    schema_path = tmp_path / "s.json"
    infer_schema(penguins).save(schema_path)
    syn = Synthesizer(schema=schema_path, epochs=1, hidden_dims=(16,), latent_dim=4).fit(data)
    assert list(syn.sample(5, seed=0).columns) == list(penguins.columns)
    csv = tmp_path / "out.csv"
    write_table(syn.sample(20, seed=0), csv)
    assert read_table(csv).shape == (20, penguins.shape[1])


def test_bad_input_gives_clear_errors(penguins, tmp_path):
    schema = infer_schema(penguins)
    small = dict(epochs=1, hidden_dims=(8,), latent_dim=2)
    with pytest.raises(DataError, match=r"columns \['species'\] are in the schema but not in the data") as caught:
        Synthesizer(schema=schema, **small).fit(penguins.drop(columns="species"))
    assert "renamed?" not in str(caught.value)
    # "Empty where unknown" only for columns that may be null: species may not, and following
    # the advice met "333 missing values but the schema says nullable: false" (a review).
    assert str(caught.value).endswith("; add them to the data") and not schema["species"].nullable
    with pytest.raises(DataError, match=r"columns \['sex'\] are in the schema but not in the data .*; add them to the data "
                                        r"\(empty where their values are unknown\)$"):
        Synthesizer(schema=schema, **small).fit(penguins.drop(columns="sex"))
    # A renamed column hid behind the preview of the data's names ("... (3 more)").
    with pytest.raises(DataError, match=r"renamed\? the data has 'bill length mm' for 'bill_length_mm', 'Sex' for 'sex'"):
        Synthesizer(schema=schema, **small).fit(penguins.rename(columns={"sex": "Sex", "bill_length_mm": "bill length mm"}))
    # One column gone and one new, however unlike: the only candidate (a user review).
    with pytest.raises(DataError, match=r"renamed\? the data has 'yr' for 'year'"):
        Synthesizer(schema=schema, **small).fit(penguins.rename(columns={"year": "yr"}))
    # A DataFrame's index written to a file is named as such.
    with pytest.raises(DataError, match=r"\['index'\] looks like a DataFrame's index written to a file: write the tables with index=False"):
        Synthesizer(schema=infer_schema(penguins.reset_index()), **small).fit(penguins)
    wrong = penguins.assign(body_mass_g=penguins["body_mass_g"].astype(object).where(penguins.index != 3, "heavy"))
    with pytest.raises(DataError, match=r"column 'body_mass_g': expected numbers, found \['heavy'\]"):
        Synthesizer(schema=schema, **small).fit(wrong)
    with pytest.raises(DataError, match=r"values \['Atlantis'\] are not among the schema's categories"):
        Synthesizer(schema=schema, **small).fit(penguins.assign(island="Atlantis"))
    with pytest.raises(DataError, match="no rows"):
        Synthesizer(schema=schema, **small).fit(penguins.iloc[:0])
    with pytest.raises(DataError, match=r"columns \['extra'\] are not in the schema"):
        Synthesizer(schema=schema, **small).fit(penguins.assign(extra=1))
    with pytest.raises(DataError, match="nullable: false"):
        Synthesizer(schema=schema, **small).fit(penguins.assign(island=penguins["island"].where(penguins.index != 0)))
    with pytest.raises(DataError, match=r"no such file"):
        Synthesizer(**small).fit(tmp_path / "nope.csv")
    with pytest.raises(SchemaError, match="cannot read schema file"):
        Synthesizer(schema=tmp_path / "nope.json", **small).fit(penguins)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        Synthesizer(epochs=0).fit(penguins)
    with pytest.raises(NotFittedError, match="not fitted"):
        Synthesizer().sample(3)
    with pytest.raises(ValueError, match="non-negative integer"):
        Synthesizer(**small).fit(penguins).sample(-1)


def test_segment_logsumexp_matches_a_per_span_loop():
    gen = torch.Generator().manual_seed(0)
    widths = [3, 1, 5, 2]
    segment = torch.tensor([i for i, w in enumerate(widths) for _ in range(w)])
    values = torch.randn(7, sum(widths), generator=gen) * 30
    lse = segment_logsumexp(values, segment, len(widths))
    start = 0
    for i, w in enumerate(widths):
        assert torch.allclose(lse[:, i], torch.logsumexp(values[:, start : start + w], dim=1), atol=1e-4)
        start += w


def test_standard_prior_round_trips_and_differs_from_the_mixture(penguins, tmp_path):
    kwargs = dict(epochs=2, hidden_dims=(16,), latent_dim=4, seed=2)
    standard = Synthesizer(prior="standard", **kwargs).fit(penguins)
    mixture = Synthesizer(**kwargs).fit(penguins)
    assert standard.prior_ is None and mixture.prior_.n_components >= 1
    assert not standard.sample(50, seed=1).equals(mixture.sample(50, seed=1))
    standard.save(tmp_path / "s.synthvae")
    again = Synthesizer.load(tmp_path / "s.synthvae")
    assert again.prior_ is None
    pd.testing.assert_frame_equal(again.sample(50, seed=1), standard.sample(50, seed=1))


@pytest.mark.parametrize("params", [
    {"categorical_balance": -1.0}, {"categorical_balance": float("nan")}, {"beta": -0.5},
    {"learning_rate": 0.0}, {"categorical_balance": 5.0, "privacy": 1.0}, {"categorical_head": -1},
    {"conditional": "no"}, {"conditional": None},  # "no" trained and saved the prior; None left it out
])
def test_bad_loss_settings_are_refused(penguins, params):
    with pytest.raises(ParameterError):
        Synthesizer(epochs=1, **params).fit(penguins)


@pytest.mark.slow  # three default fits of churn and its conditional prior: about a minute
def test_categorical_balance_keeps_a_low_entropy_flag_in_the_latent_and_the_ordered_head_draws_it_given_the_plan():
    """``categorical_balance`` weights low-entropy categorical columns up (``category_weights``).
    With the plain ELBO (the default; seed 0) the latent keeps less of churn's 14% `churn` flag: a linear probe of the
    held-out rows' embeddings reaches ROC AUC 0.976 (0.86 before numeric point masses got flags and the charges
    became derived columns), against 0.99999 balanced. Without the autoregressive head, synthetic rows draw the flag
    nearly independently of the 10% `international_plan` (churn share with the plan minus without it: 0.03; real
    0.29); with it (the default), the flag is drawn given the plan drawn before it (0.33), and so is the plan given
    the flag when a condition fixes the flag (share of plans among churners 0.30, real 0.27; 0.11 without it)."""
    frame = pd.read_csv(dataset_path("churn.csv"))
    train, held_out = frame.iloc[:4000], frame.iloc[4000:]

    def gap(rows: pd.DataFrame) -> float:
        churned, plan = rows["churn"].eq("yes"), rows["international_plan"].eq("yes")
        return float(churned[plan].mean() - churned[~plan].mean())

    plain, balanced = Synthesizer(seed=0).fit(train), Synthesizer(seed=0, categorical_balance=5).fit(train)
    unordered = Synthesizer(seed=0, autoregressive=0).fit(train)
    assert balanced.train_config_.categorical_balance == 5.0 and plain.train_config_.categorical_balance == 0
    assert plain.model_.config.autoregressive == 32 and unordered.model_.config.autoregressive == 0
    plain_auc, balanced_auc = _churn_probe(plain, train, held_out), _churn_probe(balanced, train, held_out)
    assert balanced_auc > max(0.99, plain_auc)
    assert gap(train) > 0.25
    assert gap(unordered.sample(20_000, seed=1)) < 0.1
    assert gap(plain.sample(20_000, seed=1)) > 0.2 and gap(balanced.sample(20_000, seed=1)) > 0.2
    real_share = train.loc[train["churn"].eq("yes"), "international_plan"].eq("yes").mean()
    churners = plain.sample(2000, conditions={"churn": "yes"}, seed=2)
    assert abs(churners["international_plan"].eq("yes").mean() - real_share) < 0.08


def test_target_weights_only_its_own_column(tmp_path):
    """``target`` weighs the named column's cross-entropy as ``categorical_balance=5`` would and
    leaves every other column's plain; the file keeps it, and bad targets are refused clearly."""
    from synthvae.training import TARGET_BALANCE, category_weights

    train = pd.read_csv(dataset_path("churn.csv")).iloc[:1000]
    fitted = Synthesizer(seed=0, target="churn", epochs=2, hidden_dims=(32,), latent_dim=4).fit(train)
    layout = fitted.preprocessor_.layout_
    (segment,) = fitted.train_config_.target_segments
    block = layout.column_slice("churn")
    assert all(block.start <= i < block.stop for i, s in zip(layout.one_hot_index, layout.one_hot_segment) if s == segment)
    shares = torch.from_numpy(fitted.preprocessor_.transform(train[fitted.preprocessor_.schema.names]).mean(0, dtype=np.float64))
    weights = category_weights(fitted.model_, shares, fitted.train_config_.categorical_balance, (segment,))
    churn_share = float((train["churn"] == "yes").mean())
    entropy = -(churn_share * np.log(churn_share) + (1 - churn_share) * np.log(1 - churn_share))
    assert float(weights[segment]) == pytest.approx(TARGET_BALANCE / entropy, rel=1e-3)
    assert (np.delete(weights.numpy(), segment) == 1).all()
    assert Synthesizer.load(fitted.save(tmp_path / "m.synthvae")).target == "churn"
    # a numeric target weighs nothing; bad targets are refused clearly
    assert Synthesizer(epochs=1, seed=0, target="account_length").fit(train.iloc[:300]).train_config_.target_segments == ()
    with pytest.raises(ParameterError, match=r"'chrun' is not a column of the table: unknown column 'chrun' \(did you mean 'churn'\?\); the table has columns"):
        Synthesizer(epochs=1, seed=0, target="chrun").fit(train.iloc[:300])
    # A column of the table the model does not learn was "an unknown column", with the model's
    # parts ('joined~sin') offered in its place: now it says why.
    with pytest.raises(ParameterError, match="'total_day_charge' cannot be the target: the model does not learn it: it is "
                                             "computed by the schema's rule 'total_day_charge = total_day_minutes"):
        Synthesizer(epochs=1, seed=0, target="total_day_charge").fit(train.iloc[:300])
    dated = train.iloc[:300].assign(joined=pd.date_range("2020-01-01", periods=300, freq="D"))
    with pytest.raises(ParameterError, match="'joined' cannot be the target: it is a datetime column") as refused:
        Synthesizer(epochs=1, seed=0, target="joined").fit(dated)
    assert "~" not in str(refused.value) and "'churn'" in str(refused.value)
    with pytest.raises(ParameterError, match="private fit"):
        Synthesizer(target="churn", privacy=3.0).fit(train.iloc[:300])


@pytest.mark.slow  # a default fit of churn: about 40 s
def test_target_keeps_its_column_in_the_latent():
    """Weighed as the target, churn's flag gets into the latent: a linear probe of the held-out
    rows' embeddings scores ROC AUC 1.0 (plain 0.976 at seed 0)."""
    frame = pd.read_csv(dataset_path("churn.csv"))
    train, held_out = frame.iloc[:4000], frame.iloc[4000:]
    assert _churn_probe(Synthesizer(seed=0, target="churn").fit(train), train, held_out) > 0.98


def _churn_probe(fitted: Synthesizer, train: pd.DataFrame, held_out: pd.DataFrame) -> float:
    """ROC AUC on ``held_out`` of a linear probe of churn's flag, fitted on ``train``'s embeddings."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    probe = LogisticRegression(max_iter=2000).fit(fitted.encode(train).to_numpy(), train["churn"].eq("yes"))
    return float(roc_auc_score(held_out["churn"].eq("yes"), probe.predict_proba(fitted.encode(held_out).to_numpy())[:, 1]))


def test_categorical_head_is_built_saved_and_loaded(penguins, tmp_path):
    fitted = Synthesizer(epochs=2, categorical_head=16, seed=0).fit(penguins)
    assert fitted.model_.config.categorical_head == 16 and fitted.model_.categorical_head is not None
    assert Synthesizer(epochs=2, categorical_head=0, seed=0).fit(penguins).model_.categorical_head is None
    # by default as wide as the decoder's last hidden layer, at most 128
    assert Synthesizer(epochs=1, hidden_dims=(32, 64), seed=0).fit(penguins).model_.config.categorical_head == 32
    assert Synthesizer(epochs=1, hidden_dims=(256,), seed=0).fit(penguins).model_.config.categorical_head == 128
    path = fitted.save(tmp_path / "m.synthvae")
    pd.testing.assert_frame_equal(Synthesizer.load(path).sample(50, seed=1), fitted.sample(50, seed=1))


def test_progress_best_epoch_is_the_epoch_whose_weights_are_kept(penguins):
    # 40 rows: no validation split, so the last weights are kept; a high learning rate makes the
    # training loss jump about (its lowest was epoch 5 of 8, which Progress used to report).
    seen = []
    syn = Synthesizer(epochs=8, seed=0, learning_rate=0.05).fit(penguins.iloc[:40], callback=seen.append)
    assert all(p.val_loss is None for p in seen)
    assert [p.best_epoch for p in seen] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert syn.fit_info_.best_epoch == 8
    # With a validation split both name the epoch of the best validation loss.
    seen = []
    syn = Synthesizer(epochs=300, patience=3, hidden_dims=(16,), latent_dim=4, learning_rate=0.05).fit(
        penguins, callback=seen.append)
    assert seen[-1].stopped_early and seen[-1].best_epoch == syn.fit_info_.best_epoch == len(seen) - 3


def test_a_validation_fraction_that_leaves_no_training_rows_is_refused(penguins, tmp_path, caplog):
    message = r"validation_fraction=0.999 holds out all 100 rows for early stopping, leaving none to train on"
    with pytest.raises(ParameterError, match=message):
        Synthesizer(epochs=2, validation_fraction=0.999).fit(penguins.iloc[:100])
    path = tmp_path / "penguins.parquet"
    write_table(penguins, path)
    with pytest.raises(ParameterError, match=message.replace("100", "344")):
        Synthesizer(epochs=2, validation_fraction=0.999).fit(path, streaming=True)
    # One row left is enough, with a warning: it trained on one row without a word.
    with caplog.at_level("WARNING", logger="synthvae.training"):
        assert Synthesizer(epochs=1, validation_fraction=0.99).fit(penguins.iloc[:100]).fit_info_.epochs_run == 1
    assert any("holds out 99 rows for early stopping and leaves 1 to train on" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="synthvae.training"):
        Synthesizer(epochs=1, validation_fraction=0.2).fit(penguins.iloc[:100])
    assert not caplog.records


@pytest.mark.parametrize("name, value", [
    ("epochs", True), ("epochs", "3"), ("epochs", 2.0), ("batch_size", True), ("batch_size", np.float64(64)),
    ("patience", True), ("patience", None), ("validation_fraction", "0.1"), ("validation_fraction", None),
    ("validation_fraction", float("nan")), ("validation_fraction", True), ("validation_fraction", 1.0),
    ("max_categories", "5"), ("max_categories", 2.5), ("max_categories", None), ("max_categories", True),
    ("latent_dim", True), ("hidden_dims", (8, True)), ("hidden_dims", 8), ("prior_components", False),
])
def test_constructor_numbers_are_checked_and_named(penguins, name, value):
    # Text and None raised raw TypeErrors; epochs=True ran one epoch; bools passed as counts.
    with pytest.raises(ParameterError, match=rf"^{name} must be .*, got {re.escape(repr(value))}$"):
        Synthesizer(**{name: value}).fit(penguins)


@pytest.mark.parametrize("value", [float("nan"), "30", None, True, -1.0, float("-inf")])
def test_checkpoint_every_is_checked_with_or_without_a_folder(penguins, tmp_path, value):
    for folder in (tmp_path, None):
        with pytest.raises(ParameterError, match=rf"^checkpoint_every must be a number of seconds .*, got {re.escape(repr(value))}$"):
            Synthesizer(epochs=1).fit(penguins, checkpoint_dir=folder, checkpoint_every=value)


def test_numpy_numbers_are_taken_as_the_numbers_they_hold(penguins, tmp_path):
    plain = dict(epochs=2, batch_size=64, patience=5, max_categories=10, validation_fraction=0.2, seed=3,
                 latent_dim=4, hidden_dims=(16,), categorical_head=8, prior_components=3)
    numpy = {name: (np.int64(v) if isinstance(v, int) else np.float64(v) if isinstance(v, float) else v)
             for name, v in plain.items()}
    numpy["hidden_dims"] = (np.int64(16),)
    expected = Synthesizer(**plain).fit(penguins)
    # epochs=np.int64(3) was refused; a numpy seed or head passed but the model could not be saved.
    synth = Synthesizer(**numpy).fit(penguins, checkpoint_dir=tmp_path / "ck", checkpoint_every=np.float64(0))
    assert all(torch.equal(a, b) for a, b in zip(synth.model_.state_dict().values(), expected.model_.state_dict().values()))
    synth.save(tmp_path / "m.synthvae")
    loaded = Synthesizer.load(tmp_path / "m.synthvae")
    assert loaded.fit_params_ == expected.fit_params_
    pd.testing.assert_frame_equal(loaded.sample(100, seed=1), expected.sample(100, seed=1))
    # math.inf: a checkpoint after the last epoch only.
    Synthesizer(**plain).fit(penguins, checkpoint_dir=tmp_path / "inf", checkpoint_every=float("inf"))
    assert (tmp_path / "inf" / "checkpoint.safetensors").exists()


def test_a_numeric_target_is_named_as_doing_nothing(penguins, caplog):
    # fit --target bill_length_mm said nothing, though target= weighs a class column's classes.
    with caplog.at_level("WARNING", logger="synthvae"):
        Synthesizer(epochs=1, target="bill_length_mm", seed=0).fit(penguins)
    assert any("target 'bill_length_mm' is not categorical or boolean" in r.getMessage() for r in caplog.records)


def test_parameters_follow_scikit_learns_conventions_and_the_file_keeps_the_fitted_ones(penguins, tmp_path):
    from sklearn.base import clone

    schema = infer_schema(penguins)
    syn = Synthesizer(schema, epochs=2, latent_dim=4, seed=3)
    # get_params(deep=False) raised TypeError (so clone failed) and left the schema out.
    copy = clone(syn)
    assert copy is not syn and copy.get_params() == syn.get_params() and copy.schema == schema
    assert syn.set_params(epochs=1, hidden_dims=[16]) is syn and syn.hidden_dims == (16,)
    with pytest.raises(ParameterError, match=r"no parameters \['epoch'\]"):
        syn.set_params(epoch=3)
    assert repr(syn) == "Synthesizer(schema=<schema of 8 columns>, epochs=1, latent_dim=4, hidden_dims=(16,), seed=3; not fitted)"
    syn.fit(penguins)
    # Parameters set after fit were saved as the fitted ones (latent_dim=3 for a 4-axis latent).
    before = syn.sample(50)
    syn.set_params(seed=5, latent_dim=3, epochs=500)
    syn.save(tmp_path / "m.synthvae")
    loaded = Synthesizer.load(tmp_path / "m.synthvae")
    assert loaded.fit_params_ == syn.fit_params_ and (loaded.latent_dim, loaded.epochs, loaded.seed) == (4, 1, 3)
    assert loaded.train_config_ == syn.train_config_  # a tuple setting came back a list
    pd.testing.assert_frame_equal(loaded.sample(50), before)


def test_a_synthesizer_is_a_transformer_of_a_scikit_learn_pipeline(penguins, tmp_path):
    from sklearn.base import clone
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline

    rows = penguins.dropna().reset_index(drop=True)
    features, labels = rows.drop(columns=["species"]), rows["species"]
    # "All intermediate steps should be transformers", and fit(X, y) was a TypeError.
    pipe = Pipeline([("vae", Synthesizer(epochs=30, latent_dim=8, hidden_dims=(64, 64), seed=0)),
                     ("knn", KNeighborsClassifier())]).fit(features, labels)
    assert pipe.score(features, labels) > 0.8  # species from the embedding of the other columns (majority 0.44)
    embedded = pipe.named_steps["vae"].transform(features.head(7), components=2)
    assert list(embedded.columns) == ["pc0", "pc1"] and len(embedded) == 7
    syn = Synthesizer(epochs=2, latent_dim=4, seed=0)
    pd.testing.assert_frame_equal(syn.fit_transform(features, labels), syn.encode(features))
    # The reduced embedding as a step: a Pipeline passes no components to transform (a user review).
    pipe.set_params(vae__components=2)
    assert list(pipe.named_steps["vae"].get_feature_names_out()) == ["pc0", "pc1"]
    pd.testing.assert_frame_equal(pipe[:-1].transform(features.head(7)), embedded)
    assert list(pipe.named_steps["vae"].transform(features.head(7), components=None).columns)[:2] == ["z0", "z1"]
    reduced = Synthesizer(epochs=2, latent_dim=4, seed=0, components="active")
    assert list(reduced.fit_transform(features).columns)[0] == "pc0"
    assert clone(reduced).get_params()["components"] == "active"
    reduced.save(tmp_path / "r.synthvae")
    assert Synthesizer.load(tmp_path / "r.synthvae").components == "active"


def test_a_synthesizer_after_another_step_answers_scikit_learns_fitted_check_and_tags(penguins):
    from sklearn.exceptions import NotFittedError as SklearnNotFitted
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.utils.validation import check_is_fitted

    rows = penguins.dropna().reset_index(drop=True).drop(columns=["species"])
    # Pipeline.transform asks each step for __sklearn_tags__ (scikit-learn 1.6+): AttributeError.
    with pytest.raises(SklearnNotFitted):
        check_is_fitted(Synthesizer())
    pipe = Pipeline([("id", FunctionTransformer()), ("vae", Synthesizer(epochs=1, latent_dim=3, seed=0))])
    pipe.set_output(transform="pandas")  # a ValueError: the step had no set_output
    embedded = pipe.fit(rows).transform(rows.head(5))
    assert list(embedded.columns) == ["z0", "z1", "z2"] and len(embedded) == 5
    check_is_fitted(pipe.named_steps["vae"])
    assert list(pipe.named_steps["vae"].get_feature_names_out()) == ["z0", "z1", "z2"]
    with pytest.raises(ParameterError, match="polars"):
        Synthesizer().set_output(transform="polars")
    # As scikit-learn's: a ValueError and an AttributeError (it was a RuntimeError alone), input
    # names after a fit, components checked at fit (0 failed transform after the whole fit).
    with pytest.raises((ValueError, AttributeError)):
        Synthesizer().transform(rows)
    assert not hasattr(Synthesizer(), "n_features_in_")
    assert pipe.named_steps["vae"].n_features_in_ == 7 and pipe.named_steps["vae"].feature_names_in_[0] == "island"
    with pytest.raises(ParameterError, match="components must be None, 'active' or a positive whole number, got 0"):
        Synthesizer(components=0, epochs=1).fit(rows)


def test_a_table_labelled_by_numbers_keeps_its_labels_in_augment_and_is_named_by_them(penguins):
    table = penguins.dropna().set_axis(range(penguins.shape[1]), axis=1)
    syn = Synthesizer(epochs=1).fit(table)
    assert syn.sample(3, seed=0).columns.tolist() == [str(i) for i in range(penguins.shape[1])]
    holed = table.head(6).copy()
    holed.loc[[holed.index[0], holed.index[1]], 2] = np.nan
    # columns=2 and target=0 raised a raw TypeError; the real rows of augment came back as "0", "1", ...
    assert syn.impute(holed, columns=2, calibrate=False)[2].notna().all()
    augmented = syn.augment(table.head(6), target=0, rows=2)
    assert augmented.columns.tolist() == [*range(penguins.shape[1]), "synthetic"] and len(augmented) == 8


def test_a_category_spelled_like_a_null_word_can_be_asked_for_and_balanced():
    # german_credit's telephone holds "none": the condition was refused as one on missing values,
    # and augment could not balance the column.
    from conftest import dataset_path

    table = pd.read_csv(dataset_path("german_credit.csv"))[["telephone", "duration_in_month", "credit_amount"]]
    syn = Synthesizer(epochs=1, seed=0).fit(table)
    assert (syn.sample(20, conditions={"telephone": "none"}, seed=0)["telephone"] == "none").all()
    balanced = syn.augment(table.head(100), target="telephone", balance=True)
    counts = balanced["telephone"].value_counts()
    assert counts["none"] == counts["yes, registered under the customers name"]
    with pytest.raises(ParameterError, match="conditions on missing values"):
        syn.sample(5, conditions={"duration_in_month": "none"})


def test_a_float64_torch_default_changes_nothing(penguins, tmp_path):
    # Libraries that set torch's default dtype to float64: fit raised "mat1 and mat2 must have
    # the same dtype", sample failed in the prior, and load called a sound file corrupt.
    syn = Synthesizer(epochs=2, seed=0, conditional=False).fit(penguins)
    syn.save(tmp_path / "m.synthvae")
    before = syn.sample(40, seed=1)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        pd.testing.assert_frame_equal(Synthesizer(epochs=2, seed=0, conditional=False).fit(penguins).sample(40, seed=1), before)
        loaded = Synthesizer.load(tmp_path / "m.synthvae")
        pd.testing.assert_frame_equal(loaded.sample(40, seed=1), before)
        # The conditional prior (conditions, impute, augment) has its own network.
        conditional = Synthesizer(epochs=2, seed=0).fit(penguins.head(120))
        assert (conditional.sample(20, conditions={"species": "Adelie"}, seed=2)["species"] == "Adelie").all()
        assert loaded.encode(penguins.head(5)).shape[0] == 5
    finally:
        torch.set_default_dtype(previous)


def test_the_default_learning_rate_goes_with_the_network(penguins):
    # It followed the table's width: a (256, 256) network given for a narrow table trained at 3e-3.
    rates = {hidden: Synthesizer(epochs=1, hidden_dims=hidden, conditional=False).fit(penguins).train_config_.learning_rate
             for hidden in (None, (256, 256), (64,))}
    assert rates == {None: 3e-3, (256, 256): 2e-3, (64,): 3e-3}


def test_a_loaded_model_keeps_whether_its_schema_was_given(penguins, tmp_path):
    # A loaded model held its inferred schema as the schema parameter: a refit of its clone
    # refused newer rows outside the old table's inferred bounds.
    from sklearn.base import clone

    old, new = penguins[penguins["year"] < 2009], penguins
    inferred = Synthesizer(epochs=1, seed=0).fit(old)
    inferred.save(tmp_path / "inferred.synthvae")
    loaded = Synthesizer.load(tmp_path / "inferred.synthvae")
    assert loaded.get_params()["schema"] is None and "schema=" not in repr(loaded)
    clone(loaded).fit(new)  # infers the new table's bounds
    schema = infer_schema(old)
    given = Synthesizer(schema=schema, epochs=1, seed=0).fit(old)
    given.save(tmp_path / "given.synthvae")
    assert Synthesizer.load(tmp_path / "given.synthvae").get_params()["schema"] == schema
    with pytest.raises(DataError, match="below the schema's min|above the schema's max"):
        clone(Synthesizer.load(tmp_path / "given.synthvae")).fit(new)


def test_a_refit_leaves_no_record_of_the_last_table(penguins, tmp_path):
    syn = Synthesizer(epochs=1, seed=0).fit(penguins)
    syn.sample(20, conditions={"species": "Adelie"}, seed=0)
    assert syn.conditional_history_ and syn.last_resampling_ is not None
    syn.save(tmp_path / "m.synthvae")
    assert Synthesizer.load(tmp_path / "m.synthvae").conditional_history_ == syn.conditional_history_
    syn.set_params(conditional=False).fit(penguins.drop(columns=["species"]))
    assert not hasattr(syn, "conditional_history_") and not hasattr(syn, "last_resampling_")


def test_an_open_iter_sample_refuses_to_go_on_after_a_refit(penguins):
    # Its next batches came from the new model: another table's columns, without a word.
    # (Batches drawn ahead by the sampling threads before the refit are the old model's.)
    syn = Synthesizer(epochs=1, seed=0).fit(penguins)
    batches = syn.iter_sample(200, seed=1, batch_size=20)
    first = next(batches)
    syn.fit(penguins.drop(columns=["island"]))
    drawn = []
    with pytest.raises(NotFittedError, match="fitted again while its iter_sample was open"):
        for batch in batches:
            drawn.append(batch)
    assert all(list(batch.columns) == list(penguins.columns) for batch in [first, *drawn])


def test_a_one_dimensional_latent_fits_samples_and_completes(penguins, tmp_path):
    # torch.cov of one variable is 0-d, which eigh refused: every fit with latent_dim=1 raised.
    syn = Synthesizer(epochs=2, latent_dim=1, seed=0).fit(penguins)
    assert len(syn.sample(20, seed=0)) == 20
    assert (syn.sample(20, conditions={"species": "Gentoo"}, seed=0)["species"] == "Gentoo").all()
    holes = penguins.head(30).copy()
    holes.loc[:9, "bill_length_mm"] = np.nan
    assert syn.impute(holes, seed=0)["bill_length_mm"].notna().all()
    assert syn.encode(penguins.head(5)).shape == (5, 1)
    syn.save(tmp_path / "m.synthvae")
    assert Synthesizer.load(tmp_path / "m.synthvae").sample(20, seed=0).equals(syn.sample(20, seed=0))


def test_more_autoregressive_units_than_the_head_has_are_said_to_be_cut(penguins, caplog):
    with caplog.at_level("WARNING", logger="synthvae"):
        syn = Synthesizer(epochs=1, categorical_head=3, autoregressive=64, seed=0).fit(penguins)
    assert syn.model_.config.autoregressive == 3
    assert "autoregressive=64 units, but the categorical head has 3: it uses 3" in caplog.text


def test_both_ends_of_a_clipped_percentage_come_back_at_their_shares_and_conditions_on_them_are_exact(tmp_path):
    # About 20% of the rows at 0 and at 100, neither twice the other: with one atom alone
    # neither got a flag, and sampled rows held 21.8% and 20.7% (real 20.7% and 19.4%), the
    # ends' noise deciding; with a flag each, 20.4% and 19.6% (fit seed 0).
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"pct": np.clip(rng.normal(50, 59.4, 4000), 0, 100).round(1), "y": rng.normal(size=4000)})
    syn = Synthesizer(seed=0).fit(frame)
    rows = syn.sample(4000, seed=0)
    for end in (0, 100):
        assert (rows["pct"] == end).mean() == pytest.approx((frame["pct"] == end).mean(), abs=0.01)
        assert (syn.sample(200, conditions=[f"pct = {end}"], seed=1)["pct"] == end).all()
    inner = syn.sample(2000, conditions=["pct > 0"], seed=1)["pct"]
    assert inner.min() >= frame["pct"][frame["pct"] > 0].min() and (inner == 100).mean() > 0.1
    assert syn.sample(2000, conditions=["pct > 0", "pct < 100"], seed=1)["pct"].between(0.1, 99.9).all()
    holes = frame.head(300).copy()
    holes.loc[::2, "pct"] = np.nan
    filled = syn.impute(holes, seed=0)["pct"]
    assert filled.notna().all() and filled.between(0, 100).all() and filled.isin([0.0, 100.0]).any()
    syn.save(tmp_path / "m.synthvae")
    assert Synthesizer.load(tmp_path / "m.synthvae").sample(500, seed=3).equals(syn.sample(500, seed=3))


def test_ids_continue_across_samples_until_reset_sampling(fitted_mixed):
    # An SDV migrant's review: rows drawn per condition group (SDV's sample_from_conditions) and
    # concatenated held every id twice; every call started at the first new id, as SDV's keys,
    # which count on until reset_sampling(), do not.
    syn = fitted_mixed.reset_sampling()
    parts = [syn.sample(40, conditions={"city": city}) for city in ("Oslo", "Lima")] + [syn.sample(30, seed=1)]
    parts += list(syn.iter_sample(50, seed=2, batch_size=20))
    ids = pd.concat(parts)["user_id"]
    assert ids.is_unique and len(ids) == 160 and ids.tolist() == list(range(ids.iloc[0], ids.iloc[0] + 160))
    first = syn.reset_sampling().sample(40, conditions={"city": "Oslo"})
    pd.testing.assert_frame_equal(first, parts[0])  # seed=None's stream restarts too
    # A shard takes the ids one sample of all the shards would, and leaves the count where it was.
    shard = pd.concat(list(syn.iter_sample(100, seed=3, batch_size=50, shard=(1, 2))))
    assert shard["user_id"].iloc[0] == ids.iloc[0] + 40 + 50
    assert syn.sample(5, seed=3)["user_id"].iloc[0] == ids.iloc[0] + 40
    with pytest.raises(NotFittedError):
        Synthesizer().reset_sampling()


def test_impute_says_which_id_and_personal_cells_it_leaves_missing(fitted_mixed, mixed_frame, caplog):
    # Used as SDV's sample_remaining_columns (known cells given, the rest null), impute left the
    # new rows' ids empty without a word: the model does not learn them.
    rows = mixed_frame.iloc[:5].assign(user_id=pd.array([None] * 5, dtype="Int64"), income=np.nan, city=None)
    with caplog.at_level("WARNING", logger="synthvae"):
        out = fitted_mixed.impute(rows, method="draw", seed=0, calibrate=False)
    assert out["income"].notna().all() and out["user_id"].isna().all()
    assert "columns ['user_id'] (id or personal: the model does not learn them) keep their 5 missing cells" in caplog.text
    assert "take such values from sample(n)" in caplog.text


def test_whole_numbers_that_are_all_multiples_of_a_step_are_sampled_on_it(penguins, tmp_path):
    # Penguins weigh in 25 g and loans lend in 25 dollars: a fifth of loans' sampled amounts fell
    # between (83% multiples of 25 against 100%), a tell of synthetic rows.
    schema = infer_schema(penguins)
    assert schema["body_mass_g"].step == 25 and "multiples of 25" in schema["body_mass_g"].description
    assert schema["flipper_length_mm"].step is None  # 55 distinct lengths, any whole number
    model = Synthesizer(epochs=5, seed=0).fit(penguins)
    rows = model.sample(1000, seed=1)
    assert (rows["body_mass_g"].dropna() % 25 == 0).all()
    assert rows["body_mass_g"].between(schema["body_mass_g"].min, schema["body_mass_g"].max).all()
    model.save(tmp_path / "m.synthvae")
    again = Synthesizer.load(tmp_path / "m.synthvae")
    assert again.schema_["body_mass_g"].step == 25 and again.sample(50, seed=1).equals(model.sample(50, seed=1))
    assert (model.sample(20, conditions={"body_mass_g": {">=": 4010}}, seed=0)["body_mass_g"] >= 4025).all()
    with pytest.raises(ParameterError, match=r"holds whole multiples of 25 only \(its schema's step\); no sampled row can equal"):
        model.sample(5, conditions={"body_mass_g": 4010})
    with pytest.raises(ParameterError, match=r"multiples of 25 only .* none lies in the range"):
        model.sample(5, conditions={"body_mass_g": {">": 4000, "<": 4025}})
    # A list's values off the step are left out (3010 drew rows of 3025, a value not asked for).
    assert model.sample(300, conditions={"body_mass_g": [3010, 4000]}, seed=0)["body_mass_g"].eq(4000).all()
    filled = model.impute(penguins.head(40).assign(body_mass_g=lambda d: d["body_mass_g"].where(d.index % 2 == 0)), seed=0)
    assert (filled["body_mass_g"] % 25 == 0).all()
    # The schema's step is checked against the data, and only integer columns take one.
    off = penguins.assign(body_mass_g=penguins["body_mass_g"].where(penguins.index != 3, 3010))
    with pytest.raises(DataError, match=r"column 'body_mass_g'.*multiples of 25 \(step\) but found \[3010\]"):
        Synthesizer(schema=schema, epochs=1).fit(off)
    for bad, message in (({"step": 2.5}, "key .step.: 2.5 is not of type .integer."), ({"type": "float", "step": 5}, "step is for integer numeric"),
                         ({"min": 4001, "max": 4020}, "no multiple of its step 25 lies from min 4001 to max 4020")):
        document = schema.to_dict()
        column = next(c for c in document["columns"] if c["name"] == "body_mass_g")
        column.update(bad)
        with pytest.raises(SchemaError, match=message):
            type(schema).from_dict(document)
