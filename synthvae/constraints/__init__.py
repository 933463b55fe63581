"""Business rules in the schema that every synthetic row obeys.

- :mod:`synthvae.constraints.spec`: the rules (inequality, range, fixed combinations, unique,
  derived, regex, null when, lookup), read from and written to the schema JSON; which rows break each.
- :mod:`synthvae.constraints.expression`: the safe arithmetic of derived columns.
- :mod:`synthvae.constraints.plan`: how a fit keeps them: the table the model learns
  (reparameterised), the way back, and the check of every sampled row.
- :mod:`synthvae.constraints.resampling`: targeted resampling of the rows that break a rule.
- :mod:`synthvae.constraints.sdv`: SDV metadata converted into a schema.

No module here imports torch.
"""

from synthvae.constraints.spec import (
    Constraint,
    ConstraintKind,
    Derived,
    FixedCombinations,
    Inequality,
    Lookup,
    NullWhen,
    Range,
    Regex,
    Unique,
    Value,
)

__all__ = [
    "Constraint",
    "ConstraintKind",
    "Derived",
    "FixedCombinations",
    "Inequality",
    "Lookup",
    "NullWhen",
    "Range",
    "Regex",
    "Unique",
    "Value",
]
