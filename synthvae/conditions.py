"""Conditions on column values for conditional sampling: parsed, typed and checked against a schema.

A condition fixes one column to a value, to one of several values, or (numeric, datetime and
ordered categorical columns) to a range. They come from Python::

    {"species": "Adelie"}                     # equal to
    {"island": ["Biscoe", "Dream"]}           # one of
    {"body_mass_g": {">=": 4000, "<": 5000}}  # a range (operators >, >=, <, <=, ==, in)

or as text, as the CLI's repeatable ``--condition`` gives them: ``"species=Adelie"``,
``"body_mass_g>=4000"``. Several conditions on one column combine: values by union (``a=x``,
``a=y`` means x or y), bounds and exclusions by intersection (``a!=x``, ``a!=y`` means neither;
``a=x``, ``a=y``, ``a!=y`` means x). Impossible conditions (an unknown column or
category, an empty range) raise :class:`~synthvae.errors.ParameterError` naming the column and
the values. Whether the *training data* holds rows that satisfy a condition is for the codecs to
say (:meth:`~synthvae.preprocessing.codecs.ColumnCodec.draw_given`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import math
import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from synthvae.errors import ParameterError, preview, shown
from synthvae.schema import Column, ColumnKind, Schema, time_zone, unit_length, wall_time
from synthvae.validation import text_duration

logger = logging.getLogger(__name__)

_DATE_PART = re.compile(r"%[YymdbBjaAUWxc]")  # strftime directives of a date

_OPERATORS = (">=", "<=", "==", "!=", ">", "<", "=")
_TEXT_TRUE = {"true", "t", "yes", "y", "1"}
_TEXT_FALSE = {"false", "f", "no", "n", "0"}

ConditionsLike = Mapping[str, Any] | Iterable[str] | None


@dataclass(frozen=True)
class Condition:
    """What one column must satisfy.

    Attributes:
        column: The column's name.
        values: Allowed values (categorical and boolean columns, or exact numeric values), in
            the column's own type; ``None`` when the condition is a range.
        low: Lower bound of a numeric or datetime range (``None``: unbounded).
        high: Upper bound.
        low_strict: The lower bound itself is excluded (``>``).
        high_strict: The upper bound itself is excluded (``<``).
        stands_for: For one value of a float column the model learns, the values ``(low,
            high)`` it stands for: the model draws rows given that the column lies there, as it
            would have to draw the value to give the row, not given the point alone (a
            calendar datetime's day pins the cosine and sine of its angle, each standing for
            the day's arc; see :meth:`synthvae.generation.Generator.sample_conditional`).
    """

    column: str
    values: tuple | None = None
    low: Any = None
    high: Any = None
    low_strict: bool = False
    high_strict: bool = False
    stands_for: tuple[float, float] | None = None
    # How messages name it, where it stands for the user's own conditions (those on the members
    # of a fixed combination, as a condition on the combination column the model learns).
    label: str | None = None

    @property
    def is_exact(self) -> bool:
        """Whether the condition names one value: every row gets exactly that value."""
        return self.values is not None and len(self.values) == 1

    @property
    def distinct_values(self) -> list:
        """The values once each, in order, nulls left out (none for a range)."""
        return list(dict.fromkeys(v for v in (self.values or ()) if v is not None and not pd.isna(v)))

    def describe(self) -> str:
        """Human-readable form for messages: ``age >= 40``, ``island in ['Biscoe', 'Dream']``."""
        if self.label is not None:
            return self.label
        if self.values is not None:
            if self.is_exact:
                return f"{self.column} = {shown(self.values[0])}"
            return f"{self.column} in {preview(list(self.values))}"
        parts = []
        if self.low is not None:
            parts.append(f"{self.column} {'>' if self.low_strict else '>='} {self.low}")
        if self.high is not None:
            parts.append(f"{self.column} {'<' if self.high_strict else '<='} {self.high}")
        return " and ".join(parts)


def parse_conditions(conditions: ConditionsLike, schema: Schema) -> list[Condition]:
    """Turn user conditions into one checked :class:`Condition` per column, in schema order.

    Args:
        conditions: A mapping ``{column: value | [values] | {op: value}}``, an iterable of
            ``"column OP value"`` strings, or ``None``.
        schema: The fitted model's schema.

    Raises:
        ParameterError: Unknown column, id column, value of the wrong type, unknown category,
            range on an unordered column, or an empty range.
    """
    if conditions is None:
        return []
    clauses: list[tuple[str, str, Any]] = []
    if isinstance(conditions, Mapping):
        for name, spec in conditions.items():
            clauses.extend(_clauses_of(str(name), spec))
    elif isinstance(conditions, (str, bytes)):
        raise ParameterError("conditions must be a mapping or a list of 'column=value' strings, not one string")
    else:
        for text in conditions:
            clauses.append(_parse_text(str(text), schema))
    merged: dict[str, Condition] = {}
    excluded: dict[str, list] = {}
    for name, op, value in clauses:
        column = _column(schema, name)
        if op == "!=":
            # Exclusions hold together with everything else on the column: joined by union
            # like values, `a!=x`, `a!=y` allowed every category.
            excluded.setdefault(name, []).append(_excluded(column, value))
        else:
            merged[name] = _merge(merged.get(name), _condition(column, op, value))
    out = []
    for column in schema:
        if column.name in merged or column.name in excluded:
            condition = merged.get(column.name) or Condition(column.name, values=column.choices)
            out.append(_finish(column, condition, excluded.get(column.name, [])))
    return out


def _clauses_of(name: str, spec: Any) -> list[tuple[str, str, Any]]:
    if isinstance(spec, Mapping):
        if not spec:  # {"state": {}} was taken as no condition at all
            raise ParameterError(f"condition on {name!r} is empty ({{}}); give a value, a list of values or {{operator: value}}, "
                                 f"or leave the column out")
        clauses = []
        for op, value in spec.items():
            if op not in (*_OPERATORS, "in"):
                raise ParameterError(f"condition on {name!r}: unknown operator {op!r}; use one of >, >=, <, <=, ==, !=, in")
            if op == "in":
                clauses.extend((name, "=", v) for v in _as_list(value, name))
            elif op == "!=" and _is_several(value):  # {"!=": [a, b]}: neither a nor b (all clauses hold)
                clauses.extend((name, "!=", v) for v in _as_list(value, name))
            else:
                clauses.append((name, op, value))
        return clauses
    if _is_several(spec):
        return [(name, "=", v) for v in _as_list(spec, name)]
    return [(name, "=", spec)]


def _is_several(value: Any) -> bool:
    """Whether a condition's value is a collection of values: a list, tuple or set, and also a
    numpy array, pandas Series, Index or array (``df.col.unique()``), which crashed with
    numpy's "truth value of an array is ambiguous"."""
    if isinstance(value, (list, tuple, set, frozenset, pd.Series, pd.Index, pd.api.extensions.ExtensionArray)):
        return True
    return isinstance(value, np.ndarray) and value.ndim > 0


def _as_list(value: Any, name: str) -> list:
    values = list(value) if _is_several(value) else [value]
    if not values:
        raise ParameterError(f"condition on {name!r}: an empty list of values can match no row")
    return values


def _parse_text(text: str, schema: Schema) -> tuple[str, str, str]:
    """``"age>=40"`` -> ``("age", ">=", "40")``; the longest schema name wins (names may hold ``<``).
    Spaces around the condition, the operator and the value are ignored (a shell may leave
    them); a name or a value in quotes or backticks (`` ` spaced `="a b "``) is taken as
    written, spaces and all (a column or category with edge spaces could not be named)."""
    text = text.strip()
    for name in sorted(schema.names, key=len, reverse=True):
        for form in (name, f"`{name}`", f"'{name}'", f'"{name}"'):
            if text.startswith(form):
                rest = text[len(form) :].lstrip()
                for op in _OPERATORS:
                    if rest.startswith(op):
                        value = rest[len(op) :].strip()
                        quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "`'\""
                        return name, op, value[1:-1] if quoted else value
    match = re.match(r"^\s*(.+?)\s*(>=|<=|==|!=|=|>|<)", text)
    if match is None:
        raise ParameterError(f"cannot read condition {text!r}: write COLUMN=VALUE, or COLUMN>=VALUE (also >, <, <=, !=)")
    raise ParameterError(f"condition {text!r}: {unknown_column(match.group(1), schema.names)}")


def unknown_column(name: str, names: list[str], holder: str = "the model") -> str:
    """``unknown column 'creditabilty' (did you mean 'creditability'?); the model has columns
    [...]``: the closest names first, since the list is cut after a few (the one meant was
    hidden among "16 more")."""
    name = str(name)  # a label such as 0 (difflib raised a raw TypeError)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if not close:
        close = [n for n in names if n.lower() == name.lower()]
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    return f"unknown column {name!r}{hint}; {holder} has columns {preview(list(names))}"


def _column(schema: Schema, name: str) -> Column:
    if name not in schema.names:
        raise ParameterError(f"condition on {unknown_column(name, schema.names)}")
    column = schema[name]
    if column.is_generated:
        raise ParameterError(
            f"condition on {name!r}: {column.kind.value} columns are regenerated, not learned, so they cannot be "
            "conditioned on"
        )
    return column


_NO_MISSING = ("conditions on missing values are not supported; to get rows whose value is missing, sample more rows "
               "and keep those where it is (rows[rows[column].isna()]: the model draws nulls at their training share)")


def _refuse_missing(column: Column, raw: Any) -> None:
    """Refuse a condition on a missing value: None, NaN, or text that spells one ("none",
    "NA") unless it is a category of the column (german_credit's telephone holds "none": such
    rows could not be asked for, nor the column balanced by augment)."""
    if not (_missing_scalar(raw) or (isinstance(raw, str) and raw.lower() in ("", "null", "nan", "none", "na"))):
        return
    if isinstance(raw, str) and column.kind is ColumnKind.CATEGORICAL and raw in {str(c) for c in column.categories or ()}:
        return
    raise ParameterError(f"condition on {column.name!r}: {_NO_MISSING}")


def _missing_scalar(raw: Any) -> bool:
    """Whether ``raw`` is one missing value other than text: None, NaN (Python's or numpy's),
    ``pd.NA`` (what nullable dtypes give; its truth value raised a TypeError), NaT."""
    if raw is None or isinstance(raw, str) or np.ndim(raw) != 0:
        return raw is None
    try:
        return bool(pd.isna(raw))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class _AfterRepeat:
    """A range bound at the second pass of a repeated clock hour (autumn's change of summer time),
    which the model never gives (its clock times are given back as the summer pass): ``clock``
    is the first clock time after the repeat, whose instants lie beyond the bound's."""

    clock: pd.Timestamp


def _condition(column: Column, op: str, raw: Any) -> Condition:
    _refuse_missing(column, raw)
    value = _typed(column, raw, bound=op not in ("=", "=="))
    if isinstance(value, _AfterRepeat):
        # Instants from the bound on (or before it): clock times from the repeat's end on (or
        # before it), since every clock time within the repeat is given back as its first pass.
        # A bound given in UTC at 06:00Z (01:00 EST, New York's second 01:00) was refused.
        logger.info("condition on datetime column %r: %s falls in the second pass of a repeated clock hour, which the "
                    "model gives back as the first: rows %s", column.name, raw,
                    f"from {value.clock} on" if op in (">", ">=") else f"before {value.clock}")
        if op in (">", ">="):
            return Condition(column.name, low=value.clock, low_strict=False)
        return Condition(column.name, high=value.clock, high_strict=True)
    if op in ("=", "=="):
        return Condition(column.name, values=(value,))
    if column.kind is ColumnKind.BOOLEAN or (column.kind is ColumnKind.CATEGORICAL and not column.ordered):
        raise ParameterError(
            f"condition {column.name} {op} {raw!r}: ranges need a numeric, datetime or ordered categorical "
            f"column; list the allowed values instead"
        )
    strict = op in (">", "<")
    if op in (">", ">="):
        return Condition(column.name, low=value, low_strict=strict)
    return Condition(column.name, high=value, high_strict=strict)


def _excluded(column: Column, raw: Any) -> Any:
    """The value a ``!=`` clause excludes, in the column's own type."""
    if column.kind not in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        # "use a range" was the advice, but no one range leaves out a value between its ends.
        leave = "" if _missing_scalar(raw) else f", or give a range that leaves {shown(raw)} out"
        raise ParameterError(f"condition on {column.name!r}: != is for categorical and boolean columns; list the values to "
                             f"allow instead ({{{column.name!r}: [...]}}){leave}")
    _refuse_missing(column, raw)
    return _typed(column, raw)


def _typed(column: Column, raw: Any, bound: bool = False) -> Any:
    """The value in the column's own type, or a ParameterError naming column and value;
    ``bound``: the value bounds a range (see :class:`_AfterRepeat`)."""
    kind = column.kind
    if kind is ColumnKind.NUMERIC:
        if isinstance(raw, (bool, np.bool_)):  # {"month": True} was month = 1
            raise ParameterError(f"condition on numeric column {column.name!r}: {raw!r} is a truth value, not a number")
        if raw is pd.NaT or (isinstance(raw, np.timedelta64) and np.isnat(raw)):
            raise ParameterError(f"condition on {column.name!r}: {_NO_MISSING}")
        if isinstance(raw, np.timedelta64):
            raw = pd.Timedelta(raw)  # float() of numpy's read its ticks as a number
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = _duration_or_none(column, raw)
            if value is None:
                what = (f"a duration (a timedelta, or text such as '1 days 02:00:00' or '2h') nor a number of "
                        f"{column.duration!r}" if column.duration else "a number")
                raise ParameterError(f"condition on numeric column {column.name!r}: {raw!r} is not {what}") from None
        if math.isnan(value):
            raise ParameterError(f"condition on {column.name!r}: {_NO_MISSING}")
        return value
    if kind is ColumnKind.DATETIME:
        example = f" (e.g. {pd.Timestamp('2013-02-01 09:30').strftime(column.format)})" if column.format and "%" in column.format else ""
        try:
            # Text in the column's own format first, as the table's cells are read ("03/02/2013"
            # under "%d/%m/%Y" is February 3rd, not March 2nd), then as ISO 8601 only: other
            # text was guessed value by value, month first where it could be and day first
            # where not ("01/02/2013" January 2nd, "13/02/2013" February 13th).
            parsed = pd.to_datetime(raw, format=column.format, errors="coerce") if isinstance(raw, str) and column.format else pd.NaT
            if pd.isna(parsed) and isinstance(raw, str) and column.format and "%" in column.format and not _DATE_PART.search(column.format):
                # A time of day alone ("%H:%M"): the time also with or without seconds.
                for fmt in ("%H:%M:%S", "%H:%M"):
                    parsed = pd.to_datetime(raw.strip(), format=fmt, errors="coerce")
                    if not pd.isna(parsed):
                        break
            if isinstance(raw, dt.time):
                stamp = pd.Timestamp.combine(dt.date(1900, 1, 1), raw)  # times of day are read on 1900-01-01
            elif not pd.isna(parsed):
                stamp = pd.Timestamp(parsed)
            elif isinstance(raw, str):
                stamp = pd.Timestamp(pd.to_datetime(raw.strip(), format="ISO8601"))
            else:
                stamp = pd.Timestamp(raw)
        except (TypeError, ValueError, OverflowError):
            # A column without a format read "in the column's format None or ISO 8601" (a user review).
            written = (f"in the column's format {column.format!r}{example} or ISO 8601 (2013-02-01, 2013-02-01 09:30); "
                       f"write it in one of them") if column.format else "in ISO 8601 (2013-02-01, 2013-02-01 09:30); write it so"
            raise ParameterError(f"condition on datetime column {column.name!r}: {raw!r} is not a date or time {written}") from None
        zone = time_zone(column.timezone)
        wall = wall_time(stamp, zone)
        if stamp.tzinfo is not None and zone is None and wall != stamp.tz_localize(None):
            # Read as its UTC clock time, as conform reads such data; refused or met without a
            # word of it, 2013-02-14 in US/Pacific was "2013-02-14 08:00:00" (a user review).
            logger.warning("condition on datetime column %r: %s has a time zone, but the column has none (its values are "
                           "read as UTC): taken as %s; give a time without a zone, or the schema's column a timezone",
                           column.name, stamp, wall)
        if stamp.tzinfo is not None and zone is not None:
            summer = wall.tz_localize(zone, ambiguous=True, nonexistent="shift_forward")
            if summer != stamp and bound:
                return _AfterRepeat(_repeat_end(wall, zone))
            if summer != stamp:
                # The second 02:00 of Paris's autumn change came back as the first, an hour
                # earlier as an instant, on every row (a user review).
                raise ParameterError(
                    f"condition on datetime column {column.name!r}: {stamp} is the second {wall.strftime('%H:%M')} of a "
                    f"change of summer time in {column.timezone}, whose two clock times are one to the model, given back "
                    f"as the summer one ({summer}); ask for that one, or give a clock time without an offset")
        return wall
    if kind is ColumnKind.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TEXT_TRUE or _number_or_none(text) == 1:
            return True
        if text in _TEXT_FALSE or _number_or_none(text) == 0:
            return False
        raise ParameterError(f"condition on boolean column {column.name!r}: {raw!r} is not true or false")
    # Categorical: the category itself, or its text form (as the CLI gives it; a number
    # category also as text of the same number: area=415.0 for 415).
    number = _number_or_none(raw.strip()) if isinstance(raw, str) else None
    for category in column.categories:
        if category == raw or (isinstance(raw, str) and str(category) == raw):
            return category
    for category in column.categories:
        if number is not None and isinstance(category, (int, float, np.number)) and not isinstance(category, bool) and category == number:
            return category
    if not isinstance(raw, (str, bool, int, float, np.number)):
        # A value the table held as an object of its own (pd.cut's Interval(0, 1, closed='right')),
        # whose category is its text '(0, 1]': refused as unknown beside a list that showed it.
        for category in column.categories:
            if isinstance(category, str) and category == str(raw):
                return category
    raise ParameterError(
        f"condition on {column.name!r}: unknown category {raw!r}; the column has categories "
        f"{preview(list(column.categories))}"
    )


def _repeat_end(wall: pd.Timestamp, zone) -> pd.Timestamp:
    """The first clock time after ``wall`` (one of a repeated hour's) that ``zone`` does not
    repeat, to the minute."""
    clock = wall.floor("min") + pd.Timedelta(minutes=1)
    for _ in range(24 * 60):
        try:
            clock.tz_localize(zone, ambiguous="raise")
            return clock
        except Exception:  # noqa: BLE001 - pytz and pandas raise their own kinds of error
            clock += pd.Timedelta(minutes=1)
    return clock


def _duration_or_none(column: Column, raw: Any) -> float | None:
    """A duration column's condition value given as a duration (a timedelta, numpy's too, or
    text with a unit or clock: "1h", "0 days 01:00:00") as a number of the column's unit, or
    ``None``."""
    if not column.duration:
        return None
    if isinstance(raw, str):
        return text_duration(raw, column.duration)
    if not isinstance(raw, (dt.timedelta, np.timedelta64)) or pd.isna(raw):
        return None
    return float(pd.Timedelta(raw) / unit_length(column.duration))


def _number_or_none(text: str) -> float | None:
    """``text`` as a number (``"1.0"``, ``"0"``), or ``None``."""
    try:
        return float(text)
    except ValueError:
        return None


def intersect(a: Condition, b: Condition) -> Condition | None:
    """What both conditions on one column allow (``None``: nothing). Unlike several conditions
    on one column from the user, where values add up (see the module), both must hold."""
    if a.values is not None and b.values is not None:
        values = tuple(v for v in a.values if v in b.values)
        return Condition(a.column, values=values) if values else None
    if a.values is not None or b.values is not None:
        values, bounds = (a.values, b) if a.values is not None else (b.values, a)
        kept = tuple(v for v in values if _within(v, bounds))
        return Condition(a.column, values=kept) if kept else None
    low, low_strict = _tighter(a.low, a.low_strict, b.low, b.low_strict, max)
    high, high_strict = _tighter(a.high, a.high_strict, b.high, b.high_strict, min)
    if low is not None and high is not None and (low > high or (low == high and (low_strict or high_strict))):
        return None
    return Condition(a.column, low=low, high=high, low_strict=low_strict, high_strict=high_strict)


def _merge(old: Condition | None, new: Condition) -> Condition:
    """Two conditions from the user on one column: values by union, bounds by intersection
    (both kept, whichever clause brought them)."""
    if old is None:
        return new
    if old.values is not None and new.values is not None:
        values = tuple(dict.fromkeys(old.values + new.values))
    else:
        values = old.values if old.values is not None else new.values
    low, low_strict = _tighter(old.low, old.low_strict, new.low, new.low_strict, max)
    high, high_strict = _tighter(old.high, old.high_strict, new.high, new.high_strict, min)
    return Condition(old.column, values=values, low=low, high=high, low_strict=low_strict, high_strict=high_strict)


def _tighter(a, a_strict, b, b_strict, pick):
    if a is None:
        return b, b_strict
    if b is None:
        return a, a_strict
    if a == b:
        return a, a_strict or b_strict
    chosen = pick(a, b)
    return chosen, a_strict if chosen == a else b_strict


def _canonical(column: Column, values: tuple) -> tuple:
    """Condition values in one order whatever order they came in (a Python set's follows the
    string hash, which changes from process to process: the same seed gave other rows): the
    schema's category order, else ascending; null last."""
    position = {c: i for i, c in enumerate(column.categories or ())}

    def key(value):
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return (2, 0)
        if column.kind is ColumnKind.CATEGORICAL:
            return (0, position.get(value, len(position)))
        return (1, value)

    try:
        return tuple(sorted(dict.fromkeys(values), key=key))
    except TypeError:  # values that do not compare (left as given)
        return tuple(values)


def _finish(column: Column, condition: Condition, excluded: list = ()) -> Condition:
    """Resolve a condition to its final form: ordered ranges become value sets, values meet
    bounds, excluded values (``!=``) leave the set, and numbers within rounding of the column's
    grid become its grid points (``np.float32(20.1)`` is 20.100000381469727, ``0.1 + 0.2`` is
    0.30000000000000004: rows came back with those values, off the column's one decimal)."""
    given = condition
    has_bounds = condition.low is not None or condition.high is not None
    if column.kind is ColumnKind.CATEGORICAL and has_bounds:
        order = list(column.categories)
        pos = {c: i for i, c in enumerate(order)}
        lo = -1 if condition.low is None else pos[condition.low] + (1 if condition.low_strict else 0)
        hi = len(order) if condition.high is None else pos[condition.high] - (1 if condition.high_strict else 0)
        allowed = tuple(c for i, c in enumerate(order) if max(lo, 0) <= i <= hi)
        if condition.values is not None:
            allowed = tuple(c for c in allowed if c in condition.values)
        condition = Condition(column.name, values=allowed)
    elif has_bounds and condition.values is not None:
        kept = tuple(v for v in condition.values if _within(v, condition))
        condition = Condition(column.name, values=kept)
    if excluded:
        condition = Condition(column.name, values=tuple(v for v in condition.values if v not in excluded))
    if column.kind is ColumnKind.NUMERIC and condition.values is not None:
        condition = Condition(column.name, values=tuple(dict.fromkeys(_on_grid(column, v) for v in condition.values)))
    if condition.values is not None and not condition.values:
        bounds = replace(given, values=None).describe() if given.values is not None else ""
        every = column.categories if column.kind is ColumnKind.CATEGORICAL else (True, False)
        # Only != clauses: the values they start from are every category, which the user never wrote.
        implicit = excluded and given.values is not None and set(given.values) == set(every) and not bounds
        asked = " and ".join(filter(None, ["" if implicit else given.describe(), bounds,
                                           *(f"{column.name} != {shown(v)}" for v in excluded)]))
        order = (f"; its categories, in order: {preview(list(column.categories))}"
                 if column.kind is ColumnKind.CATEGORICAL and column.ordered else "")
        raise ParameterError(f"{asked} leave{'s' if ' and ' not in asked else ''} no value of {column.name!r}{order}; "
                             f"change the condition")
    if condition.values is not None:
        condition = replace(condition, values=_canonical(column, condition.values))
    condition = _outside_skipped_hours(column, condition)
    if condition.low is not None and condition.high is not None:
        empty = condition.low > condition.high or (
            condition.low == condition.high and (condition.low_strict or condition.high_strict)
        )
        if empty:
            raise ParameterError(f"condition {condition.describe()} is an empty range; check the bounds")
    return condition


def _outside_skipped_hours(column: Column, condition: Condition) -> Condition:
    """A condition on a datetime column of a time zone, as clock times that exist there: a
    clock time the change to summer time skips (Paris's 02:00-02:59 on its last Sunday of
    March) is refused, and a range whose upper end lies in such a gap ends before it, since the
    model's clock times there come back as the first time after it (``< 03:00`` gave rows at
    03:00, a user review). A range of skipped clock times only is refused."""
    zone = time_zone(column.timezone) if column.kind is ColumnKind.DATETIME else None
    if zone is None or (column.unit is not None and unit_length(column.unit) >= pd.Timedelta(days=1)):
        # A day exists when its midnight does not (Sao Paulo skipped 2018-11-04 00:00): a date
        # column's days come back at the gap's end, as the day (a review of the first version).
        return condition

    def gap(wall: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The skipped clock times ``[start, end)`` around ``wall``, or ``None`` if it exists."""
        if not pd.isna(wall.tz_localize(zone, ambiguous=True, nonexistent="NaT")):
            return None
        after = wall.tz_localize(zone, ambiguous=True, nonexistent="shift_forward")
        start = (after - pd.Timedelta(1, "ns")).tz_convert(zone).tz_localize(None) + pd.Timedelta(1, "ns")
        return start, after.tz_localize(None)

    def clocks(hours: tuple[pd.Timestamp, pd.Timestamp]) -> str:
        return f"{hours[0]:%H:%M} to {hours[1]:%H:%M} on {hours[0]:%Y-%m-%d}"

    for value in condition.values or ():
        hours = gap(pd.Timestamp(value))
        if hours is not None:
            raise ParameterError(f"condition on datetime column {column.name!r}: {pd.Timestamp(value)} is a clock time "
                                 f"{column.timezone} skips (its clocks go from {clocks(hours)}); ask for a time that "
                                 f"exists there")
    if condition.values is not None or condition.high is None:
        return condition
    high = pd.Timestamp(condition.high)
    hours = gap(high - pd.Timedelta(1, "ns") if condition.high_strict else high)
    if hours is None:
        return condition
    if condition.low is not None and pd.Timestamp(condition.low) >= hours[0]:
        raise ParameterError(f"condition {condition.describe()} holds only clock times {column.timezone} skips (its clocks "
                             f"go from {clocks(hours)}); ask for times that exist there")
    return replace(condition, high=hours[0], high_strict=True,
                   label=f"{condition.describe()} (before the clock times {column.timezone} skips, {clocks(hours)})")


def grid_slack(values, step: float):
    """How far a bound may lie from a point of a grid of spacing ``step`` and still be that point:
    float64's error (1e-12 relative), never more than a quarter step. A relative 1e-5
    (``np.isclose``'s default) dropped 50000 from 49999.7 < x < 50000.3."""
    return np.minimum(1e-12 * np.maximum(step, np.abs(values)), 0.25 * step)


def value_slack(values, step: float):
    """How far a value a condition names may lie from a point of a grid of spacing ``step`` and
    still be that point: float32's rounding too (1.2e-7 relative: ``np.float32(40.1)`` is
    40.099998...), never more than a quarter step. np.isclose's relative 1e-5 took 50000.3 for
    50000 on a grid of 1, so the rows did not meet the condition."""
    return np.minimum(np.maximum(grid_slack(values, step), 1.2e-7 * np.abs(values)), 0.25 * step)


def _on_grid(column: Column, value: float) -> float:
    """``value`` as the grid point of the column it is within float error of (the tolerance with
    which the codecs accept a value on the grid, :func:`value_slack`), else unchanged (the codecs
    refuse it)."""
    decimals = 0 if column.is_integer else column.decimals
    if decimals is None:
        return value
    point = round(value, decimals)
    return float(point) if abs(point - value) <= value_slack(value, 10.0**-decimals) else value


def _within(value: Any, condition: Condition) -> bool:
    if condition.low is not None and (value < condition.low or (condition.low_strict and value == condition.low)):
        return False
    if condition.high is not None and (value > condition.high or (condition.high_strict and value == condition.high)):
        return False
    return True
