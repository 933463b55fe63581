"""Detection: can a classifier tell real rows from synthetic ones?

A HistGradientBoosting classifier (scikit-learn defaults; smaller leaves under 200 rows) is
trained to label rows real (0) or synthetic (1) on a balanced sample of both tables, and scored
by ROC AUC with stratified k-fold cross-validation (identical rows, and near copies with the
real rows they copy, in one fold). Range [0, 1]:
0.5 means it cannot tell them apart (the ideal); 1 means every synthetic row is recognisable.
``score`` rescales it as SDMetrics' detection metrics do: ``1 - (2 * max(auc, 0.5) - 1)``, in
[0, 1], higher is better.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from synthvae.evaluation.privacy import RowEmbedding
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
# Near copies (see near_copies): a synthetic row closer to a real row than all but this share of
# real rows lie to their nearest other one shares that row's fold, judged against at most
# NEAR_COPY_REFERENCE real rows' spacing.
NEAR_COPY_SHARE = 0.01
NEAR_COPY_REFERENCE = 2_000
# An AUC below this in every fold is no chance result (see detection's ``below_chance``).
BELOW_CHANCE = 0.45
# Fewer rows a side than this and the AUC is noted as noise (see chance_spread).
MIN_DETECTION_ROWS = 200


def chance_spread(rows_per_side: int, folds: int = DEFAULT_FOLDS) -> float:
    """The standard deviation of a mean over ``folds`` folds of the AUC of rows alike, with
    ``rows_per_side`` rows a side (Mann-Whitney: ``sqrt((2m + 1) / 12) / m`` for ``m`` test rows
    a side in a fold): 5 rows a side, one a fold, spread 0.22 around 0.5."""
    m = max(rows_per_side / folds, 1.0)
    return math.sqrt((2 * m + 1) / 12) / m / math.sqrt(folds)


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
    real_rows = np.sort(rng.choice(real.n_rows, n, replace=False))
    synthetic_rows = np.sort(rng.choice(synthetic.n_rows, n, replace=False))
    x = np.concatenate([x_real[real_rows], x_synth[synthetic_rows]])
    y = np.repeat([0, 1], n)
    embed = RowEmbedding(infos, real)
    partner = near_copies(embed(real.take(real_rows)), embed(synthetic.take(synthetic_rows)))
    with one_thread():
        aucs = _cross_validate(x, y, mask, _folds(x, y, folds, seed, partner), seed)
    auc = float(np.mean(aucs))
    out = {"auc": auc, "score": 1 - (2 * max(auc, 0.5) - 1), "fold_aucs": aucs, "rows_per_side": n}
    if aucs and max(aucs) < BELOW_CHANCE:
        # Every fold well below chance: held-out synthetic rows look like the real rows the
        # classifier learned, as near copies of them do (training rows jittered by sd 0.05
        # scored 0.296, "indistinguishable").
        out["below_chance"] = True
    return out



def near_copies(real: np.ndarray, synthetic: np.ndarray, share: float = NEAR_COPY_SHARE) -> np.ndarray:
    """For each synthetic row (embedded as :class:`~synthvae.evaluation.privacy.RowEmbedding`
    does), the index of the real row it nearly copies, else -1: its nearest real row, where it
    lies closer to it than all but ``share`` of the real rows lie to their nearest other real row
    (at most :data:`NEAR_COPY_REFERENCE` of them measured). Rows of a generator that copies no
    row are partnered about ``share`` of the time; a table of jittered copies, nearly always."""
    from sklearn.neighbors import NearestNeighbors

    reference = real[np.unique(np.linspace(0, len(real) - 1, min(len(real), NEAR_COPY_REFERENCE)).astype(np.int64))]
    with one_thread():
        index = NearestNeighbors(n_neighbors=2).fit(real)
        # The nearest row of a reference row is itself; the next is its nearest other row.
        spacing = np.round(index.kneighbors(reference)[0][:, 1], 6)
        gap, nearest = index.kneighbors(synthetic, n_neighbors=1)
    # Over distinct rows: where 1% of the real rows have an exact twin, the quantile was 0 and no
    # near copy was found (jittered copies scored AUC 0.09 again).
    apart = spacing[spacing > 0]
    limit = float(np.quantile(apart, share)) if apart.size else 0.0
    return np.where(np.round(gap[:, 0], 6) < limit, nearest[:, 0], -1)


def _folds(x: np.ndarray, y: np.ndarray, folds: int, seed: int,
           partner: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds in which identical rows, and synthetic rows with the real rows they
    nearly copy (``partner``: per synthetic row, the index among the real rows, else -1; see
    :func:`near_copies`), share a fold.

    A real row copied into the synthetic table is one point with both labels. Split across
    folds, the copy is learned with one label and tested with the other: a table of copies of
    the training rows scored AUC 0.02 (score 1.0, "indistinguishable") instead of 0.5, and so
    did near copies (churn's training rows with the day minutes jittered by 0.05: AUC 0.039, or
    seattle's with each date a day later: 0.038). Each row goes to the fold of the first row
    equal to it, a near copy to its real row's. When that leaves a fold with one label only (a
    table of one repeated row), the plain stratified folds are used: the repeated row is then
    told apart as it should be.
    """
    from sklearn.model_selection import StratifiedKFold  # scikit-learn loads when used, not at import

    plain = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y))
    fold = np.empty(len(y), dtype=np.int64)
    for k, (_, test_rows) in enumerate(plain):
        fold[test_rows] = k
    # Rows as bytes: equal rows (nulls included) are equal keys.
    keys = np.ascontiguousarray(x).view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    copied = partner is not None and (partner >= 0).any()
    if first.size == len(y) and not copied:
        return plain
    fold = fold[first][inverse.ravel()]
    if copied:
        # Real rows come first in x (y == 0), so a partner's index is its row in x.
        synthetic = np.flatnonzero(y == 1)
        near = partner >= 0
        fold[synthetic[near]] = fold[partner[near]]
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
