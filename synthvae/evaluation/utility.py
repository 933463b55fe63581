"""Machine-learning utility: is the synthetic table as useful as the real one for a model?

TSTR (train on synthetic, test on real) fits scikit-learn's HistGradientBoosting with its
default settings (smaller leaves under 200 rows: :func:`~synthvae.evaluation.tables.boosting`)
on the synthetic rows and scores it on real held-out rows; TRTR (train on real,
test on real) fits the same model on the real training rows and scores it on the same held-out
rows. TRTR is the ceiling of TSTR. The score depends on the target's task:

==============  ================  ==========================  =====================
task            target            score                       range, direction
==============  ================  ==========================  =====================
binary          2 categories, or  ROC AUC                     [0, 1], higher better
                2 numbers (0/1)
multiclass      > 2 categories    macro-averaged F1           [0, 1], higher better
regression      other numbers     R^2                         (-inf, 1], higher better
==============  ================  ==========================  =====================
"""

from __future__ import annotations

import enum
from typing import Sequence

import numpy as np

from synthvae.errors import DataError
from synthvae.evaluation.tables import (
    LARGE,
    ColumnInfo,
    PreparedTable,
    Shape,
    boosting,
    category_counts,
    feature_matrix,
    fit_ready,
    one_thread,
)
from synthvae.schema import ColumnKind


class Task(str, enum.Enum):
    """What kind of prediction the target asks for."""

    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"


_SCORE_NAME = {Task.BINARY: "roc_auc", Task.MULTICLASS: "macro_f1", Task.REGRESSION: "r2"}


def _nearest_class(values: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Each value as the index (0 or 1) of the nearer of two numeric classes."""
    return np.abs(np.asarray(values, dtype=np.float64)[:, None] - classes[None, :]).argmin(1)


def task_of(info: ColumnInfo, train: PreparedTable) -> Task:
    """The task a target column defines.

    Raises:
        DataError: The target is a datetime column, or has fewer than two classes in the real
            training data, or more classes than half its rows (over 20; scikit-learn's mark of a
            number or an identifier rather than a class).
    """
    if info.kind is ColumnKind.DATETIME:
        raise DataError(f"target column {info.name!r} is a datetime column; pick a numeric or "
                        f"categorical target")
    if info.shape is Shape.CONTINUOUS:
        # Two values (0/1 labels of churn, fraud or default): a class, not a quantity.
        return Task.BINARY if distinct_values(info, train) == 2 else Task.REGRESSION
    codes = train.arrays[info.name]
    n_classes = distinct_values(info, train)
    if n_classes < 2:
        raise DataError(f"target column {info.name!r} has {n_classes} class(es) in the real data; "
                        f"a classifier needs at least two")
    rows = int((codes >= 0).sum())
    if rows > 20 and n_classes > round(0.5 * rows):
        raise DataError(f"target column {info.name!r} has {n_classes} classes in {rows} rows: more "
                        f"than a classifier can learn (an identifier?); pick another target")
    return Task.BINARY if n_classes == 2 else Task.MULTICLASS


def distinct_values(info: ColumnInfo, table: PreparedTable) -> int:
    """How many distinct present values ``table`` holds of ``info``'s column (0 if it lacks it)."""
    values = table.arrays.get(info.name)
    if values is None:
        return 0
    present = values[~np.isnan(values)] if info.shape is Shape.CONTINUOUS else values[values >= 0]
    return int(np.unique(present).size)


def utility(
    infos: Sequence[ColumnInfo],
    target: str,
    train: PreparedTable,
    synthetic: PreparedTable,
    test: PreparedTable,
    *,
    seed: int,
) -> dict:
    """TSTR and TRTR for one target column.

    Args:
        infos: The evaluated columns.
        target: The column to predict from all the others.
        train: The real training table (TRTR trains on it).
        synthetic: The synthetic table (TSTR trains on it).
        test: Real rows neither model trained on.
        seed: ``random_state`` of the models (their early-stopping split).

    Returns:
        ``target``, ``task``, ``metric``, ``tstr``, ``trtr``, ``train_rows`` and ``test_rows``;
        a score is ``None`` when its training rows have no target or no feature.

    Raises:
        DataError: The target cannot be scored: a datetime, a single class, no other column to
            predict it from, or too few test rows.
    """
    info = next(i for i in infos if i.name == target)
    task = task_of(info, train)
    counts = category_counts(infos, [train, synthetic, test])
    x_test, y_test = _xy(infos, target, test, task, counts)
    if y_test.size == 0:
        raise DataError(f"target column {target!r}: every test row has a null target")
    if x_test.shape[1] == 0:
        raise DataError(f"target column {target!r}: no other column to predict it from (id and "
                        f"personal columns are not evaluated)")
    if task is Task.REGRESSION and y_test.size < 2:
        raise DataError(f"target column {target!r}: R^2 needs at least two test rows with a "
                        f"target, found {y_test.size}")
    if task is Task.REGRESSION and np.unique(y_test).size < 2:
        # scikit-learn's R^2 reports 1 or 0 for a constant truth (force_finite): no score.
        raise DataError(f"target column {target!r}: every test row holds {float(y_test[0])!r}, so R^2 is undefined; "
                        f"choose a target that varies")
    if task is Task.BINARY and np.unique(y_test).size < 2:
        raise DataError(f"target column {target!r}: the test rows hold a single class, so ROC "
                        f"AUC is undefined")
    classes = np.unique(_xy(infos, target, train, task, counts)[1]) if task is Task.BINARY else None
    positive = classes.max() if classes is not None else None
    numeric_classes = classes is not None and info.shape is Shape.CONTINUOUS
    if numeric_classes:
        # A numeric target of two values is a class: each value, real or synthetic, counts as
        # the nearer of the two (a synthetic 0.05 where the real rows hold 0 and 0.1), coded 0 /
        # 1 (the classifier refused 0.0 / 0.1 as "continuous" labels, and any third value).
        y_test, positive = _nearest_class(y_test, classes), 1
    if task is Task.BINARY and np.unique(y_test == positive).size < 2:
        # Test rows of "no" and a value the real rows lack, none of the positive "yes": ROC AUC
        # was NaN, reported as None with no reason and scikit-learn's warnings.
        shown = classes[-1] if numeric_classes or info.shape is Shape.CONTINUOUS else info.categories[int(positive)]
        held = "only" if (y_test == positive).all() else "no"
        raise DataError(f"target column {target!r}: the test rows hold {held} rows of the class {shown!r} that ROC AUC "
                        f"scores against the other, so it is undefined; give test rows of both classes")
    _, mask = feature_matrix(infos, test, exclude=(target,), counts=counts)
    scores = {}
    for name, table in (("tstr", synthetic), ("trtr", train)):
        x, y = _xy(infos, target, table, task, counts)
        if numeric_classes:
            y = _nearest_class(y, classes)
        with one_thread():
            scores[name] = _fit_and_score(x, y, x_test, y_test, task, positive, seed, mask)
    return {
        "target": target,
        "task": task.value,
        "metric": _SCORE_NAME[task],
        "tstr": scores["tstr"],
        "trtr": scores["trtr"],
        "train_rows": {"synthetic": synthetic.n_rows, "real": train.n_rows},
        "test_rows": int(y_test.size),
    }


def _xy(infos, target: str, table: PreparedTable, task: Task, counts: dict):
    x, _ = feature_matrix(infos, table, exclude=(target,), counts=counts)
    y = table.arrays[target]
    keep = ~np.isnan(y) if next(i for i in infos if i.name == target).shape is Shape.CONTINUOUS else y >= 0
    return x[keep], y[keep]


def _fit_and_score(x, y, x_test, y_test, task: Task, positive, seed: int, mask) -> float | None:
    from sklearn.metrics import f1_score, r2_score, roc_auc_score

    if y.size == 0:
        return None
    x, mask, (x_test,) = fit_ready(x, mask, x_test)
    if x.shape[1] == 0:
        return None  # every feature is null on the training rows
    categorical = mask if mask.any() else None
    if task is Task.REGRESSION:
        peak = max(np.abs(y).max(), np.abs(y_test).max())
        if peak >= LARGE:  # scaled by a power of two: R^2 is unchanged, its squares do not overflow
            _, exponent = np.frexp(peak)
            y, y_test = np.ldexp(y, -exponent), np.ldexp(y_test, -exponent)
        model = boosting("regressor", y.size, categorical, seed)
        return float(r2_score(y_test, model.fit(x, y).predict(x_test)))
    classes = np.unique(y)
    if classes.size < 2:
        # A model trained on one class predicts it everywhere: score that constant model.
        if task is Task.BINARY:
            return 0.5
        return float(f1_score(y_test, np.full(y_test.size, classes[0]), average="macro",
                              labels=np.unique(y_test), zero_division=0))
    model = boosting("classifier", y.size, categorical, seed)
    model.fit(x, y)
    if task is Task.BINARY:
        if positive not in model.classes_:
            return 0.5
        proba = model.predict_proba(x_test)[:, list(model.classes_).index(positive)]
        return float(roc_auc_score(y_test == positive, proba))
    return float(f1_score(y_test, model.predict(x_test), average="macro",
                          labels=np.unique(y_test), zero_division=0))
