"""How a fit keeps its schema's rules: the table the model learns, the way back, the final check.

Rules are kept **by construction** where a change of variables makes breaking them impossible,
and by **resampling** (the synthesizer draws the rows that break them again) where not:

==================  ====================================================================
rule                by construction
==================  ====================================================================
inequality          the model learns ``high - low`` (at least 0) instead of ``high`` (and
                    ``high`` itself, for the rows where a nullable ``low`` is null)
range               the model learns ``(column - low) / (high - low)`` in ``[0, 1]``
fixed combinations  the model learns the combination as one categorical column
derived             the column is computed from the others, never learned
regex               categorical columns: every category matches (checked in the schema)
null when           the column is learned as is, and set null where the rule says
lookup              the column is learned as is, and each value moved to the nearest one
                    its keys held (rows of keys never seen together are drawn again)
unique              never: duplicates are drawn again
==================  ====================================================================

The plan also holds one transform that keeps no rule: a datetime column learned as its calendar
parts (:class:`_Calendar`, ``Synthesizer(datetime_encoding="calendar")``), which rebuilds a user
column from model columns the same way.

A rule falls back to resampling when construction cannot hold it: a range's nullable bound (the
position would lose the column's value where the bound is null), a column already
rebuilt by an earlier rule, a dependency cycle, a personal column's pattern, a null-when rule
over a column some transform rebuilds, a rule between two columns whose rebuilt side would be a
lattice in the training rows (values on few of the points their grid offers, lost as a gap or
a share). Every sampled row
is checked against every rule either way (:meth:`ConstraintPlan.broken`).

The plan reads the real table once, at fit time: it refuses data that breaks a rule (listing
examples), and learns the value combinations and the range of each rebuilt column (sampled
values stay within what was seen, as the codecs' do). It imports no torch.
"""

from __future__ import annotations

import calendar
import enum
import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from synthvae.conditions import Condition, intersect
from synthvae.constraints.spec import (
    Constraint,
    pattern_matches,
    Derived,
    FixedCombinations,
    Inequality,
    Lookup,
    NullWhen,
    Range,
    Regex,
    Unique,
    Value,
    combination_keys,
    key_positions,
    rows_by_key,
    rows_by_position,
)
from synthvae.errors import ConstraintError, DataError, ParameterError, is_integer, preview
from synthvae.preprocessing.codecs import between_grid_points, real_value, real_values, unit_ns
from synthvae.preprocessing.transforms import tail_cuts
from synthvae.schema import Column, ColumnKind, NumericType, Schema

logger = logging.getLogger(__name__)

_EXAMPLES = 3


class Mode(str, enum.Enum):
    """How a rule is kept."""

    CONSTRUCTION = "construction"
    RESAMPLING = "resampling"


# ----------------------------------------------------------------- the check of a table
def rule_violations(schema: Schema, frame: pd.DataFrame, combinations: dict[int, set] | None = None,
                    lookups: dict[int, dict[tuple, np.ndarray]] | None = None) -> dict[Constraint, np.ndarray]:
    """Per rule of the schema, which rows of a conformed (or sampled) table break it.

    Args:
        schema: The schema holding the rules.
        frame: The table, with the schema's columns (dropped personal columns may be absent).
        combinations: For fixed-combination rules (by their index in ``schema.constraints``), the
            allowed combinations; without them the rule is taken as kept.
        lookups: For lookup rules (by index), each combination of the keys' values the values
            held with it; without them the rule is taken as kept.
    """
    out = {}
    for i, rule in enumerate(schema.constraints):
        if any(name not in frame.columns for name in rule.columns):
            continue  # a personal column left out of sampled tables
        if isinstance(rule, FixedCombinations):
            out[rule] = rule.broken(frame, (combinations or {}).get(i))
        elif isinstance(rule, Derived):
            out[rule] = rule.broken(frame, schema[rule.column])
        elif isinstance(rule, Lookup):
            out[rule] = rule.broken(frame, (lookups or {}).get(i))
        else:
            out[rule] = rule.broken(frame)
    return out


def check_table(schema: Schema, frame: pd.DataFrame, source: str = "data") -> None:
    """Refuse a conformed table that breaks a rule of its schema.

    Id columns whose values repeat are logged, not refused: sampling gives every row a new id,
    so a key rows share (a customer's orders) is not kept (seattle's wind speeds marked an id
    passed without a word and came back as 10, 11, ...).

    Raises:
        ConstraintError: Names each broken rule, how many rows break it, and example rows with
            their values, and says how to fix it.
    """
    lines = broken_rules(schema, frame, source)
    if lines:
        raise ConstraintError(
            f"{source} breaks {len(lines)} constraint{'s' if len(lines) > 1 else ''} of the schema:\n"
            + "\n".join(f"  - {line}" for line in lines)
            + f"\n{FIX_BROKEN_RULES}"
        )


FIX_BROKEN_RULES = "fix those rows, or correct or remove the constraint (a model cannot keep a rule its data breaks)"


def broken_rules(schema: Schema, frame: pd.DataFrame, source: str = "data") -> list[str]:
    """One line per rule of the schema that a conformed table breaks: the rule, how many rows
    break it, and example rows with their values (what :func:`check_table` refuses); rules
    over columns the table lacks are left out. Logs id columns whose values repeat."""
    for column in schema:
        if column.kind is ColumnKind.ID and column.name in frame.columns:
            values = frame[column.name].dropna()
            repeated = len(values) - values.nunique()
            if repeated:
                logger.warning("%s, column %r: an id column whose values repeat (%d of %d rows repeat an earlier one); "
                               "synthetic rows get new unique ids, so rows that share a key do not: if it is not a "
                               "row key, make it categorical or numeric", source, column.name, repeated, len(values))
    lines = []
    for rule, broken in rule_violations(schema, frame).items():
        count = int(broken.sum())
        if count:
            rows = np.flatnonzero(broken)[:_EXAMPLES]
            examples = "; ".join(
                f"row {r}: " + ", ".join(f"{c}={_show(frame[c].iloc[r])}" for c in rule.columns) for r in rows
            )
            lines.append(f"{rule.describe()}: {count} of {len(frame)} rows break it, e.g. {examples}")
    return lines


def _show(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "null"
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return repr(value.item() if isinstance(value, np.generic) else value)


# Seed of the differences drawn for rows whose other side is null (see _Difference).
_FILL_SEED = 20_241_207
# Most grid values of an input tried when two inputs of a derived cell are unknown (see
# ConstraintPlan._solve_pair): flights' hours are 24.
_PAIR_VALUES = 100
# Most grid points of a learned input a set of a derived column's values is hinted as (see
# _linear_hint); more, and the hint is their range.
_MAX_HINT_POINTS = 64


# -------------------------------------------------------------- grids of values
@dataclass(frozen=True)
class _Grid:
    """The values a numeric or datetime column can take, on its float scale (datetimes in ticks
    of the column's unit): integers, ``decimals`` places, or any float."""

    column: Column

    @property
    def step(self) -> float:
        c = self.column
        return 1.0 if c.kind is ColumnKind.DATETIME else (c.grid_step or 0.0)

    def snap(self, x: np.ndarray) -> np.ndarray:
        c = self.column
        if c.kind is ColumnKind.DATETIME or c.is_integer:
            return np.round(x)
        return x if c.decimals is None else np.round(x, c.decimals)

    def up(self, x: np.ndarray, strict: bool) -> np.ndarray:
        """The least grid value ``>= x`` (``> x`` when strict)."""
        step = self.step
        if step == 0:
            return np.nextafter(x, np.inf) if strict else x
        out = np.ceil(np.round(x / step, 6)) * step
        if strict:
            out = np.where(out <= x, out + step, out)
        return self.snap(out)

    def down(self, x: np.ndarray, strict: bool) -> np.ndarray:
        """The greatest grid value ``<= x`` (``< x`` when strict)."""
        step = self.step
        if step == 0:
            return np.nextafter(x, -np.inf) if strict else x
        out = np.floor(np.round(x / step, 6)) * step
        if strict:
            out = np.where(out >= x, out - step, out)
        return self.snap(out)

    def between(self, low: float, high: float) -> np.ndarray:
        """Every grid value from ``low`` to ``high`` (a grid with a step)."""
        first = float(self.up(np.array([low]), False)[0])
        count = int(round((float(self.down(np.array([high]), False)[0]) - first) / self.step)) + 1
        return self.snap(first + self.step * np.arange(max(count, 0)))

    def values(self, series: pd.Series) -> np.ndarray:
        """A conformed or sampled column on the float scale (NaN for nulls)."""
        if self.column.kind is ColumnKind.DATETIME:
            return real_values(series, self.column)
        return pd.Series(series).astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)

    def side(self, frame: pd.DataFrame, side, schema: Schema) -> np.ndarray | float:
        """A side of a comparison on this column's scale: a column's values, or a constant."""
        if isinstance(side, Value):
            return real_value(side.value, self.column)
        other = schema[side]
        if self.column.kind is ColumnKind.DATETIME:
            return real_values(frame[side], self.column)  # in this column's unit
        return _Grid(other).values(frame[side])

    def datetimes(self, ticks: np.ndarray, isnull: np.ndarray) -> pd.Series:
        """Whole ticks of a datetime column's unit (int64) as datetimes, null where ``isnull``."""
        out = pd.Series((np.where(isnull, 0, ticks) * unit_ns(self.column)).view("datetime64[ns]"))
        out[isnull] = pd.NaT
        return out

    def to_series(self, x: np.ndarray) -> pd.Series:
        """Float-scale values back to the column's sampled dtype (NaN to null)."""
        c = self.column
        isnull = np.isnan(x)
        if c.kind is ColumnKind.DATETIME:
            # Whole ticks times the unit in integers: float ticks * 1e6 drifted off a ms grid.
            return self.datetimes(np.where(isnull, 0, np.round(x)).astype(np.int64), isnull)
        if c.is_integer:
            out = pd.array(np.where(isnull, 0, np.round(x)).astype(np.int64), dtype="Int64")
            out[isnull] = pd.NA
            return pd.Series(out)
        return pd.Series(x, dtype="float64")


# --------------------------------------------------------------- transforms
class _Transform:
    """A rule kept by construction: the user columns it rebuilds (``owns``), those it needs to
    rebuild them (``reads``), and the model columns that replace the owned ones."""

    rule: Constraint
    owns: tuple[str, ...]
    reads: tuple[str, ...]

    def model_columns(self) -> list[Column]:
        return []

    def fit(self, data: pd.DataFrame, private: bool) -> None:
        """Learn from the real (conformed) table."""

    def forward(self, data: pd.DataFrame, partial: bool = False) -> dict[str, pd.Series]:
        """The model columns of a conformed table; with ``partial``, a model cell whose inputs
        are not all known is null (for imputation)."""
        return {}

    def reverse(self, model: pd.DataFrame, out: dict[str, pd.Series]) -> None:
        """Write the owned columns into ``out`` (user columns rebuilt so far, sampled dtypes)."""

    def get_state(self) -> dict:
        return {}

    def set_state(self, state: dict) -> None:
        pass


class _RangeKept(_Transform):
    """A transform that rebuilds one numeric or datetime column (``owns[0]``, on ``grid``) and
    keeps it within the range the training rows span (``seen``, kept in the model file; none
    for a private fit, which reads no real row here), as the codecs keep theirs."""

    grid: _Grid
    seen: tuple[float, float] | None = None
    private: bool = False  # set by fit: whether the fit is private (it reads no row but each one's own)
    # Top- and bottom-coding (``Synthesizer(min_tail_rows=...)``): ``seen`` ends at the cuts with
    # this many training values beyond each (tail_cuts), on the grid; set by ConstraintPlan.fit.
    tail_rows: int = 1

    def fit(self, data: pd.DataFrame, private: bool) -> None:
        self.private = private
        values = self.grid.values(data[self.owns[0]])
        values = np.sort(values[~np.isnan(values)])
        if private or not values.size:
            self.seen = None
            return
        cuts = tail_cuts(values, self.tail_rows)  # on the grid, inwards
        low, high = (values[0], values[-1]) if cuts is None else (self.grid.up(np.array([cuts[0]]), False)[0],
                                                                  self.grid.down(np.array([cuts[1]]), False)[0])
        self.seen = (float(low), float(high)) if low <= high else (float(cuts[0]),) * 2

    def get_state(self) -> dict:
        return {"seen": list(self.seen) if self.seen is not None else None,
                **({"tail_rows": self.tail_rows} if self.tail_rows > 1 else {})}

    def set_state(self, state: dict) -> None:
        tail_rows = state.get("tail_rows", 1)
        if not is_integer(tail_rows) or tail_rows < 1:
            raise ValueError(f"the tail rows of {self.owns[0]!r} must be a whole number of at least 1, got {tail_rows!r}")
        self.tail_rows = int(tail_rows)
        seen = state.get("seen")
        if seen is None:
            self.seen = None
            return
        # Checked here, where a model file is read: an edited "seen" ("x", [], [None, 1.0])
        # loaded and then failed sampling with a TypeError deep in the range's clip.
        if (not isinstance(seen, list) or len(seen) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                                    for v in seen) or not np.isfinite(seen).all() or seen[0] > seen[1]):
            raise ValueError(f"the range of {self.owns[0]!r} ('seen') must be two finite numbers, low <= high, got {seen!r}")
        self.seen = (float(seen[0]), float(seen[1]))


def _kept_on_side(grid: _Grid, value: np.ndarray, other, above: bool, strict: bool) -> np.ndarray:
    """``value`` (on ``grid``) moved to the grid's nearest value on its side of ``other``: at
    least ``other`` (above it when ``strict``) where ``above``, else at most (below it)."""
    with np.errstate(invalid="ignore"):
        if above:
            fixed = grid.up(other, strict)
            return np.where(value < fixed, fixed, value)
        fixed = grid.down(other, strict)
        return np.where(value > fixed, fixed, value)


class _Difference(_RangeKept):
    """Inequality ``low <= high``: the model learns ``high - low`` (>= 0) in place of the column side
    it owns (``high``, or ``low`` when ``high`` is a constant).

    Where the other side may be null (an end date beside a start that is sometimes unknown), the
    model also learns the owned column as it is (``alone``), which gives it where the other side
    is null; elsewhere the difference does. The difference of a row whose other side is null is
    one drawn from the table's own differences (seeded; 0 in a private fit, whose rows may not
    borrow from one another), so that both model columns are null
    where the owned one is and nowhere else (null where the other side is, rows drawn with a
    present other side but no difference lost their value). Kept by drawing rows again instead,
    with both sides learned as they are, flights' arrival times lay a median 1,659 minutes after
    their departures (the real 146) where 3% of them were null (a review)."""

    def __init__(self, rule: Inequality, schema: Schema) -> None:
        self.rule, self.schema = rule, schema
        self.owned = rule.high if isinstance(rule.high, str) else rule.low
        self.other = rule.low if self.owned == rule.high else rule.high
        self.owns = (self.owned,)
        self.reads = (self.other,) if isinstance(self.other, str) else ()
        self.grid = _Grid(schema[self.owned])
        self.name = f"{self.owned}~difference"
        self.alone = f"{self.owned}~alone" if isinstance(self.other, str) and schema[self.other].nullable else None

    def model_columns(self) -> list[Column]:
        owned = self.schema[self.owned]
        other_integer = isinstance(self.other, Value) or self.schema[self.other].is_integer
        integer = owned.kind is ColumnKind.NUMERIC and owned.is_integer and other_integer
        if integer:
            kind = dict(type=NumericType.INTEGER)
        else:
            decimals = owned.decimals if owned.kind is ColumnKind.NUMERIC else None
            kind = dict(type=NumericType.FLOAT, decimals=decimals)
        columns = [
            Column(self.name, ColumnKind.NUMERIC, nullable=owned.nullable, meaningful_nulls=owned.meaningful_nulls,
                   min=0, description=self.rule.describe(), **kind)
        ]
        if self.alone is not None:
            columns.append(replace(owned, name=self.alone,
                                   description=f"{self.owned}, given where {self.other} is null ({self.rule.describe()})"))
        return columns

    def hints(self, condition: Condition, given: dict[str, Condition] | None = None) -> list[Condition]:
        """A condition on the owned column against a constant (``calls <= 200``) as a range of
        the learned difference (``calls = 150`` is ``200 - calls`` within half a grid step of
        50), so the model draws rows near it; the same against a learned column that a
        condition in ``given`` (on the model's columns) pins to one value (``lo = 50`` and ``hi
        >= 58`` is a difference of at least 8: 247 of 2,000 rows after 1.5 million blind draws,
        then a failure); none against a free learned column, or for a datetime."""
        if self.grid.column.kind is not ColumnKind.NUMERIC:
            return []
        other = _pinned(self.other, given, self.grid.column)
        if other is None:
            return []
        high_side = self.owned == self.rule.high
        # reverse clips the rebuilt value into the training range and the schema's bounds, then
        # moves it up (down) to the other side's floor (ceiling): the values it can give.
        low_end, high_end = _kept_range(self.seen, self.grid.column)
        if high_side:
            floor = float(self.grid.up(np.array([other]), self.rule.strict)[0])
            lower, upper = max(floor, low_end), max(floor, high_end)
        else:
            ceiling = float(self.grid.down(np.array([other]), self.rule.strict)[0])
            lower, upper = min(ceiling, low_end), min(ceiling, high_end)
        return _clamped_hint(self.name, condition, self.grid, self.rule, lower, upper,
                             intercept=-other if high_side else other, slope=1.0 if high_side else -1.0)

    def necessary(self, condition: Condition, given: dict[str, Condition]) -> list[Condition]:
        """Where :meth:`hints` has none (the other side a learned column no condition pins): the
        condition the other side must meet for the rebuilt one to meet ``condition``, ``high <=
        b`` is ``low <= b``. It narrows the rows the model draws; the check decides."""
        if (self.grid.column.kind is not ColumnKind.NUMERIC or not isinstance(self.other, str) or self.owned != self.rule.high
                or self.alone is not None):  # the other side null, the owned value is its own: nothing follows for the other
            return []
        if _pinned(self.other, given, self.grid.column) is not None:
            return []
        span = _grid_span(condition, self.grid.column)
        return [Condition(self.other, high=span[1])] if span is not None and np.isfinite(span[1]) else []

    def pinned_by(self, condition: Condition, given: dict[str, Condition] | None = None) -> object | None:
        """The one value ``condition`` gives the owned column where pinning meets it (the other
        side a constant, or a column no condition in ``given`` pins to one value: a range of it
        is met by the check); ``None`` otherwise."""
        if (condition.column != self.owned or condition.values is None or len(condition.values) != 1
                or (self.reads and _pinned(self.other, given, self.grid.column) is not None)):
            return None
        (value,) = condition.values
        return None if value is None or pd.isna(value) else value

    def other_target(self, model: pd.DataFrame, target: np.ndarray) -> np.ndarray:
        """The other side's values (on its scale) that rebuild the owned column as ``target`` (on
        the owned column's scale) from the model's difference: ``start = end - (end - start)``."""
        grid = _Grid(self.schema[self.other])
        diff = np.maximum(pd.Series(model[self.name]).astype("float64").to_numpy(dtype=np.float64, na_value=np.nan), 0.0)
        if grid.column.kind is ColumnKind.DATETIME:
            scale = unit_ns(self.grid.column) / unit_ns(grid.column)
            target, diff = target * scale, diff * scale
        return grid.snap(target - diff if self.owned == self.rule.high else target + diff)

    def pin(self, model: pd.DataFrame, out: dict[str, pd.Series], value) -> None:
        """After :meth:`reverse`, the owned column set to ``value`` in every row and the other side
        (where not null) to ``value`` less the model's difference (:meth:`other_target`): where the
        other side is rebuilt by another kind of rule, so that :meth:`ConstraintPlan.reverse`
        cannot move the learned column it comes from instead; the check draws again the rows
        that then break a rule."""
        owned = self.grid.to_series(np.full(len(model), real_value(value, self.grid.column), dtype=np.float64))
        grid = _Grid(self.schema[self.other])
        drawn = grid.values(out[self.other])
        target = self.grid.values(owned)
        out[self.other] = grid.to_series(np.where(np.isnan(drawn), np.nan, self.other_target(model, target)))
        out[self.owned] = owned

    def _difference(self, data: pd.DataFrame) -> np.ndarray:
        owned = self.grid.values(data[self.owned])
        other = self.grid.side(data, self.other, self.schema)
        return owned - other if self.owned == self.rule.high else other - owned

    def forward(self, data: pd.DataFrame, partial: bool = False) -> dict[str, pd.Series]:
        diff = self._difference(data)
        if self.grid.column.kind is ColumnKind.NUMERIC and self.grid.column.decimals is not None:
            diff = np.round(diff, self.grid.column.decimals)
        diff = np.maximum(diff, 0.0)
        if self.alone is not None:
            if not partial:  # imputing, a null other side is a cell to fill: its difference too
                owned = ~np.isnan(self.grid.values(data[self.owned]))
                lacking = np.flatnonzero(np.isnan(diff) & owned)
                known = diff[~np.isnan(diff)]
                if lacking.size and known.size:
                    diff = diff.copy()
                    # A private fit's rows stay their own (DP-SGD bounds what each row gives): 0,
                    # not a difference drawn from other rows.
                    diff[lacking] = 0.0 if self.private else np.random.default_rng(_FILL_SEED).choice(known, lacking.size)
            return {self.name: pd.Series(diff, dtype="float64"), self.alone: data[self.owned].reset_index(drop=True)}
        return {self.name: pd.Series(diff, dtype="float64")}

    def other_side(self, model: pd.DataFrame, user: pd.DataFrame) -> pd.Series:
        """The other side (a column) of each row from its known owned side in ``user`` and the
        model's difference: ``start = end - (end - start)``. Imputing the learned side given
        the owned one drew it given neither (the model knows the owned side only as the
        difference, unknown with it): sessions' imputed starts lay a median 2,080 hours before
        their observed ends, the real sessions' 0.42 hours."""
        grid = _Grid(self.schema[self.other])
        owned = grid.side(user, self.owned, self.schema)  # on the other side's scale
        value = _bounded(self.other_target(model, self.grid.values(user[self.owned])), grid.column)
        return grid.to_series(_kept_on_side(grid, value, owned, above=self.owned != self.rule.high, strict=self.rule.strict))

    def reverse(self, model: pd.DataFrame, out: dict[str, pd.Series]) -> None:
        frame = pd.DataFrame(out) if self.reads else None
        other = self.grid.side(frame, self.other, self.schema) if self.reads else real_value(self.other.value, self.grid.column)
        diff = np.maximum(pd.Series(model[self.name]).astype("float64").to_numpy(dtype=np.float64, na_value=np.nan), 0.0)
        other = np.broadcast_to(np.asarray(other, dtype=np.float64), diff.shape)
        high_side = self.owned == self.rule.high
        value = self.grid.snap(other + diff if high_side else other - diff)
        if self.seen is not None:
            value = np.clip(value, *self.seen)
        value = _bounded(value, self.grid.column)
        value = _kept_on_side(self.grid, value, other, above=high_side, strict=self.rule.strict)
        if self.alone is not None:
            # The other side null: the owned column as the model learned it.
            value = np.where(np.isnan(other), self.grid.values(model[self.alone]), value)
        out[self.owned] = self.grid.to_series(value)


class _Position(_RangeKept):
    """Range ``low <= column <= high``: the model learns the column's position between its bounds,
    ``(column - low) / (high - low)`` in ``[0, 1]``."""

    def __init__(self, rule: Range, schema: Schema) -> None:
        self.rule, self.schema = rule, schema
        self.owns = (rule.column,)
        self.reads = tuple(s for s in (rule.low, rule.high) if isinstance(s, str))
        self.grid = _Grid(schema[rule.column])
        self.name = f"{rule.column}~position"

    def model_columns(self) -> list[Column]:
        column = self.schema[self.rule.column]
        return [
            Column(self.name, ColumnKind.NUMERIC, nullable=column.nullable, meaningful_nulls=column.meaningful_nulls,
                   type=NumericType.FLOAT, min=0, max=1, description=self.rule.describe())
        ]

    def hints(self, condition: Condition, given: dict[str, Condition] | None = None) -> list[Condition]:
        """A condition on the column between constant bounds, or learned ones that conditions in
        ``given`` pin to one value each, as a range of the learned position ``(column - low) /
        (high - low)``; none where a bound is a free learned column."""
        if self.grid.column.kind is not ColumnKind.NUMERIC:
            return []
        low, high = (_pinned(side, given, self.grid.column) for side in (self.rule.low, self.rule.high))
        if low is None or high is None or not high > low:
            return []
        # reverse clips the rebuilt value into the training range and the schema's bounds, then
        # moves it up to the floor and down to the ceiling the rule leaves (strict: a grid step
        # inside the bounds): the values it can give.
        low_end, high_end = _kept_range(self.seen, self.grid.column)
        floor = float(self.grid.up(np.array([low]), self.rule.strict)[0])
        ceiling = float(self.grid.down(np.array([high]), self.rule.strict)[0])
        lower, upper = min(ceiling, max(floor, low_end)), min(ceiling, max(floor, high_end))
        return _clamped_hint(self.name, condition, self.grid, self.rule, lower, upper,
                             intercept=-low / (high - low), slope=1.0 / (high - low))

    def necessary(self, condition: Condition, given: dict[str, Condition]) -> list[Condition]:
        """Where :meth:`hints` has none (a bound a learned column no condition pins): the
        conditions the learned bounds must meet for the column to meet ``condition``, ``column
        >= a`` is ``high >= a`` and ``column <= b`` is ``low <= b`` (``0 <= balance <=
        loan_amount``, ``balance >= 37000``: 24,900 rows drawn for 500 blind, 949 so; from 4990
        to 5010: a failure after 1.5 million, 500 rows now). They narrow the rows the model
        draws; the check decides."""
        column = self.grid.column
        if column.kind is not ColumnKind.NUMERIC or all(_pinned(s, given, column) is not None for s in (self.rule.low, self.rule.high)):
            return []
        bottom, top = _grid_span(condition, column) or (-np.inf, np.inf)
        found = []
        if isinstance(self.rule.low, str) and np.isfinite(top):
            found.append(Condition(self.rule.low, high=top))
        if isinstance(self.rule.high, str) and np.isfinite(bottom):
            found.append(Condition(self.rule.high, low=bottom))
        return found

    def _bounds(self, frame: pd.DataFrame | None) -> tuple:
        return tuple(
            self.grid.side(frame, s, self.schema) if isinstance(s, str) else real_value(s.value, self.grid.column)
            for s in (self.rule.low, self.rule.high)
        )

    def forward(self, data: pd.DataFrame, partial: bool = False) -> dict[str, pd.Series]:
        low, high = self._bounds(data)
        value = self.grid.values(data[self.rule.column])
        with np.errstate(invalid="ignore", divide="ignore"):
            width = np.asarray(high - low, dtype=np.float64)
            position = np.where(width > 0, (value - low) / np.where(width > 0, width, 1.0), 0.5)
        unknown = np.isnan(value) | np.isnan(np.broadcast_to(width, value.shape))
        position = np.where(unknown, np.nan, np.clip(position, 0.0, 1.0))
        if not self.reads and not partial:
            self._check_span(value, position, float(low), float(high))
        return {self.name: pd.Series(position, dtype="float64")}

    def _check_span(self, value: np.ndarray, position: np.ndarray, low: float, high: float) -> None:
        """Refuse constant bounds too far apart for the column's values to keep apart as their
        position between them: -1e20 <= a <= 1e20 sampled every row as one value, and
        -1e308 .. 1e308 (an infinite span) as nulls. Values beyond the bounds (clipped) are the
        rule's own check's to refuse."""
        width = high - low
        with np.errstate(invalid="ignore"):
            known = ~np.isnan(value) & (value >= low) & (value <= high)
        if not known.any():
            return
        inside = value[known]
        spread = float(inside.max() - inside.min()) or max(abs(float(inside.max())), 1.0)
        # Values come back as low + position * width: lost where that misses them by a
        # thousandth of their spread (float noise in a distinct-count test refused sound data).
        missed = float(np.max(np.abs(low + position[known] * width - inside))) if np.isfinite(width) else np.inf
        if missed > 1e-3 * spread:
            raise ConstraintError(
                f"constraint {self.rule.describe()!r}: its bounds are {width:.3g} apart, too far for the values of "
                f"{self.rule.column!r} ({np.nanmin(value):.6g} to {np.nanmax(value):.6g}) to stay apart as positions "
                f"between them; give bounds nearer the data (or the column's min / max), or leave the rule out"
            )

    def reverse(self, model: pd.DataFrame, out: dict[str, pd.Series]) -> None:
        low, high = self._bounds(pd.DataFrame(out) if self.reads else None)
        position = pd.Series(model[self.name]).astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
        low = np.broadcast_to(np.asarray(low, dtype=np.float64), position.shape)
        high = np.broadcast_to(np.asarray(high, dtype=np.float64), position.shape)
        value = self.grid.snap(low + np.clip(position, 0.0, 1.0) * (high - low))
        if self.seen is not None:
            value = np.clip(value, *self.seen)
        value = _bounded(value, self.grid.column)
        with np.errstate(invalid="ignore"):
            floor, ceiling = self.grid.up(low, self.rule.strict), self.grid.down(high, self.rule.strict)
            value = np.where(value < floor, floor, value)
            value = np.where(value > ceiling, ceiling, value)  # floor > ceiling: the row breaks the rule
        out[self.rule.column] = self.grid.to_series(value)


class _Combination(_Transform):
    """Fixed combinations: the model learns the combination of the group's values as one
    categorical column whose categories are the combinations seen in the real data."""

    def __init__(self, rule: FixedCombinations, schema: Schema) -> None:
        self.rule, self.schema = rule, schema
        self.owns = rule.group
        self.reads = ()
        self.name = "+".join(rule.group) + "~combination"
        self.combinations: list[tuple] = []

    def fit(self, data: pd.DataFrame, private: bool) -> None:
        if private:
            raise ParameterError(
                f"constraint {self.rule.describe()!r}: fixed combinations are read from the real rows, which a "
                "differentially private fit cannot do; list the combinations as the categories of one column instead"
            )
        keys = combination_keys(data, self.rule.group)
        self.combinations = list(dict.fromkeys(keys))

    def model_columns(self) -> list[Column]:
        labels = [json.dumps([_json(v) for v in combo], ensure_ascii=False) for combo in self.combinations]
        return [Column(self.name, ColumnKind.CATEGORICAL, categories=tuple(labels), description=self.rule.describe())]

    @property
    def allowed(self) -> set[tuple]:
        return set(self.combinations)

    def forward(self, data: pd.DataFrame, partial: bool = False) -> dict[str, pd.Series]:
        index = {combo: i for i, combo in enumerate(self.combinations)}
        keys = combination_keys(data, self.rule.group)
        codes = np.fromiter((index.get(k, -1) for k in keys), dtype=np.int64, count=len(data))
        unseen = codes < 0
        if unseen.any() and not partial:
            examples = list(dict.fromkeys(keys[i] for i in np.flatnonzero(unseen)))
            raise DataError(
                f"{self.rule.describe()}: combinations {preview(examples)} never occur in the training data, so the "
                "model cannot take them"
            )
        column = self.model_columns()[0]
        return {self.name: pd.Series(pd.Categorical.from_codes(codes, categories=list(column.categories)))}

    def reverse(self, model: pd.DataFrame, out: dict[str, pd.Series]) -> None:
        codes = np.asarray(pd.Series(model[self.name]).cat.codes, dtype=np.int64)
        for i, name in enumerate(self.rule.group):
            values = np.array([combo[i] for combo in self.combinations], dtype=object)[codes]
            out[name] = _member_series(values, self.schema[name])

    def codes_where(self, conditions: dict[str, Condition]) -> list[str]:
        """The model column's categories whose combination meets every condition on a member."""
        column = self.model_columns()[0]
        kept = []
        for label, combo in zip(column.categories, self.combinations):
            if all(name not in conditions or _meets(combo[i], conditions[name]) for i, name in enumerate(self.rule.group)):
                kept.append(label)
        return kept

    def get_state(self) -> dict:
        return {"combinations": [[_json(v) for v in combo] for combo in self.combinations]}

    def set_state(self, state: dict) -> None:
        self.combinations = [tuple(combo) for combo in state["combinations"]]


class _Derivation(_Transform):
    """Derived column: never learned, computed from the rebuilt row."""

    def __init__(self, rule: Derived, schema: Schema) -> None:
        self.rule, self.schema = rule, schema
        self.owns = (rule.column,)
        self.reads = rule.inputs
        self.grid = _Grid(schema[rule.column])

    def reverse(self, model: pd.DataFrame, out: dict[str, pd.Series]) -> None:
        frame = pd.DataFrame({name: out[name] for name in self.reads})
        out[self.rule.column] = self.grid.to_series(self.grid.snap(self.rule.values(frame)))


_PARTS = ("year", "month", "day", "hour", "minute", "second")
_PART_FLOOR = {"day": "D", "hour": "h", "minute": "min", "second": "s"}
_PART_CALL = re.compile(r"^\s*(year|month|day|hour|minute|second)\(\s*(`[^`]*`|[A-Za-z_]\w*)\s*\)\s*$")


class _Composition(_Transform):
    """Derived columns that are the calendar parts of one datetime column (``year = year(t)``,
    ``month = month(t)``, ``day = day(t)``, and optionally ``hour``, ``minute``, ``second``):
    the model learns the parts, which a tabular model relates to other columns easily, and the
    datetime is composed from them (plus, when its unit is finer than the last part, the
    remainder the model learns in its place). An hour-of-day hidden inside a timestamp is hard
    to learn; the parts hold by construction either way. A day past the month's end is moved to
    its last day."""

    def __init__(self, column: str, parts: dict[str, str], rules: list[Derived], schema: Schema) -> None:
        self.schema, self.column, self.parts, self.rules = schema, column, parts, rules
        self.rule = rules[0]
        self.owns = (column,)
        self.reads = tuple(parts.values())
        self.finest = [p for p in _PARTS if p in parts][-1]
        self.grid = _Grid(schema[column])
        self.name = f"{column}~remainder"
        step_ns = pd.Timedelta(1, unit=_PART_FLOOR[self.finest]).value
        self.remainder = unit_ns(schema[column]) < step_ns

    def model_columns(self) -> list[Column]:
        if not self.remainder:
            return []
        return [Column(self.name, ColumnKind.NUMERIC, type=NumericType.INTEGER, min=0, description=f"{self.column} after its {self.finest}")]

    def forward(self, data: pd.DataFrame, partial: bool = False) -> dict[str, pd.Series]:
        if not self.remainder:
            return {}
        stamps = pd.Series(data[self.column]).astype("datetime64[ns]")
        rest = self.grid.values(stamps) - self.grid.values(stamps.dt.floor(_PART_FLOOR[self.finest]))
        return {self.name: pd.Series(np.round(rest), dtype="float64")}

    def hints(self, condition: Condition) -> list[Condition]:
        """Conditions on the parts (and the remainder) that a condition on the datetime implies:
        the dates' own parts for a set of values (one date pins every part, as the timestamp
        encoding's codec pins the value), and for a range the years it spans, then the months
        within one year, the days within one month. Without them a condition on a composed
        datetime was met by the check alone: flights' ``time_hour = X`` failed after 1.45
        million draws for 237 of 300 rows, where learned as a timestamp it took 0.1 s."""
        c = self.schema[self.column]
        if condition.values is not None:
            ticks = sorted({real_value(v, c) for v in condition.values if v is not None and not pd.isna(v)})
            if not ticks or len(ticks) > _MAX_CHECKED_VALUES:
                return []
            stamps = pd.Series(self.grid.to_series(np.asarray(ticks, dtype=np.float64)))
            found = [Condition(name, values=tuple(sorted({int(v) for v in getattr(stamps.dt, part)})))
                     for part, name in self.parts.items()]
            if self.remainder:
                rest = self.forward(pd.DataFrame({self.column: stamps}))[self.name]
                found.append(Condition(self.name, values=tuple(sorted({float(v) for v in rest}))))
            return found
        ends = [None if e is None else pd.Timestamp(self.grid.to_series(np.array([real_value(e, c)])).iloc[0])
                for e in (condition.low, condition.high)]
        found = [Condition(self.parts["year"], low=None if ends[0] is None else ends[0].year,
                           high=None if ends[1] is None else ends[1].year)]
        if ends[0] is None or ends[1] is None:
            return found
        for part, coarser in (("month", ("year",)), ("day", ("year", "month"))):
            if any(getattr(ends[0], p) != getattr(ends[1], p) for p in coarser):
                break
            found.append(Condition(self.parts[part], low=getattr(ends[0], part), high=getattr(ends[1], part)))
        return found

    def reverse(self, model: pd.DataFrame, out: dict[str, pd.Series]) -> None:
        values = {p: pd.Series(out[name]).astype("float64").to_numpy(dtype=np.float64, na_value=np.nan) for p, name in self.parts.items()}
        unknown = np.logical_or.reduce([np.isnan(v) for v in values.values()])
        filled = {p: np.where(unknown, 1.0, v) for p, v in values.items()}
        filled["month"] = np.clip(filled["month"], 1, 12)
        first = pd.to_datetime(pd.DataFrame({"year": filled["year"], "month": filled["month"], "day": 1}))
        filled["day"] = np.clip(filled["day"], 1, first.dt.days_in_month.to_numpy())
        for part, high in (("hour", 23), ("minute", 59), ("second", 59)):
            if part in filled:
                filled[part] = np.clip(filled[part], 0, high)
        stamps = pd.to_datetime(pd.DataFrame({p: filled[p].astype(np.int64) for p in _PARTS if p in filled}))
        ticks = self.grid.values(stamps)
        if self.remainder:
            ticks = ticks + np.nan_to_num(pd.Series(model[self.name]).astype("float64").to_numpy(dtype=np.float64, na_value=0.0))
        ticks[unknown] = np.nan
        out[self.column] = self.grid.to_series(self.grid.snap(ticks))
        day = self.parts["day"]
        out[day] = _Grid(self.schema[day]).to_series(np.where(unknown, np.nan, filled["day"]))


_DAY_NS = 86_400 * 10**9
# At most this many distinct days of the year (four a month) in a calendar-encoded column's
# training rows, and its day of the year is learned as one of them, a category (see _Calendar).
_FEW_DAYS = 48


class _Calendar(_RangeKept):
    """A datetime column learned as its calendar parts rather than as one time since the epoch
    (``Synthesizer(datetime_encoding="calendar")``, and the default ``"auto"``):
    the year, the day of the year as an angle (its cosine and sine) and, when the column's unit
    is finer than a day, the time of day in that unit. A season is then a plain pair of numbers
    a tabular model relates to the other columns, where along a timestamp it is a fast wiggle:
    seattle_weather's temperatures follow the season, and a detector told real from synthetic
    rows by the date against them (fit seeds 0-5: detection AUC 0.744 -> 0.528, quality 0.9642
    -> 0.9660).

    When the training rows hold few days of the year (:data:`_FEW_DAYS` or fewer: monthly or
    quarterly dates, a month's first or last day), the day is a category (``"03-01"``) instead
    of the angle, whose composed days were blurred by a day or two (dates all on a month's
    first came back 48% on the 1st, 82% with the timestamp encoding; and a month's rows 0.055 to
    0.127 of them where each month held 0.083).

    The day of the week is learned too, a category of the days the training rows hold (see
    :func:`_held_weekdays`), and a composed date moves to the nearest day (at most three away)
    on its drawn weekday: business days came back 21.6% on weekends without it, and amounts
    larger on Mondays came back alike on every day.

    Not a rule of the schema. The angle has no edge: as a month (1-12) and a day of the month
    (1-31, or a place in the month from 0 to 1) the first and last days of months and years
    were the parts' extremes, which a short fit drew too rarely (10 epochs: 0.016 of rows on a
    month's last day against 0.035; the angle 0.036), and a day past a month's end had to be
    moved. A composed date outside the training rows' range or the schema's bounds is not
    clipped (a short fit piled 12% of its rows on the first instant of a range that began in
    March): sampling draws it again (:meth:`ConstraintPlan.outside_bounds`), imputation too and
    then clips what is left (:meth:`ConstraintPlan.repair`). A null date is a null year (its
    other parts filled); a cell unknown for imputation makes every part unknown. Conditions on
    the date are checked after composing, steered by :meth:`hints`."""

    rule = None
    # The days of the year (month * 100 + day) the training rows hold, when they are
    # _FEW_DAYS or fewer: the day is then learned as one of them (a category).
    days: tuple[int, ...] | None = None
    # The days of the week (Monday 0) the training rows hold, learned as a category beside the
    # day of the year (see _held_weekdays); none for a table too small for it.
    weekdays: tuple[int, ...] | None = None

    def __init__(self, column: str, schema: Schema) -> None:
        self.schema, self.column = schema, column
        self.owns, self.reads = (column,), ()
        self.grid = _Grid(schema[column])
        self.per_day = _DAY_NS // unit_ns(schema[column])

    @property
    def names(self) -> dict[str, str]:
        """The model columns, by part."""
        parts = ("year", "day") if self.days is not None else ("year", "cos", "sin")
        parts += ("weekday",) if self.weekdays is not None else ()
        parts += ("time",) if self.per_day > 1 else ()
        return {part: f"{self.column}~{part}" for part in parts}

    @property
    def _weekday_labels(self) -> tuple[str, ...]:
        """The weekday category's labels (``"Mon"``, ...), of the days the training rows hold."""
        return tuple(_WEEKDAYS[d] for d in self.weekdays)

    def fit(self, data: pd.DataFrame, private: bool) -> None:
        super().fit(data, private)
        self.days = self.weekdays = None
        if not private:  # a private fit reads no real row here
            stamps = pd.Series(data[self.column]).astype("datetime64[ns]").dropna()
            md = stamps.dt.month.to_numpy() * 100 + stamps.dt.day.to_numpy()
            leap = stamps.dt.is_leap_year.to_numpy()
            # Month ends: February's 28th in common years and 29th in leap years are one day,
            # February's last (a year drawn apart from its day moved 65 of 397 such rows to
            # the 28th of a leap year).
            if (md == 229).any() and leap[md == 229].all() and not leap[md == 228].any():
                md = np.where(md == 229, _FEBRUARY_LAST, np.where(md == 228, _FEBRUARY_LAST, md))
            days = np.unique(md)
            # A few days that the rows hold often (monthly dates), not a small table's few dates:
            # 40 rows of random days were 38 categories, every sampled date on a training day.
            few = 0 < days.size <= _FEW_DAYS and md.size >= _ROWS_PER_DAY * days.size
            self.days = tuple(int(d) for d in days) if few else None
            self.weekdays = None if few else _held_weekdays(stamps.dt.day_of_week.to_numpy())

    def get_state(self) -> dict:
        return {**super().get_state(), **({"days": list(self.days)} if self.days is not None else {}),
                **({"weekdays": list(self.weekdays)} if self.weekdays is not None else {})}

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        self.days = tuple(int(d) for d in state["days"]) if state.get("days") is not None else None
        weekdays = state.get("weekdays")
        if weekdays is not None and not (isinstance(weekdays, list) and weekdays and all(
                isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in weekdays) and weekdays == sorted(set(weekdays))):
            raise ValueError(f"column {self.column!r}: weekdays must be days of the week 0-6, in order, once each, got {weekdays!r}")
        self.weekdays = tuple(weekdays) if weekdays is not None else None

    def model_columns(self) -> list[Column]:
        c = self.schema[self.column]
        years = [None if b is None else int(pd.Timestamp(int(real_value(b, c)) * unit_ns(c)).year) for b in (c.min, c.max)]
        spans = {"year": years, "time": [0, self.per_day - 1]}
        out = []
        for part, name in self.names.items():
            common = dict(nullable=c.nullable and part == "year", meaningful_nulls=c.meaningful_nulls and part == "year",
                          description=f"the {part} of {self.column}")
            if part == "day":
                out.append(Column(name, ColumnKind.CATEGORICAL, categories=tuple(_day_label(d) for d in self.days), **common))
            elif part == "weekday":
                out.append(Column(name, ColumnKind.CATEGORICAL, categories=self._weekday_labels, **common))
            elif part in ("cos", "sin"):
                out.append(Column(name, ColumnKind.NUMERIC, type=NumericType.FLOAT, min=-1, max=1, **common))
            else:
                out.append(Column(name, ColumnKind.NUMERIC, type=NumericType.INTEGER, min=spans[part][0], max=spans[part][1], **common))
        return out

    @staticmethod
    def _year_length(years: np.ndarray) -> np.ndarray:
        y = years.astype(np.int64)
        return np.where((y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0)), 366, 365)

    def forward(self, data: pd.DataFrame, partial: bool = False) -> dict[str, pd.Series]:
        stamps = pd.Series(data[self.column]).astype("datetime64[ns]").to_numpy()
        null = np.isnat(stamps)
        # Through microseconds: NumPy took 1677-09-22 in nanoseconds for 2262-04-11 in days.
        days = stamps.astype("datetime64[us]").astype("datetime64[D]")
        years = days.astype("datetime64[Y]")
        year = years.astype(np.int64) + 1970.0
        day = (days - years.astype("datetime64[D]")).astype(np.int64)
        angle = 2 * np.pi * (day + 0.5) / self._year_length(np.where(null, 1970, year))
        parts = {
            "year": year, "cos": np.cos(angle), "sin": np.sin(angle),
            "time": ((stamps - days.astype("datetime64[ns]")).astype(np.int64) // unit_ns(self.schema[self.column])).astype(np.float64),
        }
        known_null = null & (not partial or self.schema[self.column].meaningful_nulls)
        # A null date's other parts are another row's (drawn with a fixed seed): a fixed filler
        # (January 1st, cos 1 and sin 0) was a mode the model put back on dates, seattle's with
        # every 10th date null: 1.14% of sampled dates on January 1st against 0.23% real.
        donors = np.flatnonzero(~null)
        fill = np.random.default_rng(0).choice(donors, int(known_null.sum())) if donors.size else None
        out = {}
        for part, name in self.names.items():
            if part == "day":
                out[name] = self._day_series(stamps, null, known_null, fill)
                continue
            if part == "weekday":
                out[name] = self._weekday_series(days, null, known_null, fill)
                continue
            values = np.where(null, np.nan, parts[part])
            if part != "year" and known_null.any():
                values[known_null] = parts[part][fill] if fill is not None else {"cos": 1.0, "sin": 0.0, "time": 0.0}[part]
            out[name] = pd.Series(values, dtype="float64")
        return out

    def _month_days(self, index: pd.DatetimeIndex) -> np.ndarray:
        """month * 100 + day of each date, February's last day as :data:`_FEBRUARY_LAST`
        where the categories merge it."""
        md = (index.month.to_numpy() * 100 + index.day.to_numpy()).astype(np.int64)
        if self.days is not None and _FEBRUARY_LAST in self.days:
            last = (md == 229) | ((md == 228) & ~index.is_leap_year)
            md = np.where(last, _FEBRUARY_LAST, md)
        return md

    def _weekday_series(self, days: np.ndarray, null: np.ndarray, known_null: np.ndarray, fill: np.ndarray | None) -> pd.Series:
        """The day-of-the-week category of each date (``days``: datetime64[D]); for a weekday the
        training rows never held (a table to encode or complete: a Saturday among business
        days), the nearest one they did, as :meth:`_day_series` does for days of the year (a
        missing weekday refused the row as a null in 'date~weekday'); a null date's as there."""
        weekday = _weekday_of(days.astype(np.int64))
        held = np.asarray(self.weekdays, dtype=np.int64)
        apart = np.abs(np.arange(7)[:, None] - held[None, :])
        lookup = np.minimum(apart, 7 - apart).argmin(axis=1)  # the nearest held day (the first of two)
        codes = np.where(null, -1, lookup[weekday])
        if known_null.any():
            codes[known_null] = codes[fill] if fill is not None else 0
        dtype = pd.CategoricalDtype(self._weekday_labels)
        return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype))

    def _day_series(self, stamps: np.ndarray, null: np.ndarray, known_null: np.ndarray, fill: np.ndarray | None) -> pd.Series:
        """The day-of-the-year category of each date: its month and day, or for a day the
        training rows never held (a table to complete), the nearest one they did; for a null
        date the model sees as such the day of the row ``fill`` names (the first without),
        missing for one it is to fill."""
        index = pd.DatetimeIndex(np.where(null, np.datetime64("1970-01-01"), stamps))
        wanted = self._month_days(index)
        days = np.asarray(self.days, dtype=np.int64)
        codes = np.searchsorted(days, wanted)
        exact = (codes < days.size) & (days[np.minimum(codes, days.size - 1)] == wanted)
        if not exact.all():
            # Nearest by the day of a leap year, around the year's end.
            position = _leap_day(wanted[~exact])[:, None]
            distance = np.abs(position - _leap_day(days)[None, :])
            codes[~exact] = np.minimum(distance, 366 - distance).argmin(1)
        codes = np.where(null, -1, codes)
        if known_null.any():
            codes[known_null] = codes[fill] if fill is not None else 0
        dtype = pd.CategoricalDtype([_day_label(d) for d in self.days])
        return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype))

    def reverse(self, model: pd.DataFrame, out: dict[str, pd.Series]) -> None:
        numeric = [p for p in self.names if p not in ("day", "weekday")]
        parts = {part: pd.Series(model[self.names[part]]).astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
                 for part in numeric}
        null = np.isnan(parts["year"])
        year = np.where(null, 1970.0, np.round(parts["year"]))
        length = self._year_length(year)
        if self.days is not None:
            day = self._day_of_year(year, pd.Series(model[self.names["day"]]), null)
        else:
            angle = np.mod(np.arctan2(np.nan_to_num(parts["sin"]), np.nan_to_num(parts["cos"], nan=1.0)), 2 * np.pi)
            day = np.clip(np.floor(angle / (2 * np.pi) * length), 0, length - 1)
        start = (np.datetime64(0, "Y") + (year - 1970).astype(np.int64)).astype("datetime64[D]").astype(np.int64)
        if self.weekdays is not None:
            day = day + self._weekday_shift(start + day.astype(np.int64), pd.Series(model[self.names["weekday"]]))
        # Whole ticks in integers: as floats, ticks past 2**53 (2256 in microseconds, April 1970
        # in nanoseconds) missed odd values, and a one-row column came back beyond its bounds.
        ticks = (start + day.astype(np.int64)) * self.per_day
        if "time" in parts:
            ticks += np.clip(np.round(np.nan_to_num(parts["time"], nan=0.0)), 0, self.per_day - 1).astype(np.int64)
        if self.tail_rows > 1 and self.seen is not None:
            # Top- and bottom-coded: a date beyond a cut is the cut, as a coded column's value is
            # (drawn again instead, a cut near the middle left no date to draw: 0 of 300 rows).
            ticks = np.clip(ticks, math.ceil(self.seen[0]), math.floor(self.seen[1]))
        out[self.column] = self.grid.datetimes(ticks, null)

    def _weekday_shift(self, days: np.ndarray, labels: pd.Series) -> np.ndarray:
        """Days (-3 to 3) from each date (days since 1970) to the nearest one on its drawn day of
        the week (none where that is null): the day of the year's angle places the date, the
        weekday category moves it within its week."""
        codes = pd.Categorical(labels.astype("string").astype(object), categories=self._weekday_labels).codes
        wanted = np.asarray(self.weekdays, dtype=np.int64)[np.maximum(codes, 0)]
        shift = np.mod(wanted - _weekday_of(days) + 3, 7) - 3
        return np.where(codes < 0, 0, shift).astype(np.float64)

    def _day_of_year(self, year: np.ndarray, labels: pd.Series, null: np.ndarray) -> np.ndarray:
        """Days from the start of each row's year of its day category (February 29th is the
        28th in a year without it; a null category, which a null date leaves, the 1st)."""
        codes = pd.Categorical(labels.astype("string").astype(object), categories=[_day_label(d) for d in self.days]).codes
        md = np.asarray(self.days, dtype=np.int64)[np.maximum(codes, 0)]
        leap = self._year_length(year) == 366
        md = np.where(md == _FEBRUARY_LAST, np.where(leap, 229, 228), md)
        month, dom = md // 100, md % 100
        dom = np.where((month == 2) & (dom == 29) & ~leap, 28, dom)
        first = np.asarray(_MONTH_STARTS)[month - 1] + np.where(leap & (month > 2), 1, 0)
        return np.where(null | (codes < 0), 0, first + dom - 1).astype(np.float64)

    def hints(self, condition: Condition) -> list[Condition]:
        """Conditions on the parts that a condition on the date implies: the years from the least
        to the greatest date it allows (within the training range; the years of a set of dates),
        the days of the year of a set of dates or of a range within one year (the arc of the
        angle's cosine and sine that holds them, :meth:`_arc`, or their categories), and the
        times of day of a set of values or of a range within one day. A range over several
        years needs no finer hint.

        Raises:
            ParameterError: The condition allows no date a sampled row can have."""
        c = self.schema[self.column]
        low, high = _limits(self, c)
        if condition.values is not None:
            ticks = [real_value(v, c) for v in condition.values if v is not None and not pd.isna(v)]
            if len(ticks) < len(condition.values) or not ticks:
                return []
            ticks = [t for t in self._on_grid(ticks, condition) if (low is None or t >= low) and (high is None or t <= high)]
            if not ticks:
                raise ParameterError(self._beyond(condition))
            if len(set(ticks)) == 1:
                if not self._held(ticks):
                    raise self.no_day(condition)
                return self.pinned(ticks[0])
            held = self._held(ticks)
            if not held:
                raise self.no_day(condition)
            parts = self._parts(ticks)
            years = parts[self.names["year"]]
            found = [Condition(self.names["year"], values=tuple(sorted({int(v) for v in years})))]
            found += self._weekdays_hint(held)
            # Dates in several years: their days of the year in any of them (two dates in two
            # years had only their years: 5,915 of 20,000 rows, then a failure).
            found += self._days_hint(parts, condition, ticks)
            if "time" in self.names:
                times = parts[self.names["time"]]
                found.append(Condition(self.names["time"], low=float(times.min()), high=float(times.max())))
            return found
        ends = [None if e is None else real_value(e, c) for e in (condition.low, condition.high)]
        if low is not None:
            ends[0] = low if ends[0] is None else max(ends[0], low)
        if high is not None:
            ends[1] = high if ends[1] is None else min(ends[1], high)
        known = [e for e in ends if e is not None]
        if not known:
            return []
        if len(known) == 2 and known[0] > known[1]:
            raise ParameterError(self._beyond(condition))
        if len(known) == 2:
            # A range that holds one whole unit of the column (date >= d and date < d + 1 day) is
            # that date, pinned: as a range it took 19.5 s for 20,000 seattle rows, as d 0.1 s.
            first = np.ceil(ends[0]) + (1 if condition.low_strict and ends[0] == np.ceil(ends[0]) else 0)
            last = np.floor(ends[1]) - (1 if condition.high_strict and ends[1] == np.floor(ends[1]) else 0)
            if last < first and (low is None or last >= low) and (high is None or first <= high):
                # Between two ticks of the column's unit, not beyond its range (as the
                # timestamp's codec says it: "01:00 < t < 02:00" of whole hours).
                raise ParameterError(between_grid_points(condition, self.schema[self.column]))
            if first > last:
                raise ParameterError(self._beyond(condition))
            if first == last:
                if not self._held([float(first)]):
                    raise self.no_day(condition)
                return self.pinned(float(first))
            week = []
            if self.weekdays is not None and last - first < 7 * self.per_day:  # part of a week: its weekdays
                week = self._weekdays_hint([*np.arange(first, last, self.per_day, dtype=np.float64), float(last)])
                if not week:
                    raise self.no_day(condition)
        parts = self._parts(known)
        years = parts[self.names["year"]]
        at = dict(zip([i for i, e in enumerate(ends) if e is not None], years))
        found = [Condition(self.names["year"], low=at.get(0), high=at.get(1))]
        if len(known) == 2:
            found += week
        if len(known) == 2 and known[1] - known[0] < 365 * self.per_day:  # less than a year, maybe across its end
            found += self._days_hint(parts, condition, known)
        if len(known) == 2 and "time" in self.names and known[1] - known[0] < self.per_day:
            times = parts[self.names["time"]]
            if times[0] <= times[1]:  # within one day (not across midnight)
                found.append(Condition(self.names["time"], low=float(times[0]), high=float(times[1])))
        return found

    def _held(self, ticks: list[float]) -> list[float]:
        """The dates ``ticks`` whose day of the year and of the week the training rows hold (all
        of them unless the day or the weekday is a category)."""
        stamps = self._dates(ticks)
        keep = np.ones(len(ticks), dtype=bool)
        if self.days is not None:
            keep &= np.isin(self._month_days(stamps), self.days)
        if self.weekdays is not None:
            keep &= np.isin(stamps.day_of_week, self.weekdays)
        return [t for t, kept in zip(ticks, keep) if kept]

    def _dates(self, ticks: list[float]) -> pd.DatetimeIndex:
        """The dates of ticks of the column's unit."""
        return pd.DatetimeIndex(self.grid.to_series(np.asarray(ticks, dtype=np.float64)))

    def _weekdays_hint(self, ticks: list[float]) -> list[Condition]:
        """The condition on the weekday category that dates ``ticks`` allow (the days of the
        week among them the training rows hold; none when they hold none), or none without
        one."""
        if self.weekdays is None:
            return []
        days = self._dates(ticks).day_of_week
        allowed = [d for d in self.weekdays if d in set(int(v) for v in days)]
        return [Condition(self.names["weekday"], values=tuple(_WEEKDAYS[d] for d in allowed))] if allowed else []

    def pinned(self, tick: float) -> list[Condition]:
        """Conditions on the parts that give exactly the date ``tick``: the model draws rows
        given them, as the timestamp encoding's codec does given the date (a box of one day of
        the circle kept one draw in 30: 34 s for 20,000 rows of seattle_weather's one date)."""
        parts = self._parts([tick])
        found = []
        arc = self._day_arc(tick)
        for part, name in self.names.items():
            value = parts[name][0]
            found.append(Condition(name, values=(value if part in ("day", "weekday") else float(value),), stands_for=arc.get(part)))
        return found

    def around(self, condition: Condition) -> list[Condition] | None:
        """Conditions on the parts that hold every way they give the one date of ``condition``
        (``None`` for any other condition), for the model's probability of the date (see
        :meth:`ConstraintPlan.around`): its time of day and weekday as :meth:`pinned`, and the
        years and arc of the days up to three away (the weekday category moves their dates to
        it: :meth:`_weekday_shift`), one away without a weekday part, as a range of them
        hints them. The pinned parts stand for a box of the angle's cosine and sine around the
        day's point, not for every point the model turns into the day (its points lie near the
        circle, not on it), nor for the days nearby: the model rebuilds seattle_weather's
        2013-02-10 with sun in 652 of 2 million rows, and its pinned parts in 1 of 31,000."""
        if condition.values is None or len(condition.values) != 1 or pd.isna(condition.values[0]):
            return None
        (tick,) = self._on_grid([real_value(condition.values[0], self.schema[self.column])], condition)
        reach = (3 if self.weekdays is not None else 1) * self.per_day
        low, high = self._dates([tick - reach, tick + reach + self.per_day - 1])
        found = {c.column: c for c in self.hints(Condition(self.column, low=low, high=high))}
        found.update((c.column, c) for c in self.pinned(tick) if c.column in (self.names.get("weekday"), self.names.get("time")))
        return list(found.values())

    def _day_arc(self, tick: float) -> dict[str, tuple[float, float]]:
        """The values of the angle's cosine and sine that the day of ``tick`` stands for (none
        when the day is a category): those over the day's arc for the wave that crosses it
        steeply, which fixes the day; for the other, near an end of its wave, those of points
        at a radius from 0.5 to 1.5 (as :meth:`_arc`), as its value hardly tells the day and
        the model's points lie near the unit circle, not on it. Pinned to its point that wave
        lay far out in the quantile transform's tail: January 1st's cosine, the training rows'
        greatest, at a normal score of 5.2 (the next day's 2.5), where the model's own January
        1st rows seldom put it; seattle_weather's 5,000 rows of 2012-01-01 kept an effective
        sample of 3 of 15,000 draws and were 88% drizzle, the model's own rows on that date 68%
        rain."""
        if self.days is not None:
            return {}
        parts = self._parts([tick])
        length = float(self._year_length(np.asarray(parts[self.names["year"]]))[0])
        center = float(np.mod(np.arctan2(parts[self.names["sin"]][0], parts[self.names["cos"]][0]), 2 * np.pi))
        first, last = center - np.pi / length, center + np.pi / length
        theta = np.concatenate([[first, last], [a for a in np.arange(-np.pi, 3 * np.pi, np.pi / 2) if first <= a <= last]])
        waves = {"cos": np.cos(theta), "sin": np.sin(theta)}
        flat = "cos" if abs(np.cos(center)) > abs(np.sin(center)) else "sin"
        found = {}
        for part, wave in waves.items():
            low, high = float(wave.min()), float(wave.max())
            if part == flat:
                low, high = max(-1.0, low * (1.5 if low < 0 else 0.5)), min(1.0, high * (1.5 if high > 0 else 0.5))
            found[part] = (low, high)
        return found

    def _on_grid(self, ticks: list[float], condition: Condition) -> list[float]:
        """The dates of a set, each a whole unit of the column (a time of day on a column of days
        was drawn for, then refused as rare, where the timestamp's codec refuses it at once).

        Raises:
            ParameterError: One is not (a set with one such date dropped it without a word,
                where the timestamp's codec refused the set)."""
        off = [t for t in ticks if t != np.round(t)]
        if off:
            unit = self.schema[self.column].unit
            shown = [str(pd.Timestamp(int(round(t * unit_ns(self.schema[self.column]))))) for t in off[:5]]
            raise ParameterError(
                f"condition {condition.describe()}: column {self.column!r} holds whole units of {unit!r} (e.g. "
                f"{self.grid.to_series(np.array([np.floor(off[0])])).iloc[0]}), and {preview(shown)} "
                f"{'is' if len(off) == 1 else 'are'} not; give such values")
        return list(ticks)

    def no_day(self, condition: Condition) -> ParameterError:
        """The error for a condition on dates none of which falls on a day of the year (a day
        category) or of the week (a weekday category) the training rows hold."""
        held = []
        if self.days is not None:
            held.append(f"on the days {preview([_day_label(d) for d in self.days])} (month-day) of a year")
        if self.weekdays is not None:
            held.append(f"on {', '.join(self._weekday_labels)}")
        return ParameterError(
            f"condition {condition.describe()}: no date of {self.column!r} a sampled row can have meets it: the "
            f"training rows' dates fall only {' and '.join(held)}; change the condition")

    def _days_hint(self, parts: dict[str, np.ndarray], condition: Condition, ticks: list[float]) -> list[Condition]:
        """The hint on the day of the year for dates ``ticks``: a set of dates, or a range's two
        ends less than a year apart (it may cross a year's end): the arc that holds them
        (:meth:`_arc`), or the day categories they allow (one date is pinned instead,
        :meth:`pinned`)."""
        stamps = self._dates(ticks)
        if self.days is None:
            angles = np.mod(np.arctan2(parts[self.names["sin"]], parts[self.names["cos"]]), 2 * np.pi)
            if condition.values is None:  # from the first end forwards to the second
                first, last = float(angles[0]), float(angles[-1])
                return self._arc(first, last + (2 * np.pi if last < first else 0.0))
            # The shortest arc that holds every date: the circle without its widest gap (Dec 30
            # and Jan 2 are 4 days apart, not 361).
            order = np.sort(angles)
            gaps = np.diff(np.concatenate([order, order[:1] + 2 * np.pi]))
            widest = int(np.argmax(gaps))
            first = float(order[(widest + 1) % order.size])
            last = float(order[widest]) + (2 * np.pi if widest + 1 < order.size else 0.0)
            return self._arc(first, last)
        wanted = _leap_day(self._month_days(stamps))
        held = _leap_day(np.asarray(self.days, dtype=np.int64))
        if condition.values is not None:
            allowed = [d for d, at in zip(self.days, held) if at in set(wanted.tolist())]
        elif wanted[0] <= wanted[-1] and stamps[0].year == stamps[-1].year:
            allowed = [d for d, at in zip(self.days, held) if wanted[0] <= at <= wanted[-1]]
        else:  # across a year's end
            allowed = [d for d, at in zip(self.days, held) if at >= wanted[0] or at <= wanted[-1]]
        if not allowed:
            raise self.no_day(condition)
        return [Condition(self.names["day"], values=tuple(_day_label(d) for d in allowed))]

    def _arc(self, first: float, last: float) -> list[Condition]:
        """Ranges of the angle's cosine and sine that hold the arc from angle ``first`` to
        ``last`` (``last >= first``, up to ``first + 2 pi``; half a day wider each way), for
        points at a radius from 0.5 to 1.5: the model's points lie near the unit circle, not on
        it. Rows whose point lies farther out are left out of the condition's draws (at
        0.8-1.2, 10% of seattle's rows, which differed: a bias of the conditional; at 0.5-1.5
        far fewer)."""
        half = np.pi / 365
        first, last = first - half, last + half
        theta = np.concatenate([np.linspace(first, last, 64), [a for a in np.arange(0, 4 * np.pi, np.pi / 2) if first <= a <= last]])
        found = []
        for name, wave in (("cos", np.cos(theta)), ("sin", np.sin(theta))):
            low = wave.min() * (1.5 if wave.min() < 0 else 0.5)
            high = wave.max() * (1.5 if wave.max() > 0 else 0.5)
            found.append(Condition(self.names[name], low=max(-1.0, float(low)), high=min(1.0, float(high))))
        return found

    def _beyond(self, condition: Condition) -> str:
        c = self.schema[self.column]
        low, high = (None if e is None else self.grid.to_series(np.array([e])).iloc[0] for e in _limits(self, c))
        return (f"condition {condition.describe()}: no date of {self.column!r} a sampled row can have meets it (the "
                f"training rows and the schema's bounds span {low} to {high}); change the condition")

    def _parts(self, ticks: list[float]) -> dict[str, np.ndarray]:
        stamps = pd.Series(self.grid.to_series(np.asarray(ticks, dtype=np.float64)))
        return {name: np.asarray(values) for name, values in self.forward(pd.DataFrame({self.column: stamps})).items()}


# The first day of each month in a year without February 29th, from its start.
_MONTH_STARTS = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
# February's last day (the 28th or the 29th by the year) as a day category, month * 100 + day.
_FEBRUARY_LAST = 230
# Training rows a day of the year needs on average for the day to be a category.
_ROWS_PER_DAY = 5


# The days of the week as the weekday category names them (Monday 0, as pandas counts).
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# A calendar-encoded column learns its day of the week (a category of the days its training
# rows hold) when it has at least this many dated rows (ten a day of the week: a day absent by
# chance from fewer rows would never be drawn). The day of the year's angle knows no week: a
# table of business days came back 21.6% on weekends (22% of its dates never in the data, a
# user review), and amounts 10 larger on Mondays than on other days, among evenly spread dates,
# came back 0.5 larger (/tmp/s46/wk.py: fit seeds 0-2, 2,000 rows of 2022-2023; with the
# weekday 0.000 on weekends, 1.7% of dates unseen, 9.1 larger on Mondays, the days of the
# year's KS 0.030 -> 0.021). seattle_weather's days, one a row and nothing weekly about them,
# held out (fit seeds 0-3): quality 0.9378 -> 0.9386, detection AUC 0.574 -> 0.548, TSTR 0.544
# -> 0.549, closer share 0.524 -> 0.518 (/tmp/s46/wk_force.py).
_WEEKDAY_LEAST_ROWS = 70


def _weekday_of(days: np.ndarray) -> np.ndarray:
    """The day of the week (Monday 0) of days since 1970-01-01 (a Thursday)."""
    return np.mod(days + 3, 7)


def _held_weekdays(weekdays: np.ndarray) -> tuple[int, ...] | None:
    """The days of the week that training dates (their weekdays, Monday 0) hold, or ``None``
    for fewer than :data:`_WEEKDAY_LEAST_ROWS` dates."""
    if weekdays.size < _WEEKDAY_LEAST_ROWS:
        return None
    return tuple(int(d) for d in np.flatnonzero(np.bincount(weekdays.astype(np.int64), minlength=7)))


def _day_label(md: int) -> str:
    """A day of the year's category: month * 100 + day as ``"MM-DD"`` (February's last:
    ``"02-last"``)."""
    return "02-last" if md == _FEBRUARY_LAST else f"{md // 100:02d}-{md % 100:02d}"


def _leap_day(md: np.ndarray) -> np.ndarray:
    """The days from a leap year's start of month * 100 + day values."""
    md = np.where(md == _FEBRUARY_LAST, 229, md)
    month = md // 100
    return np.asarray(_MONTH_STARTS)[month - 1] + (month > 2) + md % 100 - 1


def _limits(transform: _Transform, column: Column) -> tuple[float | None, float | None]:
    """The least and greatest value a rebuilt column may take on its float scale: its schema
    bounds, and for a datetime composed of its calendar parts also the training rows' range
    (which the timestamp encoding's codec keeps by itself)."""
    low = None if column.min is None else real_value(column.min, column)
    high = None if column.max is None else real_value(column.max, column)
    seen = transform.seen if isinstance(transform, _Calendar) else None
    if seen is not None:
        low = seen[0] if low is None else max(low, seen[0])
        high = seen[1] if high is None else min(high, seen[1])
    return low, high


def _compositions(schema: Schema) -> list[_Composition]:
    """The groups of derived rules that a :class:`_Composition` keeps."""
    found: dict[str, dict[str, Derived]] = {}
    for rule in schema.constraints:
        if not isinstance(rule, Derived):
            continue
        match = _PART_CALL.match(rule.expression.text)
        target = schema[rule.column]
        if match is None or target.nullable or not target.is_integer:
            continue
        column = rule.expression.datetime_columns[0]
        if schema[column].nullable:
            continue
        found.setdefault(column, {}).setdefault(match.group(1), rule)
    out = []
    for column, rules in found.items():
        present = [p for p in _PARTS if p in rules]
        if present != list(_PARTS[: len(present)]) or len(present) < 3:
            continue  # needs year, month, day and then no gap
        parts = {p: rules[p].column for p in present}
        out.append(_Composition(column, parts, [rules[p] for p in present], schema))
    return out


def _move_root(model: pd.DataFrame, transform: _Difference, root: np.ndarray, target: np.ndarray,
               maker: "_Calendar | _Difference | None") -> None:
    """Set, in ``model``, the other side of ``transform`` to ``root`` where it is not null, in the
    model columns that make it (``maker``: none for a learned column; a datetime's calendar
    parts; the difference from a constant), and the owned column's own model column
    (``alone``) to ``target`` where it is null: see :meth:`ConstraintPlan._pinned_model`."""
    name = transform.other
    grid = _Grid(transform.schema[name])
    if maker is None:
        present = ~np.isnan(grid.values(model[name]))
        model[name] = grid.to_series(np.where(present, root, np.nan)).set_axis(model.index)
    elif isinstance(maker, _Difference):
        gap = pd.Series(model[maker.name]).astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(gap)
        constant = float(real_value(maker.other.value, maker.grid.column))
        moved = root - constant if maker.owned == maker.rule.high else constant - root
        model[maker.name] = pd.Series(np.where(present, moved, np.nan), index=model.index)
    else:
        calendar = maker
        present = ~np.isnan(pd.Series(model[calendar.names["year"]]).astype("float64").to_numpy(dtype=np.float64, na_value=np.nan))
        moved = grid.to_series(np.where(present, root, np.nan))
        for part, series in calendar.forward(pd.DataFrame({name: moved})).items():
            model[part] = series.set_axis(model.index)
    if transform.alone is not None:
        alone = transform.grid.values(model[transform.alone])
        model[transform.alone] = transform.grid.to_series(np.where(present, alone, target)).set_axis(model.index)


def _bounded(value: np.ndarray, column: Column) -> np.ndarray:
    """Values clipped into the schema's min / max of the column (on its float scale)."""
    low = -np.inf if column.min is None else real_value(column.min, column)
    high = np.inf if column.max is None else real_value(column.max, column)
    return np.clip(value, low, high)


def _member_series(values: np.ndarray, column: Column) -> pd.Series:
    """A fixed-combination member's values in its sampled dtype."""
    if column.kind is ColumnKind.BOOLEAN:
        return pd.Series(pd.array([None if v is None else bool(v) for v in values], dtype="boolean"))
    categories = list(column.categories)
    lookup = {c: i for i, c in enumerate(categories)}
    codes = np.fromiter((-1 if v is None else lookup[v] for v in values), dtype=np.int64, count=len(values))
    dtype = pd.CategoricalDtype(categories, ordered=column.ordered)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype))


def _lookup_values(data: pd.DataFrame, rule: Lookup, column: Column) -> dict[tuple, np.ndarray]:
    """Per combination of ``rule``'s keys in the real (conformed) rows, the distinct values its
    column holds there: sorted, on the column's float scale and grid (a column of 2 decimals
    held values with float noise, 428.4624741666447, and sampled them), and NaN last where
    some of them are null."""
    grid = _Grid(column)
    numbers = grid.snap(grid.values(data[rule.column]))
    return {key: np.unique(numbers[rows]) for key, rows in rows_by_key(combination_keys(data, rule.keys)).items()}


def _looked_up(out: dict[str, pd.Series], rule: Lookup, values: dict[tuple, np.ndarray], column: Column) -> pd.Series:
    """``rule``'s column of rebuilt user columns ``out``, each value moved to the nearest one
    its keys held (``values``: :func:`_lookup_values`; null where they held only nulls);
    values of keys never seen together, and nulls, stay as they are (the check draws such rows
    again, and nulls of keys whose rows never were)."""
    grid = _Grid(column)
    numbers = grid.values(out[rule.column]).copy()
    held = list(values.values())
    position = key_positions(out, rule.keys, list(values))
    for at, rows in rows_by_position(position):
        rows = rows[~np.isnan(numbers[rows])]
        numbers[rows] = _nearest(held[at], numbers[rows])
    return grid.to_series(numbers)


def _nearest(held: np.ndarray, x: np.ndarray) -> np.ndarray:
    """For each of ``x``, the nearest of the sorted values ``held`` (the lower one on a tie;
    NaN where ``held`` holds none but NaN)."""
    held = held[~np.isnan(held)]
    if held.size == 0:
        return np.full(x.shape, np.nan)
    if held.size == 1:
        return np.full(x.shape, held[0])
    right = np.searchsorted(held, x).clip(1, held.size - 1)
    left = right - 1
    return np.where(x - held[left] <= held[right] - x, held[left], held[right])


def _given_members(rule: Lookup, key: tuple, fill: dict[str, np.ndarray], row: int) -> dict[int, Any]:
    """The members of row ``row``'s ``key`` of ``rule`` that are not to fill (by position)."""
    return {j: key[j] for j, name in enumerate(rule.keys) if not (name in fill and fill[name][row])}


class _LookupIndex:
    """The key combinations of a lookup rule's values (``choices``, in a fixed order) and which
    of them hold each key's member and each value, to find those that fit a row's known cells
    without a scan of every combination (a scan took 44 s for 945 rows of 20,000 keys)."""

    def __init__(self, values: dict[tuple, np.ndarray]) -> None:
        self.choices = sorted(values, key=repr)
        self.with_member: dict[tuple, set[int]] = {}
        self.with_value: dict[float, set[int]] = {}
        for at, combination in enumerate(self.choices):
            for j, member in enumerate(combination):
                self.with_member.setdefault((j, member), set()).add(at)
            for value in values[combination].tolist():
                if value == value:  # not the NaN of nulls
                    self.with_value.setdefault(value, set()).add(at)

    def fitting(self, known: dict[int, Any], value: float | None) -> Sequence[int]:
        """The combinations (positions in ``choices``, ascending) whose members at the positions
        of ``known`` are those, and that held ``value`` (``None``: any)."""
        sets = [self.with_member.get((j, member), set()) for j, member in known.items()]
        if value is not None:
            sets.append(self.with_value.get(value, set()))
        return sorted(set.intersection(*sets)) if sets else range(len(self.choices))


def _lookup_state(schema: Schema, index: int, pairs: Any) -> dict[tuple, np.ndarray]:
    """The values of lookup rule number ``index`` from a model file's plan state (as
    :meth:`ConstraintPlan.get_state` writes them), checked: a file edited by hand must not fail
    later, deep in sampling."""
    rule = schema.constraints[index] if 0 <= index < len(schema.constraints) else None
    if not isinstance(rule, Lookup):
        raise ValueError(f"the model file holds lookup values for constraint #{index}, which is not a lookup rule")
    if not isinstance(pairs, list):
        raise ValueError(f"the lookup values of {rule.describe()!r} must be a list of [keys, values] pairs")
    out = {}
    for pair in pairs:
        ok = (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], list) and len(pair[0]) == len(rule.keys)
              and isinstance(pair[1], list) and pair[1]  # null last: the key's rows held nulls too
              and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair[1][:-1])
              and (pair[1][-1] is None or (isinstance(pair[1][-1], (int, float)) and not isinstance(pair[1][-1], bool))))
        held = np.asarray([np.nan if v is None else v for v in pair[1]], dtype=np.float64) if ok else None
        if not ok or not np.isfinite(held[:-1]).all() or np.isinf(held[-1]) or (np.diff(held[~np.isnan(held)]) <= 0).any():
            raise ValueError(f"the lookup values of {rule.describe()!r} must be [[one value per key], [increasing finite "
                             f"numbers, null last where the key's rows held nulls]] pairs, got {pair!r}")
        out[tuple(pair[0])] = held
    if not out:
        raise ValueError(f"the lookup values of {rule.describe()!r} hold no key: every sampled row would break it")
    return out


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _meets(value: Any, condition: Condition) -> bool:
    if value is None:
        return False
    if condition.values is not None:
        return value in condition.values
    return True


# ------------------------------------------------------------------- the plan
_REPAIR_PASSES = 4  # passes of ConstraintPlan.repair over the rules at most

class ConstraintPlan:
    """The rules of a schema as one fit keeps them.

    Args:
        schema: The user's schema, with its ``constraints``.
        calendar: Learn each datetime column no rule rebuilds as its calendar parts
            (:class:`_Calendar`); or the names of the columns to learn so.

    After :meth:`fit`: ``model_schema_`` is the table the preprocessor and the VAE learn (rebuilt
    columns replaced, no rules), ``modes_`` says per rule how it is kept.
    """

    def __init__(self, schema: Schema, calendar: bool | tuple[str, ...] = False) -> None:
        self.schema = schema
        datetimes = tuple(c.name for c in schema if c.kind is ColumnKind.DATETIME)
        self.calendar = datetimes if calendar is True else tuple(calendar or ())
        # Per lookup rule (by number), each key combination's held values: learned by fit, read
        # by from_state.
        self.lookups_: dict[int, dict[tuple, np.ndarray]] = {}
        # The rules between two columns whose rebuilt side is a lattice in the training rows (by
        # number), kept by resampling: see _on_lattice.
        self.lattices_: tuple[int, ...] = ()
        # Inequalities with a nullable other side that a model file from before 2026-12-07 kept
        # by resampling (by number): see from_state.
        self.null_sided_: tuple[int, ...] = ()

    @property
    def active(self) -> bool:
        """Whether the schema has any rule or a datetime column learned as its calendar parts
        (otherwise every method is the identity)."""
        return bool(self.schema.constraints) or bool(self.calendar)

    def fit(self, data: pd.DataFrame, source: str = "training data", private: bool = False,
            tail_rows: int = 1) -> "ConstraintPlan":
        """Check the real (conformed) table against the rules, choose how each is kept, learn
        what construction needs. ``tail_rows``: the range a rebuilt numeric or datetime column
        is kept within ends at cuts with this many training values beyond each
        (top- and bottom-coding, :func:`tail_cuts`; 1: the training range).

        Raises:
            ConstraintError: The table breaks a rule.
        """
        if not private:
            # A private fit reads no real row outside DP-SGD: the rules are not checked against
            # the data, and the transforms learn nothing from it (fixed combinations refuse).
            check_table(self.schema, data, source)
        self.lattices_ = () if private else _on_lattice(self.schema, data)
        for i in self.lattices_:
            rule = self.schema.constraints[i]
            logger.info("constraint %r: %s; the rule is kept by drawing rows again, both columns learned as they are",
                        rule.describe(), _lattice_reason(rule))
        self._build()
        for transform in self.transforms_:
            if isinstance(transform, _RangeKept):
                transform.tail_rows = tail_rows
            transform.fit(data, private)
        self.allowed_ = {}
        self.lookups_ = {}
        for i, (rule, mode) in enumerate(zip(self.schema.constraints, self.modes_)):
            if isinstance(rule, FixedCombinations) and mode is Mode.RESAMPLING:
                _Combination(rule, self.schema).fit(data, private)  # refuses a private fit
                self.allowed_[i] = set(combination_keys(data, rule.group))
            elif isinstance(rule, Lookup):
                if private:
                    raise ParameterError(
                        f"constraint {rule.describe()!r}: the values of each key are read from the real rows, which a "
                        "differentially private fit cannot do; drop the rule (the model still learns the column)")
                self.lookups_[i] = _lookup_values(data, rule, self.schema[rule.column])
        self.model_schema_ = self._model_schema()
        return self

    def _build(self) -> None:
        """Assign each rule its mode and the transforms their order."""
        schema = self.schema
        owner: dict[str, int] = {}
        transforms: list[_Transform] = []
        composed: set[int] = set()
        for composition in _compositions(schema):
            owner[composition.column] = len(transforms)
            transforms.append(composition)
            composed.update(id(rule) for rule in composition.rules)
        modes = []
        self.reasons_: dict[int, str] = {}  # why a rule is kept by resampling
        for i, rule in enumerate(schema.constraints):
            if id(rule) in composed or isinstance(rule, Lookup):  # a lookup: see reverse
                modes.append(Mode.CONSTRUCTION)
                continue
            transform = self._construction(rule) if i not in self.lattices_ and i not in self.null_sided_ else None
            taken = [] if transform is None else [name for name in transform.owns if name in owner]
            if transform is None or taken or _cyclic(transforms, transform):
                modes.append(Mode.RESAMPLING if not _trivial(rule, schema) else Mode.CONSTRUCTION)
                if modes[-1] is Mode.RESAMPLING:
                    self.reasons_[i] = self._why_resampled(i, rule, transform, taken)
                continue
            for name in transform.owns:
                owner[name] = len(transforms)
            transforms.append(transform)
            modes.append(Mode.CONSTRUCTION)
        # The datetime columns no rule rebuilds are learned as their parts (when asked), but not
        # a unique key: composed of few parts' values, a short fit's dates repeat.
        keys = {name for rule in schema.constraints if isinstance(rule, Unique) for name in rule.columns}
        self.calendar = tuple(name for name in self.calendar if name not in owner and name not in keys)
        transforms.extend(_Calendar(name, schema) for name in self.calendar)
        # A null-when rule over two learned columns is kept in ``reverse`` before any transform
        # runs, so a rule reading its column (a derived sum) sees the null.
        self.nulled_ = []
        for i, rule in enumerate(schema.constraints):
            if isinstance(rule, NullWhen):
                learned = not any(name in owner or name in self.calendar for name in rule.columns)
                modes[i] = Mode.CONSTRUCTION if learned else Mode.RESAMPLING
                if learned:
                    self.nulled_.append(rule)
                    self.reasons_.pop(i, None)
                else:
                    self.reasons_[i] = "a column it names is rebuilt by another rule or learned as calendar parts"
        self.modes_ = modes
        looked = {rule.column: rule.keys for rule in schema.constraints if isinstance(rule, Lookup)}
        self.transforms_ = _reverse_order(transforms, looked)

    def _why_resampled(self, number: int, rule: Constraint, transform: _Transform | None, taken: list[str]) -> str:
        """Why :meth:`_build` keeps a rule by drawing rows again rather than by construction."""
        if number in self.lattices_:
            return _lattice_reason(rule)
        if number in self.null_sided_:
            return "a side may be null (as the model file's fit kept it, before 2026-12-07)"
        if taken:
            return f"{preview(taken)} {'is' if len(taken) == 1 else 'are'} rebuilt by another rule"
        if transform is not None:
            return "rebuilding it would close a loop of rules that rebuild each other's columns"
        if isinstance(rule, (Inequality, Range)):
            return "a bound may be null, where a rebuilt value would be lost"
        return "a rule of this kind is checked on the drawn rows"

    def _construction(self, rule: Constraint) -> _Transform | None:
        schema = self.schema
        if isinstance(rule, Inequality):
            return _Difference(rule, schema)
        if isinstance(rule, Range):
            if any(isinstance(s, str) and schema[s].nullable for s in (rule.low, rule.high)):
                return None
            return _Position(rule, schema)
        if isinstance(rule, FixedCombinations):
            return _Combination(rule, schema)
        if isinstance(rule, Derived):
            return _Derivation(rule, schema)
        return None

    def _model_schema(self) -> Schema:
        replaced: dict[str, _Transform] = {}
        for transform in self.transforms_:
            for name in transform.owns:
                replaced[name] = transform
        columns, placed = [], set()
        for column in self.schema:
            transform = replaced.get(column.name)
            if transform is None:
                columns.append(column)
            elif id(transform) not in placed:
                placed.add(id(transform))
                columns.extend(transform.model_columns())
        names = [c.name for c in columns]
        clash = sorted({n for n in names if names.count(n) > 1})
        if clash:
            raise ParameterError(f"internal column names {preview(clash)} clash with the table's; rename those columns")
        return Schema(tuple(columns), name=self.schema.name)

    # ------------------------------------------------------------ the two directions
    def forward(self, data: pd.DataFrame, partial: bool = False) -> pd.DataFrame:
        """A conformed user table as the model's table (``model_schema_``'s columns).

        Args:
            data: The table, passed through :func:`synthvae.validation.conform`.
            partial: For a table with unknown cells (imputation): a model cell is null unless
                every user cell it is made of is known.

        Raises:
            DataError: A fixed combination the training data never had (unless ``partial``).
        """
        if not self.active:
            return data
        made: dict[str, pd.Series] = {}
        for transform in self.transforms_:
            made.update({k: v.set_axis(data.index) for k, v in transform.forward(data, partial).items()})
        return pd.DataFrame({c.name: made[c.name] if c.name in made else data[c.name] for c in self.model_schema_})

    def reverse(self, model: pd.DataFrame, pins: dict[str, object] | None = None) -> pd.DataFrame:
        """A sampled model table as the user's table, in the schema's column order; ``pins``
        (from :meth:`pins`): the one value each of some rebuilt sides of inequalities takes, the
        other side given by the model's difference (see :meth:`_Difference.pin`)."""
        if not self.active:
            return model
        model = model.reset_index(drop=True)
        late = {}
        if pins:
            model, late = self._pinned_model(model, pins)
        out: dict[str, pd.Series] = {name: model[name] for name in model.columns if name in self.schema.names}
        for rule in self.nulled_:
            if rule.column in out and rule.when in out:
                out[rule.column] = out[rule.column].mask(rule.structural(pd.DataFrame({rule.when: out[rule.when]})))
        # Each lookup as soon as its columns are rebuilt, before a rule reads its column (a
        # derived fare = distance * 0.25 + 40 computed from the model's distance broke when the
        # distance then moved: 34,256 of 39,374 rows were drawn again, a review found).
        pending = dict(self.lookups_)
        self._look_up(out, pending)
        for transform in self.transforms_:
            transform.reverse(model, out)
            if isinstance(transform, _Difference) and transform.owned in late:
                transform.pin(model, out, late[transform.owned])
            self._look_up(out, pending)
        return pd.DataFrame({c.name: out[c.name] for c in self.schema if c.name in out}, index=model.index)

    def _pinned_model(self, model: pd.DataFrame, pins: dict[str, object]) -> tuple[pd.DataFrame, dict[str, object]]:
        """``model`` changed so that :meth:`reverse` rebuilds each pinned column as its value:
        against a constant, the difference is the value's; against a column, the learned column
        at the root of the chain of differences (``a <= b <= c``, ``c`` pinned: ``a = c - (c - b)
        - (b - a)``) is moved, every gap kept, so that every column and rule read from it
        follows (moving ``b`` alone left ``a`` where it was drawn: ``b - a`` a median 62 days,
        the real 1:44, a review), and where the root is null the owned column's own model
        column (``alone``) takes the value. Values the move takes beyond a column's bounds are
        left there for the check to draw again (clipped, 140 of 200 rows stacked on the bound).
        Also the pins ``reverse`` sets afterwards instead (a chain through another kind of rule)."""
        owner, model, late = self._owners(), model.copy(), {}
        for column, value in pins.items():
            transform = owner[column]
            target = np.full(len(model), float(real_value(value, transform.grid.column)))
            if not transform.reads:
                constant = float(real_value(transform.other.value, transform.grid.column))
                model[transform.name] = target - constant if transform.owned == transform.rule.high else constant - target
                continue
            while True:
                root = transform.other_target(model, target)
                further = owner.get(transform.other)
                if further is None or isinstance(further, _Calendar):
                    _move_root(model, transform, root, target, further)
                    break
                if not isinstance(further, _Difference):
                    late[column] = value
                    break
                if not further.reads:  # the chain ends at a constant: its difference moves
                    _move_root(model, transform, root, target, further)
                    break
                transform, target = further, root
        return model, late

    def unmendable(self, given: pd.DataFrame, fill: dict[str, np.ndarray]) -> dict[Constraint, np.ndarray]:
        """Per lookup rule, the rows of a table to impute (conformed, index 0..n-1; ``fill``: the
        cells to fill, by column) that no filled cell can make keep it: keys all given and never
        seen together, or a given value no combination agreeing with the given keys held. Drawn
        again, such a row took 20 rounds of redraws (4.4 s for one row) and stayed broken."""
        out = {}
        for i, values in self.lookups_.items():
            rule = self.schema.constraints[i]
            none = np.zeros(len(given), dtype=bool)
            open_keys = np.logical_or.reduce([fill.get(name, none) for name in rule.keys])
            numbers = _Grid(self.schema[rule.column]).values(given[rule.column])
            value_given = ~fill.get(rule.column, none) & ~np.isnan(numbers)
            stuck = ~open_keys & (key_positions(given, rule.keys, list(values)) < 0)
            rows = np.flatnonzero(open_keys & value_given)
            if rows.size:
                index, keys = _LookupIndex(values), combination_keys(given.iloc[rows], rule.keys)
                for r, key in zip(rows, keys):
                    known = _given_members(rule, key, fill, r)
                    stuck[r] = not len(index.fitting(known, float(numbers[r])))
            out[rule] = stuck
        return out

    def _look_up(self, out: dict[str, pd.Series], pending: dict[int, dict[tuple, np.ndarray]]) -> None:
        """Move each looked-up column of ``pending`` (rule number -> its values) whose column and
        keys ``out`` holds to its keys' nearest values, and take it out of ``pending``."""
        for i in list(pending):
            rule = self.schema.constraints[i]
            if all(name in out for name in rule.columns):
                out[rule.column] = _looked_up(out, rule, pending.pop(i), self.schema[rule.column])

    # ------------------------------------------------------------------ the check
    def rebuilt_by(self, column: str) -> str | None:
        """How a column the model does not learn is rebuilt, in words (``None``: it is learned):
        by a rule (``computed by the schema's rule 'tot = lo + w'``), or composed from calendar
        parts."""
        for transform in getattr(self, "transforms_", ()):
            if column not in transform.owns:
                continue
            if isinstance(transform, _Composition):
                return f"composed from its calendar parts ({', '.join(repr(n) for n in transform.parts.values())}) by the schema's rules"
            rule = getattr(transform, "rule", None)
            return f"computed by the schema's rule {rule.describe()!r}" if rule is not None else None
        return None

    def user_columns(self, names: list[str]) -> list[str]:
        """The user's columns behind model columns, in order, once each: a date's model parts
        (``date~year``, ``date~cos``) are the date; a learned column is itself."""
        made = {c.name: transform.owns for transform in getattr(self, "transforms_", ()) for c in transform.model_columns()}
        return list(dict.fromkeys(user for name in names for user in made.get(name, (name,))))

    def derived_inputs(self, column: str) -> tuple[str, ...]:
        """The columns a derived column's rule reads (none for a column no derived rule
        computes, such as a composed datetime or an inequality's side)."""
        for transform in getattr(self, "transforms_", ()):
            if isinstance(transform, _Derivation) and column in transform.owns:
                return tuple(transform.reads)
        return ()

    def null_owners(self) -> dict[str, str]:
        """Model columns whose nulls another model column holds: a nullable date learned as its
        calendar parts is null in its year, and its other parts hold fill values there."""
        owners = {}
        for transform in getattr(self, "transforms_", ()):
            if isinstance(transform, _Calendar) and self.schema[transform.column].nullable:
                names = transform.names
                owners.update({name: names["year"] for part, name in names.items() if part != "year"})
        return owners

    def known_sides(self, model: pd.DataFrame, user: pd.DataFrame, unknown: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, pd.Series]]:
        """For imputation: per learned column (or calendar datetime) that is the other side of
        an inequality whose owned side a row knows (``start <= end``, ``end`` observed,
        ``start`` to fill), the rows where it is to fill (``unknown``) and its values from the
        known side and the model's difference (``model``: the completed model table; ``user``:
        the observed user cells): see :meth:`_Difference.other_side`."""
        owner = self._owners()
        found = {}
        for t in self.transforms_:
            if not isinstance(t, _Difference) or not t.reads or t.other not in unknown:
                continue
            if t.other in owner and not isinstance(owner[t.other], _Calendar) and owner[t.other].reads:
                # A side another rule rebuilds from a column (a chain a <= b <= c) stays as that
                # rule gives it; against a constant (2019-12-31 < start) it is the known side's
                # (rows then breaking the constant's rule are drawn again): drawn given neither,
                # imputed starts lay a median 4,479 hours before their ends, the data's 119.
                continue
            rows = unknown[t.other] & ~unknown.get(t.owned, np.zeros(len(user), dtype=bool)) & user[t.owned].notna().to_numpy()
            if rows.any():
                found[t.other] = (rows, t.other_side(model, user))
        return found

    def periods(self) -> dict[str, float]:
        """Model columns whose values go round a circle, with its period: a calendar datetime's
        time of day (ticks of its unit in a day), whose mean is the circle's (22:00 and 02:00
        average to midnight, not noon)."""
        return {t.names["time"]: float(t.per_day) for t in getattr(self, "transforms_", ())
                if isinstance(t, _Calendar) and "time" in t.names}

    def structural_nulls(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Per column some null-when rule names, the rows of a conformed table where the rule
        makes it null (its ``when`` cell holds one of the rule's values): no unknown value there,
        so imputation keeps the null."""
        out: dict[str, np.ndarray] = {}
        for rule in self.schema.constraints:
            if isinstance(rule, NullWhen) and rule.when in frame.columns:
                out[rule.column] = out.get(rule.column, np.zeros(len(frame), dtype=bool)) | rule.structural(frame)
        return out

    def violations(self, frame: pd.DataFrame) -> dict[Constraint, np.ndarray]:
        """Per rule, which rows of a sampled user table break it."""
        return rule_violations(self.schema, frame, self._combinations(), self.lookups_)

    def outside_bounds(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Per rebuilt numeric or datetime column with schema bounds, which rows of a sampled user
        table hold a value beyond them: a derived column is computed, not clipped (``total = a +
        b`` can pass ``total``'s max), and an inequality's owned side is moved to meet the rule."""
        out = {}
        for transform in self.transforms_:
            if isinstance(transform, _Combination):
                continue
            for name in transform.owns:
                column = self.schema[name]
                low, high = _limits(transform, column)
                if name not in frame.columns or (low is None and high is None):
                    continue
                values = _Grid(column).values(frame[name])
                with np.errstate(invalid="ignore"):
                    beyond = np.zeros(len(values), dtype=bool)
                    if low is not None:
                        beyond |= values < low
                    if high is not None:
                        beyond |= values > high
                out[name] = beyond
        return out

    def _combinations(self) -> dict[int, set]:
        found = dict(self.allowed_)
        for transform in self.transforms_:
            if isinstance(transform, _Combination):
                found[self.schema.constraints.index(transform.rule)] = transform.allowed
        return found

    def meets(self, frame: pd.DataFrame, condition: Condition) -> np.ndarray:
        """Which rows of a sampled user table meet a condition on a rebuilt (numeric or
        datetime) column."""
        grid = _Grid(self.schema[condition.column])
        values = grid.values(frame[condition.column])
        with np.errstate(invalid="ignore"):
            if condition.values is not None:
                return np.isin(values, [real_value(v, grid.column) for v in condition.values])
            ok = ~np.isnan(values)
            if condition.low is not None:
                low = real_value(condition.low, grid.column)
                ok &= (values > low) if condition.low_strict else (values >= low)
            if condition.high is not None:
                high = real_value(condition.high, grid.column)
                ok &= (values < high) if condition.high_strict else (values <= high)
        return ok

    # ------------------------------------------------------------- imputation
    def repair(self, frame: pd.DataFrame, filled: dict[str, np.ndarray], rng: np.random.Generator,
               ranges: dict[str, tuple[float, float]] | None = None) -> pd.DataFrame:
        """Mend imputed rows that still break a rule by changing only filled cells: a broken
        combination becomes a random allowed one that agrees with the row's observed members; a
        filled side of an inequality or range is moved to the nearest value that keeps the rule;
        a filled derived column is computed; under a null-when rule a filled column is made null,
        or a filled ``when`` beside an observed value takes a random value that allows it. Rows
        the observed cells alone make break a rule are left as they are.

        Args:
            frame: A completed user table (sampled dtypes, index 0..n-1).
            filled: Per column, which cells were imputed.
            ranges: The model's range of each numeric column (see :meth:`_solve_input`).
        """
        out = frame.copy()
        for transform in self.transforms_:
            if isinstance(transform, _Calendar) and transform.column in filled and filled[transform.column].any():
                grid, cells = transform.grid, filled[transform.column]
                low, high = _limits(transform, self.schema[transform.column])
                values = grid.values(out[transform.column])
                clipped = np.clip(values, -np.inf if low is None else low, np.inf if high is None else high)
                out[transform.column] = grid.to_series(np.where(cells, clipped, values))
        combinations = self._combinations()
        # Rules mended one after another can break those mended before (x2 moved below x3 then
        # below x1; a derived input solved below the other): passes until none is broken, at
        # most a few (a third of rows under x1 <= x2 <= x3 and p = x1 + x2 stayed broken after one).
        for _ in range(_REPAIR_PASSES):
            self._repair_pass(out, filled, rng, ranges, combinations)
            if not any(rows.any() for rows in self.violations(out).values()):
                break
        return out

    def _repair_pass(self, out: pd.DataFrame, filled, rng, ranges, combinations) -> None:
        """One pass of :meth:`repair` over the rules, in order."""
        for i, rule in enumerate(self.schema.constraints):
            if isinstance(rule, Derived):
                self._repair_derived(out, rule, filled, ranges, rng)
                continue
            lookups = self.lookups_
            broken = rule_violations(self.schema.with_constraints([rule]), out, {0: combinations[i]} if i in combinations else None,
                                     {0: lookups[i]} if i in lookups else None)
            rows = next(iter(broken.values()), np.zeros(len(out), dtype=bool))
            if not rows.any():
                continue
            if isinstance(rule, FixedCombinations) and i in combinations:
                self._repair_combination(out, rule, combinations[i], rows, filled, rng)
            elif isinstance(rule, Lookup) and i in lookups:
                self._repair_lookup(out, rule, lookups[i], rows, filled, rng)
            elif isinstance(rule, Inequality):
                self._repair_order(out, rule.low, rule.high, rule.strict, rows, filled)
            elif isinstance(rule, Range):
                self._repair_order(out, rule.low, rule.column, rule.strict, rows, filled)
                rows = next(iter(rule_violations(self.schema.with_constraints([rule]), out).values()))
                self._repair_order(out, rule.column, rule.high, rule.strict, rows, filled)
            elif isinstance(rule, NullWhen):
                self._repair_null_when(out, rule, rows, filled, rng)

    def _repair_null_when(self, out: pd.DataFrame, rule: NullWhen, rows: np.ndarray, filled, rng) -> None:
        """Rows where ``rule.when`` holds one of ``rule.values`` and ``rule.column`` is not null:
        a filled column becomes null; otherwise a filled ``when`` takes a random one of its other
        values (an application whose joint income is known is joint: 20 rounds of redraws from a
        3-epoch loans model left 1 of 5 such rows individual for 2 of 10 seeds). (An exact rule's
        null elsewhere is a cell to fill, or one left unknown, never judged here.)"""
        none = np.zeros(len(out), dtype=bool)
        rows = rows & rule.structural(out)
        emptied = rows & filled.get(rule.column, none)
        if emptied.any():
            out.loc[emptied, rule.column] = None
        others = sorted((v for v in self.schema[rule.when].choices if v not in rule.values), key=repr)
        moved = np.flatnonzero(rows & ~emptied & filled.get(rule.when, none))
        if moved.size and others:
            out.loc[moved, rule.when] = np.asarray(others, dtype=object)[rng.integers(len(others), size=moved.size)]

    def _repair_derived(self, out: pd.DataFrame, rule: Derived, filled, ranges, rng) -> None:
        """A filled derived column is computed; where it was observed and a numeric input was
        filled, that input is solved for when the expression is linear in it. A solution beyond
        the input's bounds is taken to the bound, and the next filled input solved for the rest:
        loans' observed ``paid_total`` of 0 beside drawn principal and interest solved the
        principal at -1,087.74 (the schema's min 0); now the principal is 0 and the interest the
        rest. Rows no filled input can mend within bounds stay broken (and are reported)."""
        none = np.zeros(len(out), dtype=bool)
        target = filled.get(rule.column, none)
        grid = _Grid(self.schema[rule.column])
        if target.any():
            # Where an input is left unknown (not among impute's columns), the filled cell keeps
            # the value computed from the model's draw of it: computed here it was null.
            computed = grid.snap(rule.values(out))
            computable = target & ~pd.isna(computed)
            out[rule.column] = out[rule.column].where(~computable, grid.to_series(computed))
        broken = rule.broken(out, self.schema[rule.column]) & ~target
        # First each input only where its solution keeps the other rules over it, then any: with
        # x1 <= x2 and p = x1 + x2 observed, x2 = p - x1 fell below x1 in a third of rows, where
        # x1 = p - x2 keeps the order (a user review).
        for careful in (True, False):
            for name in rule.expression.columns:
                cells = broken & filled.get(name, none)
                if not cells.any():
                    continue
                before = out[name].copy()
                solved = self._solve_input(out, rule, name, cells, rng, (ranges or {}).get(name), near=True)
                if solved.any():
                    solved &= ~self._to_bounds(out, name, solved)
                if careful and solved.any():
                    clash = solved & self._breaks_rules_over(out, name, rule)
                    if clash.any():
                        out[name] = out[name].where(~clash, before)
                        solved &= ~clash
                broken &= ~solved

    def _breaks_rules_over(self, out: pd.DataFrame, name: str, skip: Constraint) -> np.ndarray:
        """Rows breaking an inequality or range over column ``name`` (other than ``skip``)."""
        rules = [r for r in self.schema.constraints if r is not skip and isinstance(r, (Inequality, Range)) and name in r.columns]
        bad = np.zeros(len(out), dtype=bool)
        for rows in (rule_violations(self.schema.with_constraints(rules), out) if rules else {}).values():
            bad |= rows
        return bad

    def _to_bounds(self, out: pd.DataFrame, name: str, rows: np.ndarray) -> np.ndarray:
        """Numeric column ``name``'s values in ``rows`` beyond the schema's bounds, set to the
        nearest bound; which rows were."""
        column = self.schema[name]
        low = -np.inf if column.min is None else float(column.min)
        high = np.inf if column.max is None else float(column.max)
        grid = _Grid(column)
        values = grid.values(out[name]).copy()
        with np.errstate(invalid="ignore"):
            beyond = rows & ((values < low) | (values > high))
        if beyond.any():
            values[beyond] = np.clip(values[beyond], low, high)
            out[name] = grid.to_series(values).set_axis(out.index)
        return beyond

    def _solve_input(self, out: pd.DataFrame, rule: Derived, name: str, cells: np.ndarray,
                     rng: np.random.Generator | None = None, span: tuple[float, float] | None = None,
                     near: bool = False) -> np.ndarray:
        """Set input ``name`` of ``rule`` in rows ``cells`` to a value that gives the derived
        column's value; the rows solved.

        Where the expression is linear in the input over its ``span`` (the model's range; without
        one, near 0), the line is solved. The derived column is rounded to its grid, so several
        values of the input's grid can give it (churn's night minutes, tenths, from the charge,
        cents at 0.045 a minute: two values for most charges). The value nearest the exact
        solution is taken, or with ``rng`` one of them at random (a draw of multiple imputation:
        the nearest every time leaves out the others, and 20 draws that all agree held the hidden
        minutes for half of the cells).

        Otherwise (``min(a, 100)``, ``abs(a) * 2``: lines only piecewise) the values across the
        span that give it are searched (:func:`_runs`): with ``near`` (the row holds the
        model's draw) the stretch of them nearest the draw is taken (a value drawn evenly from a
        narrow one with ``rng``, else its middle; the end nearest the draw of a wide one), else
        only a row with one solution is solved (the rest are left to the model, whose draws
        :meth:`repair` mends). Probed at 0, 1 and 2 alone, both were taken for
        lines: ``min(a, 100) = 100`` gave ``a = 100`` in every row (real ones up to 200), and
        ``abs(a) * 2`` never a negative ``a``."""
        if not cells.any() or self.schema[name].kind is not ColumnKind.NUMERIC:
            return np.zeros(len(out), dtype=bool)
        derived = _Grid(self.schema[rule.column])
        input_grid = _Grid(self.schema[name])
        intercept, slope, linear = _line(rule, out, name, span=span, tolerance=0.5 * derived.step)
        known = derived.values(out[rule.column])
        values = input_grid.values(out[name]).copy()
        with np.errstate(all="ignore"):
            solved = (known - intercept) / slope
        piecewise = cells & ~linear & np.isfinite(known)
        cells = cells & linear & np.isfinite(solved)
        values[cells] = input_grid.snap(solved[cells])
        if rng is not None and not near and input_grid.step > 0 and derived.step > 0 and self.schema[rule.column].kind is ColumnKind.NUMERIC:
            with np.errstate(all="ignore"):
                half = derived.step / 2 / np.abs(slope)
                low = input_grid.up(np.where(cells, solved - half, 0.0), strict=False)
                high = input_grid.down(np.where(cells, solved + half, 0.0), strict=False)
                count = np.maximum(np.round((high - low) / input_grid.step), 0) + 1
                pick = input_grid.snap(low + np.floor(rng.random(len(out)) * count) * input_grid.step)
                fits = cells & (count > 1) & (derived.snap(intercept + slope * pick) == known)
            values[fits] = pick[fits]
        if piecewise.any() and span is not None and np.isfinite(span).all():
            rows = np.flatnonzero(piecewise)
            found, _ = _runs(rule, out.iloc[rows].reset_index(drop=True), name, known[rows], known[rows], span, input_grid, derived)
            for row, runs in zip(rows, found):
                if not runs:
                    continue
                if near and np.isfinite(values[row]):
                    # The stretch nearest the model's draw; within it, a narrow one (a bucket of
                    # floor(a / 10)) is drawn evenly, a wide one (min(a, 100) = 100 from 100 up)
                    # gives its end nearest the draw: its nearest value every time piled 78% of
                    # floor's imputed a on a bucket's ends (real: 19%).
                    first, last = min(runs, key=lambda r: (max(r[0] - values[row], values[row] - r[1], 0.0), r[0]))
                    if last - first <= (span[1] - span[0]) / 8:
                        choice = _pick(first, last, input_grid, rng)
                    else:
                        choice = first if abs(values[row] - first) <= abs(values[row] - last) else last
                elif len(runs) == 1 and runs[0][1] - runs[0][0] <= input_grid.step:
                    choice = _pick(*runs[0], input_grid, rng)
                else:
                    continue
                values[row] = choice
                cells[row] = True
        out[name] = input_grid.to_series(values)
        return cells

    def solve_inputs(self, frame: pd.DataFrame, unknown: dict[str, np.ndarray], rng: np.random.Generator | None = None,
                     ranges: dict[str, tuple[float, float]] | None = None) -> pd.DataFrame:
        """Before imputation: each ``unknown`` input of a derived rule whose column is known and
        whose other inputs are known too is solved from them (where the expression is linear in
        it), so the model is given it rather than guessing it (churn's minutes from the charge:
        exact, where a model's guess misses by a tenth of a standard deviation or more); an
        unknown derived column whose inputs are known is computed, and counts as known for the
        other rules.

        Args:
            frame: A conformed user table (index 0..n-1).
            unknown: Per column, which cells are to be filled; solved cells stay in it.
            rng: Where the derived column's rounding leaves several values, pick one at random
                (see :meth:`_solve_input`); without it the nearest to the exact solution.
            ranges: The model's range of each numeric column: an input is solved only where
                the rule is linear in it over the whole of it (``abs(a) * 2`` is left to the
                model, whose draw :meth:`repair` then moves onto the rule on its own side).
        """
        out = frame.copy()
        none = np.zeros(len(out), dtype=bool)
        given: dict[str, np.ndarray] = {}  # cells given a value here

        def known(name: str) -> np.ndarray:
            return (~unknown.get(name, none) | given.get(name, none)) & out[name].notna().to_numpy()

        rules = [rule for rule in self.schema.constraints if isinstance(rule, Derived)]
        # Twice: a column computed from known cells may let another rule solve an input (flights:
        # hour = hour(time_hour) known, then minute from sched_dep_time = hour * 100 + minute;
        # with the hour unknown the minute was guessed, wrong in 56% of rows).
        for _ in range(2):
            for rule in rules:
                cells = np.logical_and.reduce([known(n) for n in rule.inputs], initial=True) & unknown.get(rule.column, none) & ~known(rule.column)
                if cells.any():
                    grid = _Grid(self.schema[rule.column])
                    with np.errstate(all="ignore"):
                        values = grid.values(out[rule.column]).copy()
                        values[cells] = grid.snap(rule.values(out)[cells])
                    out[rule.column] = grid.to_series(values).set_axis(out.index)
                    given[rule.column] = given.get(rule.column, none) | (cells & ~np.isnan(values))
                for name in rule.expression.columns:
                    others = np.logical_and.reduce([known(other) for other in rule.inputs if other != name], initial=True)
                    cells = known(rule.column) & others & unknown.get(name, none) & out[name].isna().to_numpy()
                    solved = self._solve_input(out, rule, name, cells, rng, (ranges or {}).get(name))
                    given[name] = given.get(name, none) | solved
                self._solve_pair(out, rule, known, unknown, given, ranges or {})
        return out

    def _solve_pair(self, out: pd.DataFrame, rule: Derived, known, unknown: dict[str, np.ndarray],
                    given: dict[str, np.ndarray], ranges: dict[str, tuple[float, float]]) -> None:
        """For :meth:`solve_inputs`: two unknown inputs of a known derived cell, the rule's other
        inputs known, solved where only one pair of their grid values within their ranges gives
        it (flights' ``sched_dep_time = hour * 100 + minute``: 1446 is hour 14 and minute 46, as
        minutes lie in 0-59). Each value of the input with the fewer grid values (at most
        :data:`_PAIR_VALUES`) is tried, the other solved from it. Rows with several pairs are left
        to the model."""
        none = np.zeros(len(out), dtype=bool)
        names = [n for n in rule.expression.columns if self.schema[n].kind is ColumnKind.NUMERIC]
        if len(names) < 2 or len(names) != len(rule.inputs):
            return
        derived = _Grid(self.schema[rule.column])
        open_ = {n: unknown.get(n, none) & ~known(n) for n in names}
        for i, first in enumerate(names):
            for second in names[i + 1:]:
                rest = np.logical_and.reduce([known(n) for n in names if n not in (first, second)], initial=True)
                cells = known(rule.column) & rest & open_[first] & open_[second]
                if not cells.any():
                    continue
                spans = {n: ranges.get(n, (self.schema[n].min, self.schema[n].max)) for n in (first, second)}
                if any(s[0] is None or s[1] is None or not np.isfinite(s).all() for s in spans.values()):
                    continue
                grids = {n: _Grid(self.schema[n]) for n in (first, second)}
                if any(g.step <= 0 for g in grids.values()):
                    continue
                counts = {n: (spans[n][1] - spans[n][0]) / grids[n].step + 1 for n in (first, second)}
                tried, solved_for = (first, second) if counts[first] <= counts[second] else (second, first)
                if counts[tried] > _PAIR_VALUES:
                    continue
                rows = np.flatnonzero(cells)
                part = out.iloc[rows][list(dict.fromkeys([*rule.inputs, rule.column]))].reset_index(drop=True)
                target = derived.values(part[rule.column])
                low, high = spans[solved_for]
                found = np.zeros(rows.size, dtype=np.int64)
                pairs = np.full((rows.size, 2), np.nan)
                for value in grids[tried].between(*spans[tried]):
                    trial = part.copy()
                    trial[tried] = grids[tried].to_series(np.full(rows.size, value))
                    trial[solved_for] = grids[solved_for].to_series(np.full(rows.size, np.nan))
                    ok = self._solve_input(trial, rule, solved_for, np.ones(rows.size, dtype=bool), span=spans[solved_for])
                    other = grids[solved_for].values(trial[solved_for])
                    with np.errstate(all="ignore"):
                        ok &= (other >= low) & (other <= high)
                        ok &= derived.snap(rule.values(trial)) == target
                    found += ok
                    pairs[ok, 0], pairs[ok, 1] = value, other[ok]
                unique = found == 1
                if not unique.any():
                    continue
                mark = np.zeros(len(out), dtype=bool)
                mark[rows[unique]] = True
                for column, values in ((tried, pairs[unique, 0]), (solved_for, pairs[unique, 1])):
                    full = grids[column].values(out[column]).copy()
                    full[mark] = values
                    out[column] = grids[column].to_series(full).set_axis(out.index)
                    given[column] = given.get(column, none) | mark

    def _repair_combination(self, out, rule, allowed, rows, filled, rng) -> None:
        choices = sorted(allowed, key=repr)
        for r in np.flatnonzero(rows):
            known = {j: out[name].iloc[r] for j, name in enumerate(rule.group) if not filled.get(name, np.zeros(len(out), bool))[r]}
            fitting = [c for c in choices if all(c[j] == (None if pd.isna(v) else v) for j, v in known.items())]
            if fitting:
                combo = fitting[int(rng.integers(len(fitting)))]
                for j, name in enumerate(rule.group):
                    if j not in known:
                        out.loc[r, name] = combo[j]

    def _repair_lookup(self, out, rule: Lookup, values: dict[tuple, np.ndarray], rows: np.ndarray, filled, rng) -> None:
        """Rows whose value their keys never held: where a key was filled, the keys become a
        random combination seen with the row's observed keys (and with its value, where that is
        observed); then a filled value moves to the nearest one its keys held. The combinations
        that fit are found through an index of each key's values and of each value (a scan of
        20,000 combinations a row took 44 s for 945 rows)."""
        none = np.zeros(len(out), dtype=bool)
        grid = _Grid(self.schema[rule.column])
        numbers = grid.values(out[rule.column]).copy()
        keys = combination_keys(out, rule.keys)
        index = _LookupIndex(values)
        value_filled = filled.get(rule.column, none)
        for r in np.flatnonzero(rows):
            key = keys[r]
            known = _given_members(rule, key, filled, r)
            held = values.get(key)
            observed_value = not value_filled[r] and not np.isnan(numbers[r])
            if len(known) < len(rule.keys) and (held is None or (observed_value and numbers[r] not in held)):
                fitting = index.fitting(known, float(numbers[r]) if observed_value else None)
                if len(fitting):
                    key = index.choices[fitting[int(rng.integers(len(fitting)))]]
                    for j, name in enumerate(rule.keys):
                        if j not in known:
                            out.loc[r, name] = key[j]
            if value_filled[r] and key in values and not np.isnan(numbers[r]):
                numbers[r] = _nearest(values[key], numbers[r : r + 1])[0]
        out[rule.column] = grid.to_series(numbers).set_axis(out.index)

    def _repair_order(self, out, low, high, strict, rows, filled) -> None:
        """Move a filled side of ``low <= high`` onto the other side's bound."""
        for moving, fixed, upward in ((high, low, True), (low, high, False)):
            if not isinstance(moving, str):
                continue
            cells = rows & filled.get(moving, np.zeros(len(out), dtype=bool))
            if not cells.any():
                continue
            grid = _Grid(self.schema[moving])
            bound = np.broadcast_to(np.asarray(grid.side(out, fixed, self.schema), dtype=np.float64), cells.shape)
            values = grid.values(out[moving]).copy()
            values[cells] = (grid.up if upward else grid.down)(bound[cells], strict)
            out[moving] = grid.to_series(values)
            rows = rows & ~cells

    # ------------------------------------------------------------- conditions
    def split_conditions(self, conditions: list[Condition]) -> tuple[list[Condition], list[Condition]]:
        """User conditions as conditions on the model's table, and those only a check can meet.

        A condition on a column the model learns as is passes through; conditions on members
        of a fixed combination become one condition on the combination column; a condition on
        a rebuilt column (the owned side of an inequality, a range's column, a derived column) is
        returned in the second list: the synthesizer keeps the rows that meet it. A condition on
        a calendar part of a composed datetime, or on a looked-up column (learned, then moved to
        a value its keys held), is in both lists. A condition on a null-when rule's
        column adds one on its ``when`` column (:meth:`_null_implied`).

        Raises:
            ParameterError: The conditions on a combination's members match no combination,
                those on a composed datetime's month and day name no date (February 30), or
                those on a null-when rule's two columns cannot hold together.
        """
        if not self.active:
            return conditions, []
        conditions = self._null_implied(conditions)
        by_column = {c.column: c for c in conditions}
        model, residual, done = [], [], set()
        owner = self._owners()
        parts = {name: t for t in self.transforms_ if isinstance(t, _Composition) for name in t.parts.values()}
        looked = {self.schema.constraints[i].column: i for i in self.lookups_}
        for composition in {id(t): t for t in parts.values()}.values():
            _check_calendar(composition, by_column)
        _check_orders(self.schema, by_column)
        for condition in conditions:
            transform = owner.get(condition.column)
            if condition.column in parts or (transform is None and condition.column in looked):
                # (A looked-up column: the model learns it, and its value then moves to the
                # nearest one its keys held, which may not meet the condition.)
                if condition.column in looked:
                    self._check_looked_up(looked[condition.column], condition, by_column)
                # A part the model learns, but the composition moves a day past the month's end
                # (day 31 of a 30-day month) to its last day: checked again after rebuilding.
                model.append(condition)
                residual.append(condition)
            elif transform is None:
                model.append(condition)
            elif isinstance(transform, _Combination):
                if id(transform) in done:
                    continue
                done.add(id(transform))
                labels = transform.codes_where(by_column)
                if not labels:
                    shown = " and ".join(by_column[n].describe() for n in transform.rule.group if n in by_column)
                    raise ParameterError(f"conditions {shown} match no combination allowed by {transform.rule.describe()!r}")
                # Named in messages as the user's conditions: the combination column's name and its
                # JSON-written pairs ('["F", "F1"]') read as internals (a user review of rules).
                shown = " and ".join(by_column[n].describe() for n in transform.rule.group if n in by_column)
                model.append(Condition(transform.name, values=tuple(labels), label=shown))
            else:
                residual.append(condition)
        return model, residual

    def _check_looked_up(self, i: int, condition: Condition, by_column: dict[str, Condition]) -> None:
        """Refuse a condition on the column of lookup rule number ``i`` that no value its keys
        held meets (given the conditions on the keys): such a request drew 100,000 rows, then
        failed saying the model rarely generates them (a review).

        Raises:
            ParameterError: Names the condition, the rule and the held values nearest to it.
        """
        rule, values = self.schema.constraints[i], self.lookups_[i]
        keyed = [by_column[name] for name in rule.keys if name in by_column]
        fitting = [held for key, held in values.items()
                   if all(name not in by_column or _meets(member, by_column[name]) for member, name in zip(key, rule.keys))]
        held = np.unique(np.concatenate(fitting)) if fitting else np.zeros(0)
        held = held[~np.isnan(held)]
        grid = _Grid(self.schema[condition.column])
        if held.size and self.meets(pd.DataFrame({condition.column: grid.to_series(held)}), condition).any():
            return
        given = f" with {' and '.join(c.describe() for c in keyed)}" if keyed else ""
        if not held.size:
            raise ParameterError(f"conditions {condition.describe()}{given} cannot hold together: no training row of "
                                 f"those keys holds a value of {condition.column!r} ({rule.describe()}); drop one of them")
        points = [real_value(v, grid.column) for v in (condition.distinct_values if condition.values is not None else
                                                         [b for b in (condition.low, condition.high) if b is not None])]
        near = sorted({float(_nearest(held, np.array([p]))[0]) for p in points})
        shown = ", ".join(str(grid.to_series(np.array([v])).iloc[0]) for v in near)
        raise ParameterError(f"condition {condition.describe()}{given}: no value the training rows held meets it "
                             f"({rule.describe()}, so every sampled value is one of those); the nearest held: {shown}")

    def _null_implied(self, conditions: list[Condition]) -> list[Condition]:
        """The conditions with what null-when rules imply: a condition asks its column for a
        value, so the rule's ``when`` column holds none of the values that make it null
        (``annual_income_joint >= 50000`` draws joint applications only).

        Raises:
            ParameterError: The conditions on both columns cannot hold together.
        """
        by_column = {c.column: c for c in conditions}
        for rule in self.schema.constraints:
            if not isinstance(rule, NullWhen) or rule.column not in by_column:
                continue
            implied = Condition(rule.when, values=tuple(v for v in self.schema[rule.when].choices if v not in rule.values))
            given = by_column.get(rule.when)
            both = implied if given is None else intersect(given, implied)
            if both is None:
                raise ParameterError(
                    f"conditions {by_column[rule.column].describe()} and {given.describe()} cannot hold together: the "
                    f"schema's rule {rule.describe()!r} makes {rule.column!r} null there; drop one of them")
            by_column[rule.when] = both
        return [by_column[name] for name in self.schema.names if name in by_column]

    def hints(self, residual: list[Condition], ranges: dict[str, tuple[float, float]] | None = None,
              given: list[Condition] | None = None) -> list[tuple[Condition, Condition]]:
        """Conditions on the model's table that the ``residual`` conditions (on rebuilt columns)
        imply, so the model draws rows near them instead of the check filtering blind draws:
        ``(residual condition, hint)`` pairs.

        A condition on a derived column computed linearly from several learned numeric columns
        (flights' ``sched_dep_time = hour * 100 + minute``) narrows each of them to what the
        others' ``ranges`` (the model's, by column) leave possible, over and over, integers to
        whole numbers, and pins those left with one value: ``sched_dep_time = 1530`` is ``hour =
        15`` and ``minute = 30`` (met by the check alone, 2,000 rows took 269,000 draws). A sum of
        free parts (``total = 100``, each part from 0 to 100) gives no hint; one no inputs in
        their ranges can give is refused.

        A condition on a derived column computed from one learned numeric column, linearly
        (``charge = minutes * 0.17``), becomes a range of that column, widened by half a step of
        the derived column's grid for its rounding; the residual condition is still checked, so
        the rows meet it exactly. A rare range or a single value of a derived column then costs
        what one of a learned column does (churn, ``total_day_charge = 30.6``, 0.2% of rows:
        about a million blind draws for 2,000 rows). A set of several values hints the range
        from the least to the greatest (two values of churn's charge were met by blind draws:
        1.4 million rows drawn for 28 of 1,000, then a failure). The caller intersects a hint
        with a condition of its own on the same column.

        ``given``: the conditions on the model's own columns. One that pins a learned side of an
        inequality or a range rule to one value makes that side a constant for the hint
        (``lo = 50`` and ``hi >= 58`` under ``lo <= hi``); one on an input of a derived column
        narrows that input's range (``tot = 55`` and ``w = 2`` under ``tot = lo + w`` pins ``lo =
        53``).

        Raises:
            ParameterError: No grid value of the input gives any of the condition's values
                (``total_day_charge = 30.0``: the minutes 176.4 and 176.5 give 29.99 and 30.01),
                so no row can meet it; the message names the nearest values that can be had.
        """
        owner = self._owners()
        given = {c.column: c for c in given or ()}
        ranges = _narrowed_ranges(ranges or {}, given, self.schema)
        found = []
        for condition in residual:
            transform = owner.get(condition.column)
            if isinstance(transform, (_Difference, _Position)):
                hints = transform.hints(condition, given) or self._needed(transform, condition, given, owner)
                found.extend((condition, hint) for hint in hints)
                continue
            if isinstance(transform, (_Calendar, _Composition)):
                found.extend((condition, hint) for hint in transform.hints(condition))
                continue
            if isinstance(transform, _Derivation) and len(transform.reads) > 1:
                found.extend((condition, hint) for hint in self._narrowed(transform, condition, owner, ranges or {}))
                continue
            if not isinstance(transform, _Derivation) or len(transform.reads) != 1:
                continue
            (name,) = transform.reads
            if name in owner or self.schema[name].kind is not ColumnKind.NUMERIC:
                continue
            span = (ranges or {}).get(name)
            intercept, slope, linear = (float(v[0]) for v in _line(
                transform.rule, pd.DataFrame({name: [0.0]}), name, span=span, tolerance=0.5 * transform.grid.step))
            if not linear:
                hint = self._preimage(transform, condition, name, span)
                if hint is not None:
                    found.append((condition, hint))
                continue
            column = self.schema[condition.column]
            if condition.values is not None and len(condition.values) <= _MAX_CHECKED_VALUES:
                values = [real_value(v, column) for v in condition.values]
                _check_reachable(condition, values, transform, self.schema[name], intercept, slope)
            # The input is (derived - intercept) / slope.
            found.append((condition, _linear_hint(name, condition, _Grid(column), -intercept / slope, 1.0 / slope,
                                                  _Grid(self.schema[name]))))
        return found

    def pins(self, residual: list[Condition], conditions: list[Condition]) -> dict[str, object]:
        """The one value of each column among ``residual``'s (conditions on rebuilt columns) that
        is the side an inequality rebuilds, from a constant or from a chain of columns none of
        which ``conditions`` (all of them, the user's and the model's) pins to one value:
        :meth:`reverse` rebuilds it as that value (see :meth:`_pinned_model`)."""
        owner = self._owners()
        named = {c.column: c for c in conditions}
        found = {}
        for condition in residual:
            transform = owner.get(condition.column)
            value = transform.pinned_by(condition, named) if isinstance(transform, _Difference) else None
            if value is None:
                continue
            # A column down the chain pinned to a value of its own (a <= b <= c: c and a given)
            # leaves the gaps to the check, as two sides given do.
            chain, free, moved = transform, True, {transform.owned}
            while free and chain.reads and isinstance(further := owner.get(chain.other), _Difference):
                chain = further
                moved.add(chain.owned)
                free = not chain.reads or _pinned(chain.other, named, chain.grid.column) is None
            moved.update(chain.reads)
            # An order kept by drawing again over a moved column compares it with values drawn
            # for the unmoved one (lo <= mid <= hi, hi pinned: 907 of 1,308 rows rejected, and
            # lo's nulls, which the rule exempts, 0.447 of the rows kept against 0.144).
            checked = any(mode is Mode.RESAMPLING and isinstance(rule, (Inequality, Range)) and moved & set(rule.columns)
                          for rule, mode in zip(self.schema.constraints, self.modes_))
            if free and not checked:
                low, high = _kept_range(transform.seen, transform.grid.column)
                if not low <= float(real_value(value, transform.grid.column)) <= high:
                    # reverse keeps a rebuilt column within its training range: 98,440 rows were
                    # drawn before a failure that blamed the model.
                    ends = transform.grid.to_series(np.array([low, high])).astype(str).tolist()
                    raise ParameterError(
                        f"condition {condition.describe()}: no row can meet it: {condition.column!r} is rebuilt by the "
                        f"schema's rule {transform.rule.describe()!r} and takes values from {ends[0]} to {ends[1]} only "
                        f"(its training range); change the condition")
                found[condition.column] = value
        return found

    def _needed(self, transform: "_Difference | _Position", condition: Condition, given: dict[str, Condition],
                owner: dict[str, "_Transform"], depth: int = 0) -> list[Condition]:
        """What ``condition`` on the column ``transform`` rebuilds needs of the learned columns
        it is rebuilt from (:meth:`_Difference.necessary`), through a chain of such rules: ``x4
        <= 45`` under ``x1 <= x2 <= x3 <= x4`` needs ``x3 <= 45``, which needs ``x2 <= 45``, and so
        on to the column the model learns."""
        found = []
        for hint in transform.necessary(condition, given):
            further = owner.get(hint.column)
            if further is None:
                found.append(hint)
            elif isinstance(further, (_Difference, _Position)) and depth < len(self.transforms_):
                try:
                    found.extend(further.hints(hint, given) or self._needed(further, hint, given, owner, depth + 1))
                except ParameterError:
                    pass  # what a hint of ours needs no row meets: the rows drawn say so in the user's words
        return found

    def around(self, condition: Condition) -> list[Condition] | None:
        """For one value of a rebuilt column whose :meth:`hints` pin the model's columns but not
        to every value that gives it (a calendar date: see :meth:`_Calendar.around`), wider
        conditions on them that hold all those values; ``None`` where the pinned values are the
        only way."""
        transform = self._owners().get(condition.column)
        return transform.around(condition) if isinstance(transform, _Calendar) else None

    def _owners(self) -> dict[str, "_Transform"]:
        """The transform that rebuilds each rebuilt column, by column."""
        return {name: t for t in self.transforms_ for name in t.owns}

    def _preimage(self, transform: _Derivation, condition: Condition, name: str,
                  span: tuple[float, float] | None) -> Condition | None:
        """For a rule not linear in its one learned input over the input's ``span`` (the model's
        range; ``min(a, 100)``, ``abs(a) * 2``), the input's values there whose derived value
        meets ``condition`` (:func:`_runs`): a set when they are at most 16 single values
        (``abs(a) * 2 = 60`` is ``a in [-30, 30]``), else the range from the least to the
        greatest (``min(a, 100) = 100`` is ``a >= 100``); ``None`` when no span is known or
        none is found by a search that could miss one (the check then decides).

        Raises:
            ParameterError: Every value of the input's grid in the span was tried and none
                gives one the condition allows (``abs(a) * 2 = 61`` for a whole ``a``)."""
        if span is None or not np.isfinite(span).all():
            return None
        column, grid = self.schema[condition.column], transform.grid
        if condition.values is not None:
            bounds = [(v, v) for v in sorted({real_value(v, column) for v in condition.values if v is not None and not pd.isna(v)})]
        else:
            bounds = [(-np.inf if condition.low is None else float(grid.up(np.array([real_value(condition.low, column)]), condition.low_strict)[0]),
                       np.inf if condition.high is None else float(grid.down(np.array([real_value(condition.high, column)]), condition.high_strict)[0]))]
        if not bounds:
            return None
        frame = pd.DataFrame({name: np.zeros(len(bounds))})
        runs, complete = _runs(transform.rule, frame, name, np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds]),
                               span, _Grid(self.schema[name]), grid)
        found = sorted(r for row in runs for r in row)
        if not found:
            if complete:
                source = _Grid(self.schema[name])  # complete: the grid holds few values
                probe = pd.DataFrame({name: source.between(*span)})
                ends = [int(e) if source.step >= 1 else float(e) for e in span]
                with np.errstate(all="ignore"):
                    images = np.unique(grid.snap(transform.rule.values(probe)))
                images = images[np.isfinite(images)]
                aim = np.array([b[0] if np.isfinite(b[0]) else b[1] for b in bounds])
                near = sorted(images, key=lambda v: np.min(np.abs(aim - v)))[:4]
                raise ParameterError(
                    f"condition {condition.describe()}: no value of {name!r} from {_show(ends[0])} to {_show(ends[1])} (the "
                    f"training range) gives it by the schema's rule {transform.rule.describe()!r}; the nearest values "
                    f"{condition.column!r} takes are {', '.join(_show(int(v) if grid.step >= 1 else float(v)) for v in sorted(near))}; "
                    f"change the condition")
            return None
        if all(a == b for a, b in found) and len({a for a, _ in found}) <= 16:
            return Condition(name, values=tuple(sorted({float(a) for a, _ in found})))
        return Condition(name, low=float(found[0][0]), high=float(max(b for _, b in found)))

    def _narrowed(self, transform: _Derivation, condition: Condition, owner: dict,
                  ranges: dict[str, tuple[float, float]]) -> list[Condition]:
        """Exact conditions on the learned inputs of a linear rule that only one value of can
        give a value ``condition`` allows, given the others' ``ranges`` (see :meth:`hints`);
        none for a rule that is not linear.

        Raises:
            ParameterError: No inputs within their ranges give such a value."""
        names = list(transform.reads)
        if any(n in owner or n not in ranges or self.schema[n].kind is not ColumnKind.NUMERIC for n in names):
            return []
        k = len(names)
        box = np.array([ranges[n] for n in names], dtype=np.float64)
        probe = lambda x: transform.rule.values(pd.DataFrame(x, columns=names))  # noqa: E731
        with np.errstate(all="ignore"):
            c0 = float(probe(np.zeros((1, k)))[0])
            slopes = probe(np.eye(k)) - c0
            # Linear over the whole of the inputs' ranges, not only near 0: abs(a) + b is a + b
            # at 0 and the unit vectors, and refused d = 30 that real rows held (a from -50).
            corners = box[np.arange(k), (np.arange(2**min(k, 8))[:, None] >> np.arange(k)) & 1] if k <= 8 else box[:, :1].T
            inner = box[:, 0] + np.random.default_rng(0).random((16, k)) * (box[:, 1] - box[:, 0])
            points = np.vstack([corners, inner])
            linear = (np.isfinite(c0) and np.isfinite(slopes).all() and (slopes != 0).all()
                      and np.allclose(probe(points), c0 + points @ slopes, rtol=1e-9, atol=1e-9 * (1 + abs(c0))))
        if not linear:
            return []
        column = self.schema[condition.column]
        grid = _Grid(column)
        span = _grid_span(condition, column)
        if span is None:
            return []
        low, high = span
        margin = 0.5 * grid.step + 1e-9 * max(1.0, *(abs(v) for v in (low, high) if np.isfinite(v)))
        low, high = low - margin - c0, high + margin - c0
        start = box.copy()
        grids = [_Grid(self.schema[n]) for n in names]
        for _ in range(10):  # each pass narrows every input by the others' ranges
            before = box.copy()
            for i in range(k):
                ends = box * slopes[:, None]
                rest_low = np.sum(np.min(ends, axis=1)) - min(ends[i])
                rest_high = np.sum(np.max(ends, axis=1)) - max(ends[i])
                bounds = sorted(((low - rest_high) / slopes[i], (high - rest_low) / slopes[i]))
                lo, hi = max(box[i, 0], bounds[0]), min(box[i, 1], bounds[1])
                if grids[i].step:  # to the input's grid: whole numbers, or its decimals (w = 5.00 of 4.995 to 5.005)
                    lo, hi = float(grids[i].up(np.array([lo]), False)[0]), float(grids[i].down(np.array([hi]), False)[0])
                if lo > hi:  # was drawn for (62,000 rows for sched_dep_time = 1575), then refused
                    spans = ", ".join(f"{n} {_show(ranges[n][0])} to {_show(ranges[n][1])}" for n in names)
                    raise ParameterError(
                        f"condition {condition.describe()}: no row the model can draw meets it: {condition.column!r} is "
                        f"computed by the schema's rule {transform.rule.describe()!r}, and its inputs stay within the "
                        f"training ranges and the conditions on them ({spans}); change the condition")
                box[i] = lo, hi
            if np.array_equal(box, before):
                break
        # Only inputs pinned to one value, drawn given as an exact condition is (as a range: 1.3 s
        # for 2,000 rows of sched_dep_time = 1530, against 0.2 s). Narrowed ranges sent the draws
        # down a slower path: seattle's temp_max = temp_min + temp_range with temp_max >= 25 in
        # February failed after 107 s, not 3 s, and a feasible 200 rows took 1.8 s, not 0.6 s.
        return [Condition(n, values=(float(box[i, 0]),)) for i, n in enumerate(names)
                if box[i, 0] == box[i, 1] and tuple(box[i]) != tuple(start[i])]

    # ------------------------------------------------------------------ state
    def get_state(self) -> dict:
        """Plain JSON-ready state (modes and what the transforms learned)."""
        return {
            "modes": [m.value for m in self.modes_],
            "calendar": list(self.calendar),
            "transforms": [t.get_state() for t in self.transforms_],
            "allowed": {str(i): [[_json(v) for v in combo] for combo in combos] for i, combos in self.allowed_.items()},
            "lookups": {str(i): [[[_json(v) for v in key], [None if np.isnan(v) else float(v) for v in held]]
                                 for key, held in values.items()] for i, values in self.lookups_.items()},
            "lattices": list(self.lattices_),
            "model_columns": list(self.model_schema_.names),
        }

    @classmethod
    def from_state(cls, schema: Schema, state: dict | None) -> "ConstraintPlan":
        """Rebuild a fitted plan from :meth:`get_state` (``None``: a schema without rules)."""
        plan = cls(schema, calendar=tuple(state.get("calendar", ())) if state is not None else False)
        if state is not None:
            plan.lattices_ = _lattices_state(schema, state.get("lattices", []))  # (none in files before it)
        plan._build()
        if state is not None and _kept_null_sided_apart(plan, state):
            # A file from before inequalities with a nullable side were kept by construction:
            # kept by resampling, as its model learned them.
            plan.null_sided_ = tuple(i for i, t in enumerate(plan.schema.constraints) if _null_sided(t, schema))
            plan._build()
        plan.allowed_, plan.lookups_ = {}, {}
        if state is not None:
            plan.allowed_ = {int(i): {tuple(c) for c in combos} for i, combos in state.get("allowed", {}).items()}
            plan.lookups_ = {int(i): _lookup_state(schema, int(i), pairs) for i, pairs in state.get("lookups", {}).items()}
            lost = [rule.describe() for i, rule in enumerate(schema.constraints) if isinstance(rule, Lookup) and i not in plan.lookups_]
            if lost:  # (left out, the rule was silently not kept)
                raise ValueError(f"the model file holds no lookup values for {preview(lost)}")
            if len(state["transforms"]) != len(plan.transforms_):
                raise ParameterError("constraint state does not match the schema's constraints")
            for transform, part in zip(plan.transforms_, state["transforms"]):
                transform.set_state(part)
        plan.model_schema_ = plan._model_schema()
        # The choices fit made from the data (the lattices) decide which columns the model
        # learned: an edited list swapped one rule's rebuilt column for another's, loaded, and
        # read one's learned gap as the other's (a user review).
        stored = (state or {}).get("model_columns")  # (none in files before it)
        if stored is not None and list(stored) != list(plan.model_schema_.names):
            given = list(plan.model_schema_.names)
            raise ParameterError(
                f"the constraint state's model columns are not those its rules give (it holds "
                f"{preview([n for n in stored if n not in given]) or 'another order'}, the rules give "
                f"{preview([n for n in given if n not in stored]) or 'another order'}): the model file was edited or is damaged")
        return plan

    def describe(self) -> list[dict]:
        """Per rule: its text, how it is kept and, for one kept by drawing rows again, why
        (``"reason"``)."""
        return [{"constraint": r.describe(), "mode": m.value, **({"reason": self.reasons_[i]} if i in self.reasons_ else {})}
                for i, (r, m) in enumerate(zip(self.schema.constraints, self.modes_))]


def _null_sided(rule: Constraint, schema: Schema) -> bool:
    """Whether ``rule`` is an inequality kept by construction whose other side may be null."""
    return isinstance(rule, Inequality) and _Difference(rule, schema).alone is not None


def _kept_null_sided_apart(plan: "ConstraintPlan", state: dict) -> bool:
    """Whether a stored plan kept its inequalities with a nullable side by resampling (files
    before 2026-12-07): its model columns lack their ``alone`` columns, or, in files that stored
    no model columns, it holds fewer transforms than the rules now give."""
    alone = [t.alone for t in plan.transforms_ if isinstance(t, _Difference) and t.alone is not None]
    if not alone:
        return False
    stored = state.get("model_columns")
    if stored is not None:
        return not any(name in stored for name in alone)
    return len(state.get("transforms", [])) != len(plan.transforms_)


def _pinned(side, given: dict[str, Condition] | None, column: Column) -> float | None:
    """The value of one side of an inequality or range rule: a constant's, or a learned
    column's that a condition in ``given`` pins to one value; ``None`` otherwise."""
    if not isinstance(side, str):
        return float(real_value(side.value, column))
    condition = (given or {}).get(side)
    if condition is None or condition.values is None or len(condition.values) != 1:
        return None
    (value,) = condition.values
    if value is None or pd.isna(value):
        return None
    return float(real_value(value, column))


def _kept_range(seen: tuple[float, float] | None, column: Column) -> tuple[float, float]:
    """The range a rebuilt column's values are clipped into: its training range (``seen``;
    none for a private fit) within the schema's bounds."""
    seen = seen if seen is not None else (-np.inf, np.inf)
    bounds = _bounded(np.array([-np.inf, np.inf]), column)
    return max(seen[0], float(bounds[0])), min(seen[1], float(bounds[1]))


def _clamped_hint(name: str, condition: Condition, grid: "_Grid", rule: Constraint, lower: float, upper: float,
                  intercept: float, slope: float) -> list[Condition]:
    """The hint on the learned column ``name`` (``intercept + slope * value`` before the clamp)
    for a condition on a rebuilt column whose reverse clamps its values into ``[lower, upper]``.

    Where the condition admits ``upper`` (``lower``), every value above (below) it comes back as
    it and meets the condition too, so that end of the hint is open. A hint from the condition
    alone kept only values near the clamp: ``hi = 100`` with ``lo = 90`` pinned, where every
    difference past 10 gives the training maximum 100, drew rows whose other columns followed
    the difference (z mean 2.15 against 2.61). No hint when every value in ``[lower, upper]``
    meets the condition.

    Raises:
        ParameterError: No value in ``[lower, upper]`` meets the condition (``hi = 93`` when
            every row with ``lo = 92`` rebuilds ``hi`` as 92: it drew 98,000 rows, then failed
            saying the model rarely made such rows)."""
    column = grid.column
    if condition.values is not None:
        values = [float(real_value(v, column)) for v in condition.values if v is not None and not pd.isna(v)]
        if not values:
            return []
        low, high, low_strict, high_strict = min(values), max(values), False, False
        reachable = any(lower - 1e-9 * max(1.0, abs(v)) <= v <= upper + 1e-9 * max(1.0, abs(v)) for v in values)

        def admits(value: float) -> bool:
            return any(abs(v - value) <= 1e-9 * max(1.0, abs(value)) for v in values)
    else:
        low = -np.inf if condition.low is None else float(real_value(condition.low, column))
        high = np.inf if condition.high is None else float(real_value(condition.high, column))
        low_strict, high_strict = condition.low_strict, condition.high_strict
        reachable = (low < upper if low_strict else low <= upper) and (high > lower if high_strict else high >= lower)

        def admits(value: float) -> bool:
            return (value > low if low_strict else value >= low) and (value < high if high_strict else value <= high)
    if not reachable:
        raise ParameterError(
            f"condition {condition.describe()}: no row can meet it: {condition.column!r} is rebuilt by the schema's rule "
            f"{rule.describe()!r} and, given the other conditions, takes values from {lower:g} to {upper:g} "
            f"only (the rule and the training range); change the condition")
    open_low, open_high = np.isfinite(lower) and admits(lower), np.isfinite(upper) and admits(upper)
    if (open_low or not np.isfinite(low)) and (open_high or not np.isfinite(high)):
        return []  # every value it can rebuild meets the condition
    if not (open_low or open_high):
        return [_linear_hint(name, condition, grid, intercept=intercept, slope=slope)]
    opened = Condition(condition.column, low=None if open_low or not np.isfinite(low) else low,
                       high=None if open_high or not np.isfinite(high) else high,
                       low_strict=low_strict and not open_low, high_strict=high_strict and not open_high)
    return [_linear_hint(name, opened, grid, intercept=intercept, slope=slope)]


def _grid_span(condition: Condition, column: Column) -> tuple[float, float] | None:
    """The least and greatest values of a numeric column's grid that ``condition`` allows: a
    set's least and greatest value; a range's ends moved onto the grid, a strict end a step in
    (``sched_dep_time < 1600`` is at most 1599), an open end infinite. ``None`` for a set of
    nulls only."""
    if condition.values is not None:
        values = [float(real_value(v, column)) for v in condition.values if v is not None and not pd.isna(v)]
        return (min(values), max(values)) if values else None
    grid = _Grid(column)
    low = -np.inf if condition.low is None else float(grid.up(np.array([real_value(condition.low, column)]), condition.low_strict)[0])
    high = np.inf if condition.high is None else float(grid.down(np.array([real_value(condition.high, column)]), condition.high_strict)[0])
    return low, high


def _narrowed_ranges(ranges: dict[str, tuple[float, float]], given: dict[str, Condition], schema: Schema
                     ) -> dict[str, tuple[float, float]]:
    """The model's ``ranges`` of numeric columns, each narrowed to what a condition in ``given``
    on it allows (a set of values: from the least to the greatest)."""
    narrowed = dict(ranges)
    for name, condition in given.items():
        if name not in ranges or name not in schema.names or schema[name].kind is not ColumnKind.NUMERIC:
            continue
        span = _grid_span(condition, schema[name])  # paid_interest > 199.99 and < 200.01 is 200.00
        if span is None:
            continue
        low, high = max(span[0], ranges[name][0]), min(span[1], ranges[name][1])
        if low <= high:
            narrowed[name] = (low, high)
    return narrowed


def _linear_hint(name: str, condition: Condition, grid: "_Grid", intercept: float, slope: float,
                 source: "_Grid | None" = None) -> Condition:
    """The range of a learned column ``name`` = ``intercept + slope * x`` that a condition on ``x``
    (a numeric column on ``grid``) implies, each end widened by half a grid step for the
    rounding (the check after sampling keeps the rows that meet the condition exactly).

    For a set of values, with ``source`` the grid of ``name``: the points of that grid within
    half a step of each value's image, when they are at most :data:`_MAX_HINT_POINTS` (churn's
    ``total_day_charge`` in [30.6, 40.8] is ``total_day_minutes`` in [180.0, 240.0]; the range
    from 180 to 240 drew 400 times the rows of an unconditional draw, a user review)."""
    column = grid.column
    if condition.values is not None:
        values = [float(real_value(v, column)) for v in condition.values]
        low, high = min(values), max(values)
        if len(values) > 1 and source is not None and source.step > 0:
            margin = 0.5 * grid.step + 1e-9 * max(1.0, abs(low), abs(high))
            points = []
            for value in values:
                ends = sorted(intercept + slope * v for v in (value - margin, value + margin))
                points.extend(source.between(*ends).tolist() if np.isfinite(ends).all() else [np.nan])
            if len(points) <= _MAX_HINT_POINTS and np.isfinite(points).all() and points:
                return Condition(name, values=tuple(sorted(set(float(p) for p in points))))
    else:
        low = -np.inf if condition.low is None else float(real_value(condition.low, column))
        high = np.inf if condition.high is None else float(real_value(condition.high, column))
    margin = 0.5 * grid.step + 1e-9 * max([1.0, *(abs(v) for v in (low, high) if np.isfinite(v))])
    ends = sorted(intercept + slope * v for v in (low - margin, high + margin))
    return Condition(name, low=float(ends[0]) if np.isfinite(ends[0]) else None,
                     high=float(ends[1]) if np.isfinite(ends[1]) else None)


def _check_orders(schema: Schema, conditions: dict[str, Condition]) -> None:
    """Refuse conditions that an inequality or range rule between numeric or datetime columns
    cannot let hold together (``total_credit_lines = 3`` with ``open_credit_lines >= 4`` under
    ``open <= total``): they were left to resampling, which failed after 100,000 draws saying the
    model rarely made such rows. Each side spans what its condition, else its schema bounds,
    allow; a strict condition (``>``) or rule excludes its end. A side that may be null and has
    no condition lets the rule hold by being null."""
    for low, high, rule, datetime in _order_edges(schema):
        if not any(c in conditions for c in rule.columns) or _exempt(schema, conditions, low, high):
            continue
        (least, least_open), _ = _side_span(schema, low, conditions, datetime)
        _, (most, most_open) = _side_span(schema, high, conditions, datetime)
        if least > most or (least == most and (rule.strict or least_open or most_open)):
            shown = " and ".join(conditions[c].describe() for c in rule.columns if c in conditions)
            def text(value):
                return str(pd.Timestamp(int(value))) if datetime else f"{value:g}"
            raise ParameterError(
                f"conditions {shown} cannot hold under the schema's rule {rule.describe()!r} ({low} can be no less "
                f"than {text(least)}, {high} no more than {text(most)}); drop or change one of them")
    _check_chains(schema, conditions)


def _exempt(schema: Schema, conditions: dict[str, Condition], low, high) -> bool:
    """Whether a side of ``low <= high`` may be null and has no condition: a null side exempts the
    rule (start >= August where an open validity's end is null)."""
    return any(isinstance(side, str) and side not in conditions and schema[side].nullable for side in (low, high))


def _order_edges(schema: Schema) -> list[tuple[Any, Any, Constraint, bool]]:
    """Every ``low <= high`` (``<`` when strict) an inequality or range rule sets between numeric
    columns, or between datetime ones, and constants: ``(low, high, rule, datetime)``."""
    edges = []
    for rule in schema.constraints:
        if isinstance(rule, Inequality):
            pairs = [(rule.low, rule.high)]
        elif isinstance(rule, Range):
            pairs = [(rule.low, rule.column), (rule.column, rule.high)]
        else:
            continue
        kinds = {schema[c].kind for c in rule.columns}
        if len(kinds) == 1 and kinds <= {ColumnKind.NUMERIC, ColumnKind.DATETIME}:
            edges.extend((low, high, rule, kinds == {ColumnKind.DATETIME}) for low, high in pairs)
    return edges


def _check_chains(schema: Schema, conditions: dict[str, Condition]) -> None:
    """Refuse conditions that a chain of inequality and range rules cannot let hold together
    (``x1 >= 30`` and ``x5 <= 25`` under ``x1 <= x2``, ..., ``x4 <= x5``): each rule carries the
    least value of its low side to its high side, and the greatest of its high side to its low
    side (a strict rule excluding the end), until nothing moves, from the conditions and the
    schema's bounds; a column left with no value, where a condition took part, is refused. One
    rule alone is :func:`_check_orders`'s (its message names the two sides). They were left to
    resampling, which failed after about 100,000 draws saying the model rarely made such rows
    (a user review of rules). A column that may be null and has no condition breaks the chain:
    a null side exempts its rules."""
    edges = [e for e in _order_edges(schema) if not _exempt(schema, conditions, *e[:2])]
    if not edges or not any(isinstance(side, str) and side in conditions for e in edges for side in e[:2]):
        return
    # Each column's least and greatest value, as (value, excluded, source): the source is
    # ("condition",), ("schema",) or (rule, side) for a bound carried from the rule's other side.
    least, most, datetime = {}, {}, {}
    for low, high, _, is_datetime in edges:
        for side in (low, high):
            if isinstance(side, str) and side not in least:
                datetime[side] = is_datetime
                (lo, lo_open), (hi, hi_open) = _side_span(schema, side, conditions, is_datetime)
                (bare_lo, _), (bare_hi, _) = _side_span(schema, side, {}, is_datetime)
                given = side in conditions
                least[side] = (lo, lo_open, ("condition",) if given and (lo, lo_open) != (bare_lo, False) else ("schema",))
                most[side] = (hi, hi_open, ("condition",) if given and (hi, hi_open) != (bare_hi, False) else ("schema",))

    def end(side, bounds: dict, datetime: bool) -> tuple[float, bool, tuple]:
        if isinstance(side, str):
            return bounds[side]
        (value, _), _ = _side_span(schema, side, {}, datetime)
        return value, False, ("constant",)

    for _ in range(len(least) + 1):
        moved = False
        for low, high, rule, is_datetime in edges:
            if isinstance(high, str):
                value, excluded, _ = end(low, least, is_datetime)
                current = least[high]
                excluded = excluded or rule.strict
                if value > current[0] or (value == current[0] and excluded and not current[1]):
                    least[high], moved = (value, excluded, (rule, low)), True
            if isinstance(low, str):
                value, excluded, _ = end(high, most, is_datetime)
                current = most[low]
                excluded = excluded or rule.strict
                if value < current[0] or (value == current[0] and excluded and not current[1]):
                    most[low], moved = (value, excluded, (rule, high)), True
        if not moved:
            break
    for name in least:
        (lo, lo_open, _), (hi, hi_open, _) = least[name], most[name]
        if not (lo > hi or (lo == hi and (lo_open or hi_open))):
            continue
        steps, asked, bounds_of_schema = [], [], []
        for bounds in (least, most):
            side, seen = name, set()
            while isinstance(side, str) and side not in seen:  # back along the rules that carried the bound
                seen.add(side)
                source = bounds[side][2]
                if source[0] == "condition":
                    asked.append(conditions[side].describe())
                    break
                if source[0] == "schema":
                    bound = "min" if bounds is least else "max"
                    bounds_of_schema.append(f"{side}'s schema {bound} {getattr(schema[side], bound)}")
                    break
                steps.append(source)
                side = source[1]
        if not asked:
            continue  # the schema's bounds alone: fit's to refuse, not a condition's
        if len({(id(rule), str(side)) for rule, side in steps}) < 2:
            continue  # one step of one rule: _check_orders's to name (it did, or a null side exempts it)
        carried = {id(rule) for rule, _ in steps}
        described = [repr(rule.describe()) for rule in schema.constraints if id(rule) in carried]
        asked = list(dict.fromkeys(asked))

        def text(value: float) -> str:
            return str(pd.Timestamp(int(value))) if datetime[name] else f"{value:g}"
        raise ParameterError(
            f"{'conditions' if len(asked) > 1 else 'condition'} {' and '.join(asked)} cannot hold under the schema's "
            f"{'rules' if len(described) > 1 else 'rule'} {', '.join(described)}"
            f"{''.join(' and ' + b for b in bounds_of_schema)}: together they make {name} "
            f"{'more than' if lo_open else 'no less than'} {text(lo)} and {'less than' if hi_open else 'no more than'} "
            f"{text(hi)}; drop or change one of the conditions")

def _side_span(schema: Schema, side, conditions: dict[str, Condition], datetime: bool):
    """The least and greatest value a rule's side can take given the conditions, each with
    whether it is excluded: ``((least, open), (most, open))``; datetimes as nanoseconds."""
    def number(value) -> float:
        # Nanoseconds as Python ints: as float64 they lie 256 ns apart in 2020, and conditions 10 ns
        # apart compared equal (a review).
        return int(pd.Timestamp(value).value) if datetime else float(value)

    if isinstance(side, Value):
        return (number(side.value), False), (number(side.value), False)
    column, condition = schema[side], conditions.get(side)
    least = (-np.inf if column.min is None else number(column.min), False)
    most = (np.inf if column.max is None else number(column.max), False)
    def upper(end: tuple[float, bool]) -> tuple[float, bool]:
        return end[0], not end[1]  # the lesser upper end first; at a tie, the excluded one

    if condition is not None:
        if condition.values is not None:
            values = [number(v) for v in condition.values]
            least, most = max(least, (min(values), False)), min(most, (max(values), False), key=upper)
        else:
            if condition.low is not None:
                least = max(least, (number(condition.low), bool(condition.low_strict)))
            if condition.high is not None:
                most = min(most, (number(condition.high), bool(condition.high_strict)), key=upper)
    return least, most


_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # at most (leap years)
_MAX_CHECKED_VALUES = 1000  # a derived column's condition values checked for reachability


def _check_reachable(condition: Condition, values: list[float], transform: "_Derivation", source: Column,
                     intercept: float, slope: float) -> None:
    """Refuse values of a derived column that no grid value of its one input gives, computed as
    sampling computes it (the rule, then the derived column's rounding). Unrounded columns on
    either side can reach any value."""
    grid, derived = _Grid(source), transform.grid
    if grid.step == 0 or derived.step == 0:
        return
    reachable, near = False, set()
    for value in values:
        # The input values whose image rounds to ``value`` lie within half a derived step of it;
        # two input steps more on each side give the neighbours named in the message.
        ends = [((value + sign * derived.step / 2) - intercept) / slope for sign in (-1, 1)]
        first = grid.down(np.array([min(ends)]), strict=False)[0] - 2 * grid.step
        count = int(round((max(ends) - min(ends)) / grid.step)) + 6
        if count > 10_000:
            return  # a coarse derived grid over a fine input: reached for sure
        points = grid.snap(first + grid.step * np.arange(count))
        if source.min is not None:
            points = points[points >= real_value(source.min, source)]
        if source.max is not None:
            points = points[points <= real_value(source.max, source)]
        images = derived.snap(transform.rule.values(pd.DataFrame({source.name: points})))
        if np.any(images == value):
            reachable = True
            break
        near.update(float(v) for v in images[np.isfinite(images)])
    if not reachable:
        around = sorted(near, key=lambda v: min(abs(v - x) for x in values))[:4]
        raise ParameterError(
            f"condition {condition.describe()}: no value of {source.name!r} gives it, since {condition.column!r} "
            f"is computed by the rule {transform.rule.describe()!r} and rounded; the nearest values it takes "
            f"are {preview(sorted(around))}")


def _check_calendar(composition: "_Composition", conditions: dict[str, Condition]) -> None:
    """Refuse conditions on a composed datetime's month and day that no date meets."""
    day = conditions.get(composition.parts["day"])
    if day is None:
        return
    month = conditions.get(composition.parts["month"])
    months = [m for m in range(1, 13) if month is None or _admits(month, m)]
    days = list(_DAYS_IN_MONTH)
    if not _leap_year_possible(composition, conditions):
        days[1] = 28  # "month = 2, day = 29" where the year can only be 2013 drew rows until it failed
    longest = max((days[m - 1] for m in months), default=0)
    if not any(_admits(day, d) for d in range(1, longest + 1)):
        shown = " and ".join(c.describe() for c in (month, day) if c is not None)
        raise ParameterError(
            f"conditions {shown} name no date: {composition.column!r} is composed from them by the schema's rules, "
            f"and {'those months have' if month is not None else 'a month has'} at most {longest} days; change the conditions"
        )


def _leap_year_possible(composition: "_Composition", conditions: dict[str, Condition]) -> bool:
    """Whether the composed datetime's year part, within its schema bounds and condition, can
    be a leap year (so when unknown)."""
    name = composition.parts.get("year")
    if name is None:
        return True
    column = composition.schema[name]
    if column.min is None or column.max is None or column.max - column.min > 400:
        return True
    condition = conditions.get(name)
    return any(calendar.isleap(y) and (condition is None or _admits(condition, y))
               for y in range(int(column.min), int(column.max) + 1))


def _admits(condition: Condition, value: int) -> bool:
    """Whether a condition on a whole-number column holds for ``value``."""
    if condition.values is not None:
        return any(v == value for v in condition.values)
    if condition.low is not None and (value < condition.low or (condition.low_strict and value == condition.low)):
        return False
    return condition.high is None or not (value > condition.high or (condition.high_strict and value == condition.high))


# A column is a lattice where its distinct values are fewer than this share of the points its
# grid offers over its range (or of its rows, if fewer): loans' whole-number counts hold most of
# theirs, its balances are nearly all distinct, its loan amounts are round hundreds.
LATTICE_SHARE = 0.5


def lattice(values: np.ndarray, column: Column) -> bool:
    """Whether a numeric column's values (no nulls) sit on fewer points than its grid offers (see
    :data:`LATTICE_SHARE`): whole degrees Fahrenheit in Celsius, amounts in round hundreds."""
    if not values.size:
        return False
    distinct = np.unique(values).size
    step = column.grid_step
    offered = values.size if step is None else min(values.size, int(round((values.max() - values.min()) / step)) + 1)
    return distinct < LATTICE_SHARE * offered


def _on_lattice(schema: Schema, data: pd.DataFrame) -> tuple[int, ...]:
    """The rules between two numeric columns (by number) whose rebuilt side is a lattice in
    ``data`` (:func:`lattice`): an inequality's high side, a range's column between a column
    bound and another bound. They are kept by resampling, with both sides learned as they are.

    Learned as a gap above the other side (or a share of the way between its bounds), a lattice
    loses its values: seattle's temperatures are whole degrees Fahrenheit written in Celsius (100
    values of the 254 their range holds at one decimal), and with ``temp_min <= temp_max`` kept
    as temp_max's gap the quality fell 0.9683 -> 0.9654 and the detection AUC rose 0.518 -> 0.576
    over six fit seeds; as a range, detection 0.508 -> 0.870 and TSTR 0.554 -> 0.493 over three.
    The other side learned through the lattice instead (loans' balance as its gap below the
    round loan amounts: detection 0.811 against 0.932, 0.875 resampled, over two seeds) made
    conditions on it draw rows again, and failed (``balance`` from 4990 to 5010: 1,551 of 2,000
    rows after 1.5 million draws), and imputed loan amounts as the balance plus a gap, off their
    round hundreds (9% of the values the data holds against 85%): resampling keeps both direct.
    A constant side leaves the model an affine map of the column, which loses nothing."""
    def on_lattice(name: str) -> bool:
        column = schema[name]
        values = _Grid(column).values(data[name])
        return lattice(values[~np.isnan(values)], column)

    found = []
    for i, rule in enumerate(schema.constraints):
        rebuilt = _rebuilt_between_columns(rule)
        if rebuilt is not None and schema[rebuilt].kind is ColumnKind.NUMERIC and on_lattice(rebuilt):
            found.append(i)
    return tuple(found)


def _lattice_reason(rule: Constraint) -> str:
    """Why a rule :func:`_on_lattice` found is kept by drawing rows again (the fit's log and
    ``describe()`` say it alike)."""
    return (f"{_rebuilt_between_columns(rule)!r} holds few of the values its grid offers (a lattice), which it would "
            f"lose rebuilt from the other side")


def _rebuilt_between_columns(rule: Constraint) -> str | None:
    """The column a rule between two columns rebuilds (an inequality's high side, a range's
    column with a column bound); ``None`` for any other rule."""
    if isinstance(rule, Inequality) and isinstance(rule.low, str) and isinstance(rule.high, str):
        return rule.high
    if isinstance(rule, Range) and any(isinstance(s, str) for s in (rule.low, rule.high)):
        return rule.column
    return None


def _lattices_state(schema: Schema, state: Any) -> tuple[int, ...]:
    """:func:`_on_lattice`'s rules read back from a model file, checked: numbers of rules
    between two columns."""
    rules = schema.constraints

    def between_columns(i: Any) -> bool:
        return is_integer(i) and 0 <= i < len(rules) and _rebuilt_between_columns(rules[i]) is not None

    if not isinstance(state, list) or not all(between_columns(i) for i in state):
        raise ParameterError(f"the constraint state's 'lattices' must list rules between two columns by number, got {state!r}")
    return tuple(sorted(set(int(i) for i in state)))


def _trivial(rule: Constraint, schema: Schema) -> bool:
    """Rules that hold by how the column is generated: a categorical pattern (the schema checks
    every category), uniqueness of a group that holds an id column (ids are generated unique; a
    check of the group before they are numbered saw the provisional ids of each draw collide)."""
    if isinstance(rule, Regex):
        column = schema[rule.column]
        if column.kind is ColumnKind.ID:
            return _ids_match(rule, column)
        return column.kind is ColumnKind.CATEGORICAL
    if isinstance(rule, Unique):
        return any(schema[name].kind is ColumnKind.ID for name in rule.group)
    return False


def id_limits(schema: Schema) -> dict[str, tuple[int, Regex]]:
    """The largest number each string id column's ``regex`` rule lets its generated ids reach
    (prefix + the number, zero-padded to the column's width: ``C-[0-9]{3}`` ends at C-999),
    with the rule; columns whose rules let any number through are left out. Ids count on from
    above the real ones, so a sample of more rows would pass the pattern (C-1000 was sampled)."""
    out: dict[str, tuple[int, Regex]] = {}
    for rule in schema.constraints:
        if not isinstance(rule, Regex) or schema[rule.column].kind is not ColumnKind.ID or schema[rule.column].is_integer:
            continue
        column = schema[rule.column]
        for digits in range(max(column.width, 1), 20):
            if not pattern_matches(rule.pattern, [column.prefix + "9" * digits], f"constraint {rule.describe()!r}")[0]:
                limit = 10 ** (digits - 1) - 1 if digits > 1 else -1
                if rule.column not in out or limit < out[rule.column][0]:
                    out[rule.column] = (limit, rule)
                break
    return out


def _ids_match(rule: Regex, column: Column) -> bool:
    """Whether a string id column's generated values (prefix + zero-padded number) match the
    pattern; ids are regenerated, so a pattern they miss can only be refused."""
    numbers = [column.start, column.start + 1, column.start + 9, column.start + 99, column.start + 999]
    ids = [f"{column.prefix}{str(n).zfill(column.width)}" for n in numbers]
    bad = [v for v, ok in zip(ids, pattern_matches(rule.pattern, ids, f"constraint {rule.describe()!r}", total=True)) if not ok]
    if bad:
        raise ParameterError(
            f"constraint {rule.describe()!r}: ids are generated as prefix + number ({preview(bad)}), which the pattern "
            "does not match; set the column's prefix and width to fit it"
        )
    return True


def _cyclic(transforms: list[_Transform], new: _Transform) -> bool:
    """Whether adding ``new`` makes a rebuilt column depend on itself."""
    owner = {name: t for t in [*transforms, new] for name in t.owns}
    seen: set[int] = set()

    def reaches(transform: _Transform, target: _Transform) -> bool:
        for name in transform.reads:
            parent = owner.get(name)
            if parent is None:
                continue
            if parent is target:
                return True
            if id(parent) not in seen:
                seen.add(id(parent))
                if reaches(parent, target):
                    return True
        return False

    return reaches(new, new)


def _line(rule: Derived, frame: pd.DataFrame, name: str, span: tuple[float, float] | None = None,
          tolerance: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rule``'s expression as ``intercept + slope * name`` in each row of ``frame`` (its other
    inputs as they are there): the line through its values at 0 and 1, and where it holds
    (finite, slope not 0, and the expression on it at 2 and, with ``span``, at 17 points from
    one end of the input's range to the other, within ``tolerance``: the derived column's
    rounding). Probed at 0, 1 and 2 alone, ``min(a, 100)`` and ``abs(a) * 2`` are lines: a
    condition ``min(a, 100) = 100`` pinned every row's ``a`` to 100, where the real rows' ``a``
    went up to 200."""
    zero = np.zeros(len(frame))
    intercept = rule.values(frame.assign(**{name: zero}))
    with np.errstate(all="ignore"):
        slope = rule.values(frame.assign(**{name: zero + 1.0})) - intercept
        linear = np.isfinite(intercept) & np.isfinite(slope) & (slope != 0)
        points = [zero + 2.0]
        if span is not None and np.isfinite(span).all():
            points += [np.full(len(frame), x) for x in np.linspace(span[0], span[1], 17)]
        for x in points:
            linear &= _holds(rule, frame, name, x, intercept, slope, tolerance)
    return intercept, slope, linear


def _holds(rule: Derived, frame: pd.DataFrame, name: str, x: np.ndarray, intercept: np.ndarray, slope: np.ndarray,
           tolerance: float) -> np.ndarray:
    """Where ``rule`` with input ``name`` at ``x`` is on the line ``intercept + slope * x``,
    within ``tolerance`` (and a relative 1e-9 for floats)."""
    with np.errstate(all="ignore"):
        value = rule.values(frame.assign(**{name: x}))
        line = intercept + slope * x
        return np.abs(value - line) <= tolerance + 1e-9 * (1.0 + np.abs(line))


def _pick(first: float, last: float, grid: _Grid, rng: np.random.Generator | None) -> float:
    """A value of ``grid`` from ``first`` to ``last``: evenly at random with ``rng``, else the middle."""
    if last <= first:
        return first
    if rng is None:
        return float(grid.snap(np.array([(first + last) / 2]))[0])
    if grid.step > 0:
        return float(grid.snap(np.array([first + grid.step * rng.integers(int(round((last - first) / grid.step)) + 1)]))[0])
    return float(first + (last - first) * rng.random())


def _runs(rule: Derived, frame: pd.DataFrame, name: str, low: np.ndarray, high: np.ndarray, span: tuple[float, float],
          grid: _Grid, derived: _Grid, probes: int = 513) -> tuple[list[list[tuple[float, float]]], bool]:
    """Per row of ``frame``, the stretches ``(first, last)`` of input ``name``'s values within
    ``span`` (on its ``grid``) where ``rule`` gives a derived value (rounded to its grid) from
    the row's ``low`` to its ``high``, and whether the search was complete.

    Every grid value is tried where the grid holds few enough (complete); otherwise ``probes``
    points across the span (and 0, where ``abs`` and ``max(a, 0)`` turn), each change between
    below, within and above the values narrowed by halving to its exact place, and a stretch
    begun between two probes followed to its end the same way. Made for rules linear only
    piecewise: ``min(a, 100) = 100`` is one stretch from 100 to the span's end, ``abs(a) * 2 =
    60`` two of one value, ``floor(a / 10) = 42`` one from 420 to 429. A stretch narrower than
    the probes' spacing that holds no probe and begins no change is missed."""
    n = len(frame)
    first_ = float(grid.up(np.array([span[0]]), False)[0]) if grid.step > 0 else span[0]
    last_ = float(grid.down(np.array([span[1]]), False)[0]) if grid.step > 0 else span[1]
    count = (last_ - first_) / grid.step + 1 if grid.step > 0 else np.inf
    complete = count * max(n, 1) <= 2_000_000
    if complete:
        points = grid.between(*span)
    else:
        points = np.linspace(first_, last_, probes)
        if first_ < 0 < last_:
            points = np.append(points, 0.0)
        points = np.unique(grid.snap(points) if grid.step > 0 else points)
    k = len(points)

    def state(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """-1, 0 or 1: the rounded value below, within or above the row's bounds (2: none)."""
        with np.errstate(all="ignore"):
            value = derived.snap(rule.values(frame.iloc[rows].reset_index(drop=True).assign(**{name: x})))
            lo, hi = low[rows], high[rows]
            below = value < lo - 1e-9 * (1.0 + np.abs(lo))
            above = value > hi + 1e-9 * (1.0 + np.abs(hi))
        return np.where(np.isnan(value), 2, np.where(below, -1, np.where(above, 1, 0))).astype(int)

    at = state(np.tile(points, n), np.repeat(np.arange(n), k)).reshape(n, k)
    seen = [[(points, at[i])] for i in range(n)]
    if not complete:
        row, j = np.nonzero((at[:, :-1] != at[:, 1:]) & (at[:, :-1] != 2) & (at[:, 1:] != 2))
        low_x, high_x, low_state, next_x, next_state = points[j], points[j + 1], at[row, j], points[j + 1], at[row, j + 1]
        for _ in range(2):  # a stretch found inside a change is followed to its end
            lo_x, hi_x = low_x.copy(), high_x.copy()
            for _ in range(64):
                open_ = (hi_x - lo_x > grid.step) if grid.step > 0 else (hi_x - lo_x > 1e-12 * (1.0 + np.abs(lo_x)))
                if not open_.any():
                    break
                mid = (lo_x + hi_x) / 2
                if grid.step > 0:
                    mid = np.clip(grid.snap(mid), lo_x + grid.step, hi_x - grid.step)
                moves = open_ & (state(mid, row) == low_state)
                lo_x, hi_x = np.where(moves, mid, lo_x), np.where(open_ & ~moves, mid, hi_x)
            hi_state = state(hi_x, row)
            for i in np.unique(row):
                mine = row == i
                seen[i].append((np.concatenate([lo_x[mine], hi_x[mine]]), np.concatenate([low_state[mine], hi_state[mine]])))
            follow = (low_state != 0) & (hi_state == 0) & (next_state != 0) & (hi_x < next_x)
            row, low_x, high_x, next_x, next_state = row[follow], hi_x[follow], next_x[follow], next_x[follow], next_state[follow]
            low_state = np.zeros(len(row), dtype=int)
            if not len(row):
                break
    runs: list[list[tuple[float, float]]] = []
    for pieces in seen:
        xs = np.concatenate([x for x, _ in pieces])
        states = np.concatenate([s for _, s in pieces])
        order = np.lexsort((states, xs))
        xs, states = xs[order], states[order]
        found, begin = [], None
        for x, st in zip(xs.tolist(), states.tolist()):
            if st == 0 and begin is None:
                begin = x
            elif st != 0 and begin is not None:
                found.append((begin, last))
                begin = None
            last = x
        if begin is not None:
            found.append((begin, last))
        runs.append(found)
    return runs, complete


def _reverse_order(transforms: list[_Transform], keys: dict[str, tuple[str, ...]] | None = None) -> list[_Transform]:
    """Transforms in an order where each runs after those rebuilding the columns it reads, and,
    for a column looked up by ``keys`` (column -> its lookup rule's keys), those rebuilding its
    keys: the lookup moves it before it is read (see :meth:`ConstraintPlan.reverse`)."""
    owner = {name: t for t in transforms for name in t.owns}
    keys = keys or {}
    order: list[_Transform] = []
    placed: set[int] = set()

    def place(transform: _Transform) -> None:
        if id(transform) in placed:
            return
        placed.add(id(transform))
        for name in transform.reads:
            for needed in (name, *keys.get(name, ())):
                if needed in owner:
                    place(owner[needed])
        order.append(transform)

    for transform in transforms:
        place(transform)
    return order
