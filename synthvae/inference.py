"""Infer a readable, editable schema from a DataFrame.

The rules, in order, for each column (the chosen rule is written into the column's
``description`` so a person can see why and change it):

1. all values missing -> numeric float, nullable (nothing to learn from; regenerated as nulls);
2. bool dtype, or only true/false text -> boolean;
3. datetime dtype, or text that parses as ISO 8601 datetimes, as datetimes with a time zone by
   name ("2021-03-01 00:00:00 CET") or as month/day/year (day/month/year where a day passes 12),
   also with dots, dashes, two-digit years, month names ("01 Jan 2021", "Jan 01, 2021") or no
   day ("2021-01") -> datetime (unit ``D`` when every value is midnight, else ``s``);
4. an identifier -> id: text that is unique on every row, or unique whole numbers in a column
   whose name looks like a key (``id``, ``*_id``, ``*_key``) or that count up by one;
5. whole numbers -> numeric integer, except a handful of non-contiguous codes (at most
   ``code_max_values`` distinct values with gaps, e.g. area codes 408/415/510) -> categorical;
   whole numbers beyond 2**53, which floats cannot all hold, are judged exactly, never through
   floats: ids and codes as above; within 64-bit integers many values that floats keep apart
   (nanosecond timestamps) numeric float, the rest categorical; beyond 64-bit integers an id
   when unique (whatever the name), else categorical;
6. other numbers -> numeric float, with the decimal places the data shows; text that writes
   numbers with thousands separators, a currency symbol or a percent sign ("$1,234.50", "12.5%")
   is read as :func:`synthvae.validation.conform` reads it, as numbers;
7. text about a person -> personal (never learned, regenerated as fake values; review these):
   e-mail addresses, phone numbers, US social security numbers, IBANs and IP addresses by their
   content; names and street addresses by the column's name, its words in any case or spacing
   (``name``, ``First Name``, ``surname``, ``customerName``, ``address``, ...) when the values
   are varied text (at least 10 distinct values and a fifth of the rows; 1% for first and last
   names, which repeat); free text (mostly unique values of four or more words);
8. text in which 90% of rows hold a value no other row has (names, addresses, ...) -> id, so
   that no row's value is copied into synthetic rows (logged: review it); from 20% such rows it
   stays categorical and is logged (sampling draws the pooled rare values as they are);
9. anything else -> categorical, categories sorted.
Every column with a missing value is nullable; bounds are the observed min and max. A numeric
column that is an exact linear function of others on every row (churn's charges: the minutes
times a rate) gets a ``derived`` rule (see :mod:`synthvae.constraints.discovery`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections import Counter

import numpy as np
import pandas as pd

from synthvae.errors import DataError, preview
from synthvae.schema import Column, ColumnKind, NumericType, PersonalType, Schema, time_zone, unit_length, zone_name
from synthvae.validation import (UNIT_NAMES, ZONE_ABBREVIATIONS, abbreviated_zones_in_utc, beyond_ns_advice, category_text,
                                 datetimes_in_utc, decimal_noise, dtype_zone, duration_words, holds_durations, iso_in_utc,
                                 numpy_backed, wall_times, with_written_numbers)

logger = logging.getLogger(__name__)

_ID_NAME = re.compile(r"(^|_)(id|key|uuid|guid)$|^id_", re.IGNORECASE)
# Synthetic ids count from one past the largest real id (``start``): a private fit, which reads
# no row, counts from the schema's start, and one at the least real id gave real customers' ids
# to synthetic rows (the first always; 3 of 2,400 rows, a review). A non-private fit counts from
# past the largest real id whatever the start.
_ID_DESCRIPTION = "inferred: unique whole numbers (a key); synthetic ids start past the largest"
# Personal data recognised by content: most values must match.
_PERSONAL_CONTENT = [
    (PersonalType.EMAIL, re.compile(r"^[\w.+'-]+@[\w-]+(\.[\w-]+)+$")),
    (PersonalType.SSN, re.compile(r"^\d{3}-\d{2}-\d{4}$")),
    (PersonalType.IBAN, re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9 ]{11,30}$")),
    (PersonalType.IP_ADDRESS, re.compile(r"^(\d{1,3}\.){3}\d{1,3}$")),
    (PersonalType.PHONE, re.compile(r"^\+?[\d\s().-]{7,20}(\s*(x|ext\.?)\s*\d+)?$")),
]
# Personal data recognised by the column's name (the values must be text).
_PERSONAL_NAMES = [
    (PersonalType.FIRST_NAME, re.compile(r"(^|_)(first|given|fore)_?name$", re.IGNORECASE)),
    (PersonalType.LAST_NAME, re.compile(r"(^|_)(last_?name|surname|family_?name)$", re.IGNORECASE)),
    # Before names: "username" is a login, which user_?name below took for a person's name.
    (PersonalType.USERNAME, re.compile(r"^(user_?name|login(_?name)?|screen_?name|nick_?name)$", re.IGNORECASE)),
    (PersonalType.NAME, re.compile(r"^((full|person|customer|patient|client|user|employee)_?)?name$", re.IGNORECASE)),
    (PersonalType.EMAIL, re.compile(r"(^|_)e_?mail(_?address)?$", re.IGNORECASE)),
    (PersonalType.PHONE, re.compile(r"(^|_)(phone|mobile|telephone|fax)(_?(number|no))?$", re.IGNORECASE)),
    (PersonalType.ADDRESS, re.compile(r"(^|_)(street_?)?address(_?line_?\d)?$|(^|_)street$", re.IGNORECASE)),
    (PersonalType.SSN, re.compile(r"(^|_)(ssn|social_?security(_?number)?)$", re.IGNORECASE)),
]
_NOT_STREET = re.compile(r"(^|_)(mac|ip|ipv[46]|wallet|to|from|web|e_?mail|url|server|host|contract|memory|hardware)_?address",
                         re.IGNORECASE)
_PERSONAL_SHARE = 0.9  # share of values a content pattern must match
_PERSONAL_PROBE = 20_000
_PERSONAL_LABEL = {
    PersonalType.EMAIL: "e-mail addresses", PersonalType.SSN: "social security numbers", PersonalType.IBAN: "IBANs",
    PersonalType.IP_ADDRESS: "IP addresses", PersonalType.PHONE: "phone numbers", PersonalType.NAME: "names",
    PersonalType.FIRST_NAME: "first names", PersonalType.LAST_NAME: "last names", PersonalType.ADDRESS: "street addresses",
    PersonalType.USERNAME: "usernames",
}
# A text column in which this share of rows hold a value no other row has is an id (its values
# are the rows' own); from the lower share, it is logged as one whose values reach synthetic rows.
_UNIQUE_ID_SHARE = 0.9
_RARE_VALUE_SHARE = 0.2
_WRITTEN_SHARE = 0.9  # share of a text column's values that, written as numbers, make it look numeric
_PLACEHOLDERS = 3  # or as many distinct placeholders at most, beside numbers in half of the values ("?", "-")
_MISSING_WORDS = {"unknown", "missing", "none", "null", "nan", "na", "n/a", "n.a.", "nil", "not available", "not known",
                  "not applicable", "tbd", "unk", "?", "-", "--", "blank", "empty", "no data", "nd", "n.d.",
                  # a spreadsheet's error values, exported as their text
                  "#n/a", "#na", "#n/a n/a", "#div/0!", "#value!", "#ref!", "#name?", "#num!", "#null!", "#spill!",
                  "#calc!", "#getting_data"}
MAX_DECIMALS = 6  # decimal places inferred at most (more: not rounded)
# Share of a float column's values that must have at most d decimal places for d to be inferred
# when a few values carry more (see _mostly_decimal_places).
_MOSTLY_DECIMALS_SHARE = 0.9
# ... and moves at most this share of them that other rows share (levels; see places_kept): a
# noisy amount repeated on 3 of 2,000 rows of cents left the column unrounded at 0.001 (a review).
_LOST_LEVELS_SHARE = 0.005
_FIRST_NS, _LAST_NS = pd.Timestamp.min, pd.Timestamp.max  # the datetimes a fit holds (nanoseconds)
_CLOCK_12 = ("%I:%M:%S %p", "%I:%M %p", "%I:%M:%S%p", "%I:%M%p", "%I %p", "%I%p")  # the times of a 12-hour clock
# Datetimes in other shapes than ISO 8601, each with the formats that may read them, tried in
# order: a time zone by name after the time ("2021-03-01 00:00:00 CET", "... Europe/Oslo"), and
# month/day/year (US) before day/month/year ("03/01/2021", "3/1/2021 14:05").
_ABBREVIATED_ZONE = r" (" + "|".join(ZONE_ABBREVIATIONS) + r")$"
_OTHER_DATETIMES = (
    # 12-hour clocks first (as spreadsheets and SQL Server export them: "01/31/2021 02:05:00 PM"),
    # whose AM / PM read as time zones by name, and "1/31/2021 2:05 PM" as an id.
    (r"\d{4}-\d{2}-\d{2} \d{1,2}(:\d{2}){0,2} ?[AaPp][Mm]", tuple(f"%Y-%m-%d {clock}" for clock in _CLOCK_12)),
    (r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}(:\d{2}){0,2} ?[AaPp][Mm]",
     tuple(f"{day} {clock}" for day in ("%m/%d/%Y", "%d/%m/%Y") for clock in _CLOCK_12)),
    (r"\d{1,2} [A-Za-z]{3,9} \d{4} \d{1,2}(:\d{2}){0,2} ?[AaPp][Mm]",
     tuple(f"{day} {clock}" for day in ("%d %b %Y", "%d %B %Y") for clock in _CLOCK_12)),
    (r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})? [A-Za-z][\w+/-]*",
     ("%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%dT%H:%M:%S %Z", "%Y-%m-%d %H:%M %Z", "%Y-%m-%dT%H:%M %Z")),
    (r"\d{1,2}/\d{1,2}/\d{4}( \d{1,2}:\d{2}(:\d{2})?)?",
     ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S")),
    # Day.month.year (as written in much of Europe), day-month-year or month-day-year, and the
    # year first with dots or slashes: these were taken for phone numbers, and sampled as fake ones.
    (r"\d{1,2}\.\d{1,2}\.\d{4}( \d{1,2}:\d{2}(:\d{2})?)?", ("%d.%m.%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S")),
    (r"\d{1,2}-\d{1,2}-\d{4}( \d{1,2}:\d{2}(:\d{2})?)?",
     ("%m-%d-%Y", "%m-%d-%Y %H:%M", "%m-%d-%Y %H:%M:%S", "%d-%m-%Y", "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S")),
    (r"\d{4}[./]\d{1,2}[./]\d{1,2}( \d{1,2}:\d{2}(:\d{2})?)?",
     ("%Y.%m.%d", "%Y.%m.%d %H:%M", "%Y.%m.%d %H:%M:%S", "%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S")),
    # Months by name, two-digit years and year-month: these were ids ("col_0", ...) or categories.
    (r"\d{1,2} [A-Za-z]{3,9} \d{4}", ("%d %b %Y", "%d %B %Y")),
    (r"[A-Za-z]{3,9} \d{1,2}, \d{4}", ("%b %d, %Y", "%B %d, %Y")),
    # Spreadsheets' and Oracle's day-month-year with the month's name ("31-Dec-2020", "31-DEC-20").
    (r"\d{1,2}-[A-Za-z]{3,9}-\d{4}( \d{1,2}:\d{2}(:\d{2})?)?",
     ("%d-%b-%Y", "%d-%b-%Y %H:%M", "%d-%b-%Y %H:%M:%S", "%d-%B-%Y")),
    (r"\d{1,2}-[A-Za-z]{3}-\d{2}", ("%d-%b-%y",)),
    (r"\d{1,2}/\d{1,2}/\d{2}", ("%m/%d/%y", "%d/%m/%y")),
    (r"(18|19|20|21)\d{2}-(0[1-9]|1[0-2])", ("%Y-%m",)),
    # Times of day alone ("08:35", "2:05 PM"): 714 distinct times among 1,000 rows were
    # categories, most of them drawn as they were. Read on 1900-01-01 (as strptime does), and
    # written back in their format ("5:57 pm" as "05:57 PM": strftime pads and capitalises).
    (r"\d{1,2}:\d{2}(:\d{2})?", ("%H:%M", "%H:%M:%S")),
    (r"\d{1,2}(:\d{2}){0,2} ?[AaPp][Mm]", _CLOCK_12),
)
# The shape of an ISO 8601 date or datetime.
_ISO_SHAPE = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?([+-]\d{2}:?\d{2}(:\d{2})?|Z)?$"
# Text of digits and separators that is not a phone number though the phone pattern matches: a
# number grouped by thousands (7.804.993, 7,804,993), an ISBN-13 (978-0-89-711619-0), a date (an
# ISO date column with one impossible date was "phone numbers"), a ZIP+4 code, and bare digits
# opening with three zeros (zero-padded keys and account numbers) or of 13 and more (barcodes,
# card numbers: unique, they are ids).
_NOT_PHONE = re.compile(r"^(\d{1,3}([.,]\d{3})+|97[89][- ]?(\d[- ]?){9}\d|\d{4}-\d{2}-\d{2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"
                        r"|\d{5}-\d{4}|000\d*|\d{13,})$")
# Names of columns whose digits are not phone numbers though they look so: postcodes ("974-2525",
# Brazil's "24574064"), stock keeping units, account, order and invoice numbers, serials.
_NOT_PHONE_NAME = re.compile(r"(^|_)(post_?code|postal(_?code)?|zip(_?code)?|cep|plz|pin_?code|sku|account(_?(no|num|number))?|"
                             r"acct|iban|order(_?(no|num|number))?|invoice|serial|isbn|ean|upc|barcode|code|ref|reference)(_|$)",
                             re.IGNORECASE)
_DECIMALS_RTOL = 1e-3  # rounding may move a value by a thousandth of itself, no more
_EXACT_INTEGERS = 2**53  # below it, float64 holds every whole number
_INT64 = 2**63
# Integer ids count on from the largest real one in int64: they need room to (numpy's int64
# sums wrap around silently).
_ID_ROOM = 2**53
_ID_DIGITS = 18  # a string id's number of at most 18 digits fits int64 with that room


def infer_schema(
    frame: pd.DataFrame,
    name: str | None = None,
    *,
    code_max_values: int = 10,
    min_id_rows: int = 20,
    derived: bool = True,
    inequalities: bool = False,
    source: str = "data",
    warn: bool = True,
) -> Schema:
    """Infer a schema from a table.

    Args:
        frame: The table.
        name: Optional name stored in the schema.
        code_max_values: Whole-number columns with at most this many distinct, non-contiguous
            values are inferred as categorical codes.
        min_id_rows: Columns with fewer rows than this are never inferred as ids.
        derived: Add a ``derived`` rule for each numeric column that is an exact linear
            function of others on every row, and for each integer column that is a calendar
            part of a datetime column on every row (``month = month(time_hour)``; see
            :mod:`synthvae.constraints.discovery`): it is then computed, never learned (or,
            for a datetime's year, month and day, the datetime is composed from them). And a
            ``null_when`` rule for each column null on every row of some values of a
            categorical or boolean column (loans' ``annual_income_joint`` on individual
            applications): sampled rows keep that pattern, imputation keeps those nulls. And a
            ``lookup`` rule for each numeric column that one or two categorical columns fix
            (flights' ``distance`` by ``origin`` and ``dest``): each sampled value is one its
            keys held.
        inequalities: Also add a rule for each pair of numeric columns with a value on every
            row one of which is never above the other where their ranges overlap (loans'
            ``balance <= loan_amount``; see :func:`synthvae.constraints.discovery.find_inequalities`):
            every sampled row then keeps the order, which the model alone broke (the balance
            above the loan in 20.8% of loans' rows), but the model learns one side through the
            other, which scored slightly lower (loans: quality 0.9735 -> 0.9713). Off by default.
        source: Name of the table in error messages (a file name).
        warn: Log a warning for each text column most of whose rows hold a value no other row
            has (such values reach synthetic rows as they are, or make the column an id);
            the evaluator, which only reads the schema, infers without them.

    Returns:
        The inferred schema. Review it: inference cannot know what a column means.

    Raises:
        DataError: The frame has no columns, duplicated or empty column names, or a column of
            a type no kind holds (durations, complex numbers) or with infinite numbers.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"infer_schema expects a pandas DataFrame, got {type(frame).__name__}")
    if frame.shape[1] == 0:
        raise DataError("cannot infer a schema from a table with no columns")
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        raise DataError(f"duplicate column names in the data: {sorted({n for n in names if names.count(n) > 1})}")
    if "" in names:
        raise DataError(f"column #{names.index('') + 1} has an empty name; give it a name")
    if len(frame) == 0:
        logger.warning("%s has no rows: each column's kind is inferred from its dtype alone (text as float); "
                       "write the schema by hand or infer it from a table with rows", source)
    if warn:
        _warn_total_row(frame, source)
    # By position: labels 0 and 0.0 (or 1 and True) are equal, so frame[label] would hold both.
    columns = [
        _infer_column(name, frame.iloc[:, i], code_max_values, min_id_rows, f"{source}, column {name!r}", warn)
        for i, name in enumerate(names)
    ]
    schema = Schema(columns=tuple(columns), name=name)
    named = frame.set_axis(names, axis=1) if derived or inequalities else None
    if derived:
        from synthvae.constraints.discovery import find_datetime_parts, find_derived, find_lookups, find_null_when

        # The calendar parts first, then linear rules that may read them: flights' hour is
        # hour(time_hour), and sched_dep_time = hour * 100 + minute (found the other way round,
        # hour = sched_dep_time * 0.01 - 0.3, the hour could not be a part of time_hour too, and
        # a sampled time_hour named its row's hour in 49% of rows).
        parts = find_datetime_parts(named, schema)
        if parts:
            schema = schema.with_constraints(parts)
        rules = find_derived(named, schema)
        if rules:
            schema = schema.with_constraints(list(schema.constraints) + rules)
        nulls = find_null_when(named, schema)
        if nulls:
            schema = schema.with_constraints(list(schema.constraints) + nulls)
        lookups = find_lookups(named, schema)
        if lookups:
            schema = schema.with_constraints(list(schema.constraints) + lookups)
    if inequalities:
        from synthvae.constraints.discovery import find_inequalities

        orders = find_inequalities(named, schema)
        if orders:
            schema = schema.with_constraints(list(schema.constraints) + orders)
    return schema


# A spreadsheet's total row labels itself so ("Total", "Grand total", German "Summe", ...).
CLASS_VALUES = 20  # distinct whole numbers at most of a numeric column named as a target, taken as its classes


def target_classes(schema: Schema, frame: pd.DataFrame, target: str, source: str = "data") -> Schema:
    """``schema`` with ``target``, inferred numeric, as categories when it holds at most
    :data:`CLASS_VALUES` distinct whole numbers (a 0/1 label): a column named as the class to
    draw rows by (``target=``, ``augment --target``) is classes, which augment refused as a
    numeric column after a whole fit (a user review). Any other schema is returned as it is."""
    column = schema[target] if target in schema.names else None
    if column is None or column.kind is not ColumnKind.NUMERIC or target not in frame.columns:
        return schema
    values = pd.to_numeric(frame[target].dropna(), errors="coerce")
    distinct = pd.unique(values.to_numpy(dtype="float64", na_value=np.nan))
    if len(distinct) > CLASS_VALUES or np.isnan(distinct).any() or not whole_numbers(distinct):
        return schema
    categories = tuple(sorted(int(v) for v in distinct))
    logger.info("%s: target %r holds %d whole numbers (%s): learned as classes (categories), as a target's values are",
                source, target, len(categories), preview(list(categories)))
    return schema.replace_column(dataclasses.replace(
        column, kind=ColumnKind.CATEGORICAL, type=None, decimals=None, min=None, max=None, categories=categories,
        description=f"inferred: whole numbers {preview(list(categories))}, the target's classes"))


_TOTAL_WORDS = re.compile(r"\s*(grand\s+)?(totals?|sum|summe|gesamt|gesamtsumme|totale?|totaal|somme|suma)\s*:?\s*", re.IGNORECASE)


def _warn_total_row(frame: pd.DataFrame, source: str) -> None:
    """Warn of a last row that looks like a spreadsheet's total: a cell that says "Total" beside
    at least half of the row's other cells empty. Such a row was learned as data: "Total" a
    category, its sum the column's max (a user review of messy inputs)."""
    if len(frame) < 3 or frame.shape[1] < 2:
        return
    last = frame.iloc[-1]
    labels = [str(v) for v in last if isinstance(v, str) and _TOTAL_WORDS.fullmatch(v)]
    if labels and int(last.isna().sum()) >= (frame.shape[1] - 1) / 2:
        logger.warning("%s: its last row (%s) looks like a spreadsheet's total row: its values join the columns' "
                       "categories and bounds (a sum as the max); drop it before fitting if it is one", source,
                       ", ".join(f"{c}={v!r}" if isinstance(v, str) else f"{c}={v}" for c, v in last.items() if pd.notna(v))[:200])


def _empty_column(name: str, dtype) -> Column:
    """The column of a dtype with no values (every value missing, or no rows): its kind by the
    dtype, so that the sampled column keeps it (all-null boolean, Int64 and categorical columns
    came back as float64); text, which says nothing of its values, as float."""
    what = "inferred from the dtype: every value is missing"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return Column(name, ColumnKind.DATETIME, nullable=True, unit="s", timezone=_zone_of(dtype), description=what)
    if pd.api.types.is_timedelta64_dtype(dtype):
        return Column(name, ColumnKind.NUMERIC, nullable=True, type=NumericType.FLOAT, duration="s", description=what)
    if isinstance(dtype, pd.CategoricalDtype) and len(dtype.categories):
        return Column(name, ColumnKind.CATEGORICAL, nullable=True, ordered=bool(dtype.ordered),
                      categories=tuple(_json_category(c) for c in dtype.categories), description=what)
    if pd.api.types.is_bool_dtype(dtype):
        return Column(name, ColumnKind.BOOLEAN, nullable=True, description=what)
    if pd.api.types.is_integer_dtype(dtype):
        return Column(name, ColumnKind.NUMERIC, nullable=True, type=NumericType.INTEGER, description=what)
    return Column(name, ColumnKind.NUMERIC, nullable=True, type=NumericType.FLOAT,
                  description="inferred: every value is missing")


def _infer_column(name: str, series: pd.Series, code_max_values: int, min_id_rows: int, where: str,
                  warn: bool = True) -> Column:
    series = numpy_backed(series)  # first: an Arrow duration is refused as a timedelta is
    _refuse_unsupported(where, name, series)
    series = _bytes_as_text(series)
    nullable = bool(series.isna().any())
    present = series.dropna()
    if present.empty:
        return _empty_column(name, series.dtype)
    if isinstance(series.dtype, pd.CategoricalDtype) and pd.api.types.is_datetime64_any_dtype(series.cat.categories.dtype):
        # Datetime categories (monthly dates as a category): as categories they became text
        # ("2021-02-01 00:00:00") in the schema and the sampled rows.
        return _datetime_column(name, series.astype(series.cat.categories.dtype), nullable, fmt=None,
                                zone=_zone_of(series.cat.categories.dtype),
                                note="; a categorical dtype of datetimes")
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = [_json_category(c) for c in series.cat.categories]
        return Column(name, ColumnKind.CATEGORICAL, nullable=nullable, categories=tuple(cats),
                      ordered=bool(series.cat.ordered), description="inferred: categorical dtype")
    if pd.api.types.is_bool_dtype(series.dtype) or _is_boolean_text(present):
        return Column(name, ColumnKind.BOOLEAN, nullable=nullable, description="inferred: true/false values")
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return _datetime_column(name, pd.Series(series), nullable, fmt=None, zone=_zone_of(series.dtype))
    if pd.api.types.is_timedelta64_dtype(series.dtype):
        return _duration_column(name, pd.to_timedelta(present), nullable, code_max_values, min_id_rows, len(series))
    if pd.api.types.is_numeric_dtype(series.dtype):
        personal = _personal_number(name, present, nullable)
        if personal is not None:
            return personal
        wide = _wide_integers(present) if pd.api.types.is_integer_dtype(series.dtype) else None
        if wide is not None:
            column = _wide_integer_column(name, wide, nullable, code_max_values, min_id_rows, len(series))
            return _identifiers_named(column, wide, len(series), min_id_rows, where, warn)
        values = present.astype("float64")
        _refuse_infinite(where, values, series.index)
        column = _numeric_column(name, values, nullable, code_max_values, min_id_rows, len(series))
        return _identifiers_named(column, values.to_numpy(), len(series), min_id_rows, where, warn)
    # Text (object or string dtype), as validation reads it: 1.0 is "1", b"x" is "b'x'". A string
    # dtype holds text only: the values are their own text (mapping each took 1.6 of 12 s
    # inferring 300,000 flights rows).
    if warn and present.dtype == object:
        zones = sorted({str(zone_name(v.tzinfo)) for v in present.iloc[:10_000] if isinstance(v, dt.datetime) and v.tzinfo})
        if len(zones) > 1:
            # Paris and UTC datetimes in one table (pandas makes the column object): no zone, silently.
            logger.warning("%s: its datetimes are in several time zones (%s), read as UTC (clock times there); to "
                           "learn the clock times of one zone, convert them to it or give the column a timezone in "
                           "the schema", where, ", ".join(zones))
    # A StringDtype column's values are text already: pandas 2.2's astype(str) of Arrow strings went
    # through numpy's fixed-width strings, which drop trailing NUL characters ('\x00' read as '',
    # and the inferred categories then refused the table: a fuzz case).
    text = present.astype(object) if isinstance(present.dtype, pd.StringDtype) else present.map(category_text).astype(str)
    timed = _times_in(name, present, text, nullable, code_max_values, min_id_rows, len(series), where)
    if timed is not None:
        return timed
    # "NaT" (pandas' word for a missing datetime or duration, as astype(str) writes it) beside
    # datetimes or durations is a null, as conform reads it: the column was categorical.
    nat = text.str.strip().eq("NaT").to_numpy(dtype=bool)
    if nat.any() and not nat.all():
        timed = _times_in(name, present[~nat], text[~nat], True, code_max_values, min_id_rows, len(series), where)
        if timed is not None:
            return timed
    almost = _almost_dates(name, text, nullable, where, warn)
    if almost is not None:
        return almost
    mixed = _date_shapes(text) if warn else []
    if len(mixed) > 1:
        # Unique dates half 2012-01-01, half 01/02/2012 became an id without a word.
        logger.warning("%s: its values are dates written in %d ways (%s): read as text; write them all one way (ISO: "
                       "2012-01-02) and infer again for a datetime column", where, len(mixed), ", ".join(mixed))
    # Codes such as "01" or zip codes "02134" are text: as numbers they would lose their zeros.
    leading_zero = text.str.match(r"^\s*0\d").any()
    wide = None if leading_zero else _wide_integer_text(text)
    if wide is not None:
        column = _wide_integer_column(name, wide, nullable, code_max_values, min_id_rows, len(series))
        return _identifiers_named(column, wide, len(series), min_id_rows, where, warn)
    numbers = pd.to_numeric(present, errors="coerce")
    if pd.api.types.is_complex_dtype(numbers.dtype):
        numbers = pd.Series(np.nan, index=present.index)  # (3+4j) is text, as any other object
    # Numbers written with thousands separators, a currency symbol or a percent sign, read as
    # conform reads them: "$1,234.50" is 1234.5 (as unique text, it became an id).
    formatted = pd.Series(False, index=present.index)
    if numbers.isna().any():
        written = with_written_numbers(present, numbers, probe=1000)
        if not pd.api.types.is_complex_dtype(written.dtype):
            formatted = written.notna() & numbers.isna()
            numbers = written
    blank = text.str.strip().eq("").any()
    if numbers.notna().all() and not blank and not leading_zero:
        note = _written_note(present, numbers, formatted) if formatted.any() else None
        values = numbers.astype("float64")
        _refuse_infinite(where, values, series.index)
        column = _numeric_column(name, values, nullable, code_max_values, min_id_rows, len(series), written=note)
        return column if note else _identifiers_named(column, values.to_numpy(), len(series), min_id_rows, where, warn)
    # A Counter, not text.value_counts() / nunique(): pandas < 3.1 hashes object strings only up to their
    # first NUL character ("" and "\x00" are one value there; pandas issue 34551).
    # Counted over a numpy array: iterating an Arrow-backed string column yields one value per
    # Python call into Arrow (2.5 of 12 s inferring 300,000 flights rows).
    counts = Counter(text.to_numpy(dtype=object))
    n_unique = len(counts)
    counted = numbers.dropna()
    codes = n_unique >= _UNIQUE_ID_SHARE * len(text) and bool(counted.eq(counted.round()).all())
    share = numbers.notna().mean()
    mostly = share >= _WRITTEN_SHARE
    if not mostly and share >= 0.5:  # or a few placeholders beside them: the others read only here
        others = pd.unique(text[numbers.isna().to_numpy()])
        mostly = len(others) <= _PLACEHOLDERS and all(_placeholder(v) for v in others)
    if mostly and not leading_zero and not codes:
        # 999 amounts and one "?" were categories (as unique text, an id) without a word; nearly
        # unique whole numbers among codes (invoice numbers, "C536379") stay ids, below. A few
        # placeholders for many numbers too: 15% "?" made an id warning without the hint.
        return _almost_numeric_column(name, present, text, numbers, formatted, nullable, where, warn)
    personal = _personal_column(name, text, nullable)
    if personal is not None:
        return personal
    if len(series) >= min_id_rows and n_unique == len(series):
        return _string_id(name, text)
    # Values that one row alone holds (a name, a job title) are rare categories: the model pools
    # them and sampling draws them by frequency, as they are, into synthetic rows (1,000 names of
    # 1,000 customers, 3 repeated, were all copied as categories where 1,000 unique ones became an id).
    own = sum(1 for count in counts.values() if count == 1) / len(text)
    unit = _unit_of(text) if len(text) >= min_id_rows and own >= _RARE_VALUE_SHARE else None
    if warn and unit is not None:
        # "265.1 min": the advice to mark it personal, id or categorical did not fit numbers with a unit.
        logger.warning("%s: its values are numbers with a unit (%r), read as text (%d distinct values): write them "
                       "without the unit (a number only) and infer again for a numeric column", where, unit, n_unique)
    # Judged on the rows with a value: two values in 1,500 rows, 1,498 of them empty, were an id
    # ("100% of rows hold a value no other row has").
    if len(text) >= min_id_rows and own >= _UNIQUE_ID_SHARE:
        if warn and unit is None:
            logger.warning("%s: %.0f%% of its %d values are held by no other row: inferred as an id (regenerated, never "
                           "copied); mark it personal (name, address, ...) if it is about people, or categorical if "
                           "its values may appear in synthetic rows", where, 100 * own, len(text))
        return Column(name, ColumnKind.ID, nullable=nullable, type=NumericType.STRING, prefix=f"{name}_", width=0,
                      description=f"inferred: nearly unique text ({n_unique} distinct values in {len(text)} rows, "
                                  f"{own:.0%} of rows with a value of their own), regenerated as prefix + number so "
                                  "that no row's value is copied; review it")
    categories = tuple(sorted(counts))
    spellings: dict[str, list[str]] = {}
    for value in categories:
        spellings.setdefault(" ".join(value.split()).casefold(), []).append(value)
    alike = [group for group in spellings.values() if len(group) > 1]
    if warn and alike:
        # yes / Yes / YES / no / No / NO were six categories without a word.
        logger.warning("%s: %d of its values differ only in capitals or spaces (%s): each is a category of its own; "
                       "write each value one way if they mean the same", where, sum(len(g) for g in alike),
                       "; ".join(" / ".join(repr(v) for v in group[:3]) for group in alike[:3]))
    named = _named_personal(name)
    if named is not None and warn and n_unique >= 10:
        # A customer's name in each of their 10 orders: too few distinct values to be taken
        # for names (german_credit's "telephone" holds yes/none), and copied as categories.
        logger.warning("%s: its name says %s, but its %d distinct values in %d rows are too few to be taken for "
                       "them: inferred as categories, which sampling copies into synthetic rows; set kind personal "
                       "(personal: %s) if its values identify people", where, _PERSONAL_LABEL[named], n_unique,
                       len(text), named.value)
    if len(text) >= min_id_rows and own >= _RARE_VALUE_SHARE:
        if warn and unit is None:
            logger.warning("%s: %.0f%% of its %d values are held by no other row; sampling draws such rare values as "
                           "they are, so they reach synthetic rows: mark the column personal or id if its values "
                           "identify people", where, 100 * own, len(text))
        note = (f"inferred: text with {n_unique} distinct values, {own:.0%} of rows with a value of their own (drawn "
                f"as they are into synthetic rows: kind personal or id if they identify people)")
    elif n_unique > 1000:
        note = (f"inferred: text with {n_unique} distinct values; the model learns the most "
                f"frequent and pools the rest. Consider kind id if it is an identifier.")
    else:
        note = f"inferred: text with {n_unique} distinct values"
    return Column(name, ColumnKind.CATEGORICAL, nullable=nullable, categories=categories, description=note)


def _times_in(name: str, present: pd.Series, text: pd.Series, nullable: bool, code_max_values: int, min_id_rows: int,
              n_rows: int, where: str) -> Column | None:
    """A duration or datetime column for text values ``present`` (written as ``text``), or
    ``None`` when they are neither; dates pandas cannot hold are refused."""
    durations = _durations_in(present, text)
    if durations is not None:
        return _duration_column(name, durations, nullable, code_max_values, min_id_rows, n_rows)
    parsed = _parse_datetimes(text)
    if parsed is not None:
        # Text only: datetime objects of several zones in one column are read as UTC clock times
        # with a warning (above), as a streamed fit reads such parts.
        written = not isinstance(present.iloc[0], (dt.datetime, np.datetime64))
        zone, note, naive = _written_zone(text) if written else (None, "", None)
        if zone is not None:
            if naive is not None:  # clock times of the zone the others write: their instants
                parsed = parsed.where(~naive, parsed - time_zone(zone).utcoffset(None))
            parsed = parsed.dt.tz_localize("UTC")  # instants, which _datetime_column gives as the zone's clock times
        return _datetime_column(name, parsed, nullable, fmt=_datetime_format(text, parsed), note=note, zone=zone)
    _refuse_impossible_dates(where, text)
    return _other_datetimes(name, text, nullable)


_ISO_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def _written_zone(text: pd.Series) -> tuple[str | None, str, pd.Series | None]:
    """The ``timezone`` of ISO 8601 datetimes written with an offset (``2020-12-30T10:00Z``,
    ``...+01:00``): that offset when they share one (``UTC`` for ``Z`` or ``+00:00``), else UTC
    (their instants kept, clock times of UTC), with a note saying so; ``None`` when no value
    writes one (clock times of no stated zone: read as they are). Such a column had no zone:
    its sampled rows lost the ``Z`` they were written with. Values that write no offset beside
    ones that do are clock times of the one offset the others share (the third value, the
    mask of those values, marks them; read as UTC, they moved 5.5 hours from their +05:30
    neighbours without a word), or of UTC among several offsets; a note says which."""
    found = text.str.strip().str.extract(_ISO_OFFSET, expand=False)
    has = found.notna()
    if not has.any():
        return None, "", None
    offsets = {"+0000" if o in ("Z", "-0000") else o for o in found[has].str.replace(":", "", regex=False).unique()}
    naive = int((~has).sum())
    if len(offsets) > 1:
        note = (f"; offsets {preview(sorted(offsets))} converted to UTC: set timezone to the IANA zone they were written "
                f"in ({_zone_example(offsets)}) to learn its clock times")
        return "UTC", note + (f"; {naive} values that write no offset read as UTC clock times" if naive else ""), None
    offset = offsets.pop()
    zone = "UTC" if offset == "+0000" else f"{offset[:3]}:{offset[3:]}"
    if not naive:
        return zone, "", None
    note = f"; {naive} values that write no offset read as clock times of {zone}, the offset the others write"
    return zone, note, (~has if zone != "UTC" else None)


# Zones whose standard and summer offsets a column's offsets may be, to name one in a note.
_OFFSET_ZONES = {("-0500", "-0400"): "America/New_York", ("-0600", "-0500"): "America/Chicago",
                 ("-0700", "-0600"): "America/Denver", ("-0800", "-0700"): "America/Los_Angeles",
                 ("+0000", "+0100"): "Europe/London", ("+0100", "+0200"): "Europe/Paris",
                 ("+0200", "+0300"): "Europe/Helsinki", ("+1000", "+1100"): "Australia/Sydney"}


def _zone_example(offsets: set[str]) -> str:
    """An IANA zone whose offsets ``offsets`` (``{"-0500", "-0400"}``) are, as an example."""
    for pair, zone in _OFFSET_ZONES.items():
        if offsets <= set(pair):
            return f"such as {zone}"
    return "such as America/New_York for -0500 and -0400"


def _refuse_unsupported(where: str, name: str, series: pd.Series) -> None:
    """Refuse columns whose type no kind holds, saying how to convert them."""
    if pd.api.types.is_complex_dtype(series.dtype):
        raise DataError(
            f"{where}: complex numbers are not supported; split them into two numeric "
            f"columns (real and imaginary parts)"
        )
    nested = _nested_kind(series)
    if nested is not None:
        # Learned as the text of each value ("[1 2]", "{'a': 1}", "b'ab'") and sampled as that text.
        raise DataError(
            f"{where}: {nested} values are not supported; spread them over columns of their own "
            f"(frame[{name!r}].apply(pd.Series) for lists or records), or make them text "
            f"(frame[{name!r}].str.decode('utf-8') for bytes)"
        )
    if isinstance(series.dtype, pd.PeriodDtype):
        # Learned as their ordinals (months since 1970-01) and sampled as integers before.
        raise DataError(
            f"{where}: periods ({series.dtype}) are not supported; convert them to datetimes, "
            f"e.g. frame[{name!r}].dt.to_timestamp(), or to text with .astype(str)"
        )


def _bytes_as_text(series: pd.Series) -> pd.Series:
    """Bytes among a column's other values as their text (``b"x"`` is ``"b'x'"``), the
    category :func:`synthvae.validation.conform` matches them to. pandas' ``astype(str)``
    decodes bytes instead, and raised on one that is not UTF-8."""
    if series.dtype != object or pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty", "floating", "integer"):
        return series
    values = series.to_numpy()
    is_bytes = np.fromiter((isinstance(value, (bytes, bytearray)) for value in values), dtype=bool, count=len(values))
    if not is_bytes.any():
        return series
    values = values.copy()
    values[is_bytes] = [str(value) for value in values[is_bytes]]
    return pd.Series(values, index=series.index, name=series.name, dtype=object)


def _nested_kind(series: pd.Series) -> str | None:
    """What kind of nested or binary values a column holds (lists, records, bytes), judged on its
    first present values, or ``None`` (Arrow columns come here as :func:`numpy_backed` gives
    them: lists as arrays, records as dicts, binary as bytes)."""
    if series.dtype != object:
        return None
    probe = series.dropna().iloc[:1000]
    for value in probe:
        if isinstance(value, (list, tuple, set, np.ndarray)):
            return "list"
        if isinstance(value, dict):
            return "record"
    # Bytes among other values are categories of their text (b"x" is "b'x'", as conform reads
    # them); a column of bytes only is binary data.
    if len(probe) and all(isinstance(value, (bytes, bytearray)) for value in probe):
        return "binary (bytes)"
    return None


def _refuse_infinite(where: str, values: pd.Series, index: pd.Index) -> None:
    """Refuse infinite numbers (no bounds hold them, no codec scales them), saying how many and
    in which rows (the first few): ``values`` are the column's present values, ``index`` the
    table's. Rows are named by that index: positions from 0 in a table as read from a file, the
    file's own rows in the sample a streamed fit infers its schema from."""
    infinite = np.isinf(values.to_numpy())
    if not infinite.any():
        return
    count = int(infinite.sum())
    default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    rows = f"{preview(values.index[infinite].tolist())}{' (counted from 0)' if default else ''}"
    raise DataError(
        f"{where}: {count} infinite value{'s' if count > 1 else ''} (inf or -inf), in rows {rows}; "
        f"replace them with numbers, or with nulls (empty cells), before inferring a schema"
    )


# Distinct whole numbers a column needs before their common divisor is taken for its step: 20
# random whole numbers are all even once in a million.
_STEP_MIN_VALUES = 20


def _common_step(unique: np.ndarray) -> int | None:
    """The greatest common divisor of a column's distinct whole numbers when it is 2 or more and
    they are :data:`_STEP_MIN_VALUES` or more (loans' amounts are all multiples of 25); else
    ``None``."""
    if unique.size < _STEP_MIN_VALUES or np.abs(unique).max() >= 2.0**53:
        return None
    step = int(np.gcd.reduce(np.abs(unique).astype(np.int64)))
    return step if step >= 2 else None


def _numeric_column(name, values, nullable, code_max_values, min_id_rows, n_rows, written=None) -> Column:
    """A numeric column (or an id, or codes) from its values as floats. ``written`` notes how
    text wrote them ("'$1,234.50' reads as 1234.5"): such a column is always numeric, as an id
    would drop amounts and categories of numbers would not match the text."""
    finite = values.to_numpy()
    integral = whole_numbers(finite)
    unique = np.unique(finite)
    how = f", written as text ({written}; sampled as plain numbers)" if written else ""
    if integral:
        if written is None and n_rows >= min_id_rows and unique.size == n_rows and (
            _ID_NAME.search(name) or (unique[-1] - unique[0] + 1 == unique.size and not nullable)
        ):
            return Column(name, ColumnKind.ID, nullable=False, type=NumericType.INTEGER,
                          start=int(unique[-1]) + 1, description=_ID_DESCRIPTION)
        gaps = np.diff(unique)
        if written is None and 2 <= unique.size <= code_max_values and gaps.size and gaps.min() > 1 and unique.size < n_rows / 2:
            return Column(name, ColumnKind.CATEGORICAL, nullable=nullable,
                          categories=tuple(int(u) for u in unique),
                          description=(f"inferred: {unique.size} non-contiguous whole-number codes; "
                                       f"change kind to numeric if they are quantities"))
        step = _common_step(unique)
        steps = f", multiples of {step}" if step else ""
        return Column(name, ColumnKind.NUMERIC, nullable=nullable, type=NumericType.INTEGER, step=step,
                      min=int(unique[0]), max=int(unique[-1]), description="inferred: whole numbers" + steps + how)
    decimals = decimal_places(unique)
    places = f" with {decimals} decimal places" if decimals is not None else ""
    if decimals is None and (mostly := _mostly_decimal_places(finite)) is not None:
        # loans' paid_total: 95.7% of amounts in cents, the rest with float noise (41630.443684235);
        # without decimals every synthetic amount had 13 of them.
        decimals, share, example = mostly
        places = (f" with {decimals} decimal places ({share:.1%} of values carry more, e.g. {example!r}: sampled values are "
                  f"rounded to {decimals}; set decimals to null to keep every digit)")
        logger.info("column %r: %.1f%% of values have at most %d decimal places; it is inferred with %d (set decimals to "
                    "null in the schema to keep every digit)", name, 100 * (1 - share), decimals, decimals)
    low, high = on_grid(float(unique[0]), float(unique[-1]), decimals)
    return Column(name, ColumnKind.NUMERIC, nullable=nullable, type=NumericType.FLOAT,
                  decimals=decimals, min=low, max=high,
                  description="inferred: numbers" + places + how)


def _duration_column(name, durations: pd.Series, nullable, code_max_values, min_id_rows, n_rows) -> Column:
    """A numeric column of durations: numbers of the coarsest of days, hours, minutes and
    seconds that counts every one whole, else of seconds with the decimals they need."""
    step = _coarsest_unit(durations)  # as for datetimes; finer than seconds: seconds with decimals
    unit = {"min": "m"}.get(step, step) if step in ("D", "h", "min", "s") else "s"
    numbers = (durations / unit_length(unit)).astype("float64")
    column = _numeric_column(name, numbers, nullable, code_max_values, min_id_rows, n_rows)
    if column.kind is not ColumnKind.NUMERIC:  # no id or codes: durations are quantities
        whole = bool(whole_numbers(numbers.to_numpy()))
        column = Column(name, ColumnKind.NUMERIC, nullable=nullable, type=NumericType.INTEGER if whole else NumericType.FLOAT,
                        decimals=None if whole else decimal_places(np.unique(numbers.to_numpy())),
                        min=int(numbers.min()) if whole else float(numbers.min()),
                        max=int(numbers.max()) if whole else float(numbers.max()))
    return dataclasses.replace(column, duration=unit, step=None,
                   description=f"inferred: durations, as {'whole ' if column.is_integer else ''}numbers of {UNIT_NAMES[unit]}")


def _durations_in(present: pd.Series, text: pd.Series) -> pd.Series | None:
    """A column's present values as durations, where they are: timedelta objects, durations as
    pandas writes them to CSV ("0 days 00:18:56"), or numbers with a unit of time ("265.1 min",
    "2 hours", "10 mins"); else ``None`` (also where pandas cannot hold them: 200,000 days)."""
    if not holds_durations(present):
        if not any(re.fullmatch(form, text.iloc[0]) and text.str.fullmatch(form).all() for form in (_DURATION_TEXT, _TIME_WITH_UNIT)):
            return None
        present = duration_words(text)
    try:
        return pd.to_timedelta(present)
    except (ValueError, OverflowError, pd.errors.OutOfBoundsTimedelta, pd.errors.OutOfBoundsDatetime):
        return None


# A duration as pandas writes one: "0 days 00:18:56", "-1 days +23:59:59.500000".
_DURATION_TEXT = r"\s*-?\d+ days? [+-]?\d{2}:\d{2}:\d{2}(\.\d+)?\s*"
# A number with a unit of time: "265.1 min", "2 hours", "10 mins", "45 sec", "3 days"; not a
# bare "s" ("20s", "30s" are age groups), nor "m" (metres).
_TIME_WITH_UNIT = r"\s*-?\d+(\.\d+)?\s*(min|mins|minutes?|h|hrs?|hours?|secs?|seconds?|ms|days?)\s*"


def _written_note(present: pd.Series, numbers: pd.Series, formatted: pd.Series) -> str:
    """How a column writes its numbers, by its first value written with separators or signs."""
    first = int(np.flatnonzero(formatted.to_numpy())[0])
    return f"{str(present.iloc[first]).strip()!r} reads as {category_text(float(numbers.iloc[first]))}"


def _placeholder(text: str) -> bool:
    """Whether a text looks written for a missing value: no letter or digit ("?", "-", "*"), or
    a word for one ("unknown", "n/a", "missing"); floors "G" and "B" or grades "K" and "PK"
    beside numbers are codes (a review of the first rule, which took any three)."""
    folded = text.strip().casefold()
    return not re.search(r"[^\W_]", folded) or folded in _MISSING_WORDS


def _almost_numeric_column(name, present, text, numbers, formatted, nullable, where, warn) -> Column:
    """Text whose values are nearly all numbers (plain or written with separators or signs):
    categories (conform could not read the rest as numbers), never an id, with a note on what
    to fix, logged."""
    others = pd.unique(present[numbers.isna()].astype(str))
    written = f" ({_written_note(present, numbers, formatted)})" if formatted.any() else ""
    fix = (f"{int(numbers.notna().sum()):,} of its {len(numbers):,} values are numbers{written} but {preview(others)} are not: if "
           f"they stand for missing values, leave them empty (nulls) and infer again for a numeric column")
    return _categories_to_fix(name, text, nullable, where, warn, "numeric", fix)


def _categories_to_fix(name, text, nullable, where, warn, instead: str, fix: str) -> Column:
    """A text column nearly all of whose values are of another kind (``instead``: numeric, a
    datetime) as categories, with ``fix`` (what to change) in its description and, with
    ``warn``, logged."""
    distinct = set(text)
    if warn:
        logger.warning("%s: categorical, not %s: %s", where, instead, fix)
    return Column(name, ColumnKind.CATEGORICAL, nullable=nullable, categories=tuple(sorted(distinct)),
                  description=f"inferred: text with {len(distinct)} distinct values; {fix}")


def _unit_of(text: pd.Series) -> str | None:
    """The one unit that follows the number in nearly every value (``"265.1 min"``, ``"71kg"``),
    or ``None`` (a single letter needs a space before it: ``"12A"`` is a code)."""
    found = text.iloc[:1000].str.extract(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:\s+([^\W\d_]+\.?)|([^\W\d_]{2,}\.?))\s*$")
    first, second = found[0].to_numpy(dtype=object), found[1].to_numpy(dtype=object)
    # numpy, not fillna: pandas 2.2 warns of downcasting object columns there (an error in tests)
    parts = pd.Series(np.where(pd.isna(first), second, first), dtype=object)
    units = parts.dropna()
    if len(units) < _WRITTEN_SHARE * len(parts) or units.nunique() != 1:
        return None
    return str(units.iloc[0])


def _date_shapes(text: pd.Series) -> list[str]:
    """One example value of each date shape (ISO, :data:`_OTHER_DATETIMES`') among the first
    1,000 values when every one of them has some date shape; else none."""
    shapes = [_ISO_SHAPE.strip("^$")] + [shape for shape, _ in _OTHER_DATETIMES]
    head = text.iloc[:20]
    if not np.logical_or.reduce([head.str.fullmatch(shape).to_numpy(dtype=bool) for shape in shapes]).all():
        return []  # most text columns: not dates, settled on 20 values
    sample = text.iloc[:1000]
    covered, examples = np.zeros(len(sample), dtype=bool), []
    for shape in shapes:
        matched = sample.str.fullmatch(shape).to_numpy(dtype=bool) & ~covered
        if matched.any():
            examples.append(repr(sample.iloc[int(np.argmax(matched))]))
            covered |= matched
    return examples if len(sample) and covered.all() else []


def _almost_dates(name, text, nullable, where, warn) -> Column | None:
    """Text whose values are nearly all ISO dates beside a few others (a placeholder such as
    ``unknown``): categories, as :func:`_almost_numeric_column` makes them of numbers, with a note
    on what to fix, logged (such a column became categories of dates without a word, or an id);
    ``None`` for any other column."""
    if text.iloc[:1000].str.match(_ISO_SHAPE).mean() < _WRITTEN_SHARE:  # most text columns: no dates, no pass over all
        return None
    shaped = text.str.match(_ISO_SHAPE).to_numpy(dtype=bool)
    if shaped.all() or shaped.mean() < _WRITTEN_SHARE:
        return None
    parsed = iso_in_utc(text[shaped])
    if parsed.isna().any():
        return None
    fix = (f"{int(shaped.sum()):,} of its {len(text):,} values are dates but {preview(list(pd.unique(text[~shaped])))} are "
           f"not: if they stand for missing values, leave them empty (nulls) and infer again for a datetime column")
    return _categories_to_fix(name, text, nullable, where, warn, "a datetime", fix)


def _wide_integers(present: pd.Series) -> list[int] | None:
    """The distinct values of an integer column, sorted, as Python ints when some lie beyond
    2**53 (where float64 no longer holds every whole number), else ``None``."""
    if -_EXACT_INTEGERS < int(present.min()) and int(present.max()) < _EXACT_INTEGERS:
        return None
    return np.unique(present.to_numpy()).tolist()


def _wide_integer_text(text: pd.Series) -> list[int] | None:
    """As :func:`_wide_integers`, for text that is whole numbers written in digits (as a CSV
    file holds ids beyond 64 bits: pandas reads them as Python ints). Read as Python ints, never
    through floats: pandas 2.2's ``to_numeric`` turns such text into floats."""
    if not text.iloc[:1000].str.fullmatch(r"\s*[+-]?\d+\s*").all():  # a quick look first
        return None
    stripped = text.str.strip()
    if not stripped.str.fullmatch(r"[+-]?\d+").all():
        return None
    digits = int(stripped.str.lstrip("+-").str.lstrip("0").str.len().max())
    # Below 10**15 < 2**53; beyond 4,300 digits Python refuses to read text as an int (a
    # ValueError): such text is left to the text rules.
    if digits < 16 or digits > 4300:
        return None
    distinct = sorted({int(value) for value in stripped.unique()})
    if -_EXACT_INTEGERS < distinct[0] and distinct[-1] < _EXACT_INTEGERS:
        return None
    return distinct


def _wide_integer_column(name, distinct, nullable, code_max_values, min_id_rows, n_rows) -> Column:
    """A column of whole numbers some of which lie beyond 2**53, from its ``distinct`` values
    (sorted Python ints): judged on the exact numbers, which floats would merge (30 ids near
    2**62 became a few floats 1,024 apart, ids near 2**70 one float).

    Within int64: ids by name or by counting up (or unique and too dense for floats to tell
    apart); codes as for smaller numbers; many values that floats keep apart are quantities
    (nanosecond timestamps), learned as floats; the rest categories, exact. Beyond int64: an id
    when unique, else categories."""
    low, high = distinct[0], distinct[-1]
    unique = n_rows >= min_id_rows and len(distinct) == n_rows
    categories = "categories (the model learns the most frequent and pools the rest); make it kind id if they are identifiers"
    if not (-_INT64 <= low and high < _INT64):
        # Beyond 64-bit integers: no float, nor any number sampling makes, holds them.
        if unique:
            return _counted_id(name, "unique whole numbers beyond 64-bit integers")
        return Column(name, ColumnKind.CATEGORICAL, nullable=nullable, categories=tuple(distinct),
                      description=(f"inferred: {len(distinct)} distinct whole numbers beyond 64-bit integers, "
                                   f"which no float holds: {categories}"))
    apart = np.unique(np.array(distinct, dtype=np.float64)).size == len(distinct)
    contiguous = high - low + 1 == len(distinct) and not nullable
    if unique and (_ID_NAME.search(name) or contiguous or not apart):
        if high < _INT64 - _ID_ROOM:
            return Column(name, ColumnKind.ID, nullable=False, type=NumericType.INTEGER, start=high + 1,
                          description=_ID_DESCRIPTION)
        return _counted_id(name, "unique whole numbers too close to the largest 64-bit integer to count on from")
    gaps = np.diff(np.array(distinct, dtype=object))
    if 2 <= len(distinct) <= code_max_values and gaps.min() > 1 and len(distinct) < n_rows / 2:
        return Column(name, ColumnKind.CATEGORICAL, nullable=nullable, categories=tuple(distinct),
                      description=(f"inferred: {len(distinct)} non-contiguous whole-number codes; "
                                   f"change kind to numeric if they are quantities"))
    spacing = int(np.spacing(float(max(abs(low), abs(high)))))
    if apart and len(distinct) > code_max_values:
        # Sampled as integers they could pass int64's end; as floats each moves by at most
        # half the spacing (512 near 2**62).
        return Column(name, ColumnKind.NUMERIC, nullable=nullable, type=NumericType.FLOAT,
                      min=float(low), max=float(high),
                      description=(f"inferred: {len(distinct)} whole numbers beyond 2**53, learned as floats "
                                   f"(which are {spacing:,} apart there); make it kind id if they are identifiers"))
    return Column(name, ColumnKind.CATEGORICAL, nullable=nullable, categories=tuple(distinct),
                  description=(f"inferred: {len(distinct)} distinct whole numbers beyond 2**53, which floats "
                               f"({spacing:,} apart there) would not keep: {categories}"))


def _identifiers_named(column: Column, values, n_rows: int, min_id_rows: int, where: str, warn: bool) -> Column:
    """A numeric column of whole numbers distinct on every row, looked at again (``values``:
    its values, exact where they pass 2**53): card numbers (12 to 19 digits, every one passing
    the Luhn check) are an id, regenerated, never copied; other such numbers all of 7 digits or
    more stay numbers, with a warning that they may identify rows (of 6, distinct house prices
    were warned of; a review). As numbers, 498 of 500 real
    card numbers were in the model file (its quantiles), and none was named (a user review)."""
    wide = isinstance(values, list)  # the distinct values, Python ints (some beyond 2**53)
    if column.kind is not ColumnKind.NUMERIC or not (wide or column.is_integer):
        return column
    if n_rows < min_id_rows or len(values) != n_rows:  # nulls, repeats, or too few rows to tell
        return column
    if not wide and np.unique(values).size != n_rows:  # whole floats (exact below 2**53): distinct, cheaply
        return column
    exact = [int(v) for v in values]
    digits = [len(str(abs(v))) for v in exact]
    if min(digits) >= 12 and max(digits) <= 19 and all(_luhn(v) for v in exact):
        if warn:
            logger.warning("%s: its %d values are card numbers (12 to 19 digits, distinct, every one passing the Luhn "
                           "check): inferred as an id, regenerated and never copied; mark it numeric if they are not",
                           where, n_rows)
        return _counted_id(column.name, "card numbers (distinct 12-19 digit numbers passing the Luhn check)")
    if warn and min(digits) >= 7:
        logger.warning("%s: its %d whole numbers of %d to %d digits are all different: if they identify rows (account, "
                       "card, record or patient numbers), mark it kind id (regenerated, never copied); as numbers the "
                       "model learns them and its file keeps some of them", where, n_rows, min(digits), max(digits))
    return column


def _luhn(number: int) -> bool:
    """Whether a number's digits pass the Luhn check (card numbers do)."""
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(str(abs(number)))):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _counted_id(name: str, why: str) -> Column:
    """A string id regenerated as the column's name and a count from 0: for ids whose own
    numbers sampling cannot continue in 64-bit integers."""
    return Column(name, ColumnKind.ID, type=NumericType.STRING, prefix=f"{name}_", width=0,
                  description=f"inferred: {why} (a key), regenerated as {name}_0, {name}_1, ...")


def whole_numbers(values: np.ndarray) -> bool:
    """Whether finite floats are all whole numbers that an integer column holds: from 2**53 on
    every float is whole and whole numbers no longer have a float each (2**53 + 1 reads as
    2**53), so such columns are floats (sampled integers must also fit in int64)."""
    return bool(np.all(values == np.round(values))) and bool(np.abs(values).max() < _EXACT_INTEGERS)


def on_grid(low: float, high: float, decimals: int | None) -> tuple[float, float]:
    """Bounds of numbers kept at ``decimals`` places, each at its grid point where that does not
    leave a value out (the lowest bound no higher, the highest no lower) or moves it by float
    noise only (:func:`synthvae.validation.decimal_noise`, which the bounds check allows), else as
    it is.

    float32 numbers hold their decimals with noise: 0.10 is 0.10000000149 and 9.99 is
    9.98999977, and those bounds put the grid's own end points out of reach (rates floored at
    0.10 and prices capped at 9.99, a third of the rows, were never sampled at them: rounding
    inwards gave 0.11 and 9.98); float64 noise wrote ``"max": 7.9460000000000015``."""
    if decimals is None or low is None or high is None:
        return low, high
    noise = decimal_noise(decimals)
    snapped_low, snapped_high = round(low, decimals), round(high, decimals)
    return ((snapped_low if snapped_low <= low + noise else low),
            (snapped_high if snapped_high >= high - noise else high))


def decimal_places(values: np.ndarray) -> int | None:
    """The fewest decimal places (1 to 6) that keep every value, or ``None`` (no rounding).

    ``d`` places keep a value when rounding moves it by at most 10**-(d+3) and by at most a
    thousandth of the value itself: an absolute tolerance alone took rates all below 1e-4 for
    one decimal (rounded, every one became 0). Differences below 1e-12 of the column's largest
    value are float arithmetic's residue (0.1 * 3 - 0.3 is 5.6e-17), which rounding may remove.
    """
    sample = _with_fraction(values)  # every one: the largest often carry the decimals
    if not sample.size:
        return None
    magnitude = np.abs(sample)
    residue = 1e-12 * float(magnitude.max())
    # float32 numbers (every value one) hold their decimals only to their own spacing, 2**-23 of
    # the value: prices of 256.00 and more missed the absolute tolerance, and were sampled with
    # every digit of noise. A grid finer than a quarter of that spacing cannot be told.
    spacing = magnitude * 2.0**-23 if np.array_equal(sample.astype(np.float32).astype(np.float64), sample) else None
    for d in range(1, MAX_DECIMALS + 1):
        allowed = _rounding_allowed(magnitude, d, residue)
        if spacing is not None:
            if float(spacing.max()) > 10.0**-d / 4:
                break
            allowed = np.maximum(allowed, spacing)
        if np.all(np.abs(np.round(sample, d) - sample) <= allowed):
            return d
    return None


def _with_fraction(values: np.ndarray) -> np.ndarray:
    """The values below 2**52 in magnitude: beyond, floats have no fraction (nothing to round,
    and scaling them by 10**d could overflow)."""
    return values[np.abs(values) < 2.0**52]


def _kept_by(sample: np.ndarray, d: int) -> np.ndarray:
    """Which of ``sample`` (values with a fraction) rounding to ``d`` places keeps, by
    :func:`decimal_places`' rule for float64 numbers."""
    magnitude = np.abs(sample)
    return np.abs(np.round(sample, d) - sample) <= _rounding_allowed(magnitude, d, 1e-12 * float(magnitude.max()))


def _rounding_allowed(magnitude: np.ndarray, d: int, residue: float) -> np.ndarray:
    """How far rounding to ``d`` places may move each value and still keep it (see
    :func:`decimal_places`): at most 10**-(d+3) and a thousandth of the value, or float
    arithmetic's ``residue``."""
    return np.minimum(decimal_noise(d), np.maximum(_DECIMALS_RTOL * magnitude, residue))


def _mostly_decimal_places(values: np.ndarray) -> tuple[int, float, float] | None:
    """Where no number of decimal places keeps every value (:func:`decimal_places`): the fewest
    that keep :data:`_MOSTLY_DECIMALS_SHARE` of them (amounts in cents beside a few with float
    noise) and move no value that several rows hold (:func:`places_kept`), with the share of
    values that carry more and one of them; ``None`` when there are none (measurements with
    every digit)."""
    counts = places_kept(values)
    if counts is None:
        return None
    kept, lost = counts
    d = mostly_places(kept, lost, values.size)
    if d is None:
        return None
    sample = _with_fraction(values)
    return d, float(1.0 - kept[d - 1] / values.size), float(sample[~_kept_by(sample, d)][0])


def places_kept(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """For 1 to 6 decimal places, how many of ``values`` rounding to them keeps (by
    :func:`decimal_places`' rule), and how many it moves although another value equals theirs:
    levels of the column, not float noise, which rounding would lose; ``None`` for float32
    numbers, whose own spacing decides.

    randhie's physlm holds 0 or 1 on 95% of rows and 9 levels such as 0.1442925 on the rest:
    counted by rows kept alone, one place "kept" it, and 7 of its 11 levels were never sampled
    (3.2% of rows held values no row had). Noise beside amounts in cents (41630.443684235) is one
    row's own."""
    sample = _with_fraction(values)
    if not sample.size or np.array_equal(sample.astype(np.float32).astype(np.float64), sample):
        return None
    kept = np.zeros(MAX_DECIMALS, dtype=np.int64)
    lost = np.zeros(MAX_DECIMALS, dtype=np.int64)
    for d in range(1, MAX_DECIMALS + 1):
        keeps = _kept_by(sample, d)
        kept[d - 1] = np.count_nonzero(keeps)
        if not keeps.all():
            _, repeats = np.unique(sample[~keeps], return_counts=True)
            lost[d - 1] = int(repeats[repeats > 1].sum())
    return kept + (values.size - sample.size), lost  # beyond 2**52: no fraction


def mostly_places(kept: np.ndarray, lost: np.ndarray, total: int) -> int | None:
    """The fewest decimal places that keep :data:`_MOSTLY_DECIMALS_SHARE` of ``total`` values and
    move no more than :data:`_LOST_LEVELS_SHARE` of them that other rows share, from
    :func:`places_kept`'s counts; ``None`` when none do."""
    enough = (kept >= _MOSTLY_DECIMALS_SHARE * total) & (lost <= _LOST_LEVELS_SHARE * total)
    first = np.flatnonzero(enough) if total else []
    return int(first[0]) + 1 if len(first) else None


def _is_boolean_text(present: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(present.dtype):
        return False
    # map(str), not astype(str), which decodes bytes and raised on one that is not UTF-8.
    values = set(present.map(str).str.strip().str.lower().unique())
    return values == {"true", "false"}


def _parse_datetimes(text: pd.Series) -> pd.Series | None:
    sample = text.iloc[:1000]
    # Needs a date-like shape first, so that numbers and codes are never taken for dates.
    if not sample.str.match(_ISO_SHAPE).all():
        return None
    try:
        # utc=True accepts mixed offsets; naive text is read as UTC, i.e. left as it is (as
        # conform reads it: the two kinds apart, see datetimes_in_utc).
        parsed, _ = datetimes_in_utc(text)
    except (ValueError, OverflowError):
        return None
    if parsed.isna().any():
        # pandas < 3 coerces datetimes beyond nanoseconds (years 1678 to 2262) to NaT where
        # pandas 3 parses them (in microseconds): read those as pandas 3 does.
        return _beyond_ns(text, parsed.isna())
    return parsed.dt.tz_localize(None)


def _refuse_impossible_dates(where: str, text: pd.Series) -> None:
    """Refuse a column whose every value has an ISO date's shape, most of them dates, but some
    none (``2021-02-30``, MySQL's ``0000-00-00``): they made the column text, then fake phone
    numbers."""
    if not text.str.match(_ISO_SHAPE).all():
        return
    parsed = iso_in_utc(text)
    bad = text[parsed.isna()]
    if bad.empty or len(bad) > (1 - _WRITTEN_SHARE) * len(text):
        return  # mostly no dates: codes of that shape ("3140-28-94"), left to the other rules
    raise DataError(
        f"{where}: {len(bad)} of {len(text)} values look like dates but are none, e.g. {preview(bad.unique().tolist())} "
        f"(rows {preview(bad.index.tolist())}); correct them, or leave them empty (a missing date), and infer again"
        + (" (MySQL writes 0000-00-00 for no date)" if bad.str.startswith("0000-00-00").any() else "")
    )


def _beyond_ns(text: pd.Series, failed: pd.Series) -> pd.Series | None:
    """``text`` as naive UTC datetimes in microseconds when every value ``failed`` marks is a
    datetime beyond nanoseconds, else ``None`` (some value is no datetime). The values that
    failed are checked first: a column of text stops at its first value."""
    for value in text[failed]:
        try:
            pd.Timestamp(value).as_unit("ns")
            return None  # within range (or no datetime), yet the ISO 8601 parse refused it
        except (pd.errors.OutOfBoundsDatetime, OverflowError):
            continue
        except (TypeError, ValueError):
            return None
    stamps = []
    for value in text:
        try:
            stamp = pd.Timestamp(value)
        except (TypeError, ValueError, OverflowError):
            return None
        if stamp is pd.NaT:
            return None
        if stamp.tz is not None:
            stamp = stamp.tz_convert(None)
        stamps.append(stamp.as_unit("us").asm8)
    return pd.Series(np.array(stamps, dtype="datetime64[us]"), index=text.index)


def _datetime_format(text: pd.Series, parsed: pd.Series) -> str:
    """A fixed strftime format when every value has the same shape, else ISO 8601 (any shape)."""
    shapes = text.str.replace(r"\d", "0", regex=True).unique()
    if len(shapes) != 1:
        return "ISO8601"
    known = {
        "0000-00-00": "%Y-%m-%d",
        "0000-00-00 00:00": "%Y-%m-%d %H:%M",
        "0000-00-00T00:00": "%Y-%m-%dT%H:%M",
        "0000-00-00 00:00:00": "%Y-%m-%d %H:%M:%S",
        "0000-00-00T00:00:00": "%Y-%m-%dT%H:%M:%S",
        # UTC written as Z (the only offset a shape fixes: each such value reads as UTC)
        "0000-00-00T00:00Z": "%Y-%m-%dT%H:%MZ",
        "0000-00-00T00:00:00Z": "%Y-%m-%dT%H:%M:%SZ",
    }
    return known.get(shapes[0], "ISO8601")


def _other_datetimes(name: str, text: pd.Series, nullable: bool) -> Column | None:
    """A datetime column for text in one of :data:`_OTHER_DATETIMES`' shapes, read with the first
    of its formats that reads every value (conform reads it with the same format); ``None`` when
    the text has none of those shapes. Time zones by a name neither pandas nor
    :data:`ZONE_ABBREVIATIONS` knows leave categories, with a note on how to write them."""
    sample = text.iloc[:1000]
    for shape, formats in _OTHER_DATETIMES:
        if not sample.str.fullmatch(shape).all():
            continue
        for fmt in formats:
            parsed = _datetimes_in(text, fmt)
            if parsed is None or parsed.isna().any():
                continue
            note = "; time zones by name (IANA: CET keeps summer time) converted to UTC" if "%Z" in fmt else ""
            abbreviated = sorted(set(text.str.extract(_ABBREVIATED_ZONE)[0].dropna())) if "%Z" in fmt else []
            if abbreviated:
                note += f", {', '.join(f'{zone} read as {ZONE_ABBREVIATIONS[zone]}' for zone in abbreviated)}"
            if "%Y" not in fmt and "%y" not in fmt:
                note = "; times of day alone, read on 1900-01-01 and written back without the date"
            if fmt[:5] in ("%m/%d", "%m-%d"):
                swapped = fmt[:5].replace("%m", "%_").replace("%d", "%m").replace("%_", "%d") + fmt[5:]
                other = _datetimes_in(text, swapped)
                if other is not None and len(other) and other.notna().all():
                    note = ("; day and month are 12 or less in every value: read as month/day/year, "
                            f"change format to {swapped} if they are day/month/year")
            return _datetime_column(name, parsed, nullable, fmt=fmt, note=note)
        if "%Z" in formats[0]:
            distinct = set(text)
            zones = sorted(set(text.str.extract(r" (\S+)$")[0]))
            unknown = [zone for zone in zones if not _known_zone(zone) and zone not in ZONE_ABBREVIATIONS]
            if unknown:
                why = f"time zones {preview(unknown)}, which pandas does not know"
            else:
                # A local time a daylight-saving change skips or repeats (2021-10-31 02:30 in
                # Europe/Berlin) reads as no time: the note blamed the zone.
                read = pd.Series(False, index=text.index)
                for fmt in formats:
                    parsed = _datetimes_in(text, fmt)
                    if parsed is None:  # pandas 2.2 raises for the whole column: value by value
                        parsed = text.map(lambda value: _datetimes_in(pd.Series([value]), fmt))
                        parsed = parsed.map(lambda one: pd.NaT if one is None else one.iloc[0])
                    read |= parsed.notna()
                failed = text[~read]
                why = (f"{preview(failed.unique().tolist())} no time in their zone (skipped or repeated by a "
                       f"daylight-saving change?)")
            return Column(name, ColumnKind.CATEGORICAL, nullable=nullable, categories=tuple(sorted(distinct)),
                          description=(f"inferred: text with {len(distinct)} distinct values: datetimes with "
                                       f"{why}; write them with UTC offsets (2021-03-01 00:00:00+01:00) for a "
                                       f"datetime column"))
    return None


def _datetimes_in(text: pd.Series, fmt: str) -> pd.Series | None:
    """``text`` read with ``fmt`` in UTC (values it does not read as NaT), or ``None`` when
    pandas raises instead: a format it cannot use, or, under pandas 2.2, a local time that a
    daylight-saving change repeats or skips (pytz's AmbiguousTimeError, which errors="coerce"
    let through; pandas 3 gives NaT)."""
    try:
        values = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
        if "%Z" in fmt and values.isna().any():
            values = values.where(values.notna(), abbreviated_zones_in_utc(text, fmt).array)  # by position
        return values
    except (ValueError, OverflowError):
        return None
    except Exception as exc:  # noqa: BLE001 - pytz's errors are no ValueError
        if type(exc).__module__.startswith("pytz"):
            return None
        raise


def _known_zone(zone: str) -> bool:
    """Whether pandas reads a time zone of this name."""
    try:
        pd.Timestamp("2021-01-01").tz_localize(zone)
        return True
    except Exception:  # pytz, zoneinfo and dateutil each raise their own kind of error
        return False


_UNIT_NS = (("D", 86_400 * 10**9), ("h", 3_600 * 10**9), ("min", 60 * 10**9), ("s", 10**9), ("ms", 10**6), ("us", 10**3))


def datetime_unit(present: pd.Series) -> str:
    """The schema's ``unit`` (``D``, ``h``, ``m``, ``s``, ...) of naive datetimes without nulls:
    the coarsest that holds every value."""
    step = _coarsest_unit(present)
    return "m" if step == "min" else step


def _coarsest_unit(present: pd.Series) -> str:
    """The coarsest of days, hours, minutes, ... nanoseconds that holds every (naive) datetime or
    duration of ``present``, by whole multiples of the ticks of its own unit (``dt.floor``
    overflowed on datetimes within a day of the earliest that pandas holds, 1677-09-21)."""
    native = np.datetime_data(present.dtype)[0]
    tick_ns = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}.get(native, 1)
    ticks = present.to_numpy().view("int64")
    for unit, ns in _UNIT_NS:
        if ns < tick_ns or not (ticks % (ns // tick_ns)).any():
            return unit
    return "ns"


def _zone_of(dtype) -> str | None:
    """The ``timezone`` of a column of datetimes with a zone (see :func:`zone_name`).

    Datetimes with a zone keep it: the model learns their clock times there. As UTC, Paris's
    daily dates were hourly timestamps at 22:00 or 23:00 and sampled at any hour (3.6% of
    seattle_weather's dates in Europe/Paris at local midnight). Text with offsets (which change
    with summer time) names no zone: it is read as UTC."""
    return zone_name(dtype_zone(dtype))


def _datetime_column(name: str, values: pd.Series, nullable: bool, fmt: str | None, note: str = "",
                     zone: str | None = None) -> Column:
    values = wall_times(pd.Series(values), time_zone(zone))
    present = values.dropna()
    # The coarsest unit that holds every value (log times in milliseconds were inferred as
    # seconds, and sampled on whole seconds; flights' hourly time_hour sampled any second).
    step = _coarsest_unit(present)
    unit = "m" if step == "min" else step  # the schema's name for minutes
    if fmt == "ISO8601":
        fmt = None
    # The min on the unit's grid: sampled values are whole seconds, so a min of 10:00:00.5
    # leaves none to sample when every value lies within one second.
    low = present.min()
    beyond = present[(present < _FIRST_NS) | (present > _LAST_NS)]
    if len(beyond):
        # Inferred as datetimes, which a fit then refused: say so here, with what to do.
        logger.warning("column %r: %d values: %s (a fit refuses them)", name, len(beyond),
                       beyond_ns_advice(beyond.drop_duplicates().tolist()))
    try:
        low = low.floor(step)
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        pass  # within a unit of the earliest datetime pandas holds: kept as it is
    return Column(name, ColumnKind.DATETIME, nullable=nullable, format=fmt, unit=unit, timezone=zone,
                  min=low, max=present.max(),
                  description=f"inferred: datetimes, resolution {unit}{note}")


def _personal_column(name: str, text: pd.Series, nullable: bool) -> Column | None:
    """A personal column if the text looks like data about a person, else ``None``."""
    label = _snake(name)
    stripped = text.str.strip()
    probe = stripped.iloc[:_PERSONAL_PROBE]  # patterns are judged on the first values only
    # A name for codes vetoes digits that look like phones, unless it speaks of phones too
    # (order_phone, account_phone, phone_code).
    coded = _NOT_PHONE_NAME.search(label) and not re.search(r"phone|mobile|fax|tel", label)
    for kind, pattern in _PERSONAL_CONTENT:
        matched = probe.str.match(pattern)
        if kind is PersonalType.PHONE:
            matched &= ~probe.str.match(_NOT_PHONE)
        share = float(matched.mean())
        phone_ok = kind is not PersonalType.PHONE or (probe.str.count(r"\d").min() >= 7 and not _ID_NAME.search(label)
                                                      and not coded)
        if share >= _PERSONAL_SHARE and phone_ok:
            return Column(name, ColumnKind.PERSONAL, nullable=nullable, personal=kind,
                          description=f"inferred: {share:.0%} of values look like {_PERSONAL_LABEL[kind]}; "
                                      "personal: regenerated as fake values, never learned or copied")
    # A name alone is not enough: german_credit's "telephone" holds yes/none, a "name" column
    # may hold 60 products. Values about people are many and varied (a fifth of the rows), but
    # first and last names repeat (589 first names among 5,000 people): 1% for those.
    kind = _named_personal(name)
    if kind is not None and _varied(kind, text.nunique(), len(text)):
        return Column(name, ColumnKind.PERSONAL, nullable=nullable, personal=kind,
                      description=f"inferred: the column's name says {_PERSONAL_LABEL[kind]}; "
                                  "personal: regenerated as fake values, never learned or copied")
    if len(text) < 20 or text.nunique() < 0.5 * len(text):
        return None
    words = stripped.str.split().str.len()  # only for varied text: 1.4 s for 300,000 flights rows
    if float(words.mean()) >= 4:
        return Column(name, ColumnKind.PERSONAL, nullable=nullable, personal=PersonalType.TEXT,
                      description=f"inferred: free text ({text.nunique()} distinct values, {words.mean():.1f} words "
                                  "on average), which may identify people; personal: regenerated as fake sentences "
                                  "or set strategy drop")
    return None


def _named_personal(name: str) -> PersonalType | None:
    """The kind of personal data a column's name says it holds, or ``None``."""
    label = _snake(name)
    for kind, pattern in _PERSONAL_NAMES:
        if kind is PersonalType.ADDRESS and _NOT_STREET.search(label):
            continue  # a MAC, IP or wallet address is no street address
        if pattern.search(label):
            return kind
    return None


def _varied(kind: PersonalType, distinct: int, rows: int) -> bool:
    """Whether a column named for ``kind`` holds values many and varied enough to be about
    people: a fifth of the rows distinct, but 1% for first and last names, which repeat (589
    first names among 5,000 people); at least 10."""
    share = 0.01 if kind in (PersonalType.FIRST_NAME, PersonalType.LAST_NAME) else 0.2
    return distinct >= max(10, share * rows)


def _personal_number(name: str, present: pd.Series, nullable: bool) -> Column | None:
    """A column of whole numbers its name says are phone or social security numbers (a CSV's
    bare digits: 5551234567, 123456789), of 7 digits or more and 10 values at least, as
    personal; else ``None``. Read as numbers, they were learned and their real values drawn
    (a customer's phone in each of their orders repeats: no share of distinct values is asked,
    as it is of text, where "telephone" may hold yes / none)."""
    kind = _named_personal(name)
    if kind not in (PersonalType.PHONE, PersonalType.SSN) or pd.api.types.is_bool_dtype(present.dtype):
        return None
    values = present.astype("float64")
    # Floats too: a CSV column with empty cells reads as floats (5551234567.0).
    if not whole_numbers(values.to_numpy()) or values.nunique() < 10 or float(values.abs().min()) < 10**6:
        return None
    return Column(name, ColumnKind.PERSONAL, nullable=nullable, personal=kind,
                  description=f"inferred: the column's name says {_PERSONAL_LABEL[kind]}, written as whole numbers; "
                              "personal: regenerated as fake values, never learned or copied")


def _snake(name: str) -> str:
    """A column name as the name patterns read it: ``"Customer Name"``, ``"customerName"`` and
    ``"customer-name"`` are ``"customer_name"`` (headers with spaces were never matched)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[\s.\-]+", "_", spaced).lower()


def _string_id(name: str, text: pd.Series) -> Column:
    prefixes = text.str.extract(r"^(\D*)(\d+)$")
    if prefixes[1].notna().all() and prefixes[0].nunique() == 1:
        digits = prefixes[1]
        if (digits.str.lstrip("0").str.len() > _ID_DIGITS).any():
            return _counted_id(name, f"unique text with numbers of more than {_ID_DIGITS} digits")
        width = int(digits.str.len().min()) if digits.str.startswith("0").any() else 0
        return Column(name, ColumnKind.ID, type=NumericType.STRING, prefix=str(prefixes[0].iloc[0]),
                      width=width, start=int(digits.astype("int64").max()) + 1,
                      description="inferred: unique text with a common prefix and a number; synthetic numbers start past the largest")
    return Column(name, ColumnKind.ID, type=NumericType.STRING, prefix=f"{name}_", width=0,
                  description="inferred: unique text on every row (regenerated as prefix + number)")


def _json_category(value):
    """A category as JSON can hold it: numbers, text and booleans stay; anything else (an
    interval from ``pd.cut``, a timestamp) becomes its text, which ``conform`` matches."""
    value = value.item() if isinstance(value, np.generic) else value
    return value if isinstance(value, (str, int, float, bool)) else str(value)
