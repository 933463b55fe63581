"""Privacy accounting: how much (epsilon, delta) a fit spends, and how much noise it needs.

Everything a private fit learns from the rows is released through Gaussian mechanisms:

* the column histograms that the codecs are fitted from (:mod:`synthvae.privacy.statistics`):
  one Gaussian mechanism on all rows at once (sampling rate 1, one step);
* DP-SGD (Abadi et al., 2016): every step a Poisson-sampled batch (rate ``q``), per-row gradients
  clipped to ``max_grad_norm`` and Gaussian noise added.

Both are composed by Renyi-DP accounting (Mironov, 2017; Mironov et al., 2019, for the
subsampled Gaussian), so the histograms cost far less than a split of epsilon into two parts
would suggest. The Renyi divergences are Opacus' (``opacus.accountants.analysis.rdp``), the
same terms summed by numpy over whole arrays (:func:`subsampled_gaussian_rdp`): Opacus sums them
one Python call per term, 9 s of a 10 s private fit of 344 rows. The conversion to
(epsilon, delta) is Opacus' own ``get_privacy_spent``.

The accountant's adjacency is add/remove of one row. Neighbours that differ by one replaced row
(the row count public) are two add/remove steps apart: by group privacy an add/remove
``(e, d)`` guarantee gives ``(2 e, (1 + exp(e)) d)`` for them (:func:`replace_one_at` gives
the epsilon at a delta asked).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import special

from synthvae.privacy.opacus_names import get_privacy_spent

from synthvae.errors import ParameterError

# Noise multipliers are searched within these bounds.
_SIGMA_LOW, _SIGMA_HIGH = 0.05, 5_000.0
# Renyi orders: Opacus' defaults reach order 63, which cannot certify a small epsilon (the
# histograms' share of a budget of 1 is 0.1); larger orders can.
_ALPHAS = [1 + x / 10.0 for x in range(1, 100)] + list(range(11, 64)) + [2.0**k for k in range(6, 15)]


@dataclass(frozen=True)
class Mechanism:
    """One Gaussian mechanism in the composition.

    Attributes:
        noise_multiplier: Noise standard deviation over the L2 sensitivity.
        sample_rate: Poisson sampling rate of the rows (1 for a release on all rows).
        steps: How many times it runs.
    """

    noise_multiplier: float
    sample_rate: float
    steps: int


def spent_epsilon(mechanisms: list[Mechanism], delta: float) -> float:
    """Epsilon of the composition of ``mechanisms`` at ``delta`` (Renyi-DP accountant)."""
    rdp = _renyi_curve(mechanisms)
    return 0.0 if rdp is None else _epsilon_at(rdp, delta)


def _renyi_curve(mechanisms: list[Mechanism]) -> np.ndarray | None:
    """The composition's Renyi divergence at each order of ``_ALPHAS`` (``None``: nothing ran),
    summed over the mechanisms as Opacus' ``RDPAccountant`` sums them."""
    history = [(m.noise_multiplier, m.sample_rate, m.steps) for m in mechanisms if m.steps > 0]
    if not history:
        return None
    return sum(subsampled_gaussian_rdp(q, sigma, _ALPHAS) * steps for sigma, q, steps in history)


def subsampled_gaussian_rdp(q: float, sigma: float, orders: list[float]) -> np.ndarray:
    """Renyi divergence of one step of the sampled Gaussian mechanism (Poisson rate ``q``, noise
    multiplier ``sigma``) at each of ``orders``: Opacus' ``compute_rdp(steps=1)``, term for term.

    ``log A_alpha`` (Mironov et al., 2019, section 3.3) is a sum of ``alpha + 1`` binomial terms
    for an integer order and a series for a fractional one. Opacus adds the terms in log space one
    at a time; here every order's terms are a row of one array, summed by a log-sum-exp: the same
    terms (the same ``scipy.special.binom``, so an order whose coefficients overflow is infinite,
    where Opacus gives inf or nan), equal to Opacus' within rounding (``tests/test_privacy.py``
    compares them).
    """
    orders = np.asarray(orders, dtype=np.float64)
    if q == 0:
        return np.zeros_like(orders)
    if sigma == 0:
        return np.full_like(orders, np.inf)
    if q == 1.0:
        return orders / (2 * sigma**2)
    log_a = np.full_like(orders, np.inf)
    whole = np.isfinite(orders) & (orders == np.round(orders))
    fractional = np.isfinite(orders) & ~whole
    if whole.any():
        log_a[whole] = _log_a_integer(q, sigma, orders[whole])
    if fractional.any():
        log_a[fractional] = _log_a_fractional(q, sigma, orders[fractional])
    return log_a / (orders - 1)


def _log_a_integer(q: float, sigma: float, alphas: np.ndarray) -> np.ndarray:
    """``log A_alpha`` of integer orders ``alphas``: each the log of a sum of ``alpha + 1``
    positive terms, one row an order. Orders of one bit length share an array (entries past an
    order's own ``alpha`` have a coefficient of 0), so no row is more than twice its length."""
    out = np.empty_like(alphas)
    size = np.frexp(alphas)[1]
    for bits in np.unique(size):
        group = size == bits
        alpha = alphas[group][:, None]
        i = np.arange(int(alpha.max()) + 1, dtype=np.float64)[None, :]
        with np.errstate(over="ignore", divide="ignore"):  # binom overflows to inf for wide orders, as in Opacus
            terms = np.log(special.binom(alpha, i)) + i * math.log(q) + (alpha - i) * math.log(1 - q) + (i * i - i) / (2 * sigma**2)
        terms[np.broadcast_to(i > alpha, terms.shape)] = -np.inf
        out[group] = np.where(np.isposinf(terms).any(1), np.inf, _log_sum_exp(terms))
    return out


def _log_a_fractional(q: float, sigma: float, alphas: np.ndarray) -> np.ndarray:
    """``log A_alpha`` of fractional orders ``alphas``: two series (the integrals below and above
    ``z0``) whose terms change sign past ``alpha``, each summed up to and including the first
    term at which both parts are below ``exp(-30)``, where Opacus stops (29 terms for order 10.9
    at ``q = 0.1, sigma = 0.7``, 2,159 for order 1.1: the orders still summing get twice the
    terms until each has its stop)."""
    out = np.empty_like(alphas)
    z0 = sigma**2 * math.log(1 / q - 1) + 0.5
    pending, count = np.arange(alphas.size), 64
    while pending.size:
        alpha = alphas[pending][:, None]
        i = np.arange(count, dtype=np.float64)[None, :]
        coef = special.binom(alpha, i)
        j = alpha - i
        with np.errstate(divide="ignore"):  # a coefficient of 0 is a term of 0: log 0 = -inf
            log_coef = np.log(np.abs(coef))
        log_s0 = (log_coef + i * math.log(q) + j * math.log(1 - q) + (i * i - i) / (2 * sigma**2)
                  + math.log(0.5) + _log_erfc((i - z0) / (math.sqrt(2) * sigma)))
        log_s1 = (log_coef + j * math.log(q) + i * math.log(1 - q) + (j * j - j) / (2 * sigma**2)
                  + math.log(0.5) + _log_erfc((z0 - j) / (math.sqrt(2) * sigma)))
        small = np.maximum(log_s0, log_s1) < -30
        done = small.any(1)
        kept = (i <= small.argmax(1)[:, None])[done]  # up to the first small term
        positive = (coef > 0)[done]
        out[pending[done]] = np.logaddexp(_signed_log_sum(log_s0[done], kept, positive), _signed_log_sum(log_s1[done], kept, positive))
        pending, count = pending[~done], count * 2
    return out


def _signed_log_sum(log_terms: np.ndarray, kept: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Per row, ``log(sum of the kept positive terms - sum of the kept others)`` from the terms'
    logs (a negative total is an error, as in Opacus' ``_log_sub``)."""
    added = _log_sum_exp(np.where(kept & positive, log_terms, -np.inf))
    taken = _log_sum_exp(np.where(kept & ~positive, log_terms, -np.inf))
    if (taken > added).any():
        raise ValueError("a Renyi series summed to a negative number")
    with np.errstate(divide="ignore", invalid="ignore"):  # taken == added: a total of 0, log 0
        return np.where(taken == -np.inf, added, added + np.log(-np.expm1(taken - added)))


def _log_sum_exp(x: np.ndarray) -> np.ndarray:
    """``log(sum(exp(x)))`` of each row of ``x`` (``-inf`` for a row of ``-inf``)."""
    top = x.max(1)
    shift = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore", over="ignore"):  # a row holding +inf sums to +inf
        return np.log(np.exp(x - shift[:, None]).sum(1)) + shift


def _log_erfc(x: np.ndarray) -> np.ndarray:
    """``log(erfc(x))``, accurate for large ``x`` (Opacus' ``_log_erfc``, on arrays)."""
    return math.log(2) + special.log_ndtr(-x * 2**0.5)


def _epsilon_at(rdp: np.ndarray, delta: float) -> float:
    """Epsilon at ``delta`` of a Renyi curve over ``_ALPHAS``."""
    with warnings.catch_warnings():
        # "Optimal order is the largest alpha": only for budgets far below any useful one.
        warnings.filterwarnings("ignore", message="Optimal order", category=UserWarning)
        return float(get_privacy_spent(orders=_ALPHAS, rdp=rdp, delta=delta)[0])


def _smallest_sigma(target: float, delta: float, build, unreachable: str) -> float:
    """Smallest noise multiplier ``s`` with ``spent_epsilon(build(s), delta) <= target``
    (bisection on a log scale; epsilon falls as noise grows); ``unreachable`` is the message
    when even the largest noise spends more (noise beyond it leaves nothing learned)."""
    low, high = _SIGMA_LOW, _SIGMA_HIGH
    if spent_epsilon(build(high), delta) > target:
        raise ParameterError(unreachable)
    if spent_epsilon(build(low), delta) <= target:
        return low
    for _ in range(60):
        mid = math.sqrt(low * high)
        if spent_epsilon(build(mid), delta) > target:
            low = mid
        else:
            high = mid
        if high / low < 1.002:
            break
    return high


def replace_one_at(mechanisms: list[Mechanism], delta: float) -> float:
    """The replace-one-row epsilon of ``mechanisms`` at ``delta`` itself: group privacy of two
    add/remove steps at the ``delta'`` for which ``(1 + exp(e(delta'))) delta' = delta``, so
    the recorded delta is the one asked (at ``delta`` directly it reached 0.2-32 at epsilons
    of 10-15, and 6e24 for a fixed small noise). Bisection on ``log delta'``; the Renyi curve
    is computed once."""
    rdp = _renyi_curve(mechanisms)
    if rdp is None:
        return 0.0

    def epsilon(at: float) -> float:
        return _epsilon_at(rdp, at)

    low, high = math.log(delta) - 60.0, math.log(delta)  # (1 + e^e) d' - delta: < 0 at low, > 0 at high
    for _ in range(80):
        mid = (low + high) / 2
        if (1.0 + math.exp(min(epsilon(math.exp(mid)), 700.0))) * math.exp(mid) > delta:
            high = mid
        else:
            low = mid
    return 2.0 * epsilon(math.exp(low))


def add_remove_target(epsilon: float, delta: float) -> tuple[float, float]:
    """The add/remove budget whose group-privacy bound over two steps, ``(2 e, (1 + exp(e)) d)``, is
    ``(epsilon, delta)``."""
    return epsilon / 2.0, delta / (1.0 + math.exp(epsilon / 2.0))


@dataclass(frozen=True)
class NoisePlan:
    """The noise of a private fit, calibrated to spend at most the budget.

    Attributes:
        statistics_noise: Noise multiplier of the column histograms.
        sgd_noise: Noise multiplier of DP-SGD.
        sample_rate: Poisson sampling rate of DP-SGD.
        steps: DP-SGD steps.
        delta: The delta of the guarantee.
        epsilon: Epsilon the whole fit spends (at most the budget).
        statistics_epsilon: What the histograms alone would spend.
    """

    statistics_noise: float
    sgd_noise: float
    sample_rate: float
    steps: int
    delta: float
    epsilon: float
    statistics_epsilon: float

    def mechanisms(self) -> list[Mechanism]:
        """The composition this plan runs."""
        return [Mechanism(self.statistics_noise, 1.0, 1), Mechanism(self.sgd_noise, self.sample_rate, self.steps)]


def plan_noise(epsilon: float, delta: float, sample_rate: float, steps: int, statistics_share: float) -> NoisePlan:
    """Calibrate both mechanisms to a budget.

    The histograms get the noise that would spend ``statistics_share * epsilon`` on its own; DP-SGD
    then gets the least noise for which the composition stays within ``epsilon``.

    Raises:
        ParameterError: The budget cannot be met (too many steps for it, say).
    """
    stats_target = epsilon * statistics_share
    stats_sigma = _smallest_sigma(
        stats_target, delta, lambda s: [Mechanism(s, 1.0, 1)],
        f"privacy: epsilon {epsilon:g} is too small: the column histograms' share of it (statistics_share "
        f"{statistics_share:g} x {epsilon:g} = {stats_target:.3g}, one release at delta {delta:.3g}) is not reached even "
        f"with noise {_SIGMA_HIGH:g} times the sensitivity, which would leave nothing to learn; raise epsilon "
        f"(or statistics_share, or delta)",
    )
    sgd_sigma = _smallest_sigma(
        epsilon, delta, lambda s: [Mechanism(stats_sigma, 1.0, 1), Mechanism(s, sample_rate, steps)],
        f"privacy: epsilon {epsilon:g} cannot be reached: DP-SGD's {steps} steps at sampling rate {sample_rate:.3g} "
        f"spend more even with noise {_SIGMA_HIGH:g} times the clipping bound, which would leave nothing to "
        f"learn; raise epsilon or delta, or train for fewer epochs",
    )
    return fixed_noise(sgd_sigma, stats_sigma, delta, sample_rate, steps)


def fixed_noise(sgd_noise: float, statistics_noise: float, delta: float, sample_rate: float, steps: int) -> NoisePlan:
    """The plan for given noise multipliers, with the epsilon it spends."""
    stats = Mechanism(statistics_noise, 1.0, 1)
    return NoisePlan(
        statistics_noise,
        sgd_noise,
        sample_rate,
        steps,
        delta,
        epsilon=spent_epsilon([stats, Mechanism(sgd_noise, sample_rate, steps)], delta),
        statistics_epsilon=spent_epsilon([stats], delta),
    )
