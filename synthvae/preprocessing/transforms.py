"""Transforms of one real variable into model space and back, used by numeric and datetime codecs.

- :class:`QuantileNormal` (the default): the empirical CDF, then the standard normal quantile
  (as TabDDPM and TabSyn do). One continuous output; skew, heavy tails and several modes all
  become one Gaussian target; fits in milliseconds.
- :class:`ModeNormal`: mode-specific normalisation (Xu et al., 2019, CTGAN / TVAE): a Gaussian
  mixture with up to ``max_modes`` components; each value becomes a one-hot of its most likely
  mode plus its offset from that mode's mean in units of ``4 * sigma``. The mixture is fitted by
  vectorised EM on at most 20,000 values: milliseconds, where a Bayesian mixture from
  scikit-learn takes seconds per column (see DESIGN.md).

Both take and return float64 arrays without NaN (the codec handles nulls) and keep their learned
state as plain lists.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from synthvae.errors import ModelFileError
from synthvae.preprocessing.layout import SpanKind

# Probabilities are clipped away from 0 and 1 so the normal quantile stays finite (|z| <= 5.2).
_EPS = 1e-7


def probit(u) -> np.ndarray:
    """Standard-normal scores of probabilities, kept within :data:`_EPS` of 0 and 1 (a finite score
    for a value at either end of the training range)."""
    return ndtri(np.clip(u, _EPS, 1.0 - _EPS))
# Magnitudes below this are 0 to the quantile transform's CDF: np.interp's slope (probability step
# / value step) overflows across two values closer than the spacing of floats above it (subnormal
# numbers such as 5e-324 beside 0).
_FLUSH_TO_ZERO = 1e-290
# The least share of the values a point mass needs to get a flag of its own (AtomQuantileNormal).
ATOM_SHARE = 0.1
# The fewest distinct values a column needs for a flag: fewer, it is a code whose every value is
# already a band of scores of its own (german_credit's 1-4 instalment rate: no gain, seeds 0-5).
ATOM_MIN_VALUES = 10
# The most point masses a column's flag names (AtomQuantileNormal): each holds at least ATOM_SHARE
# of the values, so at most ten could; four covers both ends of a clipped range and a few price
# points without a wide flag.
ATOM_MAX = 4


class NumericEncoding(str, enum.Enum):
    """How numeric and datetime values are put into model space."""

    QUANTILE = "quantile"
    MODE = "mode"


class QuantileNormal:
    """Gaussian quantile transform (the empirical CDF, then the probit).

    Ties are handled as scikit-learn's ``QuantileTransformer`` does: the forward map averages the
    interpolation from below and from above, so a point mass lands in the middle of its CDF jump
    and comes back exactly.

    Args:
        quantiles: Sorted values of the variable at evenly spaced probabilities in ``[0, 1]``.
    """

    encoding = NumericEncoding.QUANTILE

    def __init__(self, quantiles: np.ndarray) -> None:
        self.quantiles = np.asarray(quantiles, dtype=np.float64)
        self.probs = np.linspace(0.0, 1.0, self.quantiles.size)
        # np.interp's slopes (value span / probability step) overflow for values spread nearly as
        # wide as the largest float; then values are interpolated divided by a power of two
        # (exact but for subnormals).
        span = (float(self.quantiles[-1]) - float(self.quantiles[0])) * self.quantiles.size
        self._scale = 1.0 if np.isfinite(span) else 2.0 ** (int(np.log2(self.quantiles.size)) + 2)
        self._cdf_grid = _flush_to_zero(self.quantiles / self._scale)
        self._inverse_values = self.quantiles / self._scale
        with np.errstate(over="ignore", invalid="ignore"):
            self._inverse_slopes = np.diff(self._inverse_values)  # per interval of probability

    @classmethod
    def fit(cls, values: np.ndarray, n_quantiles: int = 1000) -> "QuantileNormal":
        """Fit on the values of a variable (no NaN)."""
        if values.size == 0:
            return cls(np.zeros(2))
        n = int(min(n_quantiles, max(values.size, 2)))
        probs = np.linspace(0.0, 1.0, n)
        if np.isfinite(float(values.max()) - float(values.min())):
            return cls(np.quantile(values, probs))
        # A range wider than the largest float: np.quantile's interpolation would overflow, so
        # it interpolates the halves (exact but for subnormals).
        return cls(np.quantile(values / 2, probs) * 2)

    def spans(self) -> list[tuple[SpanKind, int]]:
        """One continuous span."""
        return [(SpanKind.CONTINUOUS, 1)]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Values ``(n,)`` to a block ``(n, 1)`` of standard-normal scores."""
        q, p, x = self._cdf_grid, self.probs, _flush_to_zero(x / self._scale)
        up = np.interp(x, q, p)
        down = -np.interp(-x, -q[::-1], -p[::-1])
        return probit(0.5 * (up + down)).reshape(-1, 1)

    def inverse(self, block: np.ndarray) -> np.ndarray:
        """A block ``(n, 1)`` back to values ``(n,)`` (a new array)."""
        u = ndtr(block[:, 0].astype(np.float64, copy=False))
        values = self._inverse_values
        if values.size < 2:
            return np.interp(u, self.probs, values) * self._scale
        # np.interp over evenly spaced probabilities without its binary search: u lies in
        # interval floor(u * (m - 1)). About 15x faster on millions of values.
        steps = values.size - 1
        position = np.multiply(u, steps, out=u)
        with np.errstate(invalid="ignore"):  # NaN (from a NaN score) casts to any index: clipped
            index = position.astype(np.intp)
        np.clip(index, 0, steps - 1, out=index)  # u = 1 is in the last interval; NaN stays NaN
        position -= index  # the fraction of the way through the interval
        out = np.multiply(position, self._inverse_slopes[index], out=position)
        out += values[index]
        if self._scale != 1.0:
            out *= self._scale
        return out

    def null_fill(self) -> np.ndarray:
        """The encoded block row used for a null (the median)."""
        return np.zeros(1)

    def cdf_interval(self, low: float, high: float) -> tuple[float, float]:
        """``P(X < low)`` and ``P(X <= high)`` under the fitted empirical CDF (point masses whole)."""
        q, p = self._cdf_grid, self.probs
        low, high = (float(_flush_to_zero(np.float64(v / self._scale))) for v in (low, high))
        below = float(-np.interp(-low, -q[::-1], -p[::-1])) if np.isfinite(low) else 0.0
        upto = float(np.interp(high, q, p)) if np.isfinite(high) else 1.0
        return below, upto

    def mass_between(self, low: float, high: float) -> float:
        """Training probability of ``low <= X <= high``."""
        below, upto = self.cdf_interval(low, high)
        return max(upto - below, 0.0)

    def support(self) -> tuple[float, float]:
        """The least and the greatest training value."""
        return float(self.quantiles[0]), float(self.quantiles[-1])

    def sample_between(self, low: float, high: float, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws from the training distribution restricted to ``[low, high]`` (inverse CDF)."""
        below, upto = self.cdf_interval(low, high)
        u = rng.uniform(below, max(upto, below), size=n)
        return np.clip(np.interp(u, self.probs, self.quantiles / self._scale) * self._scale, low, high)

    def get_state(self) -> dict[str, Any]:
        return {"encoding": self.encoding.value, "quantiles": self.quantiles.tolist()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "QuantileNormal":
        quantiles = np.asarray(state["quantiles"], dtype=np.float64)
        if quantiles.ndim != 1 or not quantiles.size or not np.isfinite(quantiles).all() or (np.diff(quantiles) < 0).any():
            # Reversed or "NaN" quantiles loaded from a crafted file (a user review).
            raise ModelFileError("a quantile transform's quantiles must be finite and non-decreasing; the model file is "
                                 "damaged")
        return cls(quantiles)


class AtomQuantileNormal:
    """The quantile transform of a variable with a few heavy point masses (*atoms*: zero for
    most of a count or an amount, a default value, a cap, both ends of a clipped percentage,
    price points), plus a flag for the atoms.

    A plain quantile transform puts an atom in the middle of its CDF jump, an interval of
    standard-normal scores, and decodes every score in that interval to it: whether a sampled
    value is the atom is then decided by where the decoder's Gaussian noise lands, so rows near
    the edge of the interval flip (on churn, 8% of the voice-mail plan's rows decoded to 0
    messages from their own latents). Here the score is the same (so the latent keeps the
    same geometry) and a one-hot ``[other, atom_1, ..., atom_k]`` (a softmax head, as sharp as
    a category) decides: flagged rows are their atom; the others decode their score, reflected
    off each atom's interval when noise put it inside (so they never become an atom).

    Args:
        full: The quantile transform of all values.
        atoms: The values of the point masses, increasing, no two of them neighbouring values.
        downs, ups: For each atom, the nearest training values below and above it (``None``:
            none).
    """

    encoding = NumericEncoding.QUANTILE

    def __init__(self, full: QuantileNormal, atoms, downs, ups) -> None:
        self.full = full
        self.atoms = np.array(atoms, dtype=np.float64).reshape(-1)
        # Each atom's interval of scores: those of P(X < atom) and P(X <= atom).
        bounds = [full.cdf_interval(a, a) for a in self.atoms]
        self.lows = np.array([float(probit(below)) for below, _ in bounds])
        self.highs = np.array([float(probit(upto)) for _, upto in bounds])
        # The nearest other values on either side (the atom itself where there is none): the
        # quantiles between them are interpolated across the atom's jump, not values.
        self._belows = [d is not None for d in downs]
        self._aboves = [u is not None for u in ups]
        self._downs = [float(d) if d is not None else a for d, a in zip(downs, self.atoms)]
        self._ups = [float(u) if u is not None else a for u, a in zip(ups, self.atoms)]

    @classmethod
    def fit_if_atom(cls, values: np.ndarray, n_quantiles: int = 1000) -> "AtomQuantileNormal | None":
        """The transform if ``values`` (no NaN) have atoms, else ``None``.

        The atoms are the ``k`` most frequent values (``k`` at most :data:`ATOM_MAX`, the most
        that qualify) when each holds at least :data:`ATOM_SHARE` of the values and at least
        twice the share of every other value (they stand apart from the column's ordinary
        values: for ``k = 1`` the test of one atom, so a column with one atom keeps it) and of
        its neighbouring values (a spike, not one level of a small count: 0-3 of Poisson(1.6)
        calls hold 20%, 32%, 26% and 14%, twice the 5.5% of 4 and more, but are levels), in a
        column of at least :data:`ATOM_MIN_VALUES` distinct values. One atom alone missed
        several: a percentage clipped to 0-100 with 20.7% and 19.4% of 4,000 rows at the ends
        (neither twice the other) came back with 21.8-22.7% and 20.5-21.6% there, three price
        points of 20% each with 22.2-23.2% each (fit seeds 0-2); with a flag each, 20.2-21.1%,
        19.6-19.7% and 18.6-21.1%. On the seven shared tables no column gains an atom (flights'
        minute 0 and 30 hold 18.0% and 10.1%, but 45 holds 6.1%).
        """
        if values.size < 20:
            return None
        uniques, counts = np.unique(values, return_counts=True)
        if uniques.size < ATOM_MIN_VALUES:
            return None
        neighbours = np.maximum(np.concatenate([[0], counts[:-1]]), np.concatenate([counts[1:], [0]]))
        spike = counts >= 2 * neighbours
        order = np.argsort(counts, kind="stable")[::-1]  # most frequent first
        for k in range(min(ATOM_MAX, uniques.size - 1), 0, -1):
            top, rest = order[:k], counts[order[k]]
            least = counts[top].min()
            if least >= ATOM_SHARE * values.size and least >= 2 * rest and spike[top].all():
                at = np.sort(top)
                return cls(QuantileNormal.fit(values, n_quantiles), uniques[at],
                           [float(uniques[i - 1]) if i > 0 else None for i in at],
                           [float(uniques[i + 1]) if i + 1 < uniques.size else None for i in at])
        return None

    @property
    def quantiles(self) -> np.ndarray:
        return self.full.quantiles

    def spans(self) -> list[tuple[SpanKind, int]]:
        """The quantile score, then the flag ``[other, atom_1, ..., atom_k]``."""
        return [(SpanKind.CONTINUOUS, 1), (SpanKind.MODE, 1 + self.atoms.size)]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Values ``(n,)`` to blocks ``(n, 2 + k)``."""
        block = np.zeros((x.size, 2 + self.atoms.size))
        block[:, 0] = self.full.forward(x)[:, 0]
        at = np.minimum(np.searchsorted(self.atoms, x), self.atoms.size - 1)
        block[np.arange(x.size), np.where(self.atoms[at] == x, 2 + at, 1)] = 1.0
        return block

    def _flagged(self, block: np.ndarray) -> np.ndarray:
        """Each row's flag: 0 for other, ``1 + i`` for atom ``i`` (the largest, the first of
        equals; a NaN never wins)."""
        flag = np.zeros(len(block), dtype=np.intp)
        best = block[:, 1]
        for i in range(self.atoms.size):
            wins = block[:, 2 + i] > best
            flag[wins] = 1 + i
            best = np.where(wins, block[:, 2 + i], best)
        return flag

    def _upward(self, score: np.ndarray, i: int) -> np.ndarray:
        """The side of atom ``i`` a row of this score belongs on when it is not the atom: the
        only side with values, else the nearer edge of the atom's interval."""
        if self._belows[i] and self._aboves[i]:
            return score >= 0.5 * (self.lows[i] + self.highs[i])
        return np.full(score.shape, self._aboves[i])

    def inverse(self, block: np.ndarray) -> np.ndarray:
        """Blocks ``(n, 2 + k)`` back to values ``(n,)`` (a new array)."""
        score = np.array(block[:, 0], dtype=np.float64)
        flag = self._flagged(block)
        other = flag == 0
        for i in range(self.atoms.size):  # the intervals are disjoint and in increasing order
            low, high = self.lows[i], self.highs[i]
            upward = self._upward(score, i)
            inside = other & (score > low) & (score < high)
            score[inside] = np.where(upward[inside], 2 * high - score[inside], 2 * low - score[inside])
        values = self.full.inverse(score.reshape(-1, 1))
        for i, atom in enumerate(self.atoms):
            values[flag == 1 + i] = atom
        # Other rows take other values: a score on an interval's edge (or reflected past the
        # range's end, or into another atom's interval) that still decodes to an atom, or one
        # interpolated between an atom and its nearest other value, moves to that value (on
        # the side of its final score: reflection never moves a score across its own atom's
        # midpoint, so one atom's side is the side it was reflected to).
        for i, atom in enumerate(self.atoms):
            upward = self._upward(score, i)
            up = other & upward & (values >= atom) & (values < self._ups[i])
            down = other & ~upward & (values <= atom) & (values > self._downs[i])
            values[up] = self._ups[i]
            values[down] = self._downs[i]
        return values

    def null_fill(self) -> np.ndarray:
        """The encoded block row used for a null: the median score, an other value."""
        fill = np.zeros(2 + self.atoms.size)
        fill[1] = 1.0
        return fill

    def _gaps(self) -> list[tuple[float, float, float]]:
        """The open intervals beside each atom up to its nearest other values, which
        :meth:`inverse` never returns (a value decoded there moves to that nearest value), each
        as ``(start, end, the value it moves to)``. Disjoint: no two atoms are neighbouring
        values."""
        gaps = []
        for i, atom in enumerate(self.atoms):
            if self._aboves[i] and self._ups[i] > atom:
                gaps.append((float(atom), self._ups[i], self._ups[i]))
            if self._belows[i] and self._downs[i] < atom:
                gaps.append((self._downs[i], float(atom), self._downs[i]))
        return gaps

    def _open_mass(self, start: float, end: float, low: float = -np.inf, high: float = np.inf) -> float:
        """The full transform's probability of ``start < X < end`` within ``[low, high]``."""
        left = self.full.cdf_interval(low, low)[0] if low > start else self.full.cdf_interval(start, start)[1]
        right = self.full.cdf_interval(high, high)[1] if high < end else self.full.cdf_interval(end, end)[0]
        return max(right - left, 0.0)

    def mass_between(self, low: float, high: float) -> float:
        """Probability of ``low <= X <= high`` as the transform decodes values: the interpolated
        mass between an atom and its nearest other values belongs to those values (seattle's
        ``0 < precipitation < 0.3``, where no day lies and no sampled row fell, was granted
        mass, and a condition there was met with made-up values 0.1 and 0.2)."""
        total = self.full.mass_between(low, high)
        for start, end, to in self._gaps():
            total -= self._open_mass(start, end, low, high)
            if low <= to <= high:
                total += self._open_mass(start, end)
        return max(total, 0.0)

    def support(self) -> tuple[float, float]:
        """The least and the greatest training value."""
        return self.full.support()

    def sample_between(self, low: float, high: float, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws from the distribution of :meth:`mass_between` restricted to ``[low,
        high]``: a gap's whole mass at the value it moves to, the rest from the full transform
        outside the gaps."""
        moved = [(to, self._open_mass(start, end)) for start, end, to in self._gaps() if low <= to <= high]
        masses = np.array([mass for _, mass in moved] + [max(self.mass_between(low, high) - sum(m for _, m in moved), 0.0)])
        if masses.sum() <= 0:
            return self.full.sample_between(low, high, n, rng)
        pick = rng.choice(masses.size, size=n, p=masses / masses.sum())
        values = np.empty(n, dtype=np.float64)
        for k, (to, _) in enumerate(moved):
            values[pick == k] = to
        rest = np.flatnonzero(pick == len(moved))
        for _ in range(64):  # the full transform's draws, those in a gap drawn again
            if not rest.size:
                break
            drawn = self.full.sample_between(low, high, rest.size, rng)
            values[rest] = drawn
            inside = np.zeros(rest.size, dtype=bool)
            for start, end, _ in self._gaps():
                inside |= (drawn > start) & (drawn < end)
            rest = rest[inside]
        return values

    def get_state(self) -> dict[str, Any]:
        state = {"encoding": self.encoding.value, "quantiles": self.full.quantiles.tolist()}
        downs = [d if b else None for d, b in zip(self._downs, self._belows)]
        ups = [u if a else None for u, a in zip(self._ups, self._aboves)]
        if self.atoms.size == 1:  # as files held it before several atoms (and older versions read)
            return state | {"atom": float(self.atoms[0]), "down": downs[0], "up": ups[0]}
        return state | {"atoms": self.atoms.tolist(), "downs": downs, "ups": ups}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "AtomQuantileNormal":
        full = QuantileNormal.from_state(state)
        if "atoms" not in state:
            return cls(full, [float(state["atom"])], [state.get("down")], [state.get("up")])
        atoms, downs, ups = (list(state[key]) for key in ("atoms", "downs", "ups"))
        values = np.asarray(atoms, dtype=np.float64)
        if not (0 < values.size <= ATOM_MAX and len(downs) == len(ups) == values.size and np.isfinite(values).all()
                and (np.diff(values) > 0).all()):
            raise ModelFileError("a quantile transform's atoms must be 1 to "
                                 f"{ATOM_MAX} finite increasing values, each with its neighbours; the model file is damaged")
        return cls(full, values, downs, ups)


def _flush_to_zero(values: np.ndarray) -> np.ndarray:
    return np.where(np.abs(values) < _FLUSH_TO_ZERO, 0.0, values)


class ModeNormal:
    """Mode-specific normalisation with a Gaussian mixture fitted by vectorised EM.

    Args:
        means: Component means.
        stds: Component standard deviations.
        weights: Component weights.
    """

    encoding = NumericEncoding.MODE

    def __init__(self, means: np.ndarray, stds: np.ndarray, weights: np.ndarray) -> None:
        self.means = np.asarray(means, dtype=np.float64)
        self.stds = np.asarray(stds, dtype=np.float64)
        self.weights = np.asarray(weights, dtype=np.float64)

    @classmethod
    def fit(
        cls,
        values: np.ndarray,
        max_modes: int = 10,
        iterations: int = 100,
        min_weight: float = 0.005,
        max_values: int = 20_000,
        seed: int = 0,
    ) -> "ModeNormal":
        """Fit the mixture on the values of a variable (no NaN).

        Components start at distinct, evenly spaced quantiles (see :func:`_initial_means`);
        components lighter than ``min_weight`` are dropped (as CTGAN's weight threshold does).
        Standard deviations have a floor of 1e-3 of the data's (or 1e-6 for a constant), so
        point masses keep a narrow component.
        """
        if values.size == 0:
            return cls(np.zeros(1), np.ones(1), np.ones(1))
        if values.size > max_values:
            values = np.random.default_rng(seed).choice(values, max_values, replace=False)
        spread = float(values.std())
        floor = max(spread * 1e-3, 1e-6)
        means = _initial_means(values, int(min(max_modes, np.unique(values).size)))
        k = means.size
        stds = np.full(k, max(spread / k, floor))
        weights = np.full(k, 1.0 / k)
        means, stds, weights = _em(values, means, stds, weights, floor, iterations)
        # Maximum-likelihood EM splits one bump over several components; merge neighbours whose
        # union is still unimodal (|mean gap| <= 2 sigma), then polish the survivors.
        means, stds, weights = _merge_unimodal(means, stds, weights)
        means, stds, weights = _em(values, means, stds, weights, floor, 20)
        keep = weights >= min_weight
        if not keep.any():
            keep = weights == weights.max()
        return cls(means[keep], stds[keep], weights[keep] / weights[keep].sum())

    def spans(self) -> list[tuple[SpanKind, int]]:
        """A continuous offset and a one-hot of the mode."""
        return [(SpanKind.CONTINUOUS, 1), (SpanKind.MODE, self.means.size)]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Values ``(n,)`` to blocks ``(n, 1 + n_modes)``: offset, then the mode's one-hot."""
        log_p = -0.5 * ((x[:, None] - self.means) / self.stds) ** 2 - np.log(self.stds) + np.log(self.weights)
        mode = log_p.argmax(axis=1)
        offset = np.clip((x - self.means[mode]) / (4 * self.stds[mode]), -0.99, 0.99)
        block = np.zeros((x.size, 1 + self.means.size))
        block[:, 0] = offset
        block[np.arange(x.size), 1 + mode] = 1.0
        return block

    def inverse(self, block: np.ndarray) -> np.ndarray:
        """Blocks ``(n, 1 + n_modes)`` back to values ``(n,)``."""
        mode = block[:, 1:].argmax(axis=1)
        offset = np.clip(block[:, 0], -1.0, 1.0)
        return offset * 4 * self.stds[mode] + self.means[mode]

    def null_fill(self) -> np.ndarray:
        """The encoded block row used for a null: the heaviest mode's mean."""
        return self.forward(np.array([self.means[self.weights.argmax()]]))[0]

    def _component_masses(self, low: float, high: float) -> np.ndarray:
        return self.weights * np.maximum(ndtr((high - self.means) / self.stds) - ndtr((low - self.means) / self.stds), 0.0)

    def support(self) -> None:
        """None: the mixture's Gaussians reach every value."""
        return None

    def mass_between(self, low: float, high: float) -> float:
        """Probability of ``low <= X <= high`` under the fitted mixture."""
        return float(self._component_masses(low, high).sum())

    def sample_between(self, low: float, high: float, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws from the fitted mixture truncated to ``[low, high]``."""
        masses = self._component_masses(low, high)
        comp = rng.choice(masses.size, size=n, p=masses / masses.sum())
        m, s = self.means[comp], self.stds[comp]
        a, b = ndtr((low - m) / s), ndtr((high - m) / s)
        return np.clip(m + s * probit(rng.uniform(a, b)), low, high)

    def get_state(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding.value,
            "means": self.means.tolist(),
            "stds": self.stds.tolist(),
            "weights": self.weights.tolist(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "ModeNormal":
        means, stds, weights = (np.asarray(state[k], dtype=np.float64) for k in ("means", "stds", "weights"))
        if not (means.ndim == 1 and means.size and means.shape == stds.shape == weights.shape
                and np.isfinite([means, stds, weights]).all() and (stds > 0).all() and (weights >= 0).all()):
            raise ModelFileError("a mode-specific normalisation needs as many finite means, positive deviations and "
                                 "non-negative weights; the model file is damaged")
        return cls(means, stds, weights)


def _initial_means(values: np.ndarray, k: int) -> np.ndarray:
    """Up to ``k`` distinct starting means: the distinct values where there are at most ``k``;
    else evenly spaced quantiles of ``values``, and where some coincide (a value holding more
    than ``1 / k`` of them), evenly spaced quantiles of the other values for the rest, until
    there are ``k``. From repeated quantiles EM cannot separate the components: on 0.5 / 1.5 /
    7.25 (70 / 20 / 10%) two started at 0.5 and one took both 1.5 and 7.25 (mean 3.37, sd
    2.69), and 29% of the sampled values lay between them."""
    distinct = np.unique(values)
    if distinct.size <= k:
        return distinct.astype(np.float64)
    means = np.unique(np.quantile(values, (np.arange(k) + 0.5) / k))
    while means.size < k:
        rest = values[~np.isin(values, means)]
        extra = k - means.size
        means = np.unique(np.concatenate([means, np.quantile(rest, (np.arange(extra) + 0.5) / extra)]))
    return means


def _em(values, means, stds, weights, floor, iterations):
    """Expectation-maximisation of a 1-D Gaussian mixture, vectorised over values and components."""
    x = values[:, None]  # (n, 1)
    for _ in range(iterations):
        log_p = -0.5 * ((x - means) / stds) ** 2 - np.log(stds) + np.log(weights)  # (n, k)
        log_p -= log_p.max(axis=1, keepdims=True)
        resp = np.exp(log_p)
        resp /= resp.sum(axis=1, keepdims=True)
        mass = resp.sum(axis=0) + 1e-12
        weights = mass / mass.sum()
        means = (resp * x).sum(axis=0) / mass
        stds = np.maximum(np.sqrt((resp * (x - means) ** 2).sum(axis=0) / mass), floor)
    return means, stds, weights


def _merge_unimodal(means, stds, weights):
    """Merge adjacent components (by mean) whose mixture is unimodal, matching moments."""
    order = np.argsort(means)
    comps = [(float(weights[i]), float(means[i]), float(stds[i])) for i in order]
    merged = True
    while merged and len(comps) > 1:
        merged = False
        for i in range(len(comps) - 1):
            (wa, ma, sa), (wb, mb, sb) = comps[i], comps[i + 1]
            if mb - ma <= 2 * min(sa, sb):
                w = wa + wb
                m = (wa * ma + wb * mb) / w
                var = (wa * (sa**2 + ma**2) + wb * (sb**2 + mb**2)) / w - m**2
                comps[i : i + 2] = [(w, m, float(np.sqrt(max(var, 0.0))))]
                merged = True
                break
    w, m, s = (np.array(v) for v in zip(*comps))
    return m, np.maximum(s, 1e-12), w


def tail_cuts(ordered: np.ndarray, rows: int) -> tuple[float, float] | tuple[int, int] | None:
    """Top- and bottom-coding of sorted values: cuts with ``rows`` of the values beyond each,
    halfway between the ``rows``-th and the next most extreme value, so that a cut is no row's
    value unless rows share it (the ``rows``-th largest itself, as the cut, was one person's
    value, which every top-coded row then took). With fewer than ``2 * rows + 1`` values both
    cuts are the middle value. Integer values give whole-number cuts, moved inwards, computed
    exactly (nanoseconds, which floats miss). ``None`` for ``rows`` of 1 or less (no coding) or
    no values."""
    n = ordered.size
    if rows <= 1 or not n:
        return None
    whole = ordered.dtype.kind in "iu"
    if 2 * rows + 1 > n:
        middle = int(ordered[(n - 1) // 2]) if whole else float(ordered[(n - 1) // 2])
        return middle, middle
    if whole:  # Python integers: no overflow
        low, high = int(ordered[rows - 1]) + int(ordered[rows]), int(ordered[n - rows - 1]) + int(ordered[n - rows])
        return -(-low // 2), high // 2
    # halves first: values near the largest float stay finite
    return (float(ordered[rows - 1] / 2 + ordered[rows] / 2),
            float(ordered[n - rows - 1] / 2 + ordered[n - rows] / 2))


def fit_transform_for(encoding: NumericEncoding, values: np.ndarray,
                      point_masses: bool = True) -> QuantileNormal | AtomQuantileNormal | ModeNormal:
    """Fit the transform named by ``encoding`` on ``values`` (no NaN): for ``quantile`` with
    ``point_masses``, the atom's transform where the values have one (see
    :class:`AtomQuantileNormal`)."""
    if encoding is NumericEncoding.MODE:
        return ModeNormal.fit(values)
    return (point_masses and AtomQuantileNormal.fit_if_atom(values)) or QuantileNormal.fit(values)


def transform_from_state(state: dict[str, Any]) -> QuantileNormal | AtomQuantileNormal | ModeNormal:
    """Rebuild a transform from its ``get_state``."""
    if NumericEncoding(state.get("encoding", "quantile")) is NumericEncoding.MODE:
        return ModeNormal.from_state(state)
    if "atom" in state or "atoms" in state:
        return AtomQuantileNormal.from_state(state)
    return QuantileNormal.from_state(state)
