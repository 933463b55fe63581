"""Find the derived columns of a table: numeric columns that are exact linear functions of others.

Real tables often carry a column computed from others: churn's four charges are the minutes
times a rate (``total_day_charge = total_day_minutes * 0.17``, to the cent), a total is the sum
of its parts. A model that learns such a column as one more variable gets the relation only
approximately, and a classifier told to separate real from synthetic rows finds the gap at
once: on churn, detection AUC 0.770 with the charges learned, 0.499 with them computed.
:func:`find_derived` writes each relation it finds as a ``derived`` rule (see
:class:`~synthvae.constraints.spec.Derived`), which :func:`synthvae.infer_schema` puts in the
schema it infers: the model learns the inputs, the rule computes the column, imputation solves
an input back from an observed column.

A relation is kept only when it holds on every row to within half a step of the column's grid
(its rounding: 0.005 for two decimals, 0.5 for integers, a billionth for unrounded floats),
with at most :data:`MAX_INPUTS` inputs, on a table of at least :data:`MIN_ROWS` rows and at
least ten rows a coefficient, for a column of at least :data:`MIN_DISTINCT` distinct values.
Coefficients are written with the fewest significant digits that keep it exact (0.17, not
0.16999943). Of two columns that each give the other (minutes and charge), the one whose
expression is simpler is derived (``charge = minutes * 0.17`` rather than ``minutes = charge *
5.882352941``), and of the members of a sum, the total (no negative coefficient); a column is
derived once, and a derived column may be read by another rule but never in a cycle.

:func:`find_datetime_parts` finds integer columns that are a calendar part of a datetime column
on every row (flights' ``year``, ``month``, ``day`` of its ``time_hour``): as rules
``month = month(time_hour)``, the datetime is composed from its parts (or, without a year, a
month and a day, the parts are computed from it), so the two always agree; learned apart, a
sample's ``time_hour`` named the row's month in 57% of rows, its day in 4%.
:func:`synthvae.infer_schema` looks for the parts first, and the linear rules may then read
them (flights' ``sched_dep_time = hour * 100 + minute`` beside ``hour = hour(time_hour)``).

:func:`find_null_when` finds columns whose nulls are structural: null on every row where a
categorical or boolean column holds certain values (loans' ``annual_income_joint`` on every
individual application). As rules ``annual_income_joint is null where application_type is
'individual'``, sampled rows keep the pattern exactly and imputation keeps those nulls instead of
inventing a joint income for a single applicant.

:func:`find_lookups` finds numeric columns that one or two categorical columns fix: flights'
``distance`` is the same on every flight of a route (``origin``, ``dest``). Learned as one more
variable, it came out 23 miles off its route's in the median row, and a classifier told real from
synthetic rows by it (detection AUC 0.897, 0.796 with each value replaced by its route's). As
rules ``distance is looked up by origin, dest``, the model learns the column and each sampled
value becomes one its keys held.

:func:`find_inequalities` finds pairs of numeric columns one of which is never above the other:
loans' ``balance <= loan_amount`` and ``open_credit_lines <= total_credit_lines``. Learned as two
variables, the order broke in 20.8% of loans' sampled rows (the balance above the loan); as rules
the model learns one side through the other, and no sampled row breaks them.
:func:`synthvae.infer_schema` looks for them only when asked (``inequalities=True``,
``infer-schema --inequalities``): the evaluator scored them slightly lower (loans: quality 0.9735
-> 0.9713, detection AUC 0.805 -> 0.800).

This module imports neither torch nor the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthvae.constraints.expression import Expression
from synthvae.constraints.plan import lattice
from synthvae.constraints.spec import Derived, Inequality, Lookup, NullWhen, Range, Value
from synthvae.errors import DataError
from synthvae.schema import Column, ColumnKind, Schema
from synthvae.validation import column_numbers, read_datetimes, typed

MIN_ROWS = 50  # fewer rows: any column is "exactly" a combination of a few others by chance
MIN_DISTINCT = 10  # a column of fewer values is a code, better learned as it is
MAX_INPUTS = 4
_ROWS_PER_COEFFICIENT = 10
_FIT_ROWS = 20_000  # rows the candidate relations are fitted on; every row is checked after
_MAX_COLUMNS = 200  # wider tables: no search (its cost grows with the square of the width)
_MAX_SEVERAL = 60  # wider tables: single-input relations only (a regression on all others each)
_MIN_CORRELATION = 0.99  # an exact relation up to rounding correlates at least this well
# A column the others explain up to rounding leaves at most about (half a step / its standard
# deviation)^2 of its variance unexplained; a search of several inputs needs no more than this
# many times that.
_MAX_UNEXPLAINED = 100.0
_MAX_DIGITS = 12
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A structural null: every row of a value of the "when" column is null, for values of at least
# _MIN_GROUP rows, on at least _MIN_STRUCTURAL rows (and 1% of the table), which hold at least
# _NULL_COVERAGE of the column's nulls; "when" columns of more values are not searched.
_MIN_GROUP = 5
_MIN_STRUCTURAL = 20
_NULL_COVERAGE = 0.9
_MAX_WHEN_VALUES = 50
# A lookup: a numeric column of at least MIN_DISTINCT values that holds its key's most common
# value on at least _LOOKUP_EXACT of its rows, with at most _LOOKUP_EXTRA more (key, value)
# pairs than keys (flights: 221 pairs of 219 routes, two routes' distances changed by a mile),
# at least _LOOKUP_ROWS_PER_KEY rows a key, and at least _LOOKUP_REPEATED of its rows in keys of
# two rows or more (a key of one row fixes any value). Keys are one categorical or boolean
# column, or two where no one column does.
_LOOKUP_EXACT = 0.99
_LOOKUP_EXTRA = 0.05
_LOOKUP_ROWS_PER_KEY = 5
_LOOKUP_REPEATED = 0.9
# An order: ``low <= high`` on every row, where a low of one row is above the high of another in
# at least _ORDER_CHANCE of pairs of rows (else the columns' ranges alone keep it), and so many
# rows keep it that rows drawn apart would have done so by chance less often than _ORDER_LUCK
# over all the pairs of columns tried.
_ORDER_CHANCE = 0.05
_ORDER_LUCK = 1e-3


@dataclass(frozen=True)
class _Candidate:
    column: str
    inputs: tuple[str, ...]
    coefficients: tuple[float, ...]
    intercept: float
    digits: int  # significant digits the coefficients need: the simpler, the likelier the truth
    negative: int  # negative coefficients: "total = a + b" is likelier than "a = total - b"
    # Whether every value on the inputs' grids gives a value on the column's own (``y = x * 2``
    # of whole numbers, not ``x = y * 0.5``): only then does the rule hold both ways in sampled
    # rows. ``x = y * 0.5`` let the model draw odd ``y`` and rounded ``x``, so ``y == 2 * x``
    # broke in 39% of rows (a user review); which way was found hung on the columns' names.
    on_grid: bool = True

    @property
    def rank(self) -> tuple:
        return (self.digits, not self.on_grid, self.negative, len(self.inputs), self.column)


def find_derived(frame: pd.DataFrame, schema: Schema) -> list[Derived]:
    """The exact linear relations of ``frame``'s numeric columns, as ``derived`` rules.

    Args:
        frame: The table (its columns named as in ``schema``).
        schema: Its schema; only its numeric columns are searched. Columns its own rules
            already involve are not derived again; of them, the columns its ``derived`` rules
            compute may be read (flights' ``sched_dep_time = hour * 100 + minute`` with
            ``hour = hour(time_hour)``), the others are left out.

    Returns:
        The rules, in the schema's column order of their derived columns.
    """
    taken = {name for rule in schema.constraints for name in rule.columns}
    readable = {rule.column for rule in schema.constraints if isinstance(rule, Derived)}
    columns = [c for c in schema if c.kind is ColumnKind.NUMERIC and (c.name not in taken or c.name in readable)
               and c.name in frame.columns and _expressible(c.name)]
    if len(frame) < MIN_ROWS or len(columns) < 2 or len(columns) > _MAX_COLUMNS:
        return []
    values = {}
    for c in columns:
        v = column_numbers(frame[c.name], c).to_numpy(dtype=np.float64, na_value=np.nan)
        present = v[~np.isnan(v)]
        if present.size > 1 and np.isfinite(present).all() and present.std() > 0:  # nanstd warned on none
            values[c.name] = v
    columns = [c for c in columns if c.name in values]
    if len(columns) < 2:
        return []
    names = [c.name for c in columns]
    # The rules are checked on the numbers as read: on the text itself, "$71.3" raised ValueError.
    numbers = pd.DataFrame({name: values[name] for name in names}, index=frame.index)
    correlation = _correlations(np.column_stack([values[name] for name in names]))
    # The share of each column's variance that the others leave unexplained, 1 / (C^-1)_ii: a
    # least-squares fit on all the others is tried only where it is about rounding's size.
    with np.errstate(all="ignore"):
        unexplained = 1.0 / np.diag(np.linalg.pinv(correlation + 1e-12 * np.eye(len(names))))
    candidates = []
    by_name = {c.name: c for c in columns}
    for i, target in enumerate(columns):
        if target.name in readable:
            continue  # derived by the schema's rules: an input only
        y = values[target.name]
        if np.unique(y[~np.isnan(y)]).size < MIN_DISTINCT:
            continue
        # Inputs of a relation that holds on every row are present wherever the column is: a
        # column with holes there cannot be one, and it cut loans' fit to the 203 rows where
        # all 39 others were present (too few for a fit on all of them; paid_total went unfound).
        others = [name for j, name in enumerate(names) if j != i and not np.isnan(values[name][~np.isnan(y)]).any()]
        close = [name for j, name in enumerate(names) if j != i and abs(correlation[i, j]) >= _MIN_CORRELATION]
        spread = _tolerance(target, y) / float(np.nanstd(y))
        several = len(others) <= _MAX_SEVERAL and not unexplained[i] > _MAX_UNEXPLAINED * max(spread, 1e-6) ** 2
        candidates += _relations(target, y, others if several else [], close, values, numbers, by_name)
    chosen: list[_Candidate] = []
    reads: dict[str, tuple[str, ...]] = {}  # derived column -> its inputs
    for candidate in sorted(candidates, key=lambda c: c.rank):
        if candidate.column in reads or _reaches(reads, candidate.inputs, candidate.column):
            continue  # derived already, or a cycle (a derived column may read another one)
        chosen.append(candidate)
        reads[candidate.column] = candidate.inputs
    order = {c.name: i for i, c in enumerate(schema)}
    return [_rule(c) for c in sorted(chosen, key=lambda c: order[c.column])]


def _reaches(reads: dict[str, tuple[str, ...]], inputs: tuple[str, ...], column: str) -> bool:
    """Whether any of ``inputs`` is computed, through the rules so far, from ``column``."""
    stack, seen = list(inputs), set()
    while stack:
        name = stack.pop()
        if name == column:
            return True
        if name not in seen:
            seen.add(name)
            stack.extend(reads.get(name, ()))
    return False


def _correlations(matrix: np.ndarray) -> np.ndarray:
    """Correlations of the columns of ``matrix`` ``(n, k)`` over the rows where both are present
    (approximately: each column standardised over its own present rows)."""
    rows = _fit_rows(np.zeros(matrix.shape[0]), [])
    m = matrix[rows]
    present = ~np.isnan(m)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (m - np.nanmean(m, axis=0)) / np.nanstd(m, axis=0)
    z = np.where(present, z, 0.0)
    counts = present.T.astype(np.float64) @ present.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num((z.T @ z) / counts)


def _relations(target: Column, y: np.ndarray, others: list[str], close: list[str], values: dict,
               frame: pd.DataFrame, columns: dict[str, Column]) -> list[_Candidate]:
    """Exact relations giving ``target``: one for each single column of ``close`` (those that
    correlate with it) that gives it, else at most one of several columns of ``others``."""
    tolerance = _tolerance(target, y)
    found = []
    for name in close:
        relation = _exact(target, y, [name], values, tolerance, frame, columns)
        if relation is not None:
            found.append(relation)
    if found or len(others) < 2:
        return found
    # Several inputs: least squares on all the others (standardised), then the inputs that
    # carry weight, refitted alone.
    k = len(others)
    rows = _fit_rows(y, [values[name] for name in others])
    if rows.size < max(MIN_ROWS, _ROWS_PER_COEFFICIENT * (k + 1)):
        return []
    x = np.column_stack([values[name][rows] for name in others])
    scale = x.std(axis=0)
    usable = scale > 0
    x, names = (x[:, usable] - x[:, usable].mean(axis=0)) / scale[usable], [n for n, u in zip(others, usable) if u]
    target_rows = y[rows]
    coefficients, *_ = np.linalg.lstsq(x, target_rows - target_rows.mean(), rcond=None)
    residual = target_rows - target_rows.mean() - x @ coefficients
    if np.abs(residual).max() > max(tolerance * 4, 1e-6 * target_rows.std()):
        return []
    weight = np.abs(coefficients)
    kept = [names[i] for i in np.argsort(-weight) if weight[i] > 1e-6 * weight.max()][: MAX_INPUTS + 1]
    if len(kept) > MAX_INPUTS:
        return []
    relation = _exact(target, y, sorted(kept, key=others.index), values, tolerance, frame, columns)
    return [relation] if relation is not None else []


def _exact(target: Column, y: np.ndarray, inputs: list[str], values: dict, tolerance: float,
           frame: pd.DataFrame, columns: dict[str, Column]) -> _Candidate | None:
    """``target`` as ``intercept + sum(coefficient * input)`` with the simplest numbers that
    hold on every row, or ``None``."""
    x = np.column_stack([values[name] for name in inputs])
    rows = _fit_rows(y, [values[name] for name in inputs])
    if rows.size < max(MIN_ROWS, _ROWS_PER_COEFFICIENT * (len(inputs) + 1)):
        return None
    design = np.column_stack([x[rows], np.ones(rows.size)])
    solution, *_ = np.linalg.lstsq(design, y[rows], rcond=None)
    if not np.isfinite(solution).all() or np.any(solution[:-1] == 0):
        return None
    present = ~np.isnan(y)
    if (np.isnan(x).any(axis=1) != ~present).any():  # a null input must mean a null column
        return None
    xs, ys = x[present], y[present]

    def spread(coefficients: np.ndarray) -> tuple[float, float]:
        """The largest error of the best intercept for these coefficients, and that intercept
        (the middle of the residuals' range: least squares is not the best fit in the worst row)."""
        residual = ys - xs @ coefficients
        low, high = float(residual.min()), float(residual.max())
        return 0.5 * (high - low), 0.5 * (high + low)

    def holds(coefficients: np.ndarray, intercept: float) -> bool:
        return bool(np.abs(ys - (xs @ coefficients + intercept)).max() <= tolerance)

    # Least squares leaves the worst row a little off where the truth is exact (0.045 fits
    # churn's night charges to the cent, least squares' 0.0450002 does not): a looser gate
    # first, the exact test for the rounded coefficients.
    coefficients = solution[:-1].copy()
    if spread(coefficients)[0] > 4 * tolerance:
        return None
    digits = 0
    for i in range(coefficients.size):
        last = i == coefficients.size - 1
        for d in range(1, _MAX_DIGITS + 1):
            trial = coefficients.copy()
            trial[i] = float(f"{coefficients[i]:.{d}g}")
            if spread(trial)[0] <= (tolerance if last else 4 * tolerance):
                coefficients, digits = trial, digits + d
                break
        else:
            return None
    if spread(coefficients)[0] > tolerance:
        return None
    best = spread(coefficients)[1]
    for d, intercept in enumerate((0.0, *(float(f"{best:.{d}g}") for d in range(1, _MAX_DIGITS + 1)), best)):
        if holds(coefficients, intercept):
            digits += d
            break
    else:
        return None
    candidate = _Candidate(target.name, tuple(inputs), tuple(float(c) for c in coefficients), intercept, digits,
                           int((coefficients < 0).sum()), _on_grid(target, inputs, coefficients, intercept, columns))
    # The rule as written (its text parsed back) must hold too, nulls included.
    rule = _rule(candidate)
    expected = rule.values(frame)
    with np.errstate(invalid="ignore"):
        if (np.isnan(expected) != ~present).any() or np.abs(expected[present] - ys).max() > tolerance:
            return None
    return candidate


def _on_grid(target: Column, inputs: list[str], coefficients: np.ndarray, intercept: float,
             columns: dict[str, Column]) -> bool:
    """Whether ``intercept + sum(coefficient * input)`` of values on the inputs' grids always
    lies on ``target``'s grid (so no rounding comes between the rule and the column)."""
    step = target.grid_step
    if step is None:
        return True

    def multiple(value: float) -> bool:
        ratio = value / step
        return abs(ratio - round(ratio)) <= 1e-6 * max(1.0, abs(ratio))

    steps = [columns[name].grid_step for name in inputs]
    return multiple(intercept) and all(s is not None and multiple(c * s) for c, s in zip(coefficients, steps))


def _tolerance(column: Column, y: np.ndarray) -> float:
    """Half a step of the column's grid: how far rounding can move a computed value."""
    if column.is_integer:
        return 0.5 - 1e-9  # a value halfway between two integers would round either way
    if column.decimals is not None:
        return 0.5 * 10.0 ** -column.decimals * (1 + 1e-6)
    return 1e-9 * max(1.0, float(np.nanmax(np.abs(y))))


def _fit_rows(y: np.ndarray, xs: list[np.ndarray]) -> np.ndarray:
    """Rows with the target and every input present (at most :data:`_FIT_ROWS`, evenly spread)."""
    present = ~np.isnan(y)
    for x in xs:
        present &= ~np.isnan(x)
    rows = np.flatnonzero(present)
    if rows.size > _FIT_ROWS:
        rows = rows[np.linspace(0, rows.size - 1, _FIT_ROWS).astype(np.int64)]
    return rows


def _quote(name: str) -> str:
    return name if _NAME.match(name) else f"`{name}`"


def _expressible(name: str) -> bool:
    """Whether a rule's expression can name the column: a backtick in the name cannot be
    quoted (infer_schema failed with "cannot parse 'year(`time`hour`)'")."""
    return "`" not in name


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _rule(candidate: _Candidate) -> Derived:
    terms = []
    for name, coefficient in zip(candidate.inputs, candidate.coefficients):
        magnitude = abs(coefficient)
        term = _quote(name) if magnitude == 1 else f"{_quote(name)} * {_number(magnitude)}"
        terms.append(("- " if coefficient < 0 else "+ ") + term)
    if candidate.intercept:
        terms.append(("- " if candidate.intercept < 0 else "+ ") + _number(abs(candidate.intercept)))
    text = " ".join(terms)
    text = text[2:] if text.startswith("+ ") else "-" + text[2:]
    return Derived(candidate.column, Expression.parse(text))


_DATETIME_PARTS = ("year", "month", "day", "hour", "minute", "second")


def find_datetime_parts(frame: pd.DataFrame, schema: Schema) -> list[Derived]:
    """The integer columns that equal a calendar part of a datetime column on every row, as
    ``derived`` rules (``month = month(time_hour)``).

    Both columns must have no missing value, and the table :data:`MIN_ROWS` rows. A year, month
    or day that is the same on every row (the year of one year's rows) counts only for a column
    named after it (``year``, ``dep_year``): a constant column of 1s is not the day of monthly
    dates, nor a column of 0s the hour of dates.
    Columns that the schema's rules already derive are left out, and each column is derived
    from one datetime at most.

    Args:
        frame: The table (its columns named as in ``schema``).
        schema: Its schema.

    Returns:
        The rules, in the schema's column order of the datetime columns, then of their parts.
    """
    if len(frame) < MIN_ROWS:
        return []
    derived = {rule.column for rule in schema.constraints if isinstance(rule, Derived)}
    datetimes = [c for c in schema if c.kind is ColumnKind.DATETIME and not c.nullable and c.name in frame.columns
                 and _expressible(c.name)]
    integers = [c for c in schema if c.kind is ColumnKind.NUMERIC and c.is_integer and not c.nullable
                and c.name in frame.columns and c.name not in derived and _expressible(c.name)]
    if not datetimes or not integers:
        return []
    numbers = {}
    for c in integers:
        values = column_numbers(frame[c.name], c).to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.isnan(values).any():
            numbers[c.name] = values
    rules = []
    for t in datetimes:
        stamps = read_datetimes(frame[t.name], t)
        if stamps.isna().any():
            continue
        # Each part once, with its least and greatest value: most columns fail on those alone
        # (per column and part, 100 integer x 5 datetime columns of 100k rows took 2.4x longer).
        parts = {}
        for part in _DATETIME_PARTS:
            found = getattr(stamps.dt, part).to_numpy(dtype=np.float64)
            parts[part] = (found, found.min(), found.max())
        for name, values in numbers.items():
            if name in derived:
                continue
            low, high = values.min(), values.max()
            for part, (found, least, greatest) in parts.items():
                if (low, high) != (least, greatest):
                    continue
                # A constant part: only a year, month or day, for a column named after it (not
                # the 0 hour of dates beside an all-zero "overtime_hours").
                if least == greatest and (part not in ("year", "month", "day") or part not in name.lower()):
                    continue
                if np.array_equal(values, found):
                    rules.append(Derived(name, Expression.parse(f"{part}({_quote(t.name)})")))
                    derived.add(name)
                    break
    return rules


def find_null_when(frame: pd.DataFrame, schema: Schema) -> list[NullWhen]:
    """The structural nulls of ``frame``: per nullable column, the values of one categorical or
    boolean column on whose every row it is null, as ``null_when`` rules.

    A rule is kept when the values hold at least 90% of the column's nulls on at least 20 rows
    (and 1% of the table), each value on at least 5 rows; of several "when" columns, the one whose
    values hold the most nulls. Where the column holds no other null (its "when" known), the rule
    says so (``exactly``): sampled rows are then never null elsewhere either (a 5-epoch model drew
    nulls on 17.8% of the other rows of a column that had none there, a review found). Columns a
    ``derived`` rule computes (nulls where an input is) and ids and personal columns (never
    learned) are not searched.

    Args:
        frame: The table (its columns named as in ``schema``).
        schema: Its schema.

    Returns:
        The rules, in the schema's column order of their columns.
    """
    if len(frame) < MIN_ROWS:
        return []
    computed = {rule.column for rule in schema.constraints if isinstance(rule, Derived)}
    targets = [c for c in schema if c.nullable and not c.is_generated and c.name not in computed and c.name in frame.columns]
    whens = [c for c in schema if c.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN) and c.name in frame.columns
             and len(c.choices) <= _MAX_WHEN_VALUES]
    if not targets or not whens:
        return []
    nulls = {c.name: frame[c.name].isna().to_numpy() for c in targets}
    least = max(_MIN_STRUCTURAL, 0.01 * len(frame))
    codes = {}
    for c in whens:
        try:
            values_of = typed(frame[c.name], c)
        except DataError:
            continue  # values its inferred kind does not hold: the fit names them, no rule reads it here
        values = c.choices
        codes[c.name] = (pd.Categorical(values_of, categories=list(values)).codes.astype(np.int64), values)
    rules = []
    for target in targets:
        null = nulls[target.name]
        if null.all():  # null on every row: no value says when it is (rare values were left out of one)
            continue
        best = None
        for when in whens:
            if when.name == target.name or when.name not in codes:
                continue
            code, values = codes[when.name]
            known = code >= 0
            rows = np.bincount(code[known], minlength=len(values))
            nulled = np.bincount(code[known & null], minlength=len(values))
            chosen = np.flatnonzero((rows >= _MIN_GROUP) & (nulled == rows))
            held = int(rows[chosen].sum())
            if chosen.size == 0 or chosen.size == len(values) or held < least or held < _NULL_COVERAGE * null.sum():
                continue
            if not (known & ~null & ~np.isin(code, chosen)).any():  # values outside those hold no value either
                continue
            if best is None or held > best[0]:
                # Null nowhere else (where the "when" value is known): "and only there".
                exactly = not (known & null & ~np.isin(code, chosen)).any()
                best = (held, NullWhen(target.name, when.name, tuple(values[i] for i in chosen), exactly))
        if best is not None:
            rules.append(best[1])
    return rules


def find_lookups(frame: pd.DataFrame, schema: Schema) -> list[Lookup]:
    """The numeric columns of ``frame`` that one or two categorical or boolean columns fix, as
    ``lookup`` rules (see the module docstring and :data:`_LOOKUP_EXACT`): per column, the
    single key column of fewest values that fixes it, else the pair of fewest combinations.
    Columns a ``derived`` rule computes, and ids and personal columns, are not searched.

    Args:
        frame: The table (its columns named as in ``schema``).
        schema: Its schema.

    Returns:
        The rules, in the schema's column order of their columns.
    """
    if len(frame) < MIN_ROWS or len(schema.names) > _MAX_COLUMNS:
        return []
    targets = _learned_numeric(frame, schema)
    codes = {}
    for c in schema:
        if c.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN) and not c.is_generated and c.name in frame.columns:
            try:
                values_of = typed(frame[c.name], c)
            except DataError:
                continue  # values its inferred kind does not hold: the fit names them
            codes[c.name] = pd.Categorical(values_of, categories=list(c.choices)).codes.astype(np.int64) + 1  # 0: null
    names = list(codes)
    singles = [((name,), codes[name]) for name in names]
    pairs = [((a, b), codes[a] * (len(schema[b].choices) + 1) + codes[b]) for i, a in enumerate(names) for b in names[i + 1:]]
    rules = []
    for target in targets:
        y = column_numbers(frame[target.name], target).to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(y)
        if np.unique(y[present]).size < MIN_DISTINCT:
            continue
        for group in (singles, pairs):
            fitting = [(keys, count) for keys, key in group if (count := _fixes(key[present], y[present])) is not None]
            if fitting:
                rules.append(Lookup(target.name, min(fitting, key=lambda f: f[1])[0]))
                break
    return rules


def _learned_numeric(frame: pd.DataFrame, schema: Schema) -> list[Column]:
    """The numeric columns of ``frame`` the model learns as they are: no id or personal column,
    none a ``derived`` rule computes or a ``lookup`` rule moves."""
    computed = {rule.column for rule in schema.constraints if isinstance(rule, (Derived, Lookup))}
    return [c for c in schema if c.kind is ColumnKind.NUMERIC and not c.is_generated and c.name not in computed
            and c.name in frame.columns]


def _fixes(key: np.ndarray, y: np.ndarray) -> int | None:
    """How many distinct keys ``key`` holds where it fixes ``y`` (see :func:`find_lookups`),
    ``None`` where it does not."""
    n = y.size
    distinct, key = np.unique(key, return_inverse=True)
    if not 2 <= distinct.size <= n / _LOOKUP_ROWS_PER_KEY:
        return None
    rows = np.bincount(key)
    if rows[rows >= 2].sum() < _LOOKUP_REPEATED * n:
        return None
    # Cheap first: the values must barely vary within a key.
    sums, squares = np.bincount(key, y), np.bincount(key, y * y)
    within = float((squares - sums**2 / rows).sum())
    if within > (1 - _LOOKUP_EXACT) * float(((y - y.mean()) ** 2).sum()):
        return None
    order = np.lexsort((y, key))
    k, v = key[order], y[order]
    new_pair = np.r_[True, (k[1:] != k[:-1]) | (v[1:] != v[:-1])]
    if new_pair.sum() > distinct.size * (1 + _LOOKUP_EXTRA):
        return None
    # Rows of each key's most common value.
    starts = np.flatnonzero(new_pair)
    runs = np.diff(np.r_[starts, n])
    most = np.zeros(distinct.size)
    np.maximum.at(most, k[starts], runs)
    return int(distinct.size) if most.sum() >= _LOOKUP_EXACT * n else None


def find_inequalities(frame: pd.DataFrame, schema: Schema) -> list[Inequality | Range]:
    """The pairs of numeric columns of ``frame`` one of which is never above the other (see the
    module docstring and :data:`_ORDER_CHANCE`), as rules the model keeps by learning one side
    through the other.

    The side learned through the other must not be a lattice (:func:`synthvae.constraints.plan.lattice`): seattle's
    temperatures are whole degrees Fahrenheit written in Celsius, 100 values of the 254 their
    range holds at one decimal, and loans' amounts are round; learned as a share or a gap they
    lose those values, and a classifier tells the rows apart (seattle's detection AUC 0.524 ->
    0.884 over six fit seeds, loans' 0.805 -> 0.942). So ``low <= high`` is written as the range
    ``min <= low <= high`` (the model learns the low side as its share of the way from its
    least value to the high side: loans' balance as a share of the loan), or, with the low side a
    lattice, as the inequality (the model learns the high side as its gap above the low one); a
    pair whose two sides are lattices gets no rule. Of several rules on one side, the one whose
    other side is closest (the least median gap, in the side's spread) comes first: the model
    learns the side through it, and the others are kept by drawing rows again.

    Only numeric columns with a value on every row are searched (no datetimes), none a rule
    computes or looks up, and no ids or personal columns. Columns equal on every row are no order (a derived rule's
    business). Of a chain ``a <= b <= c`` the rule for ``a <= c`` is left out.

    Args:
        frame: The table (its columns named as in ``schema``).
        schema: Its schema (with the rules already found, whose columns are left out).

    Returns:
        The rules, by learned side in the schema's column order.
    """
    if len(frame) < MIN_ROWS or len(schema.names) > _MAX_COLUMNS:
        return []
    values = {}
    for c in _learned_numeric(frame, schema):
        if not c.nullable:
            numbers = column_numbers(frame[c.name], c).to_numpy(dtype=np.float64, na_value=np.nan)
            if not np.isnan(numbers).any():
                values[c.name] = numbers
    names = list(values)
    pairs = len(names) * (len(names) - 1)
    if not pairs:
        return []
    n = len(frame)
    # Rows drawn apart keep an order that a pair of them breaks with probability p with
    # probability (1 - p)^n: at least _ORDER_CHANCE, and below the luck allowed a pair tried.
    least = max(_ORDER_CHANCE, 1.0 - (_ORDER_LUCK / pairs) ** (1.0 / n))
    ordered = {name: np.sort(v) for name, v in values.items()}
    order: dict[tuple[str, str], float] = {}
    for low in names:
        x = values[low]
        for high in names:
            if high == low:
                continue
            y = values[high]
            if not (x <= y).all() or (x == y).all():
                continue
            # The share of pairs of rows (i, j) with x_i > y_j.
            broken = float(np.searchsorted(ordered[high], x, side="left").sum()) / (n * n)
            if broken >= least:
                order[(low, high)] = float(np.median(y - x))
    # Leave out what a chain implies: a <= c where a <= b and b <= c were found.
    implied = {(a, c) for (a, b) in order for (b2, c) in order if b2 == b and (a, c) in order}
    latticed = {name: lattice(values[name], schema[name]) for name in {side for pair in order for side in pair}}
    learned = []
    for (low, high), gap in order.items():
        if (low, high) in implied:
            continue
        side = low if not latticed[low] and schema[low].min is not None else high if not latticed[high] else None
        if side is not None:
            learned.append((side, gap / (float(values[side].std()) or 1.0), low, high))
    position = {name: i for i, name in enumerate(schema.names)}
    learned.sort(key=lambda item: (position[item[0]], item[1], position[item[2]], position[item[3]]))
    return [Range(column=low, low=_bound(schema[low]), high=high) if side == low else Inequality(low, high)
            for side, _, low, high in learned]


def _bound(column: Column) -> Value:
    """A column's least value as the constant side of a rule: whole numbers as integers, others
    on the column's grid at or below it (a bound read with float noise, 2.4379999999999997 on a
    column of 3 decimals, is 2.437, not a rule's text full of noise)."""
    value = float(column.min)
    if value.is_integer():
        return Value(int(value))
    if column.decimals is not None:
        scale = 10.0 ** column.decimals
        floor = round(float(np.floor(value * scale)) / scale, column.decimals)
        return Value(floor if floor <= value else round(floor - 1.0 / scale, column.decimals))
    return Value(value)
