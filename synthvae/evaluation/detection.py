"""Detection: can a classifier tell real rows from synthetic ones?

A HistGradientBoosting classifier (scikit-learn defaults; smaller leaves under 200 rows) is
trained to label rows real (0) or synthetic (1) on a balanced sample of both tables, and scored
by ROC AUC with stratified k-fold cross-validation (identical rows in one fold). Range [0, 1]:
0.5 means it cannot tell them apart (the ideal); 1 means every synthetic row is recognisable.
``score`` rescales it as SDMetrics' detection metrics do: ``1 - (2 * max(auc, 0.5) - 1)``, in
[0, 1], higher is better.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from synthvae.evaluation.tables import (
    ColumnInfo,
    PreparedTable,
    boosting,
    category_counts,
    feature_matrix,
    fit_ready,
    one_thread,
)

DEFAULT_ROWS_PER_SIDE = 10_000
DEFAULT_FOLDS = 5


def detection(
    infos: Sequence[ColumnInfo],
    real: PreparedTable,
    synthetic: PreparedTable,
    *,
    rng: np.random.Generator,
    seed: int,
    rows_per_side: int = DEFAULT_ROWS_PER_SIDE,
    folds: int = DEFAULT_FOLDS,
) -> dict:
    """Cross-validated ROC AUC of a real-vs-synthetic classifier.

    Args:
        infos: The evaluated columns (all are features).
        real: The real table.
        synthetic: The synthetic table.
        rng: Draws the balanced sample.
        seed: ``random_state`` of the folds and the model.
        rows_per_side: At most this many rows from each table.
        folds: Number of cross-validation folds.

    Returns:
        ``auc`` (mean over folds), ``score``, ``fold_aucs`` and ``rows_per_side``; ``auc`` is
        ``None`` when a table has fewer rows than folds.
    """
    n = min(real.n_rows, synthetic.n_rows, rows_per_side)
    if n < folds:
        return {"auc": None, "score": None, "fold_aucs": [], "rows_per_side": n,
                "skipped": f"needs at least {folds} rows in each table"}
    counts = category_counts(infos, [real, synthetic])
    x_real, mask = feature_matrix(infos, real, counts=counts)
    x_synth, _ = feature_matrix(infos, synthetic, counts=counts)
    x = np.concatenate([
        x_real[np.sort(rng.choice(real.n_rows, n, replace=False))],
        x_synth[np.sort(rng.choice(synthetic.n_rows, n, replace=False))],
    ])
    y = np.repeat([0, 1], n)
    with one_thread():
        aucs = _cross_validate(x, y, mask, _folds(x, y, folds, seed), seed)
    auc = float(np.mean(aucs))
    return {"auc": auc, "score": 1 - (2 * max(auc, 0.5) - 1), "fold_aucs": aucs,
            "rows_per_side": n}


def _folds(x: np.ndarray, y: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds in which identical rows share a fold.

    A real row copied into the synthetic table is one point with both labels. Split across
    folds, the copy is learned with one label and tested with the other: a table of copies of
    the training rows scored AUC 0.02 (score 1.0, "indistinguishable") instead of 0.5. Each
    row goes to the fold of the first row equal to it. When that leaves a fold with one label
    only (a table of one repeated row), the plain stratified folds are used: the repeated row
    is then told apart as it should be.
    """
    from sklearn.model_selection import StratifiedKFold  # scikit-learn loads when used, not at import

    plain = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y))
    fold = np.empty(len(y), dtype=np.int64)
    for k, (_, test_rows) in enumerate(plain):
        fold[test_rows] = k
    # Rows as bytes: equal rows (nulls included) are equal keys.
    keys = np.ascontiguousarray(x).view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if first.size == len(y):
        return plain
    fold = fold[first][inverse.ravel()]
    grouped = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(folds)]
    if all(np.unique(y[rows]).size == 2 for split in grouped for rows in split):
        return grouped
    return plain


def _cross_validate(x, y, mask, splits, seed: int) -> list[float]:
    from sklearn.metrics import roc_auc_score

    aucs = []
    for fit_rows, test_rows in splits:
        x_fit, fit_mask, (x_test,) = fit_ready(x[fit_rows], mask, x[test_rows])
        if x_fit.shape[1] == 0:  # every feature null on these rows: nothing tells the tables apart
            aucs.append(0.5)
            continue
        model = boosting("classifier", len(fit_rows), fit_mask if fit_mask.any() else None, seed)
        model.fit(x_fit, y[fit_rows])
        aucs.append(float(roc_auc_score(y[test_rows], model.predict_proba(x_test)[:, 1])))
    return aucs
