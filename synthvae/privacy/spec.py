"""What a user asks of a private fit: the budget and the knobs of DP-SGD."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from synthvae.errors import ParameterError, is_integer, is_real
from synthvae.model import JsonConfig


ADJACENCIES = ("add_remove", "replace")


# The share of epsilon planned for the histograms by default (see PrivacySpec.statistics_share).
_STATISTICS_SHARE = 0.25


@dataclass(frozen=True)
class PrivacySpec(JsonConfig):
    """Differential privacy for a fit: ``(epsilon, delta)`` over everything learned from the rows.

    Give either ``epsilon`` (the noise is calibrated to spend it) or ``noise_multiplier`` (the
    noise is fixed and the epsilon it spends is computed: more epochs, more epsilon).

    Attributes:
        epsilon: The budget (smaller is more private; 1-10 is the usual range).
        noise_multiplier: DP-SGD's noise over ``max_grad_norm``, instead of a budget; the
            histograms then get ten times this multiplier.
        delta: Probability the guarantee may fail; ``None`` picks ``min(1e-5, 0.1 / rows)``.
        max_grad_norm: Per-row gradient clipping bound of DP-SGD.
        statistics_share: Share of epsilon planned for the column histograms the codecs are
            fitted from (the rest goes to DP-SGD; Renyi composition makes the total exact).
        epochs: Passes of DP-SGD over the rows (in expectation); each costs budget.
        batch_size: Expected rows per DP-SGD step; ``None`` picks ``clip(rows / 10, 64, 1024)``
            (larger batches drown less signal in the same noise).
        refuse_leaks: Refuse to fit when the schema surely looks read from the table (both bounds
            at the data's exact min and max, or one that is no round value, categories only 1-2
            rows have, an id start at or one past the real ids), the default; one round bound
            at a value 1-2 rows hold, which a public bound such as 0 may be, is warned of only. ``False`` takes such a schema as
            public knowledge, with a warning for each fact (an inferred schema, passed on as it
            was, put 584 job titles only one person held into 83% of a private fit's rows, a
            review).
        adjacency: Which tables count as neighbours for the budget. ``"add_remove"`` (default):
            one table has one row more; the model file records the row count, which this
            guarantee does not cover. ``"replace"``: one row replaced by another, the row count
            public; the noise is calibrated so that group privacy of two add/remove steps,
            ``(2 e, (1 + exp(e)) d)`` for an add/remove ``(e, d)``, stays within the budget.
    """

    epsilon: float | None = None
    noise_multiplier: float | None = None
    delta: float | None = None
    max_grad_norm: float = 1.0
    statistics_share: float = _STATISTICS_SHARE
    epochs: int = 30
    batch_size: int | None = None
    refuse_leaks: bool = True
    adjacency: str = "add_remove"

    def __post_init__(self) -> None:
        problems = []
        if (self.epsilon is None) == (self.noise_multiplier is None):
            problems.append("give exactly one of epsilon and noise_multiplier")
        for name in ("epsilon", "noise_multiplier"):
            value = getattr(self, name)
            if value is not None and not (is_real(value) and value > 0):
                problems.append(f"{name} must be a positive number, got {value!r}")
        if self.delta is not None and not (is_real(self.delta) and 0 < self.delta < 1):
            problems.append(f"delta must be a number in (0, 1), got {self.delta!r}")
        if not (is_real(self.max_grad_norm) and self.max_grad_norm > 0):
            problems.append(f"max_grad_norm must be a positive number, got {self.max_grad_norm!r}")
        if not (is_real(self.statistics_share) and 0 < self.statistics_share < 1):
            problems.append(f"statistics_share must be a number in (0, 1), got {self.statistics_share!r}")
        elif self.noise_multiplier is not None and self.statistics_share != _STATISTICS_SHARE:
            # It was ignored without a word: the histograms' noise follows the fixed multiplier.
            problems.append(f"statistics_share ({self.statistics_share!r}) splits an epsilon budget between the histograms "
                            f"and DP-SGD; with noise_multiplier there is no budget (the histograms get ten times its noise): "
                            f"leave statistics_share out")
        if not (is_integer(self.epochs) and self.epochs >= 1):
            problems.append(f"epochs must be a positive integer, got {self.epochs!r}")
        if self.batch_size is not None and not (is_integer(self.batch_size) and self.batch_size >= 1):
            problems.append(f"batch_size must be a positive integer or None, got {self.batch_size!r}")
        if not isinstance(self.refuse_leaks, bool):
            problems.append(f"refuse_leaks must be True or False, got {self.refuse_leaks!r}")
        if self.adjacency not in ADJACENCIES:
            problems.append(f"adjacency must be one of {list(ADJACENCIES)}, got {self.adjacency!r}")
        if problems:
            raise ParameterError("privacy: " + "; ".join(problems))
        # numpy numbers are accepted; the spec is stored as JSON, so keep Python ones.
        for name in ("epsilon", "noise_multiplier", "delta", "max_grad_norm", "statistics_share"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("epochs", "batch_size"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, int(getattr(self, name)))

    @classmethod
    def parse(cls, value: Any) -> "PrivacySpec | None":
        """Accept ``None``, a spec, a number (epsilon) or a mapping of the attributes."""
        if value is None or isinstance(value, PrivacySpec):
            return value
        if isinstance(value, (bool, np.bool_)):
            raise ParameterError(f"privacy must be an epsilon, a mapping or a PrivacySpec, got {value!r}")
        if isinstance(value, (int, float, np.integer, np.floating)):  # numpy numbers too, as documented
            return cls(epsilon=float(value))
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(cls.__dataclass_fields__))
            if unknown:
                raise ParameterError(f"privacy: unknown settings {unknown}; known: {sorted(cls.__dataclass_fields__)}")
            return cls(**value)
        raise ParameterError(f"privacy must be an epsilon, a mapping or a PrivacySpec, got {type(value).__name__}")

    def resolve_delta(self, rows: int) -> float:
        """The delta used for ``rows`` training rows."""
        return self.delta if self.delta is not None else min(1e-5, 0.1 / max(rows, 1))

    def resolve_batch_size(self, rows: int) -> int:
        """The expected batch size for ``rows`` training rows."""
        size = self.batch_size if self.batch_size is not None else int(min(1024, max(64, rows // 10)))
        return max(1, min(size, rows))
