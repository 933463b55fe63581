"""Fuzzing: hostile tables driven through infer_schema -> fit -> sample -> evaluate -> write/read.

Every generated table must end in one of two ways: a correct result (the sampled table has
exactly the schema's columns, in order, the requested rows, no nulls where the schema says
non-nullable, values within the schema's bounds and categories, and it evaluates, writes and reads
back), or a :class:`synthvae.SynthVAEError` whose message names the offending column. Anything else
(a ``KeyError``, a numpy or torch error, a warning, which the test configuration turns into an
error) is a bug in the library.

The default run (300 tables, about a minute on two cores) draws the same tables on every run of
the same command (``derandomize``, no example database; Hypothesis also draws constants found in
the test modules collected, so this file alone draws other tables than the whole suite does).
``SYNTHVAE_FUZZ_EXAMPLES=N`` runs N tables instead. A ``fuzz:`` line at the end of the pytest
output counts the cases, the refusals by error class and stage, and the CSV round trips lost to
known limits of ``synthvae/io.py`` (pinned by strict xfail tests at the end of this module).
"""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import importlib
import math
import os
import pkgutil
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import TERMINAL_SUMMARY
from synthvae import ColumnKind, DataError, SynthVAEError, Synthesizer, evaluate, infer_schema, read_table, write_table
from synthvae.schema import unit_length
from synthvae.validation import conform

# Hypothesis draws constants of the local modules loaded when a test starts. Every synthvae module
# is loaded first, so the tables drawn do not depend on which tests ran before in this process
# (pytest-xdist hands tests to whichever worker is free).
for _module in pkgutil.walk_packages(importlib.import_module("synthvae").__path__, "synthvae."):
    importlib.import_module(_module.name)

TINY = dict(epochs=1, hidden_dims=(8,), latent_dim=2)
EXAMPLES = int(os.environ.get("SYNTHVAE_FUZZ_EXAMPLES", "300"))

# ---------------------------------------------------------------------------- values
HOSTILE_TEXT = [
    "", " ", "  padded ", "\x00", "a\x00b", "\n", "a\nb", "\r\n", "\t", "\x1b[31m", "\x7f",
    "🙂", "👩‍👩‍👧", "\u200f", "\u202eabc", "שלום", "مرحبا", "é", "e\u0301", "\ufeff", "\ud7ff",
    ",", ";", '"', "'", '""', "\\", "NaN", "nan", "None", "null", "NULL", "NA", "N/A", "#N/A", "-",
    "True", "false", "yes", "1", "0", "01", "-0", "1.5", "1e300", "inf", "-inf", "0x1F",
    "2021-01-01", "2021-01-01T10:00:00+05:30", "12:30", "x" * 300,
]
HOSTILE_FLOATS = [
    0.0, -0.0, 1.0, -1.0, 0.1, 1e300, -1e300, 1e-300, -1e-300, 5e-324, 1.7976931348623157e308,
    -1.7976931348623157e308, 2.0**53, 2.0**53 + 2, 123456789.123456789, math.nan,
]
HOSTILE_INTS = [0, 1, -1, 2, 7, 2**31, -(2**31), 2**53 + 1, 2**62, -(2**63), 2**63 - 1]
ZONES = ["UTC", "Europe/Oslo", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Etc/GMT+12"]
NULLS = [None, math.nan, pd.NA, pd.NaT]

texts = st.sampled_from(HOSTILE_TEXT) | st.text(max_size=4)
# Infinities are refused by name; float_column adds one to a tenth of the columns only.
floats = st.sampled_from(HOSTILE_FLOATS) | st.floats(-1e6, 1e6) | st.floats(allow_nan=True, allow_infinity=False)
ints = st.sampled_from(HOSTILE_INTS) | st.integers(-1000, 1000)
# Naive datetimes inside pandas' nanosecond range (datetime_column adds some outside it).
datetimes = st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2260, 1, 1)) | st.sampled_from(
    [dt.datetime(1969, 12, 31, 23, 59, 59, 999999), dt.datetime(1970, 1, 1), dt.datetime(2000, 1, 1, 0, 0, 0, 1)]
)
FAR_DATETIMES = [dt.datetime(1, 1, 1), dt.datetime(1677, 9, 21), dt.datetime(2262, 4, 12), dt.datetime(9999, 12, 31)]
scalars = st.one_of(texts, floats, ints, st.booleans(), datetimes, st.sampled_from(NULLS))


def rarely(one_in: int) -> st.SearchStrategy[bool]:
    """True once in ``one_in`` draws (sampled_from: integer draws lean to their bounds)."""
    return st.sampled_from([False] * (one_in - 1) + [True])


def _with_nulls(draw, values: list, null=None) -> list:
    """Replace a drawn share (none, some or all) of ``values`` by ``null``."""
    share = draw(st.sampled_from([0.0, 0.0, 0.2, 0.5, 1.0]))
    flags = draw(st.lists(st.floats(0, 1), min_size=len(values), max_size=len(values)))
    return [null if f < share else v for v, f in zip(values, flags)]


# ---------------------------------------------------------------------------- columns
@st.composite
def float_column(draw, n):
    values = draw(st.lists(floats, min_size=n, max_size=n))
    if draw(rarely(10)):
        values[-1] = draw(st.sampled_from([math.inf, -math.inf]))
    dtype = draw(st.sampled_from(["float64", "float64", "float32", "Float64", "double[pyarrow]"]))
    if dtype == "float32":  # beyond float32's range: inf, refused
        values = [v if math.isnan(v) or abs(v) < 3e38 else math.copysign(3e38, v) for v in values]
    return pd.Series(values, dtype="float64").astype(dtype)


@st.composite
def int_column(draw, n):
    values = draw(st.lists(ints, min_size=n, max_size=n))
    dtype = draw(st.sampled_from(["int64", "Int64", "uint64", "object", "int8", "UInt8", "int64[pyarrow]"]))
    if dtype in ("Int64", "int64[pyarrow]"):
        return pd.Series(_with_nulls(draw, values, pd.NA), dtype=dtype)
    if dtype == "UInt8":
        return pd.Series(_with_nulls(draw, [v % 256 for v in values], pd.NA), dtype=dtype)
    if dtype == "uint64":
        return pd.Series([abs(v) for v in values], dtype="uint64")
    if dtype == "int8":
        return pd.Series([v % 128 for v in values], dtype="int8")
    return pd.Series(values, dtype=dtype)


@st.composite
def text_column(draw, n):
    pool = draw(st.lists(texts, min_size=1, max_size=6, unique=True))
    values = _with_nulls(draw, draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n)),
                         draw(st.sampled_from([None, math.nan, pd.NA])))
    dtype = draw(st.sampled_from(["object", "string", "str", "string[pyarrow]", "large_string[pyarrow]"]))
    if dtype != "object":
        values = [None if v is None or v is pd.NA or (isinstance(v, float)) else v for v in values]
    return pd.Series(values, dtype=dtype)


@st.composite
def mixed_object_column(draw, n):
    """Numbers, text, booleans, datetimes and nulls in one object column."""
    extra = st.sampled_from([decimal.Decimal("1.10"), b"bytes", 3 + 4j, dt.date(2020, 1, 2), dt.timedelta(1)])
    values = draw(st.lists(scalars | extra, min_size=n, max_size=n))
    return pd.Series(values, dtype=object)


@st.composite
def bool_column(draw, n):
    values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    how = draw(st.sampled_from(["bool", "boolean", "object", "text"]))
    if how == "bool":
        return pd.Series(values, dtype=bool)
    if how == "boolean":
        return pd.Series(_with_nulls(draw, values, pd.NA), dtype="boolean")
    if how == "text":
        return pd.Series(_with_nulls(draw, [("TRUE " if v else " false") for v in values]), dtype=object)
    return pd.Series(_with_nulls(draw, values, draw(st.sampled_from(NULLS))), dtype=object)


@st.composite
def datetime_column(draw, n):
    values = draw(st.lists(datetimes, min_size=n, max_size=n))
    if draw(rarely(10)):  # one value outside pandas' nanosecond range
        values[0] = draw(st.sampled_from(FAR_DATETIMES))
    how = draw(st.sampled_from(["naive", "zone", "mixed zones", "text", "text offsets", "unit s", "date"]))
    if how == "unit s":  # non-nanosecond resolution: years 1 to 9999 fit
        return pd.Series(np.array(values, dtype="datetime64[s]"))
    if how == "date":
        return pd.Series([v.date() for v in values], dtype=object)
    inside = [min(max(v, dt.datetime(1700, 1, 2)), dt.datetime(2260, 1, 1)) for v in values]  # tz-safe
    if how == "naive":
        return pd.Series(_with_nulls(draw, inside, pd.NaT), dtype="datetime64[ns]")
    if how == "zone":
        zone = draw(st.sampled_from(ZONES))
        return pd.Series(pd.to_datetime(_with_nulls(draw, inside, pd.NaT))).dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    if how == "mixed zones":
        zones = draw(st.lists(st.sampled_from(ZONES), min_size=n, max_size=n))
        return pd.Series([pd.Timestamp(v).tz_localize(z, ambiguous=True, nonexistent="shift_forward") for v, z in zip(inside, zones)], dtype=object)
    if how == "text offsets":
        offsets = draw(st.lists(st.sampled_from(["Z", "+01:00", "-05:30", "+14:00", ""]), min_size=n, max_size=n))
        return pd.Series([v.strftime("%Y-%m-%dT%H:%M:%S") + o for v, o in zip(values, offsets)], dtype=object)
    return pd.Series(_with_nulls(draw, [v.isoformat(sep=" ") for v in values]), dtype=object)


@st.composite
def null_column(draw, n):
    dtype = draw(st.sampled_from(["float64", "object", "Int64", "boolean", "string", "datetime64[ns]", "category"]))
    if dtype == "datetime64[ns]":
        return pd.Series([pd.NaT] * n, dtype=dtype)
    return pd.Series([None] * n, dtype=dtype)


@st.composite
def constant_column(draw, n):
    value = draw(scalars)
    return pd.Series([value] * n, dtype=object if not isinstance(value, (float, int, bool)) else None)


@st.composite
def categorical_column(draw, n):
    kind = draw(st.sampled_from(["text", "ints", "floats", "mixed", "thousands", "intervals", "dates"]))
    if kind == "thousands":
        categories = [f"c{i}" for i in range(draw(st.sampled_from([1000, 2500])))]
    elif kind == "intervals":
        categories = list(pd.interval_range(0, 5))
    elif kind == "dates":
        categories = list(pd.date_range("2020-01-01", periods=4, tz=draw(st.sampled_from([None, "Europe/Oslo"]))))
    else:
        element = {"text": texts, "ints": ints, "floats": st.floats(-1e300, 1e300), "mixed": texts | ints}[kind]
        categories = draw(st.lists(element, min_size=1, max_size=8, unique_by=lambda v: (type(v), v)))
        categories = [c for c in categories if not isinstance(c, float) or not math.isnan(c)] or ["only"]
        if len(set(map(str, categories))) != len(categories) or len(set(categories)) != len(categories):
            categories = list(dict.fromkeys(str(c) for c in categories))
    values = draw(st.lists(st.sampled_from(categories), min_size=n, max_size=n))
    values = _with_nulls(draw, values)
    try:
        dtype = pd.CategoricalDtype(categories, ordered=draw(st.booleans()))
    except (TypeError, ValueError):
        dtype = pd.CategoricalDtype([str(c) for c in categories])
        values = [None if v is None else str(v) for v in values]
    return pd.Series(values, dtype=dtype)


def many_texts_column(n):
    """Text with over a thousand distinct values that is not an id (values repeat)."""
    return pd.Series([f"v{i % max(1, n - n // 10)}" for i in range(n)], dtype=object)


@st.composite
def exotic_column(draw, n):
    """Durations (refused by name), periods, intervals, sparse numbers, Arrow timestamps."""
    how = draw(st.sampled_from(["timedelta", "period", "interval", "sparse", "arrow timestamp", "bool[pyarrow]"]))
    if how == "timedelta":
        values = draw(st.lists(st.timedeltas(min_value=dt.timedelta(days=-1000), max_value=dt.timedelta(days=1000)), min_size=n, max_size=n))
        return pd.Series(_with_nulls(draw, values, pd.NaT), dtype="timedelta64[ns]")
    starts = draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n))
    if how == "period":
        return pd.Series([pd.Period(year=2020 + s, freq="Y") for s in starts], dtype="period[Y-DEC]")
    if how == "interval":
        return pd.Series(pd.arrays.IntervalArray.from_tuples([(s, s + 1) for s in starts]))
    if how == "sparse":
        return pd.Series(pd.arrays.SparseArray([float(s) if s > 0 else 0.0 for s in starts]))
    if how == "bool[pyarrow]":
        return pd.Series(_with_nulls(draw, [s > 0 for s in starts], None), dtype="bool[pyarrow]")
    stamps = [dt.datetime(2020, 1, 1) + dt.timedelta(hours=s) for s in starts]
    return pd.Series(_with_nulls(draw, stamps, None), dtype="timestamp[us, tz=UTC][pyarrow]")


COLUMNS = {
    "float": float_column, "int": int_column, "text": text_column, "mixed": mixed_object_column,
    "bool": bool_column, "datetime": datetime_column, "null": null_column, "constant": constant_column,
    "categorical": categorical_column, "exotic": exotic_column,
}
# How often each kind of column is drawn.
WEIGHTS = {"float": 4, "int": 3, "text": 4, "mixed": 2, "bool": 2, "datetime": 3, "null": 1, "constant": 1,
           "categorical": 3, "exotic": 1}
KINDS = [kind for kind, weight in WEIGHTS.items() for _ in range(weight)]

# ---------------------------------------------------------------------------- tables
names = st.one_of(
    st.sampled_from(["a", "id", "name", "email", "value", "x", "x "]),
    st.sampled_from(["\x00", "\n", "🙂", "\u200fname", "a,b", '"q"', "synthetic", "None", "0", "a.1", "Unnamed: 0", ""]),
    st.text(min_size=1, max_size=3),
    st.integers(-2, 3),
    st.just(None),
    st.booleans(),
    st.floats(allow_nan=True).filter(lambda f: f != f or f in (0.0, 1.5)),
    st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 1)),
)


@st.composite
def tables(draw):
    """A hostile DataFrame (1 to 30 rows, 1 to 4 columns; rarely 1,200 rows)."""
    big = draw(rarely(25))
    n = 1200 if big else draw(st.sampled_from([1, 2, 3, 5, 12, 30]) | st.integers(1, 30))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4))
    columns = [draw(COLUMNS[k](n)) for k in kinds]
    if big:
        columns[0] = many_texts_column(n)
    if draw(rarely(10)):  # duplicated names, possibly only as text (1 and "1")
        labels = draw(st.lists(names, min_size=len(columns), max_size=len(columns)))
    else:
        labels = draw(st.lists(names, min_size=len(columns), max_size=len(columns), unique_by=str))
    frame = pd.concat([c.reset_index(drop=True) for c in columns], axis=1, ignore_index=True)
    frame.columns = pd.Index(labels, dtype=object, tupleize_cols=False)
    if draw(rarely(20)):  # two levels of column labels
        frame.columns = pd.MultiIndex.from_tuples([(str(label), i) for i, label in enumerate(labels)])
    index = draw(st.sampled_from(["range", "reversed", "duplicates", "text"]))
    if index == "reversed":
        frame.index = pd.RangeIndex(n)[::-1]
    elif index == "duplicates":
        frame.index = [0] * n
    elif index == "text":
        frame.index = [f"r{i}" for i in range(n)]
    return frame


# ---------------------------------------------------------------------------- the pipeline
STATS = collections.Counter()  # cases, correct, refused, fitted, conditional, every metric, target refused
REFUSALS = collections.Counter()  # error class -> count
STAGES = collections.Counter()  # stage of the refusal -> count
KNOWN = collections.Counter()  # CSV round trips lost to known limits of synthvae/io.py


@pytest.fixture(scope="module", autouse=True)
def _fuzz_summary():
    yield
    if not STATS["cases"]:
        return
    by_class = ", ".join(f"{name} {count}" for name, count in REFUSALS.most_common()) or "none"
    by_stage = ", ".join(f"{name} {count}" for name, count in STAGES.most_common()) or "none"
    line = (f"fuzz: {STATS['cases']} cases, {STATS['correct']} ended in a correct result, {STATS['refused']} "
            f"refused with SynthVAEError (by class: {by_class}; by stage: {by_stage}); {STATS['fitted']} models "
            f"fitted ({STATS['conditional']} with the conditional prior); {STATS['every metric']} evaluated with "
            f"detection and utility too (utility refused its target {STATS['target refused']} times)")
    if KNOWN:
        line += "; CSV round trips lost to known limits of io.py: " + ", ".join(f"{k} {v}" for k, v in KNOWN.items())
    TERMINAL_SUMMARY.append(line)


# A table refused against the schema inferred from it: inference and validation disagree.
SELF_CONTRADICTION = re.compile(
    r"^training data, column .*(not among the schema's categories|the schema's (min|max)|expected numbers|"
    r"expected true/false|do not parse|schema says integer)"
)


class Refused(Exception):
    """A stage of the pipeline refused the table with a SynthVAEError (checked)."""

    def __init__(self, stage: str, error: SynthVAEError) -> None:
        super().__init__(f"{stage}: {type(error).__name__}: {error}")
        self.stage, self.error = stage, error


def _refused(stage: str, exc: SynthVAEError, frame: pd.DataFrame) -> Refused:
    """The refusal, checked: it names a column of ``frame`` and does not contradict inference."""
    message = str(exc)
    assert not SELF_CONTRADICTION.search(message), f"the inferred schema refuses its own table: {message}"
    labels = [str(c) for c in frame.columns]
    forms = [form for label in labels for form in (repr(label), f"column {label}", f"column {repr(label)[1:-1]}")]
    named = any(form in message for form in forms) or re.search(r"column #\d", message)
    assert named, f"{type(exc).__name__} names no column: {message}"
    return Refused(stage, exc)


def _check_sample(out: pd.DataFrame, schema, rows: int) -> None:
    assert list(out.columns) == schema.names
    assert len(out) == rows
    for column in schema:
        values = out[column.name]
        if not column.nullable:
            assert not values.isna().any(), f"nulls in non-nullable column {column.name!r}"
        present = values.dropna()
        if column.kind is ColumnKind.NUMERIC:
            if column.duration:  # sampled as durations: numbers of the unit the bounds count
                present = pd.to_timedelta(present) / unit_length(column.duration)
            numbers = present.astype("float64").to_numpy()
            assert np.isfinite(numbers).all(), column.name
            if column.min is not None:
                assert (numbers >= column.min).all() and (numbers <= column.max).all(), column.name
            if column.is_integer:
                assert (numbers == np.round(numbers)).all(), column.name
        elif column.kind is ColumnKind.DATETIME:
            stamps = pd.to_datetime(present)
            if column.timezone:  # the bounds are clock times of the column's zone, the sample's dtype
                assert str(stamps.dt.tz) == column.timezone, column.name
                stamps = stamps.dt.tz_localize(None)
            if column.min is not None:
                assert (stamps >= pd.Timestamp(column.min)).all() and (stamps <= pd.Timestamp(column.max)).all(), column.name
        elif column.kind is ColumnKind.CATEGORICAL:
            assert list(values.cat.categories) == list(column.categories), column.name
        elif column.kind is ColumnKind.BOOLEAN:
            assert set(present.astype(bool)) <= {True, False}, column.name
        elif column.kind is ColumnKind.ID:
            assert present.is_unique, column.name


def _csv_known_loss(out: pd.DataFrame, back: pd.DataFrame | None, exc: Exception | None) -> str | None:
    """Which known limit of the CSV round trip explains a failed one, if any. Left to the owner
    of synthvae/io.py, each pinned by a strict xfail test below: text holding NUL characters is
    written as it is and read_table refuses the file as binary. (One-column rows of blanks and
    lone carriage returns, which broke their rows before, need no allowance.)"""
    texts = [pd.Series([str(c) for c in out.columns])] + [out[c].astype(object).astype(str) for c in out.columns]
    holds = lambda char: any(t.str.contains(char, regex=False).any() for t in texts)  # noqa: E731
    if exc is not None and "NUL bytes" in str(exc) and holds("\x00"):
        return "NUL characters"
    return None


def _round_trip(out: pd.DataFrame, schema, path) -> None:
    """Write the sample, read it back: same columns and rows; from Parquet, the same values."""
    try:
        write_table(out, path)
    except SynthVAEError as exc:  # Parquet refuses categories mixing numbers and text
        raise _refused(f"write {path.suffix}", exc, out) from exc
    try:
        back = read_table(path)
    except DataError as exc:
        if path.suffix == ".csv" and (known := _csv_known_loss(out, None, exc)):
            KNOWN[known] += 1
            return
        raise
    same_shape = list(back.columns) == list(out.columns) and len(back) == len(out)
    if not same_shape and path.suffix == ".csv" and (known := _csv_known_loss(out, back, None)):
        KNOWN[known] += 1
        return
    assert same_shape, path.suffix
    if path.suffix == ".parquet":
        pd.testing.assert_frame_equal(conform(back, schema, "parquet"), conform(out, schema, "sample"))


def _evaluate(frame: pd.DataFrame, out: pd.DataFrame, schema, every_metric: bool) -> None:
    """Quality and privacy; with ``every_metric``, detection and utility too (the table itself as
    the holdout, its first numeric, else first evaluated, column as the target, which utility may
    refuse by name: a single class, too few rows, no other column...)."""
    if not every_metric:
        report = evaluate(frame, out, schema=schema, metrics=["quality", "privacy"], seed=0)
        assert report.to_dict()["quality"] is not None
        return
    STATS["every metric"] += 1
    learned = [c for c in schema if not c.is_generated]
    target = next((c.name for c in learned if c.kind is ColumnKind.NUMERIC), learned[0].name)
    try:
        report = evaluate(frame, out, schema=schema, holdout=frame, target=target, seed=0)
    except DataError as exc:
        if not str(exc).startswith(f"target column {target!r}"):
            raise
        STATS["target refused"] += 1
        report = evaluate(frame, out, schema=schema, holdout=frame, metrics=["quality", "privacy", "detection"], seed=0)
    assert report.to_dict()["quality"] is not None


def run_case(frame: pd.DataFrame, tmp_path, *, conditional: bool = False, rows: int = 5,
             every_metric: bool = False) -> pd.DataFrame:
    """infer_schema -> fit -> sample -> evaluate -> write and read CSV and Parquet; the sample.

    Inference, fitting and writing may refuse the table with a SynthVAEError naming a column
    (raised as :class:`Refused`); once a model is fitted, sampling and evaluating its own output
    must succeed.
    """
    try:
        schema = infer_schema(frame)
        synth = Synthesizer(schema=schema, conditional=conditional, seed=0, **TINY).fit(frame)
    except SynthVAEError as exc:
        raise _refused("fit", exc, frame) from exc
    out = synth.sample(rows, seed=0)
    _check_sample(out, schema, rows)
    _check_sample(synth.sample(0, seed=0), schema, 0)
    _evaluate(frame, out, schema, every_metric)
    for suffix in (".csv", ".parquet"):
        _round_trip(out, schema, tmp_path / f"sample{suffix}")
    return out


def _thousands_of_categories() -> pd.DataFrame:
    """1,200 rows: text with 1,080 distinct values, a categorical dtype of 2,500 categories."""
    rng = np.random.default_rng(0)
    declared = pd.CategoricalDtype([f"c{i}" for i in range(2500)])
    return pd.DataFrame({
        "text": many_texts_column(1200),
        "declared": pd.Series(rng.choice(declared.categories[:900], 1200), dtype=declared),
        "x": rng.normal(size=1200),
    })


def _one_row_of_everything() -> pd.DataFrame:
    return pd.DataFrame({
        0: [1e300], "text": ["\x00🙂\u200f"], "flag": pd.array([None], dtype="boolean"),
        "when": pd.Series([pd.Timestamp("2021-10-31 02:30").tz_localize("Europe/Oslo", ambiguous=True)]), "n": pd.array([7], dtype="Int64"),
    })


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    # tmp_path is shared by the examples: each one overwrites the same two files.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
                           HealthCheck.function_scoped_fixture],
)
@given(frame=tables(), conditional=rarely(4), rows=st.sampled_from([1, 5, 23]), every_metric=rarely(8))
@example(frame=_thousands_of_categories(), conditional=True, rows=23, every_metric=True)
@example(frame=_one_row_of_everything(), conditional=True, rows=5, every_metric=True)
def test_fuzz_pipeline(frame, conditional, rows, every_metric, tmp_path):
    STATS["cases"] += 1
    fitted = True
    try:
        run_case(frame, tmp_path, conditional=conditional, rows=rows, every_metric=every_metric)
        STATS["correct"] += 1
    except Refused as refusal:
        STATS["refused"] += 1
        REFUSALS[type(refusal.error).__name__] += 1
        STAGES[refusal.stage] += 1
        if os.environ.get("SYNTHVAE_FUZZ_LOG"):  # one line per refusal, to compare two versions
            with open(os.environ["SYNTHVAE_FUZZ_LOG"], "a", encoding="utf-8") as log:
                log.write(" ".join(str(refusal).split()) + "\n")
        fitted = refusal.stage != "fit"
    STATS["fitted"] += fitted
    STATS["conditional"] += fitted and conditional


# ---------------------------------------------------------------------------- known CSV limits
# The limits _csv_known_loss allows for, pinned until synthvae/io.py handles them (then these
# tests pass, strict xfail fails them, and the allowance above is to be removed).


@pytest.mark.xfail(strict=True, reason="io.py: CSV text with NUL is written, then refused as binary")
def test_csv_round_trip_of_a_nul_character(tmp_path):
    _csv_round_trip(pd.DataFrame({"c": ["a\x00b", "x"]}), tmp_path)


def test_csv_round_trip_of_a_carriage_return(tmp_path):
    _csv_round_trip(pd.DataFrame({"c": ["\r", "x", "a\rb"], "d": [1, 2, 3]}), tmp_path)
    _csv_round_trip(pd.DataFrame({"c": pd.Categorical(["a\rb", "x", None]), "d": [1.5, 2, 3]}), tmp_path)
    _csv_round_trip(pd.DataFrame({"c": ["x", "y"], "a\rb": [1, 2]}), tmp_path)  # in a header
    _csv_round_trip(pd.DataFrame({"c": ["a", b"\xff"], "d": [1, 2]}), tmp_path)  # bytes are written as their text


def test_csv_round_trip_of_a_blank_value_in_one_column(tmp_path):
    _csv_round_trip(pd.DataFrame({"c": [" ", "x"]}), tmp_path)


def _csv_round_trip(frame: pd.DataFrame, tmp_path) -> None:
    write_table(frame, tmp_path / "t.csv")
    back = read_table(tmp_path / "t.csv")
    assert back.shape == frame.shape and list(back.columns) == list(frame.columns)
    assert list(back["c"]) == [str(v) if isinstance(v, bytes) else v for v in frame["c"]]
