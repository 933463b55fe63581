"""Shared helpers of the benchmark scripts: the shared tables, the 80/20 split, result files."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results"

FILES = {
    "penguins": "penguins.csv",
    "german_credit": "german_credit.csv",
    "seattle_weather": "seattle_weather.csv",
    "churn": "churn.csv",
    "loans": "loans.csv",
    "diamonds": "diamonds.csv",
    "flights100k": "flights.csv.gz",
}


def load(name: str) -> pd.DataFrame:
    """A shared table by short name; ``flights100k`` is a seeded 100k-row sample of flights."""
    frame = pd.read_csv(DATASETS / FILES[name])
    if name == "flights100k":
        frame = frame.sample(100_000, random_state=0).reset_index(drop=True)
    return frame


def target_of(name: str) -> str:
    """The documented target column of a shared table."""
    info = json.loads((DATASETS / "datasets.json").read_text())
    key = "flights" if name == "flights100k" else name
    return info[key]["target"]


def split(frame: pd.DataFrame, seed: int = 0, train_share: float = 0.8) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The benchmark protocol's seeded 80/20 split into train and held-out rows."""
    order = np.random.default_rng(seed).permutation(len(frame))
    cut = int(train_share * len(frame))
    return frame.iloc[order[:cut]].reset_index(drop=True), frame.iloc[order[cut:]].reset_index(drop=True)


def machine() -> dict:
    """What the numbers were measured on."""
    import torch

    return {
        "machine": platform.machine(),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "pandas": pd.__version__,
    }


def randomised_pit(draws: np.ndarray, truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Where each true value ``truth`` ``(n,)`` falls among its row of ``draws`` ``(n, k)``: its
    rank (ties split at random) plus a uniform, over ``k + 1``. Uniform on (0, 1) when the draws
    come from the value's own distribution, so it lies in the central 90% for 0.90 of the
    values; too-narrow draws put it there less often. (The share of values inside the draws'
    own 5%-95% quantiles is not that: with 20 draws np.quantile's ends sit near the 2nd and
    19th, 17/21 = 0.81 for exact continuous draws, more with integer columns' ties.)"""
    below, ties = (draws < truth[:, None]).sum(1), (draws == truth[:, None]).sum(1)
    rank = below + np.floor(rng.random(truth.size) * (ties + 1))
    return (rank + rng.random(truth.size)) / (draws.shape[1] + 1)


def write_results(stem: str, payload: dict, markdown: list[str]) -> Path:
    """Write ``RESULTS/stem.json`` and ``RESULTS/stem.md``; returns the JSON path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{stem}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    (RESULTS / f"{stem}.md").write_text("\n".join(markdown) + "\n")
    return path


def days(values: pd.Series, errors: str = "raise") -> pd.Series:
    """Datetimes (or their text) as days since 1970-01-01 UTC, floats."""
    return (pd.to_datetime(values, errors=errors, utc=True) - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1)


class ClassScorer:
    """Macro F1, minority recall and minority ROC AUC on held-out rows of a gradient boosting
    classifier (scikit-learn's HistGradientBoostingClassifier, seed 0) trained on a table: how
    well rows teach a classifier of ``target``. Categorical and boolean columns (``categorical``)
    are category codes over the values of both splits, datetimes days since 1970, the rest
    numbers. The minority is the training rows' rarest class."""

    def __init__(self, train: pd.DataFrame, holdout: pd.DataFrame, target: str, categorical: list[str]) -> None:
        self.target, self.categorical = target, [c for c in categorical if c != target]
        self.categories = {c: sorted(pd.concat([train[c], holdout[c]]).astype("string").dropna().unique()) for c in self.categorical}
        self.minority = train[target].astype(str).value_counts().index[-1]
        self.x_test, self.y_test = self.features(holdout), holdout[target].astype(str)

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The classifier's inputs: every column but the target, as numbers."""
        x = frame.drop(columns=[self.target]).copy()
        for name in x.columns:
            if name in self.categories:
                x[name] = pd.Categorical(x[name].astype("string"), categories=self.categories[name]).codes
            elif pd.api.types.is_numeric_dtype(x[name]) or pd.api.types.is_bool_dtype(x[name]):
                x[name] = pd.to_numeric(x[name], errors="coerce")
            else:  # datetimes, or their text as read from a CSV
                x[name] = days(x[name], errors="coerce")
        return x.astype(float)

    def __call__(self, frame: pd.DataFrame) -> dict:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.metrics import f1_score, recall_score, roc_auc_score

        columns = frame.columns.drop(self.target)
        model = HistGradientBoostingClassifier(random_state=0, categorical_features=[columns.get_loc(c) for c in self.categorical] or None)
        model.fit(self.features(frame), frame[self.target].astype(str))
        pred = model.predict(self.x_test)
        scores = model.predict_proba(self.x_test)[:, list(model.classes_).index(self.minority)]
        return {
            "macro_f1": float(f1_score(self.y_test, pred, average="macro")),
            "minority_recall": float(recall_score(self.y_test, pred, labels=[self.minority], average="macro")),
            # Threshold-free: balancing moves the classifier's threshold, which F1 and recall
            # mostly measure; the minority's ROC AUC measures what the rows teach it.
            "minority_roc_auc": float(roc_auc_score(self.y_test == self.minority, scores)),
            "rows": int(len(frame)),
        }
