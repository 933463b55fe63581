"""Business rules of a table: what each constraint says, read from and written to the schema JSON.

A schema's ``constraints`` list holds rules every synthetic row must obey::

    {"kind": "inequality", "low": "start_date", "high": "end_date", "strict": false}
    {"kind": "inequality", "low": {"value": 0}, "high": "carat", "strict": true}
    {"kind": "range", "low": "min_price", "column": "price", "high": "max_price"}
    {"kind": "fixed_combinations", "columns": ["country", "city"]}
    {"kind": "unique", "columns": ["order_id"]}
    {"kind": "derived", "column": "total", "expression": "net + tax"}
    {"kind": "regex", "column": "code", "pattern": "[A-Z]{2}-[0-9]{4}"}
    {"kind": "null_when", "column": "income_joint", "when": "application", "values": ["individual"]}
    {"kind": "lookup", "column": "distance", "keys": ["origin", "dest"]}

A side of an inequality or range is a column name, or a constant (a number, or
``{"value": ...}`` for any constant, a datetime in ISO 8601 among them). Each rule says which
rows break it (:meth:`Constraint.broken`); a null in a column the rule compares leaves the row
unchecked, as in SQL. How rules are kept when sampling is :mod:`synthvae.constraints.plan`'s job.

This module imports neither torch nor the model.
"""

from __future__ import annotations

import difflib
import enum
import math
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import pandas as pd
import regex

from synthvae.constraints.expression import Expression
from synthvae.errors import SchemaError, preview

if TYPE_CHECKING:  # the schema imports this module
    from synthvae.schema import Column, Schema


class ConstraintKind(str, enum.Enum):
    """The kinds of rule."""

    INEQUALITY = "inequality"
    RANGE = "range"
    FIXED_COMBINATIONS = "fixed_combinations"
    UNIQUE = "unique"
    DERIVED = "derived"
    REGEX = "regex"
    NULL_WHEN = "null_when"
    LOOKUP = "lookup"


@dataclass(frozen=True)
class Value:
    """A constant side of an inequality or range (a number, or a timestamp for datetimes)."""

    value: Any

    def __str__(self) -> str:
        value = self.value
        if isinstance(value, pd.Timestamp):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)


Side = Union[str, Value]


class Constraint:
    """Base of the rules: each names its columns, describes itself and finds the rows breaking it."""

    kind: ConstraintKind

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the rule involves."""
        raise NotImplementedError

    def describe(self) -> str:
        """The rule as people write it: ``start_date <= end_date``."""
        raise NotImplementedError

    def to_dict(self) -> dict:
        """The rule as a JSON-ready dict."""
        raise NotImplementedError

    def validate(self, schema: "Schema") -> "Constraint":
        """Check the rule against the schema's columns; return it with constants typed.

        Raises:
            SchemaError: Unknown column, or a column of a kind the rule cannot take.
        """
        raise NotImplementedError

    def broken(self, frame: pd.DataFrame) -> np.ndarray:
        """A boolean array: which rows of a conformed table break the rule."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()


# ----------------------------------------------------------------- comparisons
_ORDERED = ("numeric", "datetime")


@dataclass(frozen=True)
class Inequality(Constraint):
    """``low <= high`` (``low < high`` when strict), numeric or datetime; one side may be a constant."""

    low: Side
    high: Side
    strict: bool = False
    kind = ConstraintKind.INEQUALITY

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(s for s in (self.low, self.high) if isinstance(s, str))

    def describe(self) -> str:
        return f"{self.low} {'<' if self.strict else '<='} {self.high}"

    def to_dict(self) -> dict:
        return {"kind": self.kind.value, "low": _side_json(self.low), "high": _side_json(self.high), "strict": self.strict}

    def validate(self, schema: "Schema") -> "Inequality":
        where = f"constraint {self.describe()!r}"
        if not self.columns:
            raise SchemaError(f"{where}: at least one side must be a column")
        family = _ordered_family(schema, self.columns, where)
        low, high = (_typed_side(s, family, where, _zone(schema, self.columns), _unit(schema, self.columns))
                     for s in (self.low, self.high))
        if isinstance(low, Value) and isinstance(high, Value):
            raise SchemaError(f"{where}: both sides are constants")
        if low == high:
            # a < a passed, and every row broke it at fit, where the advice was to fix the rows.
            raise SchemaError(f"{where}: both sides are column {low!r}, so it " +
                              ("never holds" if self.strict else "always holds") + "; remove it")
        _refuse_out_of_bounds(schema, low, high, self.strict, where)
        return Inequality(low, high, self.strict)

    def broken(self, frame: pd.DataFrame) -> np.ndarray:
        return _order_broken(_side_values(frame, self.low), _side_values(frame, self.high), self.strict)


def _refuse_out_of_bounds(schema: "Schema", low, high, strict: bool, where: str) -> None:
    """Refuse ``low <= high`` (``<``: strict) between a numeric column and a constant that no
    value within the column's bounds can meet (``1000 <= a`` with a's max 49): such a rule
    passed the schema, and every row broke it at fit, where the advice was to fix the rows (a
    user review)."""
    for column, constant, below in ((low, high, True), (high, low, False)):
        if not (isinstance(column, str) and isinstance(constant, Value)) or schema[column].kind.value != "numeric":
            continue
        bound = schema[column].min if below else schema[column].max
        if bound is None or not isinstance(constant.value, (int, float)):
            continue
        empty = (bound > constant.value or (strict and bound == constant.value)) if below else \
            (bound < constant.value or (strict and bound == constant.value))
        if empty:
            side = "min" if below else "max"
            raise SchemaError(f"{where}: the {side} of column {column!r} is {Value(float(bound))}, so no value of it can meet "
                              f"the constant {constant}; correct the constant or the column's {side}")


@dataclass(frozen=True)
class Range(Constraint):
    """``low <= column <= high`` (strict: ``<``), each bound a column or a constant."""

    column: str
    low: Side
    high: Side
    strict: bool = False
    kind = ConstraintKind.RANGE

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(s for s in (self.low, self.column, self.high) if isinstance(s, str))

    def describe(self) -> str:
        op = "<" if self.strict else "<="
        return f"{self.low} {op} {self.column} {op} {self.high}"

    def to_dict(self) -> dict:
        return {
            "kind": self.kind.value,
            "low": _side_json(self.low),
            "column": self.column,
            "high": _side_json(self.high),
            "strict": self.strict,
        }

    def validate(self, schema: "Schema") -> "Range":
        where = f"constraint {self.describe()!r}"
        family = _ordered_family(schema, self.columns, where)
        low, high = (_typed_side(s, family, where, _zone(schema, self.columns), _unit(schema, self.columns))
                     for s in (self.low, self.high))
        if isinstance(low, Value) and isinstance(high, Value) and low.value > high.value:
            raise SchemaError(f"{where}: the low constant is above the high one; swap them")
        _refuse_out_of_bounds(schema, low, self.column, self.strict, where)
        _refuse_out_of_bounds(schema, self.column, high, self.strict, where)
        return Range(self.column, low, high, self.strict)

    def broken(self, frame: pd.DataFrame) -> np.ndarray:
        middle = frame[self.column]
        return _order_broken(_side_values(frame, self.low), middle, self.strict) | _order_broken(
            middle, _side_values(frame, self.high), self.strict
        )


def _order_broken(low, high, strict: bool) -> np.ndarray:
    """Rows where ``low <= high`` (``<``) is false and neither side is null."""
    low_s = low if isinstance(low, pd.Series) else None
    high_s = high if isinstance(high, pd.Series) else None
    length = len(low_s if low_s is not None else high_s)
    present = np.ones(length, dtype=bool)
    for side in (low_s, high_s):
        if side is not None:
            present &= side.notna().to_numpy()
    holds = (low < high) if strict else (low <= high)
    holds = np.asarray(pd.Series(holds).fillna(False).to_numpy(dtype=bool)) if not isinstance(holds, bool) else np.full(length, holds)
    return present & ~holds


def _side_values(frame: pd.DataFrame, side: Side):
    return frame[side].reset_index(drop=True) if isinstance(side, str) else side.value


def _side_json(side: Side) -> Any:
    if isinstance(side, str):
        return side
    value = side.value
    if isinstance(value, pd.Timestamp):
        return {"value": value.isoformat()}
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _side_from_json(data: Any) -> Side:
    if isinstance(data, str):
        return data
    if isinstance(data, dict):
        return Value(data["value"])
    return Value(data)


def _ordered_family(schema: "Schema", names: tuple[str, ...], where: str) -> str:
    kinds = {_column(schema, name, where).kind.value for name in names}
    bad = [n for n in names if schema[n].kind.value not in _ORDERED]
    if bad:
        raise SchemaError(f"{where}: columns {preview(bad)} are not numeric or datetime; comparisons need ordered values")
    if len(kinds) > 1:
        raise SchemaError(f"{where}: compares numeric with datetime columns; compare columns of one kind")
    zones = {schema[name].timezone for name in names}
    if len(zones) > 1:
        # Datetimes are compared as clock times of their zones: 14:26 in Paris is before 12:59 UTC
        # by the clock, not in time (every real row broke start < end).
        shown = ", ".join(f"{name!r} {schema[name].timezone or 'no timezone (UTC)'}" for name in names)
        raise SchemaError(f"{where}: compares datetime columns of different time zones ({shown}), whose clock times do "
                          f"not compare as instants; give them one timezone")
    return kinds.pop()


def _zone(schema: "Schema", names: tuple[str, ...]):
    """The time zone of the datetime columns a rule compares (their ``timezone``; ``None`` for
    UTC), whose clock times a constant with an offset is converted to."""
    from synthvae.schema import time_zone

    zones = {schema[name].timezone for name in names}
    return time_zone(zones.pop()) if len(zones) == 1 else None


def _unit(schema: "Schema", names: tuple[str, ...]) -> str | None:
    """The duration unit the numeric columns a rule compares share (``None``: none, or several),
    in which a constant given as a duration ("30s", "0 days 00:10:00") is read."""
    units = {schema[name].duration for name in names}
    return units.pop() if len(units) == 1 else None


def _typed_side(side: Side, family: str, where: str, zone=None, unit: str | None = None) -> Side:
    if isinstance(side, str):
        return side
    value = side.value
    if unit is not None and isinstance(value, str):
        from synthvae.validation import text_duration

        number = text_duration(value, unit)
        if number is None:
            raise SchemaError(f"{where}: constant {value!r} is not a duration (text such as '30s' or '0 days 00:10:00') "
                              f"nor a number of the columns' unit {unit!r}")
        return Value(number)
    if family == "datetime":
        if isinstance(value, (bool, int, float, np.number)):
            # pd.Timestamp(2016) is 2016 nanoseconds after 1970, not the year 2016.
            raise SchemaError(f"{where}: constant {value!r} of a datetime column is a number, not a date; "
                              f"write it as ISO 8601 text, e.g. {{\"value\": \"2016-01-01\"}}")
        try:
            stamp = pd.Timestamp(value)
        except (TypeError, ValueError):
            raise SchemaError(f"{where}: constant {value!r} is not a datetime") from None
        if not pd.isna(stamp):
            from synthvae.schema import wall_time

            stamp = wall_time(stamp, zone)
        if pd.isna(stamp) or not pd.Timestamp.min <= stamp <= pd.Timestamp.max:
            # 9999-12-31 loaded, then fit failed with a raw OverflowError.
            raise SchemaError(f"{where}: constant {value!r} lies beyond the datetimes a fit holds "
                              f"({pd.Timestamp.min.date()} to {pd.Timestamp.max.date()}); give a date within them")
        return Value(stamp)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SchemaError(f"{where}: constant {value!r} is not a finite number")
    return Value(float(value))


def _column(schema: "Schema", name: str, where: str) -> "Column":
    if not isinstance(name, str) or name not in schema.names:
        # The closest names first ("balanse": did you mean 'balance'?), as conditions say it.
        close = difflib.get_close_matches(str(name), list(schema.names), n=2, cutoff=0.6)
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        raise SchemaError(f"{where}: unknown column {name!r}{hint}; the schema has columns {preview(schema.names)}")
    return schema[name]


# -------------------------------------------------------------- groups of columns
@dataclass(frozen=True)
class FixedCombinations(Constraint):
    """Only the combinations of values of these (categorical or boolean) columns that occur in
    the real data may occur in synthetic rows. The real data defines the combinations, so it
    cannot break the rule; the fitted model holds them (see :mod:`synthvae.constraints.plan`)."""

    group: tuple[str, ...]
    kind = ConstraintKind.FIXED_COMBINATIONS

    @property
    def columns(self) -> tuple[str, ...]:
        return self.group

    def describe(self) -> str:
        return f"fixed combinations of {', '.join(self.group)}"

    def to_dict(self) -> dict:
        return {"kind": self.kind.value, "columns": list(self.group)}

    def validate(self, schema: "Schema") -> "FixedCombinations":
        where = f"constraint {self.describe()!r}"
        _distinct(self.group, 2, where)
        for name in self.group:
            if _column(schema, name, where).kind.value not in ("categorical", "boolean"):
                raise SchemaError(f"{where}: column {name!r} is {schema[name].kind.value}; combinations are of categorical or boolean columns")
        return self

    def broken(self, frame: pd.DataFrame, allowed: set[tuple] | None = None) -> np.ndarray:
        """Rows whose combination is not in ``allowed`` (none when ``allowed`` is not known)."""
        if allowed is None:
            return np.zeros(len(frame), dtype=bool)
        keys = combination_keys(frame, self.group)
        return ~np.fromiter((k in allowed for k in keys), dtype=bool, count=len(keys))


def combination_keys(frame: pd.DataFrame, group: tuple[str, ...]) -> list[tuple]:
    """Each row's combination of values of ``group`` (nulls as ``None``), as hashable tuples."""
    parts = [frame[name].astype(object).where(frame[name].notna(), None).tolist() for name in group]
    return list(zip(*parts))


@dataclass(frozen=True)
class Unique(Constraint):
    """No two rows share their values of these columns (rows with a null among them are not compared)."""

    group: tuple[str, ...]
    kind = ConstraintKind.UNIQUE

    @property
    def columns(self) -> tuple[str, ...]:
        return self.group

    def describe(self) -> str:
        return f"unique {', '.join(self.group)}"

    def to_dict(self) -> dict:
        return {"kind": self.kind.value, "columns": list(self.group)}

    def validate(self, schema: "Schema") -> "Unique":
        where = f"constraint {self.describe()!r}"
        _distinct(self.group, 1, where)
        for name in self.group:
            _column(schema, name, where)
        return self

    def broken(self, frame: pd.DataFrame) -> np.ndarray:
        """Second and later occurrences of a combination."""
        part = frame[list(self.group)]
        present = part.notna().all(axis=1).to_numpy()
        return part.duplicated(keep="first").to_numpy() & present


def _distinct(group: tuple[str, ...], least: int, where: str) -> None:
    if len(group) < least:
        raise SchemaError(f"{where}: needs at least {least} column{'s' if least > 1 else ''}")
    if len(set(group)) != len(group):
        raise SchemaError(f"{where}: a column is listed twice")


# ------------------------------------------------------------------ one column
@dataclass(frozen=True)
class Derived(Constraint):
    """``column`` equals ``expression`` of other columns (within ``tolerance``): it is computed,
    never sampled. Where an input is null the column must be null too.

    ``tolerance`` defaults to one step of the column's grid (``10 ** -decimals`` for a rounded
    float, 0.5 for an integer), 1e-9 relative otherwise."""

    column: str
    expression: Expression
    tolerance: float | None = None
    kind = ConstraintKind.DERIVED

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column, *self.inputs)

    @property
    def inputs(self) -> tuple[str, ...]:
        """The columns the expression reads."""
        return tuple(dict.fromkeys(self.expression.columns + self.expression.datetime_columns))

    def describe(self) -> str:
        return f"{self.column} = {self.expression.text}"

    def to_dict(self) -> dict:
        out = {"kind": self.kind.value, "column": self.column, "expression": self.expression.text}
        if self.tolerance is not None:
            out["tolerance"] = self.tolerance
        return out

    def validate(self, schema: "Schema") -> "Derived":
        where = f"constraint {self.describe()!r}"
        target = _column(schema, self.column, where)
        if target.kind.value != "numeric":
            raise SchemaError(f"{where}: the derived column {self.column!r} must be numeric, not {target.kind.value}")
        if self.column in self.inputs:
            raise SchemaError(f"{where}: the expression reads the column it defines")
        if not self.inputs:
            raise SchemaError(f"{where}: the expression reads no column; a constant column needs no rule")
        for name in self.expression.columns:
            if _column(schema, name, where).kind.value not in ("numeric", "boolean"):
                raise SchemaError(
                    f"{where}: column {name!r} is {schema[name].kind.value}; arithmetic takes numeric or boolean "
                    "columns (datetime columns through year(), month(), ...)"
                )
        for name in self.expression.datetime_columns:
            if _column(schema, name, where).kind.value != "datetime":
                raise SchemaError(f"{where}: {name!r} is not a datetime column, so year(), month(), ... cannot read it")
        if self.tolerance is not None and not (isinstance(self.tolerance, (int, float)) and self.tolerance >= 0):
            raise SchemaError(f"{where}: tolerance must be a non-negative number")
        return self

    def values(self, frame: pd.DataFrame) -> np.ndarray:
        """The expression over the table's rows (float64, NaN where an input is null)."""
        return self.expression.evaluate({name: frame[name].reset_index(drop=True) for name in self.inputs})

    def tolerance_for(self, column: "Column") -> float:
        """The tolerance the rule allows for its column."""
        if self.tolerance is not None:
            return float(self.tolerance)
        if column.is_integer:
            return 0.5
        if column.decimals is not None:
            return 10.0 ** -column.decimals * (1 + 1e-6)
        return 0.0

    def broken(self, frame: pd.DataFrame, column: "Column | None" = None) -> np.ndarray:
        expected = self.values(frame)
        actual = frame[self.column].to_numpy(dtype=np.float64, na_value=np.nan)
        tolerance = self.tolerance_for(column) if column is not None else (self.tolerance or 0.0)
        with np.errstate(invalid="ignore", over="ignore"):
            scale = np.maximum(np.abs(expected), 1.0) * 1e-9
            off = np.abs(actual - expected) > np.maximum(tolerance, scale)
        # An infinite expected value (a / 0) matches no value: its relative slack was infinite,
        # so every row passed, and sampling then dropped all such rows as beyond the bounds.
        endless = np.isinf(expected) & ~np.isnan(actual)
        return (np.isnan(expected) != np.isnan(actual)) | (off & ~np.isnan(expected)) | endless


@dataclass(frozen=True)
class Regex(Constraint):
    """Every (non-null) value of a text-like column matches ``pattern`` in full."""

    column: str
    pattern: str
    kind = ConstraintKind.REGEX

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def describe(self) -> str:
        return f"{self.column} matches /{self.pattern}/"

    def to_dict(self) -> dict:
        return {"kind": self.kind.value, "column": self.column, "pattern": self.pattern}

    def validate(self, schema: "Schema") -> "Regex":
        where = f"constraint {self.describe()!r}"
        column = _column(schema, self.column, where)
        try:
            re.compile(self.pattern)  # the syntax, checked
        except re.error as exc:
            raise SchemaError(f"{where}: the pattern is not a regular expression: {exc}") from None
        if _nested_repeat(self.pattern):
            # Python's matcher backtracks: (a+)+ took 76 s on one category of 31 characters when
            # a model file was loaded, twice as long for each character more.
            raise SchemaError(f"{where}: the pattern repeats a part that itself repeats without bound, which "
                              f"can take exponential time on some text; write it without the nested repetition "
                              f"(for example (a+)+ as a+, (\\w+\\s?)+ as [\\w\\s]+)")
        if column.kind.value == "categorical":
            texts = [str(c) for c in column.categories]
            bad = [c for c, ok in zip(column.categories, pattern_matches(self.pattern, texts, where, total=True)) if not ok]
            if bad:
                raise SchemaError(f"{where}: categories {preview(bad)} do not match; fix them or the pattern")
        elif column.kind.value == "id":
            if column.type is None or column.type.value != "string":
                raise SchemaError(f"{where}: {self.column!r} is an integer id; a pattern needs a string id (type: string)")
        elif column.kind.value != "personal":
            raise SchemaError(f"{where}: {self.column!r} is {column.kind.value}; patterns are for categorical, id and personal columns")
        return self

    def broken(self, frame: pd.DataFrame) -> np.ndarray:
        values = frame[self.column]
        present = values.notna().to_numpy()
        text = values[present].astype(str).tolist()
        ok = np.ones(len(values), dtype=bool)
        ok[present] = pattern_matches(self.pattern, text, f"constraint {self.describe()!r}")
        return ~ok


# The most seconds a rule's pattern may take: on one value, or (``total``) on a schema's
# categories, checked when a schema or model file is read.
PATTERN_SECONDS = 2.0
_GUARDED = 1000  # distinct values a check of sampled rows matches under the time limit


def pattern_matches(pattern: str, texts: list[str], where: str, total: bool = False) -> list[bool]:
    """Whether each text matches ``pattern`` whole, by Python's ``re``, after the ``regex``
    module has matched it within a time limit: Python's matcher backtracks without one, and a
    crafted model file's pattern that repeats overlapping choices, ``(a|a)*``, hung its load on
    one category of 40 characters (a user review; nested repeats are refused earlier, by their
    shape). ``regex`` only guards: its ``\\w`` and ``\\s`` differ from ``re``'s on some characters
    (``²``), and a category "10 m²" under ``[\\w ]+`` would have been refused. Each distinct text
    is matched once, and only the first :data:`_GUARDED` under the guard unless ``total`` (a
    pattern that backtracks does so on the first values; the guard took the check of 500,000
    sampled values from 0.14 to 0.8 s).

    Raises:
        SchemaError: The pattern took more than :data:`PATTERN_SECONDS` on a value (with
            ``total``: on them all)."""
    checked = re.compile(pattern)
    try:
        guard = regex.compile(pattern)
    except regex.error:  # a pattern re reads and regex does not: its shape was checked
        guard = None
    deadline = time.monotonic() + PATTERN_SECONDS
    found: dict[str, bool] = {}
    for count, text in enumerate(dict.fromkeys(texts)):
        if guard is not None and (total or count < _GUARDED):
            limit = max(deadline - time.monotonic(), 1e-3) if total else PATTERN_SECONDS
            try:
                guard.fullmatch(text, timeout=limit)
            except TimeoutError:
                raise SchemaError(f"{where}: the pattern took more than {PATTERN_SECONDS:g} s to match "
                                  f"{text[:40] + ('...' if len(text) > 40 else '')!r}: it backtracks over overlapping "
                                  f"choices or repeats ((a|a)*, \\w*\\w*); write it so that each character can be "
                                  f"matched one way only") from None
        found[text] = checked.fullmatch(text) is not None
    return [found[text] for text in texts]


def _nested_repeat(pattern: str) -> bool:
    """Whether ``pattern`` repeats a part that holds an unbounded repetition (the shape of
    catastrophic backtracking: ``(a+)+``, ``(\\w+\\s?)*``). Bounded inner counts
    (``(\\d{3}-)+``), atomic groups and possessive repeats are fine."""
    parser = _regex_parser()
    repeats = (parser.MAX_REPEAT, parser.MIN_REPEAT)

    def unbounded_inside(items) -> bool:
        for op, arg in items:
            if op is getattr(parser, "ATOMIC_GROUP", None):
                continue  # never backtracked into, nor a possessive repeat below
            if (op in repeats and arg[1] == parser.MAXREPEAT) or any(unbounded_inside(sub) for sub in _children(parser, op, arg)):
                return True
        return False

    def search(items) -> bool:
        for op, arg in items:
            if (op in repeats and arg[1] > 1 and unbounded_inside(arg[2])) or any(search(sub) for sub in _children(parser, op, arg)):
                return True
        return False

    try:
        return search(parser.parse(pattern))
    except re.error:
        return False


def _regex_parser():
    """Python's parser of regular expressions (``re._parser``; ``sre_parse`` before 3.11)."""
    try:
        from re import _parser
    except ImportError:  # Python 3.10
        import sre_parse as _parser
    return _parser


def _children(parser, op, arg) -> list:
    """The sub-patterns of one parsed regular-expression item."""
    if op in (parser.MAX_REPEAT, parser.MIN_REPEAT, getattr(parser, "POSSESSIVE_REPEAT", None)):
        return [arg[2]]
    if op is parser.SUBPATTERN:
        return [arg[3]]
    if op is parser.BRANCH:
        return list(arg[1])
    if op in (parser.ASSERT, parser.ASSERT_NOT):
        return [arg[1]]
    if op is getattr(parser, "ATOMIC_GROUP", None):
        return [arg]
    return []


@dataclass(frozen=True)
class NullWhen(Constraint):
    """``column`` is null on every row where ``when`` holds one of ``values``: a structural null
    (the joint income of an individual application), not an unknown value. A row where ``when``
    is null is not checked; elsewhere ``column`` may be null or not (a null there is an unknown
    value, unless the column's ``meaningful_nulls`` says otherwise), or, with ``exactly``, is
    never null (every joint application has a joint income)."""

    column: str
    when: str
    values: tuple
    exactly: bool = False
    kind = ConstraintKind.NULL_WHEN

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column, self.when)

    def describe(self) -> str:
        values = list(self.values)
        shown = f"is {values[0]!r}" if len(values) == 1 else f"is one of {values!r}"
        return f"{self.column} is null where {self.when} {shown}" + (", and only there" if self.exactly else "")

    def to_dict(self) -> dict:
        out = {"kind": self.kind.value, "column": self.column, "when": self.when, "values": list(self.values)}
        return {**out, "exactly": True} if self.exactly else out

    def validate(self, schema: "Schema") -> "NullWhen":
        where = f"constraint {self.describe()!r}"
        _distinct((self.column, self.when), 2, where)
        column, when = _column(schema, self.column, where), _column(schema, self.when, where)
        if not column.nullable:
            raise SchemaError(f"{where}: column {self.column!r} is not nullable; set nullable: true on it")
        allowed = when.choices
        if allowed is None:
            raise SchemaError(f"{where}: column {self.when!r} is {when.kind.value}; 'when' is a categorical or boolean column")
        typed = []
        for value in self.values:
            match = [a for a in allowed if a == value and isinstance(a, bool) == isinstance(value, bool)]
            if not match:
                raise SchemaError(f"{where}: {value!r} is not a value of {self.when!r} ({preview(list(allowed))})")
            typed.append(match[0])
        if len(set(typed)) != len(typed):
            raise SchemaError(f"{where}: values repeat; list each value once")
        if len(typed) == len(allowed):
            raise SchemaError(f"{where}: the values are every value of {self.when!r}, so {self.column!r} would always "
                              f"be null; leave a value out, or drop the column")
        return NullWhen(self.column, self.when, tuple(typed), bool(self.exactly))

    def structural(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows where ``column`` must be null (``when`` holds one of ``values``)."""
        return frame[self.when].isin(list(self.values)).to_numpy(dtype=bool)

    def broken(self, frame: pd.DataFrame) -> np.ndarray:
        structural, present = self.structural(frame), frame[self.column].notna().to_numpy()
        if not self.exactly:
            return structural & present
        return np.where(structural, present, ~present & frame[self.when].notna().to_numpy())


@dataclass(frozen=True)
class Lookup(Constraint):
    """``column`` (numeric) holds, for each combination of values of ``keys`` (categorical or
    boolean columns), only values the real rows hold with that combination: a route's
    distance, a product's list price, a plan's monthly fee. The real data defines the values, so
    it cannot break the rule; the fitted model holds them (see
    :mod:`synthvae.constraints.plan`): the model learns the column, and each sampled value
    becomes the nearest of those its keys held."""

    column: str
    keys: tuple[str, ...]
    kind = ConstraintKind.LOOKUP

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.keys, self.column)

    def describe(self) -> str:
        return f"{self.column} is looked up by {', '.join(self.keys)}"

    def to_dict(self) -> dict:
        return {"kind": self.kind.value, "column": self.column, "keys": list(self.keys)}

    def validate(self, schema: "Schema") -> "Lookup":
        where = f"constraint {self.describe()!r}"
        _distinct((*self.keys, self.column), 2, where)
        if _column(schema, self.column, where).kind.value != "numeric":
            raise SchemaError(f"{where}: column {self.column!r} is {schema[self.column].kind.value}; a looked-up column is "
                              f"numeric (a category that others fix is kept by a fixed_combinations rule)")
        for name in self.keys:
            if _column(schema, name, where).kind.value not in ("categorical", "boolean"):
                raise SchemaError(f"{where}: key {name!r} is {schema[name].kind.value}; keys are categorical or boolean columns")
        return self

    def broken(self, frame: pd.DataFrame, values: dict[tuple, np.ndarray] | None = None) -> np.ndarray:
        """Rows whose value is not one ``values`` holds for their keys (none when ``values``,
        per combination of the keys the sorted values seen with it, NaN last where it was
        null, is not known); a null breaks it where the keys' rows never were, and is not
        checked for keys never seen."""
        if values is None:
            return np.zeros(len(frame), dtype=bool)
        numbers = pd.to_numeric(frame[self.column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        held = list(values.values())
        position = key_positions(frame, self.keys, list(values))
        out = (position < 0) & ~np.isnan(numbers)
        for at, rows in rows_by_position(position):
            null = np.isnan(numbers[rows])
            out[rows] = np.where(null, not (held[at].size and np.isnan(held[at][-1])), ~np.isin(numbers[rows], held[at]))
        return out


def rows_by_key(keys: list[tuple]) -> dict[tuple, np.ndarray]:
    """The row numbers of each distinct combination in ``keys``."""
    codes, distinct = pd.factorize(pd.Series(keys, dtype=object), use_na_sentinel=False)
    return {distinct[at]: rows for at, rows in rows_by_position(codes)}


def key_positions(frame, columns: tuple[str, ...], known: list[tuple]) -> np.ndarray:
    """For each row of ``frame`` (a table, or a dict of its columns as Series), the position in
    ``known`` of its combination of ``columns``' values (nulls as ``None``, as
    :func:`combination_keys` writes them), or -1 where it is not there; column by column,
    without a tuple a row (tuples took a tenth of a sample's time on flights)."""
    rows = len(frame[columns[0]])
    if not known:
        return np.full(rows, -1, dtype=np.int64)
    combined, known_combined = np.zeros(rows, dtype=np.int64), np.zeros(len(known), dtype=np.int64)
    found = np.ones(rows, dtype=bool)
    for j, name in enumerate(columns):
        levels = list(dict.fromkeys(key[j] for key in known if key[j] is not None))
        level = {value: i for i, value in enumerate(levels)}
        null_code = len(levels) if any(key[j] is None for key in known) else -1
        series = frame[name]
        null = series.isna().to_numpy(dtype=bool)
        # An index of the levels' own type: a hash table of pandas' (of Python objects, 16x slower)
        codes = np.where(null, null_code, pd.Index(levels).get_indexer(series)).astype(np.int64)
        found &= codes >= 0
        stride = len(levels) + 1
        combined = combined * stride + codes
        known_combined = known_combined * stride + np.array(
            [null_code if key[j] is None else level[key[j]] for key in known], dtype=np.int64)
    position = pd.Index(known_combined).get_indexer(combined)
    return np.where(found, position, -1)


def rows_by_position(position: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """For each distinct position >= 0 in ``position`` (a row's number among some keys), the
    row numbers that hold it."""
    order = np.argsort(position, kind="stable")
    ordered = position[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if ordered.size else np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], ordered.size]
    return [(int(ordered[a]), order[a:b]) for a, b in zip(starts, ends) if ordered[a] >= 0]


# ------------------------------------------------------------------ JSON
def constraint_from_dict(data: dict) -> Constraint:
    """Build one rule from its (JSON-Schema-valid) dict."""
    kind = ConstraintKind(data["kind"])
    if kind is ConstraintKind.INEQUALITY:
        return Inequality(_side_from_json(data["low"]), _side_from_json(data["high"]), bool(data.get("strict", False)))
    if kind is ConstraintKind.RANGE:
        return Range(data["column"], _side_from_json(data["low"]), _side_from_json(data["high"]), bool(data.get("strict", False)))
    if kind is ConstraintKind.FIXED_COMBINATIONS:
        return FixedCombinations(tuple(data["columns"]))
    if kind is ConstraintKind.UNIQUE:
        return Unique(tuple(data["columns"]))
    if kind is ConstraintKind.DERIVED:
        where = f"constraint on {data['column']!r}"
        return Derived(data["column"], Expression.parse(data["expression"], where), data.get("tolerance"))
    if kind is ConstraintKind.NULL_WHEN:
        return NullWhen(data["column"], data["when"], tuple(data["values"]), bool(data.get("exactly", False)))
    if kind is ConstraintKind.LOOKUP:
        return Lookup(data["column"], tuple(data["keys"]))
    return Regex(data["column"], data["pattern"])


def check_constraints(schema: "Schema", constraints: tuple[Constraint, ...]) -> tuple[Constraint, ...]:
    """Validate every rule against the schema, and that no column is derived twice or in a cycle.

    Returns:
        The rules with their constants typed.
    """
    checked = tuple(c.validate(schema) for c in constraints)
    derived = [c for c in checked if isinstance(c, Derived)]
    targets = [c.column for c in derived]
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise SchemaError(f"columns {preview(twice)} are derived by more than one constraint; keep one")
    generated = [n for c in checked if not isinstance(c, (Unique, Regex)) for n in c.columns if schema[n].is_generated]
    if generated:
        raise SchemaError(
            f"constraints name the regenerated (id or personal) columns {preview(sorted(set(generated)))}; only unique "
            "and regex rules apply to them"
        )
    looked = [c.column for c in checked if isinstance(c, Lookup)]
    twice = sorted({t for t in looked if looked.count(t) > 1})
    if twice:
        raise SchemaError(f"columns {preview(twice)} are looked up by more than one constraint; keep one")
    computed = sorted(set(looked) & set(targets))
    if computed:
        # The lookup would move a computed value off its expression, and every row be drawn again.
        raise SchemaError(f"columns {preview(computed)} are both derived and looked up; keep one of the two rules")
    derivation_order(derived)
    _refuse_strict_cycles(checked)
    return checked


def _refuse_strict_cycles(rules: tuple[Constraint, ...]) -> None:
    """Refuse inequalities and ranges between columns that close a cycle holding a strict step
    (``a < b`` with ``b < a``; ``a < b``, ``b <= c``, ``c <= a``): no row can meet them, yet they
    passed, and fit refused every row advising to fix the rows (a user review)."""
    edges: dict[str, list[tuple[str, Constraint, bool]]] = {}
    for rule in rules:
        steps = ([(rule.low, rule.high)] if isinstance(rule, Inequality) else
                 [(rule.low, rule.column), (rule.column, rule.high)] if isinstance(rule, Range) else [])
        for low, high in steps:
            if isinstance(low, str) and isinstance(high, str):
                edges.setdefault(low, []).append((high, rule, bool(rule.strict)))
    for start, outgoing in edges.items():
        for first, rule, strict in outgoing:
            if not strict:
                continue
            # A path back from the strict step's end to its start closes a cycle no row meets.
            came: dict[str, Constraint] = {first: rule}
            queue = [first]
            while queue:
                node = queue.pop(0)
                if node == start:
                    path, at = [], start
                    while True:
                        step = came[at]
                        path.append(step.describe())
                        at = step.low if isinstance(step, Inequality) or at == step.column else step.column
                        if step is rule:
                            break
                    raise SchemaError(f"constraints {preview(list(dict.fromkeys(reversed(path))))} order their columns in a "
                                      f"cycle with a strict step, which no row can meet; remove or correct one of them")
                for following, step, _ in edges.get(node, ()):
                    if following not in came:
                        came[following] = step
                        queue.append(following)


def derivation_order(derived: list[Derived]) -> list[Derived]:
    """Derived rules in an order where each reads only columns computed before it."""
    by_target = {c.column: c for c in derived}
    order: list[Derived] = []
    state: dict[str, int] = {}

    def visit(rule: Derived, path: list[str]) -> None:
        if state.get(rule.column) == 2:
            return
        if state.get(rule.column) == 1:
            raise SchemaError(f"derived columns depend on each other in a cycle: {' -> '.join(path + [rule.column])}")
        state[rule.column] = 1
        for name in rule.inputs:
            if name in by_target:
                visit(by_target[name], path + [rule.column])
        state[rule.column] = 2
        order.append(rule)

    for rule in derived:
        visit(rule, [])
    return order

