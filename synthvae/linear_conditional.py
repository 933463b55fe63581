"""The best linear prediction of a row's hidden cells from its observed ones, fitted on the
model's own rows: a Gaussian conditional (Anderson, *An Introduction to Multivariate
Statistical Analysis*, 2003, 2.5) over one feature space for every kind of column.

Imputation's means (:meth:`synthvae.generation.Generator.impute`) average draws chosen by
importance weights among a few proposals per row, and with most of a row observed those weights
rest on one or two proposals: linear evidence that the observed cells carry is used only as far
as the proposals happen to follow it. This predictor uses all of it in closed form, for any
pattern of hidden cells, and no real row: it is fitted on rows the model generates, so it
is the model's knowledge (its linear part), not a second model of the data. The imputation
calibration (:meth:`synthvae.generation.Generator._calibration`) weighs it against the means.

Features (each standardised on the fitting rows): a real-valued column's value (numbers,
datetimes as nanoseconds; its column mean where null) and, for a nullable column, a null flag;
a categorical or boolean column's one-hot over its most frequent :data:`MAX_LEVELS` values (the
rest, and nulls, count as none of them). A hidden cell hides all of its column's features.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from synthvae.preprocessing.codecs import CategoricalCodec, ColumnCodec
from synthvae.validation import ranked_counts

MAX_LEVELS = 30  # one-hot slots per categorical column; rarer values share the all-zero code
RIDGE = 1e-3  # added to the standardised covariance's diagonal (one-hots are collinear)


class LinearConditional:
    """``E[hidden | observed]`` under the Gaussian with the fitting rows' means and covariance.

    Args:
        codecs: The fitted column codecs whose columns take part (real-valued and categorical
            ones; others are left out).
        rows: The fitting rows (decoded model rows), with the codecs' columns.
    """

    def __init__(self, codecs: Iterable[ColumnCodec], rows: pd.DataFrame) -> None:
        self.real_ = {}  # name -> codec of a real-valued column
        self.levels_ = {}  # name -> the one-hot's values (strings)
        for codec in codecs:
            name = codec.column.name
            if hasattr(codec, "floats"):
                self.real_[name] = codec
            elif isinstance(codec, CategoricalCodec):
                counts = ranked_counts(_strings(rows[name]))
                self.levels_[name] = counts.index[counts.index != _NULL][:MAX_LEVELS].to_numpy(dtype=object)
        raw, self.owner_ = self._raw(rows)
        self.value_index_ = {name: int(np.flatnonzero(self.owner_ == name)[0]) for name in self.real_}
        self.fill_ = {}  # a real-valued column's mean, its value feature where null
        for name, j in self.value_index_.items():
            present = raw[:, j][~np.isnan(raw[:, j])]
            self.fill_[name] = float(present.mean()) if present.size else 0.0
        raw = self._filled(raw)
        self.center_ = raw.mean(axis=0)
        scale = raw.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        z = (raw - self.center_) / self.scale_
        covariance = z.T @ z / max(1, len(z) - 1)
        self.precision_ = np.linalg.inv(covariance + RIDGE * np.eye(len(covariance)))

    @property
    def columns(self) -> list[str]:
        """The real-valued columns it predicts."""
        return list(self.real_)

    def _raw(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The unstandardised features ``(n, F)``, a real-valued column's value NaN where null
        (see :meth:`_filled`), and each feature's column name."""
        blocks, owner = [], []
        for name, codec in self.real_.items():
            values = codec.floats(frame[name])
            isnull = np.isnan(values)
            blocks.append(values)
            owner.append(name)
            if codec.column.nullable:
                blocks.append(isnull.astype(np.float64))
                owner.append(name)
        for name, levels in self.levels_.items():
            strings = _strings(frame[name]).to_numpy(dtype=object)
            for level in levels:
                blocks.append((strings == level).astype(np.float64))
                owner.append(name)
        matrix = np.column_stack(blocks) if blocks else np.zeros((len(frame), 0))
        return matrix, np.asarray(owner, dtype=object)

    def _filled(self, raw: np.ndarray) -> np.ndarray:
        """``raw`` with each real-valued column's nulls at its mean on the fitting rows (in place)."""
        for name, j in self.value_index_.items():
            column = raw[:, j]
            column[np.isnan(column)] = self.fill_[name]
        return raw

    def predict(self, frame: pd.DataFrame, hidden: dict[str, np.ndarray], names: list[str]) -> dict[str, np.ndarray]:
        """Each named real-valued column's prediction for the rows that hide it (NaN elsewhere,
        and for names it does not know).

        Args:
            frame: The rows (hidden cells may hold anything).
            hidden: Per column, which rows hide the cell; columns not named are observed.
            names: The columns to predict.
        """
        n = len(frame)
        out = {name: np.full(n, np.nan) for name in names}
        targets = [name for name in names if name in self.real_]
        if not targets or not n:
            return out
        z = (self._filled(self._raw(frame)[0]) - self.center_) / self.scale_
        features = np.zeros((n, len(self.owner_)), dtype=bool)
        for name, cells in hidden.items():
            if cells.any():
                features[:, self.owner_ == name] = cells[:, None]
        wanted = np.column_stack([hidden.get(name, np.zeros(n, bool)) for name in targets]).any(axis=1)
        rows = np.flatnonzero(wanted)
        patterns, inverse, counts = np.unique(features[rows], axis=0, return_inverse=True, return_counts=True)
        groups = np.split(rows[np.argsort(inverse.ravel(), kind="stable")], np.cumsum(counts)[:-1])
        target_index = {name: self.value_index_[name] for name in targets}
        for pattern, members in zip(patterns, groups):
            h, o = np.flatnonzero(pattern), np.flatnonzero(~pattern)
            # E[z_h | z_o] = -P_hh^-1 P_ho z_o for a standardised Gaussian with precision P.
            solved = -np.linalg.solve(self.precision_[np.ix_(h, h)], self.precision_[np.ix_(h, o)] @ z[np.ix_(members, o)].T)
            for name, j in target_index.items():
                at = np.searchsorted(h, j)
                if at < h.size and h[at] == j:
                    out[name][members] = solved[at] * self.scale_[j] + self.center_[j]
        return out


_NULL = "\x00null"


def _strings(series: pd.Series) -> pd.Series:
    """A categorical column's values as strings, nulls as one marker."""
    return series.astype("object").where(series.notna(), _NULL).astype(str)
