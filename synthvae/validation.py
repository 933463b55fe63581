"""Check a DataFrame against a schema and convert it to the schema's canonical types.

After :func:`conform`, every column has one dtype per kind, which the codecs rely on:

=============  ==========================================================
kind           dtype after ``conform``
=============  ==========================================================
numeric        ``float64`` (NaN for nulls; integrality checked; durations as numbers of the
               column's ``duration`` unit)
categorical    ``pandas.Categorical`` with exactly the schema's categories
boolean        ``boolean`` (pandas nullable)
datetime       ``datetime64[ns]``: clock times of the column's ``timezone`` (UTC without one;
               time-zone aware input converted to it)
id             left as given (ids are regenerated, never learned)
=============  ==========================================================
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable
from decimal import Decimal

import numpy as np
import pandas as pd

from synthvae.errors import DataError, is_integer, is_real, preview, shown
from synthvae.io import CURRENCY, arrow_integers
from synthvae.schema import DATETIME_UNITS, Column, ColumnKind, Schema, time_zone, unit_length, whole_units

_TRUE = {"true", "t", "yes", "y", "1"}
_LEADING_ZERO = re.compile(r"\s*[+-]?0\d")  # "007", "02134": a code written with its zeros
_FALSE = {"false", "f", "no", "n", "0"}
# A number as people write it in text: thousands separated by commas or spaces (with a point for
# decimals), a currency symbol or code before or after it, a percent sign after it, a negative
# amount in parentheses (accounting): "1,234", "-$1,234.50", "12.5%", "6,369.62 €", "3,075.17
# USD", "97 750", "(5,986.30)". (Amounts written so were inferred as ids, their values lost.)
_AMOUNT = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_WRITTEN_NUMBER = re.compile(
    rf"\s*[+-]?\s*{CURRENCY}?\s*[+-]?{_AMOUNT}\s*{CURRENCY}?\s*%?\s*"
    rf"|\s*{CURRENCY}?\s*\(\s*{CURRENCY}?\s*{_AMOUNT}\s*{CURRENCY}?\s*\)\s*{CURRENCY}?\s*"
)
_WRITING = re.compile(rf"[\s,%()]|{CURRENCY}")


def conform(
    frame: pd.DataFrame,
    schema: Schema,
    source: str = "data",
    *,
    allow_extra: bool = False,
    check_bounds: bool = True,
    check_nulls: bool = True,
) -> pd.DataFrame:
    """Validate ``frame`` against ``schema`` and return it in canonical types and order.

    Args:
        frame: The table.
        schema: What its columns must be.
        source: Name of the table in error messages (a file name, "training data").
        allow_extra: Drop columns the schema does not list instead of refusing them.
        check_bounds: Refuse values outside the schema's min / max.
        check_nulls: Refuse nulls in columns that are not nullable (``False`` for tables whose
            nulls are to be imputed).

    Returns:
        A new DataFrame with exactly the schema's columns, in its order.

    Raises:
        DataError: A column is missing, or its values do not fit the schema; the message names
            the column and shows offending values.
    """
    frame = _named_by_text(frame, source)
    problems = _column_set_problems(frame, schema, source, allow_extra)
    if problems:
        raise DataError(problems[0])
    out = {column.name: _conform_column(frame[column.name], column, source, check_bounds, check_nulls) for column in schema}
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def check_columns(frame: pd.DataFrame, schema: Schema, source: str = "data") -> tuple[pd.DataFrame, list[str]]:
    """Check ``frame`` against ``schema`` as :func:`conform` does, without stopping at the first
    problem: what ``synthvae schema check`` reports.

    Returns:
        The columns that fit, conformed (in the schema's order, those that do not left out), and
        one message per problem: a missing or unexpected column, or a column whose values do not
        fit (types, nulls, bounds), in the words :func:`conform` raises them with.
    """
    frame = _named_by_text(frame, source)
    problems = _column_set_problems(frame, schema, source, allow_extra=False, every=True)
    out = {}
    for column in schema:
        if column.name not in frame.columns:
            continue
        try:
            out[column.name] = _conform_column(frame[column.name], column, source, True, True)
        except DataError as exc:
            problems.append(str(exc))
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame))), problems


def _named_by_text(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """``frame`` with its column labels as text, refusing what is no DataFrame or repeats a name."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{source}: expected a pandas DataFrame, got {type(frame).__name__}")
    # Schemas name columns by text; a frame may use other labels (0, 1, ... from numpy), tuples
    # of a MultiIndex included (rename(columns=str) would turn each level into text).
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    names = list(frame.columns)
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise DataError(f"{source}: duplicate column names {preview(dup)}; rename them")
    return frame


def _column_set_problems(frame: pd.DataFrame, schema: Schema, source: str, allow_extra: bool, every: bool = False) -> list[str]:
    """The schema's columns missing from ``frame``, then (unless ``allow_extra``) the frame's
    columns the schema does not list, as messages (only the first unless ``every``)."""
    names, listed = list(frame.columns), set(schema.names)
    problems = []
    missing = [c for c in schema.names if c not in frame.columns]
    if missing:
        unknown = [c for c in names if c not in listed]
        problems.append(
            f"{source}: columns {preview(missing)} are in the schema but not in the data "
            f"(the data has {preview(names)}){renamed_hint(missing, unknown)}{index_hint(missing + unknown)}; add them "
            f"to the data" + (" (empty where their values are unknown)" if all(schema[c].nullable for c in missing) else "")
        )
    extra = [c for c in names if c not in listed]
    if extra and not allow_extra and (every or not problems):
        problems.append(
            f"{source}: columns {preview(extra)} are not in the schema; add them to the schema "
            f"or drop them from the data{index_hint(extra)}"
        )
    return problems


def typed(series: pd.Series, column: Column, source: str = "data") -> pd.Series:
    """One column converted to its schema column's dtype as :func:`conform` converts it, without
    the checks of bounds and nulls: a column read for its values alone (a CSV's dates as dates).

    Raises:
        DataError: Its values do not fit the column's kind; the message names the column."""
    return _CONVERTERS[column.kind](series, column, source)


def _conform_column(series: pd.Series, column: Column, source: str, check_bounds: bool, check_nulls: bool) -> pd.Series:
    """One column of :func:`conform`: converted to its kind's dtype, its nulls and bounds checked."""
    converted = typed(series, column, source)
    if check_nulls:
        _check_nulls(series, converted, column, source)
    if check_bounds:
        refuse_out_of_bounds(converted, column, source, original=series)
        if column.step is not None and column.step > 1:
            values = converted.to_numpy(dtype=np.float64, na_value=np.nan)
            off = values[~np.isnan(values) & (np.mod(values, column.step) != 0)]
            if off.size:
                raise DataError(f"{_where(column, source)}: the schema says values are multiples of {column.step} (step) "
                                f"but found {preview([int(v) for v in np.unique(off)])}; fix the data, or change or drop the step")
    return converted


def _where(column: Column, source: str) -> str:
    return f"{source}, column {column.name!r}"


def _to_numeric(series: pd.Series, column: Column, source: str) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype("float64")
    if column.duration:
        series = _durations_as_numbers(series, column.duration)
    elif holds_durations(series):
        raise DataError(
            f"{_where(column, source)}: durations (timedelta) in a column the schema does not give a duration unit; "
            f"set \"duration\": \"s\" (or D, h, m, ms, us, ns) on it, as infer_schema does, or convert them to "
            f"numbers, e.g. with .dt.total_seconds()"
        )
    if isinstance(series.dtype, pd.PeriodDtype):
        raise DataError(
            f"{_where(column, source)}: periods ({series.dtype}) are not supported; convert them to "
            f"datetimes, e.g. with .dt.to_timestamp(), or to text with .astype(str)"
        )
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if series.notna().any():
            raise DataError(f"{_where(column, source)}: expected numbers, found datetimes such as "
                            f"{preview(series.dropna().unique()[:3])}; declare the column a datetime in the schema")
        series = pd.Series(np.nan, index=series.index)  # all NaT: pd.to_numeric made them -9.2e18
    values = read_numbers(series)
    if pd.api.types.is_complex_dtype(values.dtype):
        raise DataError(
            f"{_where(column, source)}: complex numbers are not supported; split them into two "
            f"numeric columns (real and imaginary parts)"
        )
    bad = values.isna() & series.notna()
    if bad.any() and column.duration:
        raise DataError(
            f"{_where(column, source)}: expected durations (timedeltas, or text such as '1 days 02:00:00' or '2h') or "
            f"numbers of {column.duration!r}, found {preview(series[bad].unique())}; fix the values"
        )
    if bad.any():
        raise DataError(
            f"{_where(column, source)}: expected numbers, found {preview(series[bad].unique())}; "
            f"fix the values (text such as 1,234.5, $12 or 12.5% reads as a number) or make the "
            f"column categorical"
        )
    values = values.astype("float64").to_numpy(copy=True)
    infinite = np.isinf(values)
    if infinite.any():
        raise DataError(
            f"{_where(column, source)}: {int(infinite.sum())} infinite values; replace them "
            f"with numbers or with nulls"
        )
    if column.is_integer:
        finite = values[~np.isnan(values)]
        fractional = finite[finite != np.round(finite)]
        if fractional.size:
            raise DataError(
                f"{_where(column, source)}: the schema says integer but found "
                f"{preview(np.unique(fractional))}{_values_read_as(column)}; set type to float or round the data"
            )
    return pd.Series(values, name=column.name)


def holds_durations(series: pd.Series) -> bool:
    """Whether a column holds durations: a timedelta dtype (numpy or Arrow), or
    ``datetime.timedelta`` objects."""
    if pd.api.types.is_timedelta64_dtype(series.dtype):
        return True
    if isinstance(series.dtype, pd.ArrowDtype):
        import pyarrow as pa

        return pa.types.is_duration(series.dtype.pyarrow_dtype)
    return series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) == "timedelta"


def _durations_as_numbers(series: pd.Series, unit: str) -> pd.Series:
    """A duration column's values as numbers of ``unit``: durations (timedelta dtypes,
    ``datetime.timedelta`` objects, text pandas reads as one, "1 days 02:00:00" as CSV holds
    them) divided by the unit, numbers as they are, text "NaT" as a null (:func:`without_nat_text`);
    other values left for the caller to refuse."""
    one = unit_length(unit)
    series = without_nat_text(series)
    if holds_durations(series):
        durations = numpy_backed(series) if isinstance(series.dtype, pd.ArrowDtype) else series
        return (pd.to_timedelta(durations) / one).astype("float64")
    if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
        return series
    numbers = read_numbers(series)
    left = (numbers.isna() & series.notna()).to_numpy()
    if not left.any():
        return series
    out = series.astype(object).copy()
    positions = np.flatnonzero(left)
    given = series.iloc[positions]
    durations = given.map(lambda v: isinstance(v, (dt.timedelta, np.timedelta64))).to_numpy(dtype=bool)
    texts = given.astype("string").str.strip()
    worded = (texts.str.contains(_DURATION_WORDS.pattern, regex=True).fillna(False).to_numpy(dtype=bool)) & ~durations
    parsed = pd.Series(pd.NaT, index=given.index, dtype="timedelta64[ns]")
    if durations.any():
        parsed[durations] = pd.to_timedelta(given[durations].tolist())
    if worded.any():
        parsed[worded] = pd.to_timedelta(duration_words(texts[worded]).to_numpy(dtype=object), errors="coerce")
    read = parsed.notna().to_numpy()
    out.iloc[positions[read]] = (parsed[read] / one).to_numpy(dtype=np.float64)
    return out


def column_numbers(series: pd.Series, column: Column) -> pd.Series:
    """A numeric column's values as numbers, as :func:`conform` reads them where they are
    numbers (durations in the column's unit, not nanoseconds); NaN elsewhere."""
    if column.duration:
        series = _durations_as_numbers(series, column.duration)
    return read_numbers(series)


# Text read as a duration: with a unit or a clock ("2h", "90 min", "0 days 00:18:56", "PT1H");
# pandas read "1,5" as 15 nanoseconds.
_DURATION_WORDS = re.compile(r"[A-Za-z:]")


# Plurals people write that pandas does not read ("10 mins": invalid unit abbreviation).
_PLURAL_UNITS = re.compile(r"(?i)(?<=[\d\s])(mins|hrs|secs)\b")
_SINGULAR = {"mins": "min", "hrs": "h", "secs": "s"}


def _singular(match: re.Match) -> str:
    return _SINGULAR[match.group(1).lower()]


def duration_words(texts: pd.Series) -> pd.Series:
    """Duration text with the plural units pandas does not read ("mins", "hrs", "secs") in words
    it reads."""
    return texts.str.replace(_PLURAL_UNITS, _singular, regex=True)


def text_duration(text: str, unit: str) -> float | None:
    """Text that writes a duration as a number of ``unit``, or ``None`` (no unit or clock in it,
    or pandas cannot read it)."""
    if not _DURATION_WORDS.search(text):
        return None
    try:
        duration = pd.Timedelta(_PLURAL_UNITS.sub(_singular, text.strip()))
    except (TypeError, ValueError, OverflowError):
        return None
    return None if pd.isna(duration) else float(duration / unit_length(unit))


def duration_text(values: pd.Series, unit: str) -> pd.Series:
    """Numbers of ``unit`` as pandas writes durations ("0 days 00:18:56"), nulls kept."""
    durations = as_durations(values, unit)
    return durations.astype(object).where(durations.isna(), durations.astype(str)).where(durations.notna(), None)


def as_durations(values: pd.Series, unit: str) -> pd.Series:
    """A duration column's numbers of ``unit`` as ``timedelta64[ns]`` (nulls as NaT), to the
    nanosecond."""
    per_unit = unit_length(unit).value  # nanoseconds
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    ns = np.round(numbers * per_unit)
    return pd.Series(pd.to_timedelta(ns, unit="ns"), index=values.index, name=values.name)


_WHOLE_TEXT = re.compile(r"[+-]?[0-9][0-9,_ ]*")


def _whole_numbers(original: pd.Series) -> pd.Series | None:
    """The present values of a column as exact Python integers, where every one is a whole
    number: an integer, a whole ``Decimal``, or text of digits with thousands separators
    ("1,152,921,504,606,847,096", which :func:`read_numbers` reads as a float); else ``None``."""
    out = []
    for value in original.dropna():
        if is_integer(value):
            out.append(int(value))
        elif isinstance(value, Decimal) and value == value.to_integral_value():
            out.append(int(value))
        elif isinstance(value, str) and _WHOLE_TEXT.fullmatch(value.strip()):
            out.append(int(re.sub(r"[,_ ]", "", value.strip())))
        else:
            return None
    return pd.Series(out, dtype=object)


def _beyond_floats(column: Column, values: pd.Series) -> bool:
    """Whether a bound of ``column`` or one of its (conformed) ``values`` is a whole number
    that float64 does not hold exactly."""
    bounds = [abs(b) for b in (column.min, column.max) if b is not None]
    return any(b > 2**53 for b in bounds) and bool(len(values)) and float(values.abs().max()) >= 2**53


def read_numbers(series: pd.Series) -> pd.Series:
    """The numbers of a column: what ``pandas.to_numeric`` reads, and text that writes a number
    with thousands separators, a currency symbol or a percent sign ("1,234", "$1,234.50",
    "12.5%" read as 1234, 1234.5 and 12.5); NaN where a value is no number.

    :func:`conform` reads numeric columns with it, and :func:`synthvae.infer_schema` decides by
    it that a column is numeric: a schema inferred from a table accepts that table.
    """
    # An Arrow decimal with nulls: pd.to_numeric returned fewer values than rows.
    series = numpy_backed(series)
    return with_written_numbers(series, pd.to_numeric(series, errors="coerce"))


def with_written_numbers(series: pd.Series, values: pd.Series, probe: int | None = None) -> pd.Series:
    """``values``, ``pandas.to_numeric``'s reading of ``series`` (``errors="coerce"``), with the
    numbers written as text with separators or signs read too (see :func:`read_numbers`).

    Args:
        series: The column.
        values: ``to_numeric``'s reading of it.
        probe: Look for written numbers only if one is among the first ``probe`` values that
            ``to_numeric`` does not read (inference, on every column of text: the pattern on
            every value of flights' text columns took 1.4 s, a sixth of inferring its schema).
    """
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_complex_dtype(values.dtype):
        return values
    failed = (values.isna() & series.notna()).to_numpy()
    if not failed.any():
        return values
    text = series[failed].astype(str)
    if probe is not None and not text.iloc[:probe].str.fullmatch(_WRITTEN_NUMBER).any():
        return values
    written = text.str.fullmatch(_WRITTEN_NUMBER).to_numpy(dtype=bool)
    if not written.any():
        return values
    out = values.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    cleaned = text[written].str.replace(_WRITING, "", regex=True)
    numbers = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
    numbers[text[written].str.contains("(", regex=False).to_numpy(dtype=bool)] *= -1  # (5,986.30): a negative amount
    out[np.flatnonzero(failed)[written]] = numbers
    return pd.Series(out, index=series.index, name=series.name)


def ranked_counts(values: pd.Series) -> pd.Series:
    """``values.value_counts()`` with ties in the order of the values' text: pandas 2.2 and 3 put
    tied counts in different orders, so the 30 levels a linear predictor kept (and its
    imputations), augment's order of classes and a plot's legend differed by pandas version for
    the same seed."""
    counts = values.value_counts()
    order = sorted(range(len(counts)), key=lambda i: (-int(counts.iloc[i]), str(counts.index[i])))
    return counts.iloc[order]


def numpy_backed(series: pd.Series) -> pd.Series:
    """A pyarrow-backed column (``dtype_backend="pyarrow"``) as pandas' own dtypes: whole
    numbers as ``Int64`` (``UInt64`` unsigned), the rest as pyarrow converts them. On Arrow
    text, ``pd.to_numeric`` gave NaN that ``isna`` does not count, and every text column was
    numeric with min NaN."""
    if not isinstance(series.dtype, pd.ArrowDtype):
        return series
    import pyarrow as pa  # pandas needs pyarrow for an Arrow column: it is there

    if pa.types.is_integer(series.dtype.pyarrow_dtype):
        # Through pyarrow: pandas' astype("Int64") of an Arrow column with nulls goes through
        # floats (9007199254740993 became ...992, and an unsigned one above 2**53 was refused).
        return arrow_integers(pa.array(series)).set_axis(series.index).rename(series.name)
    # set_axis, not Series(..., index=): that aligned on a repeated index ([1.0, 0.0] became [1.0, 1.0]).
    return pa.array(series).to_pandas().set_axis(series.index).rename(series.name)


def _to_categorical(series: pd.Series, column: Column, source: str) -> pd.Series:
    categories = list(column.categories)
    series = numpy_backed(series)  # an Arrow uint64 above 2**53 failed in map, through floats
    raw = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series
    present = raw.notna().to_numpy()
    codes = _match_categories(raw, categories)
    unknown = present & (codes < 0)
    if unknown.any():
        # Types may differ between file and schema (408 vs "408"): match on text as well.
        by_text = {category_text(c): i for i, c in enumerate(categories)}
        text_codes = raw[unknown].map(category_text).map(by_text)
        codes = codes.copy()
        codes[unknown] = text_codes.fillna(-1).astype(int).to_numpy()
        unknown = present & (codes < 0)
    if unknown.any() and any(is_real(c) for c in categories):
        # Numbers written otherwise as text ("1.0", "1e3" for the category 1, 1000), as a
        # synthetic table whose codes went through floats holds them: matched by value.
        by_value = {category_number(c): i for i, c in reversed(list(enumerate(categories))) if is_real(c)}
        codes = codes.copy()
        codes[unknown] = raw[unknown].map(category_number).map(by_value).fillna(-1).astype(int).to_numpy()
        unknown = present & (codes < 0)
    if unknown.any():
        try:
            found = pd.unique(raw[unknown].to_numpy())
        except TypeError:  # unhashable cells: lists, dicts, sets
            cells = [v for v in raw[unknown] if not isinstance(v, Hashable)]
            raise DataError(
                f"{_where(column, source)}: cells hold {sorted({type(v).__name__ for v in cells})} values such as "
                f"{preview([repr(v) for v in cells[:3]])}; a cell holds one value: one category of "
                f"{preview(categories)}"
            ) from None
        raise DataError(
            f"{_where(column, source)}: values {preview(found)} are not among the schema's "
            f"categories {preview(categories)}; add them to the schema's categories"
        )
    dtype = pd.CategoricalDtype(categories, ordered=column.ordered)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype), name=column.name)


# Names a DataFrame's index gets as a column of a file: pandas' Parquet (a named or reset
# index), a CSV written with its index, pyarrow's own.
_INDEX_NAMES = ("index", "level_0", "Unnamed: 0", "__index_level_0__")


def index_hint(names: list[str]) -> str:
    """A hint that a column with an index's name is a DataFrame's index written to a file (a
    split saved with ``to_parquet`` kept an ``index`` column that the other table did not have,
    and the message named it as a schema's column the user never wrote: a user review)."""
    index = [n for n in names if n in _INDEX_NAMES]
    return (f"; {preview(index)} looks like a DataFrame's index written to a file: write the tables with "
            f"index=False (to_csv, to_parquet), or drop the column") if index else ""


def renamed_hint(missing: list[str], unknown: list[str]) -> str:
    """A hint naming the data's columns that look like missing ones renamed ('Sex' for 'sex',
    'bill length' for 'bill_length'): a preview of the data's names hid them."""
    import difflib

    def plain(name: str) -> str:
        return "".join(ch for ch in name.lower() if ch.isalnum())

    pairs = []
    for name in missing:
        alike = [c for c in unknown if plain(c) == plain(name)] or difflib.get_close_matches(name, unknown, n=1, cutoff=0.8)
        if alike:
            pairs.append(f"{alike[0]!r} for {name!r}")
    if not pairs and len(missing) == len(unknown) == 1:
        # One name gone and one new ('yr' for 'year'): the only candidate, however unlike (a user review).
        pairs.append(f"{unknown[0]!r} for {missing[0]!r}")
    return f"; renamed? the data has {', '.join(pairs[:5])}" if pairs else ""


def category_text(value) -> str:
    """Text of a category value; whole floats lose their ".0" (a CSV with nulls reads 408 as 408.0).

    :func:`synthvae.infer_schema` names the categories of a text column with it, so that
    ``conform`` matches every value of the table to its category."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


_PLAIN_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def category_number(value) -> Decimal | None:
    """The exact number a category value or its text stands for, or ``None``: an int as it is, a
    float as it prints (0.1, not its binary expansion), text written as a plain number ("1.0",
    " 1e3 ", "01"; no underscores or other digits, which ``float`` also reads). Equal numbers
    compare and hash equal, so "1.0" finds the category 1 and "9007199254740992" not the
    category 9007199254740993, which one float stands for."""
    if is_real(value):
        if isinstance(value, (int, np.integer)):
            return Decimal(int(value))
        return Decimal(repr(float(value)))
    if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value.strip()):
        return Decimal(value.strip())
    return None


def _match_categories(raw: pd.Series, categories: list) -> np.ndarray:
    lookup = {}
    for i, c in enumerate(categories):
        lookup.setdefault(c, i)
    try:
        mapped = raw.map(lookup)
    except TypeError:  # unhashable cells
        mapped = raw.map(lambda v: lookup.get(v) if isinstance(v, (str, int, float, bool)) else None)
    return mapped.fillna(-1).astype("int64").to_numpy()


def _to_boolean(series: pd.Series, column: Column, source: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean").rename(column.name).reset_index(drop=True)
    present = series.notna()
    if pd.api.types.is_numeric_dtype(series.dtype):
        # 0 / 1 (read from a CSV with nulls as 0.0 / 1.0).
        text = series[present].map(category_text)
    else:
        text = series[present].astype(str).str.strip().str.lower()
    truth = text.isin(_TRUE)
    falsity = text.isin(_FALSE)
    bad = ~(truth | falsity)
    if bad.any():
        raise DataError(
            f"{_where(column, source)}: expected true/false values, found "
            f"{preview(series[present][bad].unique())}: write them true/false, yes/no or 1/0, or make the column "
            f"categorical (numeric if they are numbers) in the schema"
        )
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[present] = truth.to_numpy()
    return out.rename(column.name).reset_index(drop=True)


def without_nat_text(series: pd.Series) -> pd.Series:
    """Text ``"NaT"`` (what pandas prints for a missing datetime or duration, and what
    ``astype(str)`` writes to a CSV) as a null; other values, and columns of other dtypes, as
    they are."""
    if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
        return series
    # Judged on the distinct values (a column of 336,776 dates holds 6,936).
    codes, distinct = pd.factorize(series, use_na_sentinel=True)
    marked = np.array([isinstance(v, str) and v.strip() == "NaT" for v in distinct], dtype=bool)
    if not marked.any():
        return series
    return series.mask(np.where(codes >= 0, marked[np.maximum(codes, 0)], False))


def _to_datetime(series: pd.Series, column: Column, source: str) -> pd.Series:
    series = without_nat_text(series)
    try:
        values = read_datetimes(series, column)
        if not pd.api.types.is_datetime64_any_dtype(series.dtype):
            bad = values.isna() & series.notna()
            # pandas < 3 coerces datetimes beyond nanoseconds to NaT instead of parsing them.
            outside = _outside_ns(series[bad]) if bad.any() else []
            if outside:
                raise _out_of_range(column, source, outside)
            if bad.any():
                fmt = column.format or "ISO8601"
                raise DataError(
                    f"{_where(column, source)}: values {preview(series[bad].unique())} do not parse "
                    f"as datetimes with format {fmt!r} (nor as ISO 8601); fix the values or the "
                    f"schema's format"
                )
        return values.astype("datetime64[ns]").rename(column.name).reset_index(drop=True)
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        raise _out_of_range(column, source, _outside_ns(series) or list(series.dropna().unique())) from None


def _out_of_range(column: Column, source: str, values: list) -> DataError:
    return DataError(f"{_where(column, source)}: {beyond_ns_advice(values)}")


def beyond_ns_advice(values: list) -> str:
    """What to do with datetimes beyond years 1678 to 2262 (``values``: those found): most are
    placeholders for "no date" (9999-12-31 of an open-ended validity, 1000-01-01), which nulls
    say better."""
    distinct = list(dict.fromkeys(values))
    placeholder = "if they stand for 'no date' (9999-12-31 is a common placeholder), make them nulls; else " if len(distinct) <= 3 else ""
    return (f"datetimes outside the supported range (years 1678 to 2262), e.g. {preview(distinct[:3])}; "
            f"{placeholder}make it a categorical or text column")


def _outside_ns(series: pd.Series) -> list:
    """Values of ``series`` beyond nanosecond datetimes (years 1678 to 2262), as far as each
    reads as a timestamp alone."""
    values = series.dropna().unique()
    outside = []
    for value in values:
        try:
            pd.Timestamp(value).as_unit("ns")
        except (pd.errors.OutOfBoundsDatetime, OverflowError):
            outside.append(value)
        except (TypeError, ValueError):
            continue
    return outside


# A unit of the schema (a duration's, a datetime's resolution) in words.
UNIT_NAMES = {"D": "days", "h": "hours", "m": "minutes", "s": "seconds", "ms": "milliseconds", "us": "microseconds",
               "ns": "nanoseconds"}


def _values_read_as(column: Column) -> str:
    """What a column's bounds and conformed values are, for messages: clock times of a datetime
    column's zone (values given in another were converted, and read unlike the file), numbers of
    a duration column's unit."""
    if column.timezone:
        return f" (clock times of {column.timezone}, values with another zone converted to it)"
    if column.duration:
        return f" (durations as numbers of {UNIT_NAMES[column.duration]}, the column's duration unit)"
    return ""


def zeros_dropped(series: pd.Series, column: Column) -> str | None:
    """What a categorical column whose schema lists numbers drops from codes written with leading
    zeros, in words, or ``None``: conform matches "00164" to the category 164 by value, so the
    sampled codes lose their zeros (a user review: a schema edited from ``infer-schema``'s
    ``"00164"`` to 164 was accepted without a word)."""
    if column.kind is not ColumnKind.CATEGORICAL or not column.categories or not any(is_real(c) for c in column.categories):
        return None
    if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
        return None
    texts = {category_text(c) for c in column.categories}
    zeros = [v for v in pd.unique(series.dropna()) if isinstance(v, str) and _LEADING_ZERO.match(v) and v.strip() not in texts]
    if not zeros:
        return None
    matched = [v for v in zeros if category_number(v) in {category_number(c) for c in column.categories if is_real(c)}]
    if not matched:
        return None  # not among the categories at all: conform refuses them
    return (f"codes written with leading zeros, e.g. {preview(matched[:3])}, are read as the schema's numeric categories "
            f"(the same numbers): sampled codes have no leading zeros; list the categories as text (e.g. "
            f"{str(matched[0]).strip()!r}, as infer-schema does) to keep them")


def finer_than_unit(series: pd.Series, column: Column) -> str | None:
    """What a datetime column's schema ``unit`` rounds away from its values, in words (how many
    values, one of them, and the unit that keeps them), or ``None`` when every value is whole in
    it. The model learns the values as they are but samples whole units: hourly times under
    unit "D" were learned and then sampled at midnight, and a rule reading their hour met by
    no sampled row (a user review)."""
    unit = column.unit or "s"
    codes, distinct = pd.factorize(series, use_na_sentinel=True)  # flights' 336,776 times hold 6,936
    try:
        values = read_datetimes(pd.Series(distinct), column).dropna()
        ns = values.astype("datetime64[ns]").to_numpy().view(np.int64)
    except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError, TypeError):
        return None  # conform refuses such values, saying what to do
    if not len(values):
        return None
    off = ns % unit_length(unit).value != 0
    if not off.any():
        return None
    keeps = next(u for u in DATETIME_UNITS if u in whole_units(ns))
    counts = np.bincount(codes[codes >= 0], minlength=len(distinct))
    rows = int(counts[values.index.to_numpy()[off]].sum())
    example = pd.Timestamp(int(ns[np.flatnonzero(off)[0]]))
    return (f"{rows:,} of its {int((codes >= 0).sum()):,} values are not whole {UNIT_NAMES[unit]}, the schema's unit "
            f"{unit!r} (e.g. {example}): the model samples whole {UNIT_NAMES[unit]}, so those parts are lost (and rules "
            f"that read them are not met); set the unit to {keeps!r} to keep them")


def read_datetimes(series: pd.Series, column: Column) -> pd.Series:
    """A datetime column's values as :func:`conform` reads them (naive clock times of the
    column's ``timezone``, UTC without one; text by the column's format, or ISO 8601), NaT where
    a value does not parse; the series' index."""
    zone = time_zone(column.timezone)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return wall_times(series, zone)
    return _parse_datetimes(series, column.format, zone)


def dtype_zone(dtype):
    """The time zone of a dtype of datetimes with one (numpy-backed ``DatetimeTZDtype`` or an
    Arrow timestamp with a zone; a tzinfo, or Arrow's name of it), else ``None``."""
    if isinstance(dtype, pd.DatetimeTZDtype):
        return dtype.tz
    if isinstance(dtype, pd.ArrowDtype):
        return getattr(dtype.pyarrow_dtype, "tz", None)
    return None


def wall_times(values: pd.Series, zone=None) -> pd.Series:
    """Datetimes as naive clock times of ``zone`` (a tzinfo, or a name; UTC when ``None``):
    those with a time zone converted to it, naive ones taken as its clock times already, and
    pyarrow-backed dates (``pd.read_parquet(..., dtype_backend="pyarrow")``, whose ``.dt.tz``
    raised NotImplementedError) as midnight timestamps."""
    dtype = values.dtype
    if isinstance(dtype, pd.ArrowDtype) and str(dtype.pyarrow_dtype).startswith("date"):
        return values.astype("datetime64[ns]")
    given = dtype_zone(dtype)
    if given is None:
        return values
    if isinstance(dtype, pd.ArrowDtype):
        # pandas 2.2's tz_localize(None) of an Arrow column gave UTC, not the clock times.
        values = values.astype(pd.DatetimeTZDtype("ns", given))
    return values.dt.tz_convert(zone or "UTC").dt.tz_localize(None)


def in_zone(values: pd.Series, zone) -> pd.Series:
    """Naive clock times of ``zone`` (see :func:`wall_times`) as datetimes in it: a clock time a
    change of summer time repeats is read as the summer one, one it skips moves past the gap.
    Values with a zone already, or ``zone`` ``None``, are returned as they are."""
    if zone is None or not pd.api.types.is_datetime64_dtype(values.dtype):
        return values
    return values.dt.tz_localize(zone, ambiguous=np.ones(len(values), dtype=bool), nonexistent="shift_forward")


# A clock time with its offset or zone written after it: "...10:00+01:00", "...10:00:00Z",
# "... 10:00 UTC", "...10:00:00+01" (as PostgreSQL writes it), ISO's basic "T1000+0100"; not
# "20210301-1230", a date and a time.
_WRITTEN_OFFSET = (r"(?:\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?|T\d{4}(?:\d{2}(?:[.,]\d+)?)?)\s*"
                   r"(?:[Zz]|[+-]\d{2}(?::?\d{2}(?::\d{2})?)?|UTC|GMT)\s*$")
# An ISO 8601 offset with seconds (-04:56:02: New York's local mean time before 1883, which
# write_table writes), which pandas' ISO 8601 reading refuses.
_SECONDS_OFFSET = re.compile(r"^(?P<clock>\d{4}-\d{2}-\d{2}[ T][\d:.,]+?)\s*(?P<sign>[+-])(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})$")


def datetimes_in_utc(series: pd.Series, fmt: str | None = None) -> tuple[pd.Series, np.ndarray]:
    """Datetime text as UTC datetimes (text without an offset read as UTC clock times) by the
    format, then ISO 8601 (NaT where neither reads), and which values wrote an offset.

    Text with and without offsets is parsed apart: in one call pandas 2.2 read text without an
    offset in the first offset found (2021-01-01 12:00 beside +01:00 text became 11:00 UTC),
    pandas 3 as UTC. Inference and conform both read so (inference's bounds refused the data
    when only conform did)."""
    written = written_offsets(series, fmt)
    values = _parsed_in_utc(series, fmt)
    if written.any() and not written.all():
        values = values.copy()
        values.iloc[np.flatnonzero(~written)] = _parsed_in_utc(series[~written], fmt).array  # by position: any index
    return values, written


def written_offsets(series: pd.Series, fmt: str | None = None) -> np.ndarray:
    """Which values of datetime text write an offset or a zone (all of them where ``fmt`` writes
    one; else False for nulls)."""
    if fmt and ("%z" in fmt or "%Z" in fmt):
        return np.ones(len(series), dtype=bool)
    # Judged on the distinct values (dates repeat: flights' 336,776 time_hour cells hold 6,936).
    codes, distinct = pd.factorize(series.astype("string"), use_na_sentinel=True)
    marked = pd.Series(distinct, dtype="string").str.contains(_WRITTEN_OFFSET, regex=True).fillna(False).to_numpy(dtype=bool)
    return np.where(codes >= 0, marked[np.maximum(codes, 0)] if len(marked) else False, False)


def _parse_datetimes(series: pd.Series, fmt: str | None, zone=None) -> pd.Series:
    """Text to naive datetimes: clock times of ``zone`` (UTC when ``None``), text with an offset
    converted to it. Values the schema's format does not read are tried as ISO 8601, the form
    synthvae itself writes to CSV."""
    values, written = datetimes_in_utc(series, fmt)
    if zone is None:
        return values.dt.tz_localize(None)
    # to_datetime(utc=True) reads text without an offset as UTC: as it is, those are the zone's
    # clock times; text with one is converted to the zone.
    clock = values.dt.tz_localize(None)
    if written.any():
        clock = clock.where(~written, values.dt.tz_convert(zone).dt.tz_localize(None))
    return clock


def _parsed_in_utc(series: pd.Series, fmt: str | None) -> pd.Series:
    """``pd.to_datetime(series, utc=True)`` with the column's format, then ISO 8601 for the
    values it does not read (NaT where neither does). Numbers (years 2013, 2014 under "%Y") are
    read as their text: pandas 3 warned that it would read them as epochs."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype(object).map(lambda v: v if pd.isna(v) else category_text(v))
    if not fmt:
        return iso_in_utc(series)
    values = pd.to_datetime(series, format=fmt, errors="coerce", utc=True)
    readers = ([lambda part: abbreviated_zones_in_utc(part, fmt)] if "%Z" in fmt else []) + [iso_in_utc]
    for read in readers:
        failed = np.flatnonzero((values.isna() & series.notna()).to_numpy(dtype=bool))
        if failed.size:
            values = values.copy()
            values.iloc[failed] = read(series.iloc[failed]).array  # by position: any index
    return values


# Time zones by abbreviation that pandas does not read (it reads EST, MST, HST, CET, EET, WET,
# GMT, UTC), as the offsets they stand for in their most common use: CST as US Central (not
# China), BST as British Summer Time (not Bangladesh), AST as Atlantic. IST (India, Ireland,
# Israel) is too ambiguous to read.
ZONE_ABBREVIATIONS = {
    "EDT": "-04:00", "CST": "-06:00", "CDT": "-05:00", "MDT": "-06:00", "PST": "-08:00", "PDT": "-07:00",
    "AKST": "-09:00", "AKDT": "-08:00", "HDT": "-09:00", "AST": "-04:00", "ADT": "-03:00", "NST": "-03:30",
    "NDT": "-02:30", "BST": "+01:00", "WEST": "+01:00", "CEST": "+02:00", "EEST": "+03:00", "MSK": "+03:00",
    "JST": "+09:00", "KST": "+09:00", "HKT": "+08:00", "SGT": "+08:00", "AWST": "+08:00", "ACST": "+09:30",
    "ACDT": "+10:30", "AEST": "+10:00", "AEDT": "+11:00", "NZST": "+12:00", "NZDT": "+13:00",
}
_ABBREVIATION = re.compile(r"\b(?:" + "|".join(ZONE_ABBREVIATIONS) + r")\b")


def abbreviated_zones_in_utc(text: pd.Series, fmt: str) -> pd.Series:
    """Text that ``fmt`` writes with a time zone by name (``%Z``) where the name is one of
    :data:`ZONE_ABBREVIATIONS`, as UTC datetimes (NaT for other text)."""
    string = text.astype("string")
    named = string.str.contains(_ABBREVIATION, na=False).to_numpy(dtype=bool)
    values = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if named.any():
        offsets = string[named].str.replace(_ABBREVIATION, lambda found: ZONE_ABBREVIATIONS[found.group(0)], regex=True)
        read = pd.to_datetime(offsets, format=fmt.replace("%Z", "%z"), errors="coerce", utc=True)
        values = values.astype(read.dtype)
        values.iloc[np.flatnonzero(named)] = read.array  # by position: any index
    return values


def iso_in_utc(text: pd.Series) -> pd.Series:
    """ISO 8601 text as UTC datetimes (text without an offset read as UTC clock times, NaT for
    what is no datetime), offsets with seconds too (``1874-12-31 19:03:58-04:56:02``); by
    position, whatever the index (a frame's repeated labels)."""
    values = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    failed = np.flatnonzero((values.isna() & text.notna()).to_numpy(dtype=bool))
    if failed.size:
        parts = text.iloc[failed].astype("string").str.strip().str.extract(_SECONDS_OFFSET).reset_index(drop=True)
        found = parts["clock"].notna().to_numpy(dtype=bool)
        if found.any():
            parts = parts[found]
            clock = pd.to_datetime(parts["clock"], format="ISO8601", errors="coerce", utc=True)
            sign = parts["sign"].map({"+": 1, "-": -1}).astype("int64")
            seconds = sign * (parts["h"].astype("int64") * 3600 + parts["m"].astype("int64") * 60 + parts["s"].astype("int64"))
            values = values.copy()
            values.iloc[failed[found]] = (clock - pd.to_timedelta(seconds, unit="s")).array
    return values


def _passthrough(series: pd.Series, column: Column, source: str) -> pd.Series:
    return series.rename(column.name).reset_index(drop=True)


def _to_id(series: pd.Series, column: Column, source: str) -> pd.Series:
    """An id column as it is (the model never learns it), refused when the schema says its ids
    are whole numbers and they are not (a column of wind speeds marked an integer id passed
    ``schema check`` and was regenerated as 10, 11, ...)."""
    if column.is_integer:
        numbers = read_numbers(series).to_numpy(dtype=np.float64, na_value=np.nan)
        # Blank text is no id (a private fit's proxy table leaves ids blank).
        given = (series.notna() & (series.astype(str).str.strip() != "")).to_numpy()
        with np.errstate(invalid="ignore"):
            wrong = given & (~np.isfinite(numbers) | (numbers != np.round(numbers)) | pd.api.types.is_bool_dtype(series.dtype))
        if wrong.any():
            raise DataError(
                f"{_where(column, source)}: the schema says ids are whole numbers (type integer) but found "
                f"{preview(list(dict.fromkeys(series[wrong].tolist())))}; set the id's type to string, or if the "
                f"column is a measurement rather than a key, make it numeric")
    return _passthrough(series, column, source)


_CONVERTERS = {
    ColumnKind.NUMERIC: _to_numeric,
    ColumnKind.CATEGORICAL: _to_categorical,
    ColumnKind.BOOLEAN: _to_boolean,
    ColumnKind.DATETIME: _to_datetime,
    ColumnKind.ID: _to_id,
    ColumnKind.PERSONAL: _passthrough,
}


def _check_nulls(original: pd.Series, converted: pd.Series, column: Column, source: str) -> None:
    if column.nullable:
        return
    nulls = int(converted.isna().sum())
    if nulls:
        raise DataError(
            f"{_where(column, source)}: {nulls} missing values but the schema says "
            f"nullable: false; set nullable: true or fill them"
        )


def _as_written(values: np.ndarray, column) -> np.ndarray:
    """Values beyond a bound as a message shows them: an integer column's whole numbers without
    the ".0" that a column with holes (float64 in pandas) gives them (9000, not 9000.0)."""
    if column.kind is ColumnKind.NUMERIC and column.is_integer and values.dtype.kind == "f":
        whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**53)
        if whole.all():
            return values.astype(np.int64)
    return values


def _counted(values: pd.Series) -> str:
    """How many values, and how many distinct ones where that differs (the examples that
    follow are distinct: "52 values ... (26 more)" listed 31, a user review)."""
    distinct = values.nunique()
    return f"{len(values)} values" + (f" ({distinct} distinct)" if distinct != len(values) else "")


def decimal_noise(decimals: int) -> float:
    """How far a number kept at ``decimals`` places may lie off its grid point and still be that
    point (float noise), as :func:`synthvae.inference.decimal_places` takes it: ``10**-(decimals
    + 3)``."""
    return 10.0 ** -(decimals + 3)


def refuse_out_of_bounds(values: pd.Series, column: Column, source: str, original: pd.Series | None = None) -> None:
    """Refuse values of a conformed numeric or datetime column beyond the schema's min / max
    (a DataError naming the column, how many and examples).

    ``original``: the column before :func:`conform`. Whole numbers past 2**53 are compared
    in it exactly: as floats (conformed values), a value 20 above a max near 2**60 passed.

    A column of ``decimals`` places takes values beyond a bound by float noise (see
    :func:`decimal_noise`): 0.9999999999999998 was refused below a min of 1.0 ("e.g.
    [0.9999999999999998]"), so inference wrote bounds with the data's float noise (``"max":
    7.9460000000000015``)."""
    if column.kind not in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
        return
    present = values.dropna()
    if original is not None and column.kind is ColumnKind.NUMERIC and _beyond_floats(column, present):
        exact = read_numbers(original).dropna()
        if pd.api.types.is_integer_dtype(exact.dtype):
            present = exact
        elif (whole := _whole_numbers(original)) is not None:
            present = whole
    low = column.min if column.min is None or column.kind is ColumnKind.NUMERIC else pd.Timestamp(column.min)
    high = column.max if column.max is None or column.kind is ColumnKind.NUMERIC else pd.Timestamp(column.max)
    if column.kind is ColumnKind.NUMERIC and not column.is_integer and column.decimals is not None:
        slack = decimal_noise(column.decimals)
        low, high = (None if low is None else low - slack), (None if high is None else high + slack)
    if low is not None:
        below = present[present < low]
        if len(below):
            raise DataError(
                f"{_where(column, source)}: {_counted(below)} below the schema's min {shown(column.min)}, "
                f"e.g. {preview(_as_written(below.unique(), column))}{_values_read_as(column)}; lower min or fix the data"
            )
    if high is not None:
        above = present[present > high]
        if len(above):
            raise DataError(
                f"{_where(column, source)}: {_counted(above)} above the schema's max {shown(column.max)}, "
                f"e.g. {preview(_as_written(above.unique(), column))}{_values_read_as(column)}; raise max or fix the data"
            )
