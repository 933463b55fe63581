"""Privacy: does the synthetic table copy or hug the rows the generator trained on?

* **Distance to closest record (DCR).** Every row is embedded in one vector: continuous columns
  scaled by the spread between the training table's 1st and 99th percentiles (its range where
  they meet), so that a few extreme rows do not squeeze a column out of the distances (plus a
  0/1 null flag where a column has nulls),
  discrete columns one-hot over their most frequent training categories (the rest share an
  "other" slot, nulls have their own), each one-hot block scaled by ``1/sqrt(2)`` so that two
  different categories are as far apart as the two ends of a numeric column's middle 98%. The DCR of a row is
  its Euclidean distance to the nearest training row.
* **Closer-to-train share.** For each synthetic row, whether its nearest training row is closer
  than its nearest held-out row (ties count one half), against as many training as held-out
  rows (the larger table cut into parts of the smaller one's size, at most 8, and the share
  averaged over them) so that a generator that learned the distribution, not the rows, scores
  0.5 (the ideal). Range [0, 1]; above 0.5 means the synthetic rows sit nearer
  the training rows than fresh real rows do. With more training than held-out rows it sees
  copies only in part: a copy of every training row scores ``0.5 + m / (2 n)`` (``m`` held-out,
  ``n`` training rows; 0.625 at an 80/20 split), where its DCR (0) and the privacy check's
  membership attack show them whole.
* **Membership-inference AUC** (with held-out rows). An attacker who holds the synthetic table
  scores each real row by how near its nearest synthetic row lies (nearer: "was trained on"),
  for as many training as held-out rows (at most :data:`ATTACK_ROWS` of each); the ROC AUC of
  those scores at telling training rows from held-out ones. 0.5 is chance (the ideal); 1.0 means
  every training row has a synthetic row nearer than any fresh row's, as copies give. Unlike the
  closer-to-train share it sees every attacked training row, so copies of a part of the table
  move it in full. ``None`` below :data:`MIN_ATTACK_ROWS` rows on either side, where chance
  alone moves it by more than 0.03.
* **Exact copy rate.** The share of synthetic rows equal, in every evaluated column, to some
  training row; range [0, 1], lower is better. The same share for the held-out rows is the
  baseline: what real new rows already collide with (tables with few distinct rows have many).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from synthvae.evaluation.tables import ColumnInfo, PreparedTable, Shape, one_thread

DEFAULT_QUERY_ROWS = 2_000
TOP_CATEGORIES = 50
# Training and held-out rows the membership attack scores (at most, as many of each), the fewest
# it is scored on, and the synthetic rows it measures their distances to (at most). By chance
# alone a membership AUC of m rows a side spreads about sqrt((2m + 1) / 12) / m around 0.5
# (Mann-Whitney): 0.029 at 200 rows, 0.013 at 1,000.
ATTACK_ROWS = 1_000
MIN_ATTACK_ROWS = 200
REFERENCE_ROWS = 20_000
# Parts of the larger real table the closer-to-train share is averaged over (see matched_closer_share).
MATCHED_PARTS = 8
# The privacy check's limit on the membership AUC (either side of 0.5), beyond which evaluate
# notes it: 7 standard errors above chance at 1,000 rows a side.
MEMBERSHIP_LIMIT = 0.6
# Copies (exact or near) beyond the holdout's rate fail privacy_check where chance explains them
# with probability below this (its default limit; see beyond_holdout), and draw a note in evaluate.
COPY_P_VALUE = 0.01


def privacy(
    infos: Sequence[ColumnInfo],
    train: PreparedTable,
    synthetic: PreparedTable,
    holdout: PreparedTable | None,
    *,
    rng: np.random.Generator,
    seed: int = 0,
    train_hashes: np.ndarray | None = None,
    query_rows: int = DEFAULT_QUERY_ROWS,
    resolution: dict[str, float] | None = None,
    train_near_hashes: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    """DCR, closer-to-train share, exact and near copy rates.

    Args:
        infos: The evaluated columns.
        train: The real table the generator trained on.
        synthetic: The synthetic table.
        holdout: Real rows the generator did not see, or ``None`` (then the shares that need it
            are ``None``).
        rng: Draws the query rows of the distance summaries.
        seed: Seeds the closer-to-train share and the membership attack (:func:`attacks`), as
            :func:`~synthvae.evaluation.privacy_check.privacy_check` seeds them: the same tables
            and seed give both the same numbers.
        train_hashes: Row hashes of the whole training table, when ``train`` is a subsample
            (exact copies are looked up among all training rows); by default ``train``'s own.
        query_rows: DCRs are computed for at most this many synthetic (and held-out) rows.
        resolution: The exact-copy checks' :func:`copy_resolution`, with which
            ``train_hashes`` were made; by default ``train``'s own.
        train_near_hashes: :func:`near_hashes` of the whole training table, when ``train`` is a
            subsample, at ``train``'s near resolution (``copy_resolution(train.frame,
            NEAR_RESOLUTION)``); by default ``train``'s own.

    Returns:
        ``dcr_closer_to_train_share``, ``exact_copy_rate``, ``holdout_exact_copy_rate``,
        ``near_copy_rate`` and ``holdout_near_copy_rate`` (rows equal to a training row but for
        numbers within :data:`NEAR_RESOLUTION` of their spread, as privacy_check's near-copy
        check counts them; exact copies among them), ``dcr_synthetic_to_train`` and ``dcr_holdout_to_train`` (median, 5th percentile, mean),
        ``membership_auc`` and the rows a side it attacked (``membership_attack_rows``), and
        ``query_rows``.
    """
    resolution = copy_resolution(train.frame) if resolution is None else resolution
    if train_hashes is None:
        train_hashes = row_hashes(train.frame, resolution)
    near = copy_resolution(train.frame, NEAR_RESOLUTION)
    if train_near_hashes is None:
        train_near_hashes = near_hashes(train.frame, near)
    embed = RowEmbedding(infos, train)
    t = embed(train)
    s_all = embed(synthetic)
    s = s_all[sample_rows(rng, synthetic.n_rows, query_rows)]
    out: dict = {
        "dcr_closer_to_train_share": None,
        "exact_copy_rate": float(np.isin(row_hashes(synthetic.frame, resolution), train_hashes).mean()),
        "holdout_exact_copy_rate": None,
        "near_copy_rate": float(near_copies(near_hashes(synthetic.frame, near), train_near_hashes).mean()),
        "holdout_near_copy_rate": None,
        "dcr_synthetic_to_train": _summary(nearest_distances(s, t)),
        "dcr_holdout_to_train": None,
        "membership_auc": None,
        "membership_attack_rows": None,
        "query_rows": int(s.shape[0]),
    }
    if holdout is None:
        return out
    h_all = embed(holdout)
    h = h_all[sample_rows(rng, holdout.n_rows, query_rows)]
    out["holdout_exact_copy_rate"] = float(np.isin(row_hashes(holdout.frame, resolution), train_hashes).mean())
    out["holdout_near_copy_rate"] = float(near_copies(near_hashes(holdout.frame, near), train_near_hashes).mean())
    out["dcr_holdout_to_train"] = _summary(nearest_distances(h, t))
    found = attacks(t, h_all, s_all, seed)
    out["dcr_closer_to_train_share"], out["membership_auc"] = found.closer_share, found.membership_auc
    out["membership_attack_rows"] = found.rows
    return out


@dataclass(frozen=True)
class Attacks:
    """The distance attacks of :func:`attacks`, and the rows they drew.

    Attributes:
        closer_share: The closer-to-train share.
        membership_auc: The membership attack's ROC AUC (``None`` below
            :data:`MIN_ATTACK_ROWS` rows a side).
        rows: Training and held-out rows attacked, each.
        reference: Indices of the synthetic rows both measure distances to.
        train_rows: Indices of the attacked training rows.
        holdout_rows: Indices of the attacked held-out rows.
    """

    closer_share: float
    membership_auc: float | None
    rows: int
    reference: np.ndarray
    train_rows: np.ndarray
    holdout_rows: np.ndarray


def attacks(train: np.ndarray, holdout: np.ndarray, synthetic: np.ndarray, seed: int, attack_rows: int = ATTACK_ROWS) -> Attacks:
    """The closer-to-train share and the membership attack on embedded rows, from the random
    stream of ``seed`` alone: :func:`privacy` (evaluate's section) and the privacy check draw the
    same rows, so the same tables and seed give the same numbers (they drew apart: 0.547 and
    0.529 for one table). The share is taken over at most :data:`REFERENCE_ROWS` synthetic
    rows; the attack measures its rows' distances to every synthetic row: to a sample of 20,000,
    copies of a third of 200,000 training rows hid among 137,552 synthetic rows (AUC 0.535
    against 0.674 to all of them, a user review)."""
    rng = np.random.default_rng([_ATTACK_STREAM, int(seed)])
    reference = sample_rows(rng, synthetic.shape[0], REFERENCE_ROWS)
    s = synthetic[reference]
    m = min(attack_rows, train.shape[0], holdout.shape[0])
    train_rows, holdout_rows = sample_rows(rng, train.shape[0], m), sample_rows(rng, holdout.shape[0], m)
    share = matched_closer_share(s, train, holdout, rng)
    auc = membership_auc(train[train_rows], holdout[holdout_rows], synthetic) if m >= MIN_ATTACK_ROWS else None
    return Attacks(share, auc, int(m), reference, train_rows, holdout_rows)


_ATTACK_STREAM = 0x5AFE  # the attacks' random stream, beside the seed


# A holdout row the generator never saw equals a training row seen once with the chance Good and
# Turing give (twice the share of training values seen twice); beyond twice that and this much,
# the holdout holds training rows.
OVERLAP_MARGIN = 0.05


def holdout_overlap(train_hashes: np.ndarray, holdout_hashes: np.ndarray) -> tuple[int, float, float] | None:
    """``(rows, share, expected share)`` of held-out rows equal to a row that occurs once in the
    training table (both given by :func:`row_hashes`; the whole training table's, where the
    evaluated one is a subsample), when far more than fresh rows would (Good-Turing: about
    twice the share of training values seen twice), else ``None``: such a holdout holds
    training rows. Rows seen once, not all rows: a table whose rows mostly repeat one common
    row matched any holdout at that row's share and hid the overlap."""
    values, counts = np.unique(train_hashes, return_counts=True)
    expected = min(1.0, 2.0 * float(np.sum(counts == 2)) / max(len(train_hashes), 1))
    inside = np.isin(holdout_hashes, values[counts == 1])
    rate = float(inside.mean()) if len(inside) else 0.0
    return (int(inside.sum()), rate, expected) if rate > 2 * expected + OVERLAP_MARGIN else None


def membership_auc(train: np.ndarray, holdout: np.ndarray, synthetic: np.ndarray) -> float:
    """ROC AUC of the distance-to-synthetic membership attack: embedded ``train`` rows (label 1)
    against ``holdout`` rows (label 0), each scored by minus its distance to the nearest
    ``synthetic`` row."""
    from sklearn.metrics import roc_auc_score  # scikit-learn loads when used, not at import

    scores = -np.concatenate([nearest_distances(train, synthetic), nearest_distances(holdout, synthetic)])
    labels = np.concatenate([np.ones(len(train)), np.zeros(len(holdout))])
    return float(roc_auc_score(labels, scores))


def _closer_share(to_train: np.ndarray, to_holdout: np.ndarray) -> float:
    """Share of synthetic rows whose nearest training row is closer than their nearest held-out
    row, from both distances (ties count one half)."""
    return float(np.mean(to_train < to_holdout) + 0.5 * np.mean(to_train == to_holdout))


def matched_closer_share(synthetic: np.ndarray, train: np.ndarray, holdout: np.ndarray, rng: np.random.Generator,
                         most_parts: int = MATCHED_PARTS) -> float:
    """The closer-to-train share (:func:`_closer_share`) of embedded ``synthetic`` rows against
    as many training as held-out rows: the larger table is cut at random into parts of the
    smaller one's size (at most ``most_parts``), and the share is averaged over the parts. With more rows on one side its nearest row is nearer by
    chance alone (fresh real rows against 500 training and 2,000 held-out rows scored 0.23, not
    0.5); one part alone, as drawn before, moved churn's share by a standard deviation of 0.012
    from one evaluation seed to the next (0.513 to 0.556 over 12 seeds, one fit's rows)."""
    m = min(train.shape[0], holdout.shape[0])
    larger_is_train = train.shape[0] > holdout.shape[0]
    larger, smaller = (train, holdout) if larger_is_train else (holdout, train)
    to_smaller = nearest_distances(synthetic, smaller)
    order = rng.permutation(larger.shape[0])
    shares = []
    for k in range(max(1, min(most_parts, larger.shape[0] // max(m, 1)))):
        to_part = nearest_distances(synthetic, larger[np.sort(order[k * m : (k + 1) * m])])
        shares.append(_closer_share(to_part, to_smaller) if larger_is_train else _closer_share(to_smaller, to_part))
    return float(np.mean(shares))


# Numbers of a column closer than this share of its training spread are one value to the
# exact-copy checks (see copy_resolution).
COPY_RESOLUTION = 1e-9
# ... and to the near-copy check of privacy_check: a training row with one amount moved by a cent
# (24 such rows, 1%, passed every check; a privacy review).
NEAR_RESOLUTION = 1e-3


def copy_resolution(train: pd.DataFrame, share: float = COPY_RESOLUTION) -> dict[str, float]:
    """For each float column of a conformed training table, the difference below which two of
    its numbers are one value to the exact-copy checks: a billionth of the spread between its
    1st and 99th percentiles (its range where they meet; 0, exact, for a constant column), or
    ``share`` of it. A
    generator that standardises and unstandardises a value in float64 changes its last bits:
    bit for bit, a copy of every training row scored 0.882 copies, and incomes times (1 + 1e-12)
    0.002 (a user review); a fixed number of significant digits instead merged float Unix times
    a second apart (18% of distinct rows "copies"). The same resolution must hash every table
    compared (:func:`row_hashes`)."""
    out = {}
    for name, dtype in train.dtypes.items():
        if dtype.kind != "f":
            continue
        values = train[name].to_numpy(dtype=np.float64, na_value=np.nan)
        values = values[np.isfinite(values)] / 2  # halves: a spread of -1e308 to 1e308 stays finite
        spread = halved_spread(values)[2] if values.size else 0.0
        out[str(name)] = 2 * spread * share if np.isfinite(spread) else 0.0
    return out


def halved_spread(halves: np.ndarray) -> tuple[float, float, float]:
    """The 1st and 99th percentiles of a column's finite values, given halved (a spread of
    -1e308 to 1e308 stays finite), and the spread between them (the range where they meet), all
    halved: the spread by which copies are resolved and extremes judged. ``halves`` is not empty."""
    low, high = np.percentile(halves, [1, 99])
    spread = float(high - low) if high > low else float(halves.max() - halves.min())
    return float(low), float(high), spread


def row_hashes(frame: pd.DataFrame, resolution: dict[str, float], offset: float = 0.0) -> np.ndarray:
    """One 64-bit hash per row of a conformed table: rows equal in every column, float columns
    to within their ``resolution`` (:func:`copy_resolution` of the training table, the same for
    every table compared), have equal hashes. ``offset``: the float columns' grid shifted by
    this share of a step (two values a grid line splits share the grid shifted by half)."""
    floats = {}
    for name, step in resolution.items():
        if step > 0 and name in frame.columns and frame[name].dtype.kind == "f":
            values = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
            with np.errstate(all="ignore"):
                keys = np.round(values / step + offset)
            floats[name] = np.where(np.isfinite(keys), keys, values)
    return pd.util.hash_pandas_object(frame.assign(**floats) if floats else frame, index=False).to_numpy()


def near_hashes(frame: pd.DataFrame, near: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """A table's :func:`row_hashes` at a near-copy ``near`` resolution (:func:`copy_resolution`
    of the training table at :data:`NEAR_RESOLUTION`) on two grids half a step apart, so that no
    grid line splits two near values."""
    return row_hashes(frame, near), row_hashes(frame, near, 0.5)


def near_copies(rows: tuple[np.ndarray, np.ndarray], train: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Which rows (their :func:`near_hashes`) equal a training row (its) but for numbers within
    the near resolution: on either grid. Without float columns, the exact copies."""
    return np.isin(rows[0], train[0]) | np.isin(rows[1], train[1])


def beyond_holdout(count: int, n: int, held: int, m: int, p_limit: float) -> tuple[float, float]:
    """How surprising ``count`` of ``n`` synthetic rows are beside ``held`` of ``m`` holdout rows
    by chance alone (one-sided Fisher exact test: the synthetic rate is no higher than the
    holdout's), and the highest share of ``n`` that passes at ``p_limit``. Two samples, not the
    holdout's rate taken as exact: a binomial test at that rate failed 10-38% of tables of first
    names drawn from one population (200 holdout rows), at a nominal 1%."""
    low, high = 0, n  # the largest k that passes: p decreases as k grows
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if holdout_p_value(mid, n, held, m) >= p_limit else (low, mid - 1)
    return holdout_p_value(count, n, held, m), (low / n if n else 0.0)


def holdout_p_value(count: int, n: int, held: int, m: int) -> float:
    """:func:`beyond_holdout`'s p-value alone: how likely ``count`` of ``n`` synthetic rows or
    more are beside ``held`` of ``m`` holdout rows by chance."""
    if count == 0 or not m:
        return 1.0 if count == 0 or not n else 0.0
    from scipy.stats import fisher_exact  # scipy.stats takes a second to import: only when used

    return float(fisher_exact([[count, n - count], [held, m - held]], alternative="greater")[1])


class RowEmbedding:
    """The mixed-type vector of a row, fitted on the training table (see the module docstring).

    Args:
        infos: The columns to embed.
        train: The table whose ranges and frequent categories fix the embedding.
    """

    def __init__(self, infos: Sequence[ColumnInfo], train: PreparedTable) -> None:
        self.infos = infos
        self.parts = []
        for info in infos:
            values = train.arrays[info.name]
            if info.shape is Shape.CONTINUOUS:
                present = values[~np.isnan(values)]
                lo = float(present.min()) if present.size else 0.0
                # In halves, which are exact, so that values spread wider than the largest
                # float (-1e308 to 1e308) do not overflow. The spread between the 1st and 99th
                # percentiles, not the range: one income of 2.3 billion among thousands made
                # every other income's differences vanish from the distances (a user review).
                half_span = halved_spread(present / 2)[2] if present.size else 0.0  # (prepared tables hold no inf)
                self.parts.append((info.name, "continuous", (lo, half_span if half_span > 0 else 0.5)))
            else:
                counts = np.bincount(values[values >= 0], minlength=len(info.categories))
                top = np.argsort(-counts, kind="stable")[:TOP_CATEGORIES]
                top = top[counts[top] > 0]
                slot = np.full(len(info.categories), top.size, dtype="int64")  # "other"
                slot[top] = np.arange(top.size)
                self.parts.append((info.name, "discrete", (slot, top.size)))

    def __call__(self, table: PreparedTable) -> np.ndarray:
        blocks = []
        for name, kind, state in self.parts:
            values = table.arrays[name]
            if kind == "continuous":
                lo, half_span = state
                missing = np.isnan(values)
                blocks.append(np.where(missing, 0.0, (values / 2 - lo / 2) / half_span)[:, None])
                blocks.append(missing.astype("float64")[:, None])
            else:
                slot, n_top = state
                width = n_top + 2  # the top categories, "other", null
                index = np.where(values < 0, n_top + 1, slot[np.maximum(values, 0)])
                onehot = np.zeros((values.size, width))
                onehot[np.arange(values.size), index] = 1 / np.sqrt(2)
                blocks.append(onehot)
        return np.hstack(blocks)


def nearest_distances(queries: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Euclidean distance of every query row to its nearest reference row (ties at 0 exact)."""
    from sklearn.metrics import pairwise_distances_argmin_min

    with one_thread():
        _, distances = pairwise_distances_argmin_min(queries, reference)
    # The distances come from |x|^2 + |y|^2 - 2 x.y, which leaves ~1e-8 of noise where a row is
    # an exact copy; rounding makes equal rows tie at 0.
    return np.round(distances, 6)


def sample_rows(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size, replace=False))


def _summary(distances: np.ndarray) -> dict:
    return {
        "median": float(np.median(distances)),
        "p05": float(np.percentile(distances, 5)),
        "mean": float(distances.mean()),
    }
