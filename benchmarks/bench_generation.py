"""Beyond sampling, measured: conditional sampling, augmentation, imputation, latent embeddings.

For each table (default: churn and german_credit; 80/20 split of common.split):

1. Conditional sampling: seconds for 10,000 rows given the rarest category of a column (about
   1% of rows on churn's ``state``) against an unconditional draw of 10,000 (median of 3, side
   by side); the same for a set of two rare categories, a numeric range and the target's
   minority class with that range; and fidelity: our quality score of the conditional rows against the real training
   rows with that value, next to the unconditional rows filtered to it (what the model's joint
   says) and to the real held-out rows with it (the ceiling).
2. Augmentation of the target: a gradient-boosting classifier trained on real rows, on real
   rows + random oversampling, on real rows + ``augment(balance=True)`` (of the default model,
   and of one fitted with ``Synthesizer(target=...)``, as ``synthvae augment`` fits it); macro
   F1 and minority recall on the held-out rows. ``synthvae_balance_seeds``: the default model's
   mean over ``--augment-fits`` fits (seeds 0, 1, ...), as one fit's scores vary by seed.
3. Imputation: 20% of held-out cells masked at random (MCAR); RMSE of standardised numerics and
   accuracy on categoricals for synthvae ``impute`` (method mean, on the columns' grids, and
   method expectation, off them), column mean/mode, and
   scikit-learn's IterativeImputer (categoricals one-hot, the largest chosen), each learning
   from the training rows as synthvae does, the imputer as it fills
   integer columns (with fractions) and rounded to the schema's grid (a table the schema allows).
4. The target given the rest of the row: the model's own conditional (the target hidden in each
   held-out row, 64 draws of it: ROC AUC of the share of draws in a class, or macro F1 of the
   most frequent draw), beside TSTR and TRTR on the same held-out rows.
5. Embedding (of the default model and of the target-fitted one): 5-nearest-neighbour accuracy (5-fold) of the target from the latent means against
   PCA of the encoded matrix with the same number of dimensions.

Run: ``python benchmarks/bench_generation.py [--tables churn german_credit] [--epochs N]``.
Writes ``benchmarks/results/generation.{json,md}``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ClassScorer, days, load, machine, randomised_pit, split, target_of, write_results  # noqa: E402

from synthvae import Synthesizer  # noqa: E402
from synthvae.synthesizer import AUGMENT_GUIDANCE  # noqa: E402
from synthvae.evaluation import evaluate  # noqa: E402
from synthvae.schema import ColumnKind  # noqa: E402

CONDITION_COLUMN = {"churn": "state", "german_credit": "purpose"}


def _quality(real: pd.DataFrame, synthetic: pd.DataFrame, schema) -> float:
    return float(evaluate(real, synthetic, schema=schema, metrics=["quality"], seed=0).score)


def _halves(rows: pd.DataFrame, schema) -> float:
    """The quality of one half of the model's own rows against the other: what a conditional
    sampler that follows the model exactly scores against them, up to the halves' size."""
    half = len(rows) // 2
    return _quality(rows.iloc[:half], rows.iloc[half:], schema)


def _timed(syn: Synthesizer, n: int, conditions, reps: int = 3) -> tuple[pd.DataFrame, float, float]:
    """Rows for ``conditions``, and the median seconds of that draw and of an unconditional
    draw of as many rows, measured alternately."""
    syn.sample(100, conditions=conditions, seed=0)  # warm up
    cond_s, uncond_s = [], []
    for rep in range(reps):
        started = time.perf_counter()
        rows = syn.sample(n, conditions=conditions, seed=rep)
        cond_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        syn.sample(n, seed=rep)
        uncond_s.append(time.perf_counter() - started)
    return rows, float(np.median(cond_s)), float(np.median(uncond_s))


def other_conditions(syn: Synthesizer, train: pd.DataFrame, column: str, target: str) -> dict:
    """For a set of two categories (the rarest two), the target's minority class, a numeric range
    (the top decile of the widest numeric column), the minority class with that range and two
    ranges (the top fifths of the two widest numeric columns, the second not a rescaling of the
    first): the
    time of 10,000 rows against an unconditional draw, the share of real training rows that
    satisfy it, and the quality of the rows against those real rows (beside that of a filtered
    unconditional draw: the model's own conditional), and the quality of the rows against the
    model's own rows that satisfy it (up to 20,000 of the filtered draw of 400,000): how closely the
    conditional sampler follows the model, without the model's own error."""
    counts = train[column].value_counts()
    numeric = [c.name for c in syn.schema_ if c.kind is ColumnKind.NUMERIC]
    by_width = sorted(numeric, key=lambda c: pd.to_numeric(train[c]).nunique(), reverse=True)
    wide = by_width[0]
    # The next widest that is not the first over again (churn's total_day_charge is its minutes
    # times a rate).
    second = next(c for c in by_width[1:] if abs(pd.to_numeric(train[wide]).corr(pd.to_numeric(train[c]))) < 0.9)
    low = float(pd.to_numeric(train[wide]).quantile(0.9))
    fifths = (float(pd.to_numeric(train[wide]).quantile(0.8)), float(pd.to_numeric(train[second]).quantile(0.8)))
    minority = train[target].astype(str).value_counts().index[-1]
    rare = [counts.index[-1], counts.index[-2]]

    def in_rare(frame):
        return frame[column].astype(str).isin([str(v) for v in rare])

    def is_minority(frame):
        return frame[target].astype(str) == minority

    def in_range(frame):
        return pd.to_numeric(frame[wide]) >= low

    def in_fifths(frame):
        return (pd.to_numeric(frame[wide]) >= fifths[0]) & (pd.to_numeric(frame[second]) >= fifths[1])

    cases = {
        f"{column} in [{rare[0]}, {rare[1]}]": ({column: rare}, in_rare),
        f"{target} = {minority}": ({target: minority}, is_minority),
        f"{wide} >= {low:g}": ({wide: {">=": low}}, in_range),
        f"{target} = {minority} and {wide} >= {low:g}": ({target: minority, wide: {">=": low}}, lambda f: is_minority(f) & in_range(f)),
        f"{wide} >= {fifths[0]:g} and {second} >= {fifths[1]:g}": ({wide: {">=": fifths[0]}, second: {">=": fifths[1]}}, in_fifths),
    }
    big = syn.sample(400_000, seed=11)
    out = {}
    for label, (conditions, mask) in cases.items():
        rows, cond_s, uncond_s = _timed(syn, 10_000, conditions)
        real, filtered = train[mask(train).to_numpy()], big[mask(big).to_numpy()]
        out[label] = {
            "share": float(len(real) / len(train)),
            "seconds_conditional": cond_s,
            "seconds_unconditional": uncond_s,
            "time_ratio": cond_s / uncond_s,
            "all_rows_satisfy": bool(mask(rows).all()),
            "quality_conditional": _quality(real, rows, syn.schema_),
            "quality_filtered_unconditional": _quality(real, filtered.iloc[:10_000], syn.schema_) if len(filtered) >= 20 else None,
            "quality_vs_model": _quality(filtered.iloc[:20_000], rows, syn.schema_) if len(filtered) >= 1_000 else None,
            "quality_vs_model_ceiling": _halves(filtered.iloc[:20_000], syn.schema_) if len(filtered) >= 1_000 else None,
        }
    return out


def conditional(syn: Synthesizer, train: pd.DataFrame, holdout: pd.DataFrame, column: str) -> dict:
    counts = train[column].value_counts()
    value = counts.index[-1]
    rows, cond_s, uncond_s = _timed(syn, 10_000, {column: value})
    real_subset = train[train[column] == value]
    big = syn.sample(200_000, seed=11)
    filtered = big[big[column].astype(str) == str(value)]
    held = holdout[holdout[column] == value]
    schema = syn.schema_
    return {
        "column": column,
        "value": str(value),
        "share": float(counts.iloc[-1] / counts.sum()),
        "real_rows": int(len(real_subset)),
        "seconds_conditional": cond_s,
        "seconds_unconditional": uncond_s,
        "time_ratio": cond_s / uncond_s,
        "all_rows_satisfy": bool((rows[column].astype(str) == str(value)).all()),
        "quality_conditional": _quality(real_subset, rows, schema),
        "quality_filtered_unconditional": _quality(real_subset, filtered, schema) if len(filtered) >= 20 else None,
        "quality_vs_model": _quality(filtered, rows, schema) if len(filtered) >= 20 else None,
        "quality_vs_model_ceiling": _halves(filtered, schema) if len(filtered) >= 40 else None,
        "filtered_rows": int(len(filtered)),
        "quality_holdout_ceiling": _quality(real_subset, held, schema) if len(held) >= 5 else None,
    }


def augmentation(syn: Synthesizer, train: pd.DataFrame, holdout: pd.DataFrame, target: str,
                 targeted: Synthesizer | None = None, others: list[Synthesizer] = ()) -> dict:
    """Macro F1 and minority recall of a classifier trained on real rows, randomly oversampled
    rows, SMOTE-NC rows (imbalanced-learn, when installed) and ``augment(balance=True)`` rows at
    augment's default guidance and at guidance 1 (the model's own rows of each class); given
    ``targeted``, a model fitted with ``Synthesizer(target=target)``. With ``others`` (the same
    model fitted with other seeds) also the mean over ``syn`` and them: one fit's scores vary by
    a few hundredths from seed to seed (german_credit's macro F1 0.65-0.73).
    ``bench_augment.py`` sweeps the guidance."""
    categorical = [c.name for c in syn.schema_ if c.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)]
    score = ClassScorer(train, holdout, target, categorical)

    def balanced(model: Synthesizer, **kwargs) -> pd.DataFrame:
        return model.augment(train, target=target, balance=True, seed=0, **kwargs).drop(columns=["synthetic"])

    result = {"minority": score.minority, "guidance": AUGMENT_GUIDANCE, "real": score(train), "random_oversampling": score(oversampled(train, target)),
              "synthvae_balance": score(balanced(syn)), "synthvae_balance_guidance_1": score(balanced(syn, guidance=1))}
    if others:
        each = [result["synthvae_balance"]] + [score(balanced(m)) for m in others]
        result["synthvae_balance_seeds"] = {k: float(np.mean([e[k] for e in each])) for k in ("macro_f1", "minority_recall", "minority_roc_auc")}
        result["synthvae_balance_seeds"]["fits"] = len(each)
    if targeted is not None:
        result["synthvae_balance_target"] = score(balanced(targeted))
    # SMOTE-NC (Chawla et al., 2002): each new minority row interpolates the numbers of a real
    # minority row and one of its 5 nearest minority neighbours and takes their categories by
    # majority vote, up to equal class counts, as balance=True does.
    smoted = smote_nc(train, target, score.categorical)
    result["smote_nc"] = score(smoted) if smoted is not None else "imbalanced-learn not installed"
    return result


def oversampled(train: pd.DataFrame, target: str, seed: int = 0) -> pd.DataFrame:
    """``train`` with random copies of its own rows added, class by class, up to equal class counts."""
    rng = np.random.default_rng(seed)
    counts = train[target].astype(str).value_counts()
    extra = []
    for value, count in counts.items():
        pool = train[train[target].astype(str) == value]
        extra.append(pool.iloc[rng.integers(0, len(pool), counts.max() - count)])
    return pd.concat([train, *extra], ignore_index=True)


def smote_nc(train: pd.DataFrame, target: str, categorical: list[str], seed: int = 0) -> pd.DataFrame | None:
    """``train`` with SMOTE-NC rows added (SMOTE when no column is categorical) up to equal class
    counts; ``None`` when imbalanced-learn is not installed."""
    try:
        from imblearn.over_sampling import SMOTE, SMOTENC
    except ImportError:
        return None
    features = train.drop(columns=[target]).copy()
    for name in features.columns:
        if name in categorical:
            features[name] = features[name].astype("string").astype(object)
        elif pd.api.types.is_numeric_dtype(features[name]) or pd.api.types.is_bool_dtype(features[name]):
            features[name] = pd.to_numeric(features[name]).astype(float)
        else:  # datetimes as days, as ClassScorer reads them
            features[name] = days(features[name])
    positions = [features.columns.get_loc(c) for c in categorical]
    sampler = SMOTENC(categorical_features=positions, random_state=seed) if positions else SMOTE(random_state=seed)
    x_new, y_new = sampler.fit_resample(features, train[target].astype(str))
    return pd.DataFrame(x_new, columns=features.columns).assign(**{target: np.asarray(y_new)})


IMPUTERS = ("synthvae", "synthvae_expectation", "mean_mode", "iterative_imputer", "iterative_imputer_on_grid")


def imputation(syn: Synthesizer, train: pd.DataFrame, holdout: pd.DataFrame, masks: int = 3) -> dict:
    """20% of the held-out rows' learned cells hidden at random (MCAR), filled by each imputer:
    the means over ``masks`` masks (seeds 0, 1, ...; german_credit's 200 rows hide about 40
    cells a numeric column, so one mask decides little), and each mask's numbers. Every
    imputer learns from the training rows, as synthvae did (the baselines were fitted on the
    200 / 1,000 masked held-out rows alone, and IterativeImputer regressed categories on
    alphabetical codes: a review of 2026-12-03 found both handicapped it)."""
    runs = [_imputation_once(syn, train, holdout, seed) for seed in range(masks)]
    summary = {"masks": masks, "masked_cells": sum(r["masked_cells"] for r in runs), "per_mask": runs}
    if runs and runs[0]["multiple_imputation_coverage90"] is not None:
        summary["multiple_imputation_coverage90"] = float(np.mean([r["multiple_imputation_coverage90"] for r in runs]))
        summary["multiple_imputation_pit_tails"] = np.mean([r["multiple_imputation_pit_tails"] for r in runs], axis=0).tolist()
        summary["multiple_imputation_coverage90_model_rows"] = model_rows_coverage(syn, holdout, masks)
    for name in IMPUTERS:
        summary[name] = {key: float(np.mean([r[name][key] for r in runs])) if runs[0][name][key] is not None else None
                         for key in runs[0][name]}
    return summary


def _masked(syn: Synthesizer, rows: pd.DataFrame, mask_seed: int):
    """The learned columns (numeric and the others' names), the rows (index 0..n-1), which cells
    to hide (20% at random, MCAR) and the rows with them hidden."""
    learned = [c for c in syn.schema_ if c.kind in (ColumnKind.NUMERIC, ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)]
    truth = rows.reset_index(drop=True)
    rng = np.random.default_rng(mask_seed)
    mask = pd.DataFrame(rng.random((len(truth), len(learned))) < 0.2, columns=[c.name for c in learned])
    holed = truth.copy()
    for name in mask.columns:
        holed[name] = holed[name].mask(mask[name].to_numpy())
    return learned, truth, mask, holed


def _pit(syn: Synthesizer, truth: pd.DataFrame, holed: pd.DataFrame, mask: pd.DataFrame, numeric: list[str],
         mask_seed: int, draws: int = 20) -> np.ndarray:
    """Multiple imputation's calibration: where each hidden numeric value falls among its
    ``draws`` draws (:func:`common.randomised_pit`: in the central 90% for 0.90 of the cells
    when the draws come from the right conditional)."""
    tables = syn.impute(holed, method="draw", draws=draws, seed=1)
    pits = []
    tie_rng = np.random.default_rng(1000 + mask_seed)
    for c in numeric:
        m = mask[c].to_numpy()
        drawn = np.column_stack([pd.to_numeric(t[c]).to_numpy(float)[m] for t in tables])
        pits.append(randomised_pit(drawn, pd.to_numeric(truth[c]).to_numpy(float)[m], tie_rng))
    return np.concatenate(pits) if pits else np.zeros(0)


def _coverage(pit: np.ndarray) -> dict:
    return {"multiple_imputation_coverage90": float(((pit > 0.05) & (pit < 0.95)).mean()) if pit.size else None,
            "multiple_imputation_pit_tails": [float((pit <= 0.05).mean()), float((pit >= 0.95).mean())] if pit.size else None}


def model_rows_coverage(syn: Synthesizer, holdout: pd.DataFrame, masks: int = 3) -> float | None:
    """Multiple imputation's coverage on rows the model itself generates (as many as the
    held-out rows, in their dtypes), whose hidden values come from the model's own conditional:
    it measures the sampler alone, where the held-out rows measure the model too."""
    own = syn.sample(len(holdout), seed=7).astype(holdout.dtypes.to_dict())
    pits = []
    for seed in range(masks):
        learned, truth, mask, holed = _masked(syn, own, seed)
        pits.append(_pit(syn, truth, holed, mask, [c.name for c in learned if c.kind is ColumnKind.NUMERIC], seed))
    return _coverage(np.concatenate(pits))["multiple_imputation_coverage90"]


def _imputation_once(syn: Synthesizer, train: pd.DataFrame, holdout: pd.DataFrame, mask_seed: int) -> dict:
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    learned, truth, mask, holed = _masked(syn, holdout, mask_seed)
    numeric = [c.name for c in learned if c.kind is ColumnKind.NUMERIC]
    categorical = [c.name for c in learned if c.kind is not ColumnKind.NUMERIC]

    scale = {c: float(pd.to_numeric(truth[c]).std() or 1.0) for c in numeric}

    def errors(filled: pd.DataFrame) -> dict:
        sq, hits, total = [], 0, 0
        for c in numeric:
            m = mask[c].to_numpy()
            sq.append(((pd.to_numeric(filled[c]).to_numpy(float)[m] - pd.to_numeric(truth[c]).to_numpy(float)[m]) / scale[c]) ** 2)
        for c in categorical:
            m = mask[c].to_numpy()
            hits += int((filled[c].astype(str).to_numpy()[m] == truth[c].astype(str).to_numpy()[m]).sum())
            total += int(m.sum())
        return {
            "numeric_rmse_std": float(np.sqrt(np.concatenate(sq).mean())) if sq else None,
            "categorical_accuracy": hits / total if total else None,
        }

    started = time.perf_counter()
    ours = syn.impute(holed, method="mean", seed=0)
    ours_seconds = time.perf_counter() - started
    # The expected values off the columns' grids (1.56 service calls), as IterativeImputer fills them.
    started = time.perf_counter()
    expected = syn.impute(holed, method="expectation", seed=0)
    expected_seconds = time.perf_counter() - started
    baseline = holed.copy()
    for c in numeric:
        baseline[c] = pd.to_numeric(baseline[c]).fillna(pd.to_numeric(train[c]).mean())
    for c in categorical:
        baseline[c] = baseline[c].astype(object).fillna(train[c].mode().iloc[0])
    # IterativeImputer (BayesianRidge per column) fitted on the training rows, categories one-hot
    # (a hidden category: its indicators unknown, the largest imputed one chosen).
    codes = {c: sorted(set(train[c].dropna().astype(str)) | set(truth[c].dropna().astype(str))) for c in categorical}

    def encoded(frame: pd.DataFrame) -> pd.DataFrame:
        parts = [pd.DataFrame({c: pd.to_numeric(frame[c]).to_numpy(float) for c in numeric})]
        for c in categorical:
            hidden = frame[c].isna().to_numpy()
            text = frame[c].astype(object).where(~hidden, "").astype(str).to_numpy()
            block = np.column_stack([(text == k).astype(float) for k in codes[c]])
            block[hidden] = np.nan
            parts.append(pd.DataFrame(block, columns=[f"{c}={k}" for k in codes[c]]))
        return pd.concat(parts, axis=1)

    started = time.perf_counter()
    imputer = IterativeImputer(random_state=0, max_iter=10).fit(encoded(train.reset_index(drop=True)))
    completed = pd.DataFrame(imputer.transform(encoded(holed)), columns=encoded(holed.head(0)).columns)
    iterative_seconds = time.perf_counter() - started
    iterative = holed.copy()
    for c in numeric:
        iterative[c] = completed[c]
    for c in categorical:
        block = completed[[f"{c}={k}" for k in codes[c]]].to_numpy()
        iterative[c] = np.asarray(codes[c], dtype=object)[block.argmax(1)]
    # IterativeImputer fills integer columns with fractions (1.56 service calls), which the
    # schema does not allow; synthvae's cells are on the column's grid. Both, side by side.
    valid = iterative.copy()
    for c in learned:
        if c.kind is ColumnKind.NUMERIC and (c.is_integer or c.decimals is not None):
            valid[c.name] = np.round(pd.to_numeric(valid[c.name]), 0 if c.is_integer else c.decimals)
    pit = _pit(syn, truth, holed, mask, numeric, mask_seed)
    return {
        "masked_cells": int(mask.to_numpy().sum()),
        **_coverage(pit),
        "synthvae": {**errors(ours), "seconds": ours_seconds},
        "synthvae_expectation": {**errors(expected), "seconds": expected_seconds},
        "mean_mode": errors(baseline),
        "iterative_imputer": {**errors(iterative), "seconds": iterative_seconds},
        "iterative_imputer_on_grid": errors(valid),
    }


def target_given_row(syn: Synthesizer, train: pd.DataFrame, holdout: pd.DataFrame, target: str, draws: int = 64) -> dict:
    """The model's own conditional of the target given the rest of each held-out row (the
    target hidden, ``draws`` draws of it per row): its ROC AUC (binary: the share of draws in a
    class as that class's score) or macro F1 (the most frequent draw), beside the same metric of
    the held-out rows' TSTR / TRTR classifier (HistGradientBoosting on the synthetic / real
    training rows). A classifier trained on the model's rows can hardly beat the model's own
    conditional, so this bounds TSTR from the model's side."""
    from sklearn.metrics import f1_score, roc_auc_score

    truth = holdout.reset_index(drop=True)
    rows = truth.iloc[:2000]
    started = time.perf_counter()
    tables = syn.impute(rows.assign(**{target: None}), method="draw", draws=draws, columns=[target], seed=0)
    seconds = time.perf_counter() - started
    drawn = np.column_stack([t[target].astype(str).to_numpy() for t in tables])
    actual = rows[target].astype(str).to_numpy()
    classes = sorted(train[target].astype(str).unique())
    if len(classes) == 2:
        score = float(roc_auc_score(actual == classes[1], (drawn == classes[1]).mean(1)))
        metric = "roc_auc"
    else:
        counts = np.stack([(drawn == c).sum(1) for c in classes], axis=1)
        score = float(f1_score(actual, np.asarray(classes)[counts.argmax(1)], average="macro", zero_division=0))
        metric = "macro_f1"
    utility = evaluate(train, syn.sample(len(train), seed=1), holdout=holdout, target=target, seed=0,
                       metrics=["utility"]).to_dict()["utility"]
    return {"metric": metric, "model_conditional": score, "tstr": utility["tstr"], "trtr": utility["trtr"],
            "rows": len(rows), "draws": draws, "seconds": seconds}


def embedding(syn: Synthesizer, train: pd.DataFrame, target: str) -> dict:
    from sklearn.decomposition import PCA
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    rows = train.sample(min(len(train), 5000), random_state=0).reset_index(drop=True)
    latent = syn.encode(rows).to_numpy()
    # The matrix the model is fed: the model's table (derived columns left out: computed from
    # the others, they add nothing).
    encoded = syn.preprocessor_.transform(syn.constraints_.forward(syn._conformed(rows, "rows")))
    y = rows[target].astype(str)
    # Compare at the latent's effective size: its principal components keeping 99% of the
    # variance (most of the 64 dimensions of a VAE's latent are inactive), against as many
    # principal components of the encoded matrix. Both see the whole row, target included.
    values = np.linalg.svd(latent - latent.mean(0), compute_uv=False) ** 2
    dims = int(np.searchsorted(np.cumsum(values) / values.sum(), 0.99) + 1)
    latent = PCA(n_components=dims, random_state=0).fit_transform(latent)
    pca = PCA(n_components=min(dims, encoded.shape[1]), random_state=0).fit_transform(encoded)
    knn = KNeighborsClassifier(n_neighbors=5)
    return {
        "dims": int(dims),
        "knn_accuracy_latent": float(cross_val_score(knn, latent, y, cv=5).mean()),
        "knn_accuracy_pca": float(cross_val_score(knn, pca, y, cv=5).mean()),
        "majority_share": float(y.value_counts(normalize=True).iloc[0]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="+", default=["churn", "german_credit"])
    parser.add_argument("--epochs", type=int, default=None, help="Training epochs (default: synthvae's default).")
    parser.add_argument("--quick", action="store_true", help="Harness check: 3 epochs, results under the stem generation_quick.")
    parser.add_argument("--stem", default="generation")
    parser.add_argument("--categorical-balance", type=float, default=None,
                        help="Synthesizer(categorical_balance=...) (default: synthvae's default)")
    parser.add_argument("--augment-fits", type=int, default=4,
                        help="augmentation is also averaged over this many fits (seeds 0, 1, ...; default 4)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own; 1 beside another busy process, "
                             "where 2 spinning threads made a churn fit take 379 s instead of ~10)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.epochs, args.stem = 3, "generation_quick"
    results = {"machine": machine(), "categorical_balance": args.categorical_balance, "tables": {}}
    lines = ["# Conditional sampling, augmentation, imputation, embeddings", ""]
    if args.categorical_balance is not None:
        lines += [f"Synthesizer(categorical_balance={args.categorical_balance:g})", ""]
    for name in args.tables:
        frame = load(name)
        target = target_of(name)
        train, holdout = split(frame)
        started = time.perf_counter()
        syn = Synthesizer(epochs=args.epochs, categorical_balance=args.categorical_balance, seed=0).fit(train)
        fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        syn.conditional_  # trained on first use; timed here, apart from the draws below
        prior_seconds = time.perf_counter() - started
        entry = {"fit_seconds": fit_seconds, "conditional_prior_seconds": prior_seconds, "target": target}
        entry["conditional"] = conditional(syn, train, holdout, CONDITION_COLUMN.get(name, target))
        entry["other_conditions"] = other_conditions(syn, train, CONDITION_COLUMN.get(name, target), target)
        targeted = Synthesizer(epochs=args.epochs, categorical_balance=args.categorical_balance, target=target, seed=0).fit(train)
        others = [Synthesizer(epochs=args.epochs, categorical_balance=args.categorical_balance, seed=seed).fit(train)
                  for seed in range(1, args.augment_fits)]
        entry["augmentation"] = augmentation(syn, train, holdout, target, targeted, others)
        entry["imputation"] = imputation(syn, train, holdout)
        entry["target_given_row"] = target_given_row(syn, train, holdout, target)
        entry["embedding"] = embedding(syn, train, target)
        entry["embedding_target"] = embedding(targeted, train, target)
        results["tables"][name] = entry
        print(name, entry, flush=True)
        c, a, i, e = entry["conditional"], entry["augmentation"], entry["imputation"], entry["embedding"]
        fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        lines += [
            f"## {name} (target {target}; fit {fit_seconds:.1f} s, then the conditional prior {prior_seconds:.1f} s on first use)",
            "",
            f"- conditional `{c['column']} = {c['value']}` ({c['share']:.1%} of rows): 10k rows in {c['seconds_conditional']:.3f} s vs "
            f"{c['seconds_unconditional']:.3f} s unconditional (x{c['time_ratio']:.2f}); all satisfy: {c['all_rows_satisfy']}; quality vs real rows "
            f"with it: conditional {c['quality_conditional']:.3f}, filtered unconditional {fmt(c['quality_filtered_unconditional'])}, "
            f"held-out ceiling {fmt(c['quality_holdout_ceiling'])}; against the model's own rows with it ({c['filtered_rows']:,} of 200k "
            f"unconditional): {fmt(c['quality_vs_model'])} (one half of those against the other: {fmt(c['quality_vs_model_ceiling'])})",
            "",
            "| other conditions (10k rows) | share of real rows | seconds | unconditional s | ratio | all satisfy | quality vs real rows with it | filtered unconditional | vs the model's own rows with it | their halves |",
            "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
            *[f"| `{k}` | {v['share']:.1%} | {v['seconds_conditional']:.3f} | {v['seconds_unconditional']:.3f} | x{v['time_ratio']:.2f} "
              f"| {v['all_rows_satisfy']} | {v['quality_conditional']:.3f} | {fmt(v['quality_filtered_unconditional'])} | {fmt(v['quality_vs_model'])} | {fmt(v['quality_vs_model_ceiling'])} |"
              for k, v in entry["other_conditions"].items()],
            "",
            "| training data | macro F1 | minority recall | minority ROC AUC |",
            "| --- | --- | --- | --- |",
            *[f"| {k} | {a[k]['macro_f1']:.3f} | {a[k]['minority_recall']:.3f} | {a[k]['minority_roc_auc']:.3f} |"
              for k in ("real", "random_oversampling", "smote_nc", "synthvae_balance", "synthvae_balance_guidance_1", "synthvae_balance_seeds",
                        "synthvae_balance_target")
              if isinstance(a.get(k), dict)],
            "",
            f"| imputer (means over {i['masks']} MCAR masks of 20%) | numeric RMSE (std units) | categorical accuracy | numeric RMSE per mask |",
            "| --- | --- | --- | --- |",
            *[f"| {k} | {fmt(i[k]['numeric_rmse_std'])} | {fmt(i[k]['categorical_accuracy'])} | "
              f"{' / '.join(fmt(r[k]['numeric_rmse_std']) for r in i['per_mask'])} |" for k in IMPUTERS if k in i],
            "",
            f"- multiple imputation (`method=\"draw\"`, 20 draws): the hidden numeric value lies in the central 90% of its draws "
            f"(randomised PIT; 0.90 for draws from the right conditional) for {fmt(i.get('multiple_imputation_coverage90'))} of the "
            f"held-out rows' hidden cells (below / above: {' / '.join(fmt(t) for t in i.get('multiple_imputation_pit_tails') or [])}), "
            f"and for {fmt(i.get('multiple_imputation_coverage90_model_rows'))} on as many rows of the model's own (the sampler alone)",
            "",
            f"- `{target}` given the rest of the row ({entry['target_given_row']['metric']}, {entry['target_given_row']['rows']} held-out rows): "
            f"the model's own conditional ({entry['target_given_row']['draws']} draws) {entry['target_given_row']['model_conditional']:.3f}, "
            f"TSTR {entry['target_given_row']['tstr']:.3f}, TRTR {entry['target_given_row']['trtr']:.3f}",
            f"- kNN accuracy of `{target}` ({e['dims']} dims): latent {e['knn_accuracy_latent']:.3f}, PCA {e['knn_accuracy_pca']:.3f}, majority {e['majority_share']:.3f}",
            f"- the same of a model fitted with `Synthesizer(target={target!r})` ({entry['embedding_target']['dims']} dims): latent "
            f"{entry['embedding_target']['knn_accuracy_latent']:.3f}, PCA {entry['embedding_target']['knn_accuracy_pca']:.3f}",
            "",
        ]
    lines.append(f"Machine: {results['machine']}")
    path = write_results(args.stem, results, lines)
    print("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
