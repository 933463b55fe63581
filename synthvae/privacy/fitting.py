"""The private part of a fit that happens before training: budget, noise and the codecs' proxy.

:func:`prepare_private_fit` checks the schema, plans the noise of the two mechanisms
(:mod:`synthvae.privacy.accounting`), releases the noisy histograms and builds the proxy table
the codecs are fitted from (:mod:`synthvae.privacy.statistics`). DP-SGD itself is
:mod:`synthvae.privacy.dpsgd`.

What the guarantee covers: the model file as a whole (weights, codec state, the latent prior,
the conditional prior) is (epsilon, delta)-DP, given the schema. The file also records the
number of rows (and the sampling rate, steps and network follow from it), so the two
adjacencies say different things:

* add/remove one row (the accountant's, and the default budget): covers everything but the row
  count, which is released exactly;
* replace one row (the row count public, as a release that states it needs): two add/remove
  steps, ``(2 e', delta)`` by group privacy at the ``delta'`` with ``(1 + exp(e')) delta' =
  delta`` (an upper bound); ``PrivacySpec(adjacency="replace")`` calibrates the noise to meet
  the budget that way. The record gives both, at the delta asked.

The schema (column names, kinds, bounds, categories) is treated as public: a schema read from
the table itself leaks what it holds, which :func:`synthvae.privacy.statistics.leak_warnings`
reports at fit time (those warnings, being read from the rows, are not saved). The training
losses are not saved either.
"""

from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthvae.errors import DataError, ParameterError
from synthvae.privacy.accounting import NoisePlan, add_remove_target, fixed_noise, plan_noise, replace_one_at, spent_epsilon
from synthvae.privacy.spec import PrivacySpec
from synthvae.privacy.statistics import check_public_bounds, leaks, proxy_table, release
from synthvae.schema import Schema
from synthvae.validation import conform

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrivatePlan:
    """Everything decided before private training.

    Attributes:
        spec: What the user asked for.
        noise: The calibrated noise and the epsilon it spends.
        batch_size: Expected rows per DP-SGD step.
        proxy: The table the codecs are fitted from (post-processing of the noisy histograms).
        warnings: What in the schema looks read from the table (see ``leak_warnings``).
        bins: Bins of a real-valued column's histogram.
        delta: The delta asked for (the guarantee's under either adjacency).
    """

    spec: PrivacySpec
    noise: NoisePlan
    batch_size: int
    proxy: pd.DataFrame
    warnings: tuple[str, ...]
    bins: int
    delta: float

    def record(self) -> dict:
        """The JSON-ready account stored in the model file and shown in reports: ``epsilon``
        and ``delta`` under the spec's adjacency, and the guarantee under each."""
        mechanisms = self.noise.mechanisms()
        spent = self.noise.epsilon if self.noise.delta == self.delta else spent_epsilon(mechanisms, self.delta)
        add_remove = {"epsilon": spent, "delta": self.delta}
        replace = {"epsilon": replace_one_at(mechanisms, self.delta), "delta": self.delta}
        headline = replace if self.spec.adjacency == "replace" else add_remove
        return {
            "epsilon": headline["epsilon"],
            "epsilon_budget": self.spec.epsilon,
            "delta": headline["delta"],
            "adjacency": self.spec.adjacency,
            "add_remove": add_remove,
            "replace_one": replace,
            "statistics_epsilon": self.noise.statistics_epsilon,
            "statistics_noise_multiplier": self.noise.statistics_noise,
            "sgd_noise_multiplier": self.noise.sgd_noise,
            "sample_rate": self.noise.sample_rate,
            "steps": self.noise.steps,
            "expected_batch_size": self.batch_size,
            "max_grad_norm": self.spec.max_grad_norm,
            "epochs": self.spec.epochs,
            "histogram_bins": self.bins,
            "accountant": (
                "Renyi DP (Opacus RDPAccountant), add/remove-one-row adjacency"
                if self.spec.adjacency == "add_remove" else
                "Renyi DP (Opacus RDPAccountant) add/remove-one-row, replace-one-row by group privacy of two steps"
            ),
            "covers": (
                "weights, codec state and latent priors, given the schema; not the row count, which the file records"
                if self.spec.adjacency == "add_remove" else
                "weights, codec state and latent priors, given the schema and the row count (public)"
            ),
            "warnings": list(self.warnings),
            "spec": self.spec.to_dict(),
        }


def prepare_private_fit(frame: pd.DataFrame, schema: Schema, spec: PrivacySpec, source: str = "training data",
                        schema_name: str = "the schema") -> PrivatePlan:
    """Plan the noise, release the noisy histograms and build the codecs' proxy table.

    Args:
        frame: The training table (as given).
        schema: Its schema, public by assumption.
        spec: The budget and DP-SGD settings.
        source: The table's name in messages.
        schema_name: The schema's in messages (its file, where it came from one).

    The histograms' noise is drawn from the operating system's entropy, never from the fit's
    seed (which the model file stores): see :mod:`synthvae.privacy.dpsgd`.

    Raises:
        ParameterError: The schema lacks public bounds, the budget cannot be met, or (with
            ``refuse_leaks``, the default) the schema surely looks read from the table (see
            :func:`synthvae.privacy.statistics.leaks`).
    """
    check_public_bounds(schema)
    try:
        data = conform(frame, schema, source)
    except DataError as exc:
        raise DataError(_private_advice(str(exc))) from None
    rows = len(data)
    if rows == 0:
        raise ParameterError(f"{source} has no rows")
    found = leaks(schema, data)
    sure = [text for text, certain in found if certain]
    if sure and spec.refuse_leaks:
        raise ParameterError(
            f"refusing a private fit: {schema_name} holds {len(sure)} fact(s) that look read from {source}, which the "
            f"guarantee does not cover: " + "; ".join(sure) + f". Edit {schema_name} into public knowledge as each says; or, "
            "where those facts are public, fit with refuse_leaks=False (synthvae fit --allow-leaks), which warns of them")
    warnings = tuple(text for text, _ in found)
    for text in warnings:
        logger.warning("privacy: %s", text)
    batch = spec.resolve_batch_size(rows)
    sample_rate = batch / rows
    steps = max(1, int(math.ceil(spec.epochs / sample_rate)))
    delta = spec.resolve_delta(rows)
    if delta >= 1.0 / rows:
        raise ParameterError(
            f"privacy: delta {delta:g} is not below 1 / rows (1 / {rows} = {1.0 / rows:.3g}): a guarantee allowed to fail "
            f"that often is met by publishing a random row; use a delta well below it (the default, "
            f"min(1e-5, 0.1 / rows), is {min(1e-5, 0.1 / rows):.3g} here)"
        )
    if spec.delta is not None and delta > 0.1 / rows:
        # 0.5 / rows passed without a word (a user review): a 1-in-2 chance that some row's
        # guarantee fails.
        logger.warning("privacy: delta %.3g is above 0.1 / rows (0.1 / %d = %.3g): the guarantee may fail with that "
                       "probability, which for %d rows is a loose one; the default, min(1e-5, 0.1 / rows), is %.3g here",
                       delta, rows, 0.1 / rows, rows, min(1e-5, 0.1 / rows))
    if spec.epsilon is not None and spec.epsilon > NOMINAL_EPSILON:
        # epsilon 1e6 was accepted silently (and spent 1,152: the noise at its floor).
        logger.warning("privacy: epsilon %g is above %g: a guarantee that loose bounds little in practice (a row's "
                       "presence may change what is released by a factor of e^%g); choose 1-10 for a meaningful one",
                       spec.epsilon, NOMINAL_EPSILON, spec.epsilon)
    if spec.epsilon is not None and spec.adjacency == "replace":
        # The add/remove budget whose group-privacy bound over two steps is the one asked.
        noise = plan_noise(*add_remove_target(spec.epsilon, delta), sample_rate, steps, spec.statistics_share)
    elif spec.epsilon is not None:
        noise = plan_noise(spec.epsilon, delta, sample_rate, steps, spec.statistics_share)
    else:
        noise = fixed_noise(spec.noise_multiplier, 10.0 * spec.noise_multiplier, delta, sample_rate, steps)
        if noise.epsilon > NOMINAL_EPSILON:
            # noise_multiplier 0.01 spent 33,056 without a word, where epsilon 1e9 was warned of.
            logger.warning("privacy: noise_multiplier %g spends epsilon %.4g, above %g: a guarantee that loose bounds "
                           "little in practice; raise the multiplier (or give an epsilon of 1-10 instead)",
                           spec.noise_multiplier, noise.epsilon, NOMINAL_EPSILON)
    released = release(data, schema, noise.statistics_noise, np.random.default_rng(secrets.randbits(128)))
    return PrivatePlan(spec, noise, batch, proxy_table(released, schema), warnings, released.real_bins, delta)


# Above it, the guarantee is nominal: warned of (the literature calls 1-10 meaningful).
NOMINAL_EPSILON = 20.0


def _private_advice(message: str) -> str:
    """A bounds refusal's advice for a private fit: "raise max" meant setting the bound from the
    table, one row's exact value, which the guarantee does not cover (a user review)."""
    for fix in ("raise max or fix the data", "lower min or fix the data"):
        if message.endswith(fix):
            return (message.removesuffix(fix) + "a private fit's bounds must be public knowledge, not read from this table: "
                    "clip the values to the public bound (frame[column].clip(lower=..., upper=...)) or drop those rows")
    return message


__all__ = ["PrivatePlan", "prepare_private_fit"]
