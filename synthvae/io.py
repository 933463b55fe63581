"""Reading and writing tables (CSV, Parquet) and writing any file atomically.

Every writer goes through a temporary file in the target's folder and an ``os.replace``, so a
reader sees either the previous complete file or the new complete file, never a partial one.
An existing target keeps its permissions, and a target that is a symbolic link is written
through: its target file is replaced, the link stays.
A temporary file is named ``.{name}.{pid}.{random}.tmp`` after the process writing it (a name
too long for that is cut and given a hash of the whole name); one left behind by a process that died (``kill -9``, a crash, a power cut) is removed by the next write
of the same target.

Reading refuses a file that is not what its name says (Parquet named ``.csv``, gzip named
``.csv``, binary, UTF-16 or Latin-1 text, a tab- or ``|``-separated ``.csv``; a ``;``-separated
one, as comma-decimal spreadsheets write it, is read, decimal commas included), a
truncated or corrupt file, a CSV whose rows do not all have the header's number of fields, and
a header that repeats a name or leaves one empty, with a message that names the file and says
how to fix it.

What a CSV column's text means is decided from one pass over the whole file (pyarrow's parser;
pandas' when pyarrow cannot parse it), so :func:`read_table` and :func:`read_csv_chunks` read a
file the same way: an empty field is null everywhere; the null words of :data:`NULL_WORDS`
(pandas' defaults: ``NA``, ``null``, ``None``, ...) are null only in a column whose other values
are all numbers, booleans or dates, and text elsewhere; whole numbers with leading zeros stay
text; whole numbers of 16 digits or more that pandas would read as floats are read exactly. Parquet files are written with page checksums, so corruption of their data is detected
on reading.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import csv
import dataclasses
import errno
import functools
import gzip
import hashlib
import io
import json
import logging
import lzma
import os
import re
import shutil
import stat
import sys
import tempfile
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from synthvae.errors import DataError, one_line, preview

logger = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")

_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz"}
_SUFFIX_OF = {v: k for k, v in _COMPRESSION.items()}
# A whole number as a CSV file writes it, and one written with leading zeros (a code: "02134").
_WHOLE_NUMBER = r"^\s*[+-]?[0-9]+(\.0*)?\s*$"
_LEADING_ZERO = r"^\s*[+-]?0[0-9]"

# What a file is, from its first bytes; longest signatures first.
_SIGNATURES = (
    (b"\x00\x00\xfe\xff", "utf-32", "UTF-32 text"),
    (b"\xff\xfe\x00\x00", "utf-32", "UTF-32 text"),
    (b"\xfe\xff", "utf-16", "UTF-16 text"),
    (b"\xff\xfe", "utf-16", "UTF-16 text"),
    (b"PAR1", "parquet", "a Parquet file"),
    (b"\x1f\x8b", "gzip", "gzip-compressed"),
    (b"BZh", "bz2", "bzip2-compressed"),
    (b"PK\x03\x04", "zip", "a zip archive"),
    (b"\xfd7zXZ\x00", "xz", "xz-compressed"),
)


def table_format(path: str | os.PathLike) -> str:
    """``"csv"`` or ``"parquet"``, from the file name.

    Raises:
        DataError: The suffix is neither.
    """
    name = str(path).lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name == "-":  # "cannot tell the format of '-'" read as if another name would do (a review)
        raise DataError("'-' names no file: synthvae reads and writes tables as files (a table is read more than once, "
                        "and written to a temporary file renamed when whole), not standard input or output; give a "
                        ".csv (.csv.gz) or .parquet file name")
    raise DataError(
        f"cannot tell the format of {str(path)!r} from its name: use a .csv (.csv.gz) or "
        f".parquet file"
    )


def refuse_special_file(path: Path) -> None:
    """Refuse a named pipe, socket or device as a table: a table is read more than once (its
    separator, its decimals, then its rows), and a fit of a pipe waited for ever."""
    if path.exists() and not path.is_file() and not path.is_dir():
        raise DataError(f"{str(path)!r} is not a regular file (a named pipe or a device): a table is read more than "
                        f"once; save it to a file first (e.g. cat ... > table.csv)")


def read_table(path: str | os.PathLike, text_columns: Iterable[str] = ()) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    Types are left as the file gives them; :func:`synthvae.validation.conform` turns them into
    the schema's types. CSV files are UTF-8 (with or without a byte-order mark). A Parquet
    file's stored pandas index, when named or not the default, becomes the first columns.
    ``text_columns``: CSV columns read as the text they hold whatever it looks like (a schema's
    categorical columns: labels "1.1" and "1.10" were read as the number 1.1, one category).

    A folder is read as the rows of its part files one after another, in name order (the
    ``part-00000...`` files ``sample --rows-per-file`` and shards write; files whose names
    start with ``.`` or ``_`` are left out): all of one format, with the same columns.

    Raises:
        DataError: The file is missing, not of the format its name says, not UTF-8,
            truncated, corrupt, empty of columns, or a CSV row has more or fewer fields than
            the header (or the header repeats a name); a folder is empty, holds folders, files
            of no table format or of two, or parts with other columns.
    """
    path = Path(path)
    if path.is_dir():
        return _read_folder(path, text_columns)
    fmt = table_format(path)
    if not path.exists():
        raise DataError(f"no such file: {str(path)!r}")
    refuse_special_file(path)
    try:
        return _read_parquet(path) if fmt == "parquet" else _read_csv(path, text_columns)
    except OSError as exc:  # the file itself cannot be read (permissions, I/O error)
        raise DataError(f"cannot read {str(path)!r}: {exc.strerror or one_line(exc)}") from None


def _read_folder(path: Path, text_columns: Iterable[str] = ()) -> pd.DataFrame:
    """The part files of a folder as one table (see :func:`read_table`): synthvae's own
    partitioned output was refused by every command but fit (a user review)."""
    name = repr(str(path))
    files = sorted(p for p in path.iterdir() if not p.name.startswith((".", "_")))
    if not files:
        raise DataError(f"{name} is an empty folder: give a CSV or Parquet file, or a folder of part files")
    folders = [p.name for p in files if p.is_dir()]
    if folders:
        raise DataError(f"{name} holds folders {preview(folders)}: a folder is read as its part files side by side; a "
                        f"partitioned dataset (key=value folders) is read by fit, or by pyarrow.dataset")
    formats = {}
    for file in files:
        try:
            formats.setdefault(table_format(file), []).append(file.name)
        except DataError:
            raise DataError(f"{name} holds {file.name!r}, which is no CSV or Parquet file: a folder is read as its part "
                            f"files; move other files out") from None
    if len(formats) > 1:
        raise DataError(f"{name} holds both CSV {preview(formats['csv'])} and Parquet {preview(formats['parquet'])} "
                        f"files: a folder's parts are of one format")
    parts = [read_table(file, text_columns) for file in files]
    columns = list(parts[0].columns)
    for file, part in zip(files[1:], parts[1:]):
        if list(part.columns) != columns:
            missing = [c for c in columns if c not in set(part.columns)]
            extra = [c for c in part.columns if c not in set(columns)]
            # Both lists shown cut after five names looked alike (a review): the difference.
            differ = "; ".join(f"{word} {preview(names)}" for word, names in (("lacks", missing), ("adds", extra)) if names)
            raise DataError(f"{name}: part {file.name!r}, beside {files[0].name!r}, "
                            f"{differ or 'holds the same columns in another order'}: a folder's parts hold the same "
                            f"columns in one order")
    warn_mixed_types(name, [(file.name, {column: value_family(part[column]) for column in part.columns})
                            for file, part in zip(files, parts)])
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def value_family(values: pd.Series) -> str | None:
    """What a column holds, as far as a schema tells kinds apart: ``number``, ``boolean``,
    ``datetime``, ``duration`` or ``text`` (categories: their values'); ``None`` for an object
    column of nulls alone."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return value_family(pd.Series(dtype.categories))
    if dtype == object:
        inferred = pd.api.types.infer_dtype(values.dropna().iloc[:1000], skipna=True)
        return {"empty": None, "string": "text", "boolean": "boolean", "integer": "number", "floating": "number",
                "mixed-integer-float": "number", "decimal": "number", "datetime": "datetime", "date": "datetime",
                "timedelta": "duration"}.get(inferred, "text")
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "duration"
    return "text"


def warn_mixed_types(name: str, parts: list[tuple[str, dict]]) -> None:
    """Log a warning naming the columns whose parts of one table (name, {column: family, as
    :func:`value_family` gives it}) hold values of different families: numbers in one part and
    text in another were read as one column without a word (a review: a flight number as int64
    in three Parquet parts, text in the fourth)."""
    first: dict = {}
    mixed: dict[str, list[str]] = {}
    for part, families in parts:
        for column, family in families.items():
            if family is None:
                continue
            seen = first.setdefault(column, (part, family))
            if seen[1] != family and column not in mixed:
                mixed[column] = [f"{seen[1]} in {seen[0]!r}", f"{family} in {part!r}"]
    for column, where in mixed.items():
        logger.warning("%s: column %r holds %s: its parts were written with different types; the schema reads them "
                       "as one kind, so check the column (write every part with one type)", name, column,
                       " but ".join(where))


def _read_parquet(path: Path) -> pd.DataFrame:
    name = repr(str(path))
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(4096)
        handle.seek(max(0, size - 4))
        tail = handle.read(4)
    if size == 0:
        raise DataError(f"{name} is empty (0 bytes), not a Parquet file: write it again")
    if not head.startswith(b"PAR1"):
        kind, description = sniff(head)
        hint = "it looks like text (a CSV file? then name it .csv)" if kind == "text" else f"it is {description}"
        raise DataError(f"{name} is not a Parquet file: {hint}")
    if tail != b"PAR1" or size < 12:
        raise DataError(
            f"{name} is a truncated Parquet file ({size} bytes, its footer is missing): the program "
            f"writing it was probably stopped before it finished; write it again"
        )
    try:
        names = pq.read_schema(path).names
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - a corrupt footer: the read below says so
        names = []
    if "" in names:
        raise DataError(f"{name}: column #{names.index('') + 1} has an empty name; give it a name and write the "
                        f"file again")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"{name}: the column names {preview(repeated)} repeat; rename them so each is unique "
                        f"and write the file again")
    try:
        table = pq.read_table(path, page_checksum_verification=True)
        frame = table.to_pandas()
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupt file makes pyarrow raise almost anything
        raise DataError(
            f"{name} is a corrupt Parquet file ({type(exc).__name__}: {one_line(exc)}); write it "
            f"again from its source"
        ) from None
    frame = with_noted_categories(_nullable_integers(frame, table), table)
    # pandas' to_parquet stores a named or non-default index (df.set_index("customer_id")) apart
    # from the columns: it is data, so it becomes columns again.
    return _index_as_columns(frame, name)


CATEGORIES_KEY = b"synthvae.categories"


def arrow_integers(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """An Arrow integer column as pandas' nullable ``Int64`` (``UInt64`` unsigned), exactly:
    pyarrow's own conversion of one with nulls, and pandas' ``astype("Int64")`` of an Arrow
    column, go through floats (9007199254740993 became ...992)."""
    unsigned = pa.types.is_unsigned_integer(values.type)
    dtype = pd.UInt64Dtype() if unsigned else pd.Int64Dtype()
    return values.cast(pa.uint64() if unsigned else pa.int64()).to_pandas(types_mapper=lambda _: dtype)


def _nullable_integers(frame: pd.DataFrame, table: pa.Table) -> pd.DataFrame:
    """``frame`` (``table.to_pandas()``) with the integer columns that hold nulls as pandas'
    nullable integers (:func:`arrow_integers`): pyarrow gives them as floats, which round whole
    numbers past 2**53 (2**60 + 1 read as 1.152921504606847e+18, a user review), as CSV's exact
    ``Int64`` does not."""
    for i, field in enumerate(table.schema):
        column = table.column(i)
        if (pa.types.is_integer(field.type) and column.null_count and field.name in frame.columns
                and frame[field.name].dtype.kind == "f"):
            frame[field.name] = arrow_integers(column).set_axis(frame.index)
    return frame


def _categories_note(frame: pd.DataFrame) -> dict[bytes, bytes]:
    """The categories of ``frame``'s categorical columns (those of plain text, numbers or truth
    values), for a Parquet file's metadata: a file of no rows holds no dictionary page, and its
    categorical columns read back with none (``synthvae sample -n 0``, an empty shard)."""
    noted = {}
    for label in frame.columns:
        dtype = frame[label].dtype
        if isinstance(dtype, pd.CategoricalDtype) and isinstance(label, str):
            values = [v.item() if hasattr(v, "item") else v for v in dtype.categories]
            if all(isinstance(v, (str, int, float, bool)) for v in values):
                noted[label] = {"categories": values, "ordered": bool(dtype.ordered)}
    return {CATEGORIES_KEY: json.dumps(noted).encode()} if noted else {}


def with_noted_categories(frame: pd.DataFrame, table: pa.Table) -> pd.DataFrame:
    """A table read from Parquet with its categorical columns' noted categories (and order) back.

    Parquet gives text categories back as categorical columns, but with no category when the
    file has no rows (no dictionary page), and numbers and truth values as plain columns: whole
    numbers with nulls then became floats, so that codes beyond 2**53 merged (38 keys near 2**60
    read back as one). Those are taken from the Arrow column as exact nullable values and become
    categorical again; a column holding a value its note does not list is left as read."""
    try:
        noted = json.loads((table.schema.metadata or {}).get(CATEGORIES_KEY, b"{}"))
    except ValueError:
        return frame
    for label, spec in noted.items() if isinstance(noted, dict) else ():
        if label in frame.columns and isinstance(spec, dict):
            try:
                restored = _noted_column(frame[label], table.column(label), spec)
            except (TypeError, ValueError, OverflowError):  # a note not written by us; numbers beyond 64 bits
                restored = None
            if restored is not None:
                frame[label] = pd.Series(restored, index=frame.index, name=label)
    return frame


def _noted_column(column: pd.Series, exact: pa.ChunkedArray, spec: dict) -> pd.Categorical | None:
    """``column`` (read from Parquet; ``exact``: its Arrow column) with the categories of its
    note, or ``None`` to leave it as read."""
    dtype = pd.CategoricalDtype(spec.get("categories", []), bool(spec.get("ordered")))
    if isinstance(column.dtype, pd.CategoricalDtype):
        # Categories mixing numbers and text were written as text: their note's are not theirs.
        return column.astype(dtype).array if column.cat.categories.isin(dtype.categories).all() else None
    if pa.types.is_integer(exact.type):
        column = arrow_integers(exact)
    elif not (pa.types.is_floating(exact.type) or pa.types.is_boolean(exact.type)):
        return None
    if not column[column.notna()].isin(dtype.categories).all():
        return None
    return pd.Categorical(column, dtype=dtype)


def _index_as_columns(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """``frame`` with a named or non-default index (anything but an unnamed RangeIndex, which is
    only row positions) moved into columns, the first of the table (:func:`index_labels`)."""
    index = frame.index
    if isinstance(index, pd.RangeIndex) and index.name is None:
        return frame
    labels = index_labels(list(index.names))
    refuse_index_clash(name, labels, map(str, frame.columns))
    return frame.rename_axis(labels).reset_index()


def index_labels(names: list) -> list[str]:
    """The columns a stored index's levels become: their names, an unnamed one ``index``
    (``level_0``, ... for several levels)."""
    return [str(n) if n is not None else ("index" if len(names) == 1 else f"level_{i}") for i, n in enumerate(names)]


def stored_index(schema: pa.Schema) -> list[tuple[str, str | dict]]:
    """The index pandas' to_parquet stored with a file's rows, level by level: (its column's
    label as :func:`read_table` gives it, the stored column's name or, for a range,
    its description). An unnamed range index is row positions only, not data: none."""
    meta = schema.pandas_metadata or {}
    entries = meta.get("index_columns") or []
    names = {c.get("field_name"): c.get("name") for c in meta.get("columns") or []}
    levels = [entry.get("name") if isinstance(entry, dict) else names.get(entry) for entry in entries]

    def data(entry, name) -> bool:  # a named range, or a stored column
        return entry.get("kind") == "range" and name is not None if isinstance(entry, dict) else entry in schema.names

    return [(label, entry) for label, entry, name in zip(index_labels(levels), entries, levels) if data(entry, name)]


def refuse_index_clash(name: str, labels: Iterable[str], columns: Iterable[str]) -> None:
    """Refuse index columns (``labels``) named as one of the table's ``columns``."""
    taken = sorted(set(labels) & set(columns))
    if taken:
        raise DataError(f"{name}: the table's index {preview(taken)} has the name of a column; rename the index "
                        f"or the column (df.rename_axis('new_name'))")


def _csv_dialect(path: Path) -> tuple[str, str, str | None]:
    """(quoted name, separator, compression) of a CSV file whose first bytes are what its name
    says (refused with what to fix otherwise)."""
    name = repr(str(path))
    lower = path.name.lower()
    sep = "\t" if lower.endswith(".tsv") else ","
    compression = next((c for suffix, c in _COMPRESSION.items() if lower.endswith(suffix)), None)
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head:
        raise DataError(f"{name} is empty (0 bytes): a CSV file needs at least a header row")
    problem = _csv_kind_problem(path, compression, sniff(head))
    if problem:
        raise DataError(f"{name} {problem}")
    if compression == "zip":
        _zip_member(path)  # refuses an archive of several files, or of none
    return name, sep, compression


def _zip_member(path: Path) -> str | None:
    """The name of the one CSV file of a .csv.zip archive when the archive holds other entries
    to skip (folders; macOS's ``__MACOSX/`` and ``._name`` metadata), else ``None`` (a plain
    archive of one file, which pandas reads as it is).

    Raises:
        DataError: The archive holds several files, or none.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile as exc:
        raise DataError(f"cannot read {str(path)!r} as CSV (BadZipFile: {one_line(exc)}); the file may be "
                        f"truncated or corrupt: write it again") from None
    files = [n for n in names if not n.endswith("/") and not n.startswith("__MACOSX/")
             and not n.rsplit("/", 1)[-1].startswith("._")]
    if len(files) > 1:
        raise DataError(f"{str(path)!r} is a zip archive of {len(files)} files ({preview(files)}); a .csv.zip "
                        f"holds one CSV file: keep one, or unpack it and read each file")
    if not files:
        raise DataError(f"{str(path)!r} is a zip archive that holds no file; a .csv.zip holds one CSV file")
    return files[0] if len(names) > 1 else None


@contextlib.contextmanager
def _csv_input(path: Path) -> Iterator[Path | IO[bytes]]:
    """What pandas reads a CSV file from: the path, or the archive member of a .csv.zip that
    holds entries to skip (pandas refuses an archive of more than one entry)."""
    member = _zip_member(path) if path.name.lower().endswith(".zip") else None
    if member is None:
        yield path
        return
    with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
        yield handle


def read_csv_chunks(path: str | os.PathLike, rows: int, text_columns: Iterable[str] = ()) -> Iterator[pd.DataFrame]:
    """A CSV file as consecutive tables of ``rows`` rows, read and checked as :func:`read_table`
    reads and checks the whole file (types are those pandas gives each chunk;
    :func:`synthvae.validation.conform` unifies them).

    What the values of a column are (numbers, so that its null words are nulls; codes with
    leading zeros, kept as text; whole numbers too large for a float, kept exact) is decided
    from one pass over the whole file before the first chunk, as for :func:`read_table`: the
    same file reads the same way both ways. ``text_columns`` are read as text, as
    :func:`read_table` reads them.

    Raises:
        DataError: Empty, not UTF-8 text, not what its name says, corrupt, a row with more or
            fewer fields than the header, or a header that repeats a name or leaves one empty.
    """
    path = Path(path)
    plan = _csv_plan(path).with_text(text_columns)
    # A column with text anywhere is read as text in every chunk: pandas parses a long chunk in
    # pieces, and one column came as floats beside strings ("26.0") where a piece held a word,
    # which no Parquet part could store (a streamed fit died in pyarrow); conform reads the
    # numbers among the text as read_table's column would be read.
    plan = plan.with_text(plan.text_columns)
    with (_csv_errors(path, plan.name, plan.compression), _csv_input(path) as source,
          pd.read_csv(source, chunksize=rows, **plan.options) as reader):
        for chunk in reader:
            yield plan.exact(chunk)


def _read_csv(path: Path, text_columns: Iterable[str] = ()) -> pd.DataFrame:
    plan = _csv_plan(path).with_text(text_columns)
    with _csv_errors(path, plan.name, plan.compression), _csv_input(path) as source, warnings.catch_warnings():
        # pandas parses a long file in pieces and warns of a column whose pieces differ (numbers,
        # then a word): such a column holds numbers and text, which inference and conform read
        # as text where any value is no number, so the warning only puzzled users; under -W error
        # (a test suite's filterwarnings) it failed the read. catch_warnings swaps the process's
        # filters for the read's time, which another thread's warnings see (until Python 3.14).
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)
        frame = pd.read_csv(source, **plan.options)
    return plan.exact(frame)


# pandas' default null words (read_csv's na_values). An empty field is null in every column;
# these words are null only in a column whose other values are all numbers, all booleans or all
# dates (an R or database export's "NA" in a numeric column); in a text column they are values
# (a region "NA", North America; a plan "None").
NULL_WORDS = ("#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
              "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
_NULL_WORDS = pa.array(NULL_WORDS)
_BOOLEANS = pa.array(["True", "TRUE", "true", "False", "FALSE", "false"])  # what pandas reads as booleans
_NUMBER = r"^\s*[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|inf|Inf|INF|infinity|Infinity)\s*$"
# A number as spreadsheets in comma-decimal locales write it in a ';'-separated file: "39,1",
# "1.234,5" (dots group thousands), "-0,25", "2007".
_COMMA_NUMBER = r"^\s*[+-]?([0-9]{1,3}(\.[0-9]{3})+|[0-9]+)(,[0-9]+)?([eE][+-]?[0-9]+)?\s*$"
# A currency before or after an amount ("$1,234.50", "1.234,56 €"), which conform reads as a number.
CURRENCY = r"(?:[$€£¥₹]|USD|EUR|GBP|JPY|INR|CHF|CAD|AUD|CNY)"
# Such a number with a currency or percent sign, or thousands grouped by spaces ("1.234,56 €",
# "1 234,5", "12,5 %"): pandas reads none as a number; read_table writes them with a decimal
# point ("1234.56 €"), which inference and conform read as written numbers.
_DECIMAL_BEFORE_SIGN = r",(?:[0-9]{1,2}|[0-9]{4,})(?![0-9])"  # "12,5 %", "1.234,56 €"; not "$23,712"
_COMMA_WRITTEN = (rf"\s*[+-]?\s*{CURRENCY}?\s*[+-]?([0-9]{{1,3}}(\.[0-9]{{3}})+|[0-9]{{1,3}}([ \u00a0\u202f][0-9]{{3}})+|[0-9]+)"
                  rf"(,[0-9]+)?\s*{CURRENCY}?\s*%?\s*")
# A number with thousands commas and a decimal point, as in English: "1,234.5".
_GROUPED_NUMBER = r"[+-]?[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?"
# A whole number of 1,000 or more with its thousands grouped by commas: "1,169", "12,500".
_THOUSANDS = r"[+-]?[1-9][0-9]{0,2}(,[0-9]{3})+"
_DOT_THOUSANDS = r"[+-]?[1-9][0-9]{0,2}(\.[0-9]{3})+"  # "4.502", "1.169.000": thousands dots, or a decimal point
_DATE = r"^\s*[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}([ T].*)?$"
# A whole number of 16 digits or more: a float holds whole numbers exactly only below 2**53.
_LONG = r"[0-9]{16}"


@dataclasses.dataclass
class _ColumnText:
    """What a pass over the text of one CSV column found (empty fields and null words aside);
    ``number`` by ``pattern`` (:data:`_COMMA_NUMBER` in a file of decimal commas)."""

    pattern: str = _NUMBER

    words: bool = False  # some value is a null word ("NA", "null", ...)
    nulls: bool = False  # some field is empty
    number: bool = True  # every other value is a number
    boolean: bool = True  # ... a boolean
    date: bool = True  # ... a date
    whole: bool = True  # ... a whole number ("12", "12.0")
    zeros: bool = False  # some value is a number written with leading zeros ("007")
    dotted: bool = False  # some value has a decimal point
    long: bool = False  # some value has 16 digits or more

    def add(self, text: pa.ChunkedArray) -> None:
        self.nulls = self.nulls or text.null_count > 0
        values = pc.unique(pc.drop_null(text))
        words = pc.is_in(values, value_set=_NULL_WORDS)
        self.words = self.words or bool(pc.any(words).as_py())
        values = values.filter(pc.invert(words))
        if not len(values):
            return
        if self.number:
            self.number = bool(pc.all(pc.match_substring_regex(values, self.pattern)).as_py())
        if self.boolean:
            self.boolean = bool(pc.all(pc.is_in(values, value_set=_BOOLEANS)).as_py())
        if self.date:
            self.date = bool(pc.all(pc.match_substring_regex(values, _DATE)).as_py())
        if self.number:
            chunked = pa.chunked_array([values])
            whole, zeros = _code_flags(chunked)
            self.whole, self.zeros = self.whole and whole, self.zeros or zeros
            self.dotted = self.dotted or bool(pc.any(pc.match_substring(values, ".")).as_py())
            self.long = self.long or bool(pc.any(pc.match_substring_regex(values, _LONG)).as_py())

    @property
    def words_are_null(self) -> bool:
        """Whether the null words of this column are nulls (its other values are all numbers,
        booleans or dates; or there are none)."""
        return self.words and (self.number or self.boolean or self.date)

    @property
    def code(self) -> bool:
        """Whole numbers written with leading zeros (zip codes "02134", ids "007"): read as
        numbers they would lose the zeros, so they are kept as text."""
        return self.number and self.whole and self.zeros

    @property
    def exact(self) -> bool:
        """Whole numbers of 16 digits or more that pandas would read as floats (the column holds a
        null, or a "12.0"): distinct ids would collapse into one float, so they are read exactly
        (``Int64``)."""
        return self.number and self.whole and not self.zeros and self.long and (self.nulls or self.words or self.dotted)


@dataclasses.dataclass
class _CsvPlan:
    """How to read a CSV file, decided from one pass over it: pandas' options, and the columns
    to make exact whole numbers."""

    name: str
    compression: str | None
    options: dict
    exact_columns: list[str]
    # Columns holding some value that is no number, boolean or date: pandas' pieces of a long
    # chunk can read them as numbers in one piece and text in another (see read_csv_chunks).
    text_columns: list[str] = dataclasses.field(default_factory=list)
    # Columns of a file of decimal commas whose every value is such a number with a currency or
    # percent sign, or thousands grouped by spaces ("1.234,56 €"): pandas reads none of them,
    # so they are given with a decimal point ("1234.56 €"), which inference and conform read.
    comma_columns: list[str] = dataclasses.field(default_factory=list)

    def with_text(self, columns: Iterable[str]) -> "_CsvPlan":
        """The plan reading ``columns`` as text (a schema's categories "1.10", "2.50":
        :func:`text_columns`); those of a :class:`TextColumns`' ``verbatim`` with null words as
        text too (only an empty field is null)."""
        verbatim = {str(c) for c in getattr(columns, "verbatim", ())}
        forced = [str(c) for c in columns]
        if not forced:
            return self
        options = {**self.options, "dtype": {**(self.options["dtype"] or {}), **dict.fromkeys(forced, str)}}
        if verbatim:
            words = self.options["na_values"]
            options["na_values"] = {c: [""] if c in verbatim else v for c, v in words.items()}
        return dataclasses.replace(self, options=options, exact_columns=[c for c in self.exact_columns if c not in forced],
                                   comma_columns=[c for c in self.comma_columns if c not in forced])

    def exact(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with the exact columns (read as text) as ``Int64`` (text beyond its range),
        and the numbers among the comma columns' text written with a decimal point."""
        for column in self.exact_columns:
            frame[column] = _exact_integers(frame[column])
        for column in self.comma_columns:
            text = frame[column]
            number = text.str.fullmatch(_COMMA_WRITTEN).fillna(False).astype(bool)
            pointed = text.str.strip().str.replace(r"(?<=[0-9])[. \u00a0\u202f](?=[0-9]{3})", "", regex=True)
            frame[column] = text.where(~number, pointed.str.replace(",", ".", regex=False))
        return frame


_PANDAS_MAJOR = int(pd.__version__.split(".")[0])


def _csv_plan(path: Path) -> _CsvPlan:
    """Check a CSV file (its kind, header, every row's number of fields) and decide, from one
    pass over its text, how pandas reads it (see :class:`_ColumnText`)."""
    name, sep, compression = _csv_dialect(path)
    sep = _separator(path, compression, name, sep)
    with _csv_errors(path, name, compression), _csv_input(path) as source:
        head = pd.read_csv(source, sep=sep, nrows=1, dtype=str, keep_default_na=False)
    if head.shape[1] == 1:
        # A quoted name holding a separator ("a;b", as write_table writes it) is one column's
        # name; outside quotes, the separator is another than the file's name says.
        bare = _unquoted_first_line(path, compression, name)
        if sep == "," and ";" in bare:
            # Spreadsheets in comma-decimal locales write ';' between fields (it was refused).
            sep = ";"
            with _csv_errors(path, name, compression), _csv_input(path) as source:
                head = pd.read_csv(source, sep=sep, nrows=1, dtype=str, keep_default_na=False)
        else:
            _check_one_column(head, bare, name, sep)
    _check_repeated_names(path, sep, head)
    # Decimal commas: in a ';' file as Excel writes them; in a file of tabs or commas (quoted
    # "40,6") only on evidence no thousands separator gives ("1,550" alone could be 1550).
    comma, grouped, thousands, signed, nearly = (_decimal_commas(path, sep, compression, name, strict=sep != ";")
                                                 if sep != "|" else (False, {}, {}, [], {}))
    for column, words in nearly.items() if comma else ():
        # One wrong cell among decimal commas: the column stays text, as it is, and is named.
        logger.warning("%s: column %r holds numbers with decimal commas but also %s, so it is read as text; if they stand "
                       "for missing values, leave them empty (nulls) to read the column as numbers", name, column, preview(words))
    if thousands and (comma or sep == ";"):
        # "1,169" beside "999" and no other comma: thousands, whatever the file's other columns
        # write (a ';' file read 1,169 as 1.169 beside 999, silently); said where the file's
        # other numbers, or its ';', point to decimal commas.
        column, example = next(iter(thousands.items()))
        columns = f"columns {preview(list(thousands))} write" if len(thousands) > 1 else f"column {column!r} writes"
        beside = ("while the file's other numbers are read with decimal commas" if comma
                  else "though a ';' file often writes decimal commas")
        logger.warning("%s: %s numbers such as %r beside whole numbers below 1,000 and no other comma, in their scale: "
                       "its commas group thousands and are read so (%s as %s), %s; if they are decimals, write them "
                       "with a decimal point", name, columns, example, example, example.replace(",", ""), beside)
    if comma and grouped:
        # A comma then three digits could group thousands: read as the file's other numbers
        # read (1,234 as 1.234), which was silent.
        column, example = next(iter(grouped.items()))
        columns = f"columns {preview(list(grouped))} hold" if len(grouped) > 1 else f"column {column!r} holds"
        logger.warning("%s: %s numbers such as %r whose comma could group thousands; they are read with a decimal comma "
                       "(%s as %s), as the file writes its other numbers; if the comma groups thousands, write them "
                       "without it", name, columns, example, example, example.replace(".", "").replace(",", "."))
    # In a file of one column an empty line is an empty field, a null (skipped, 8 rows read as
    # 5); but the blank lines that end the file are not rows (as an editor leaves them).
    one = head.shape[1] == 1
    found = [_ColumnText() for _ in range(head.shape[1])]
    for label, column in zip(head.columns, found) if comma else ():
        if str(label) not in thousands:  # read as text, then as numbers with thousands commas
            column.pattern = _COMMA_NUMBER

    def scan(texts: dict[int, pa.ChunkedArray]) -> None:
        for position, text in texts.items():
            found[position].add(text)

    rows = _scan_csv_rows(path, sep, compression, list(range(head.shape[1])), scan, blank_rows=one)
    if rows is None:
        # pyarrow could not parse the file, pandas can: its text, in one more pass.
        found, rows = [_ColumnText() for _ in range(head.shape[1])], 0
        with _csv_errors(path, name, compression), _csv_input(path) as source, pd.read_csv(
                source, sep=sep, dtype=str, keep_default_na=False, na_values=[""], skip_blank_lines=not one,
                chunksize=1 << 16) as reader:
            for chunk in reader:
                rows += len(chunk)
                scan({p: pa.chunked_array([pa.array(chunk.iloc[:, p].to_numpy(dtype=object), type=pa.string(), from_pandas=True)])
                      for p in range(chunk.shape[1])})
    columns = list(head.columns)
    null_words = {c: [""] + list(NULL_WORDS) if f.words_are_null else [""] for c, f in zip(columns, found)}
    # With thousands dots, pandas reads "24.12.2021" as 24122021: in a file of decimal commas
    # what is not a number (nor a boolean) is read as text.
    text = {c: str for c, f in zip(columns, found) if f.code or f.exact or (comma and not f.number and not f.boolean)}
    options = dict(sep=sep, keep_default_na=False, na_values=null_words, dtype=text or None)
    if comma:
        options.update(decimal=",", thousands=".")
    if one:
        options["skip_blank_lines"] = False
        trailing = _trailing_blank_lines(path, compression)
        if trailing:
            options["nrows"] = max(0, rows - trailing)
    if _PANDAS_MAJOR < 3:
        # pandas 2.2's default float parser moved 427 of 1,000 written floats by one ulp (a
        # sampled CSV then failed its own schema's max); pandas 3 parses them exactly, and
        # deprecates the option.
        options["float_precision"] = "round_trip"
    return _CsvPlan(name, compression, options, [c for c, f in zip(columns, found) if f.exact],
                    [c for c, f in zip(columns, found) if not (f.number or f.boolean or f.date)],
                    [c for c in columns if comma and str(c) in signed])


def _separator(path: Path, compression: str | None, name: str, sep: str) -> str:
    """The separator of a CSV file named for ``sep``: for a .csv file, ``','`` or ``';'``,
    whichever splits the header and the first rows (quotes respected) into the same number of
    fields, the larger ("Betrag, EUR;Datum;Kunde" is three fields at ';', not two at ',').

    Raises:
        DataError: The file begins with Excel's ``sep=`` line, or a .csv file of several
            columns splits consistently at tabs or ``|`` into more fields.
    """
    with _csv_errors(path, name, compression):
        records = _first_records(path, compression)
    first = records[0] if records else ""
    if re.fullmatch(r"\s*sep=.?\s*", first):
        raise DataError(f"{name} begins with the line {first!r}, Excel's note of the separator, not a header: "
                        f"remove that first line (the header must come first)")
    if sep != "," or len(records) < 1:
        return sep
    best, most = sep, 1
    for candidate in _SEPARATORS:
        counts = _field_counts(records, candidate)
        if len(counts) == 1 and (fields := counts.pop()) > most:
            best, most = candidate, fields
    if best in (",", ";"):
        return best
    if _field_counts(records, ",") == {1}:
        return sep  # one column at ',': refused by _check_one_column, with its message
    fix = "name it .tsv (a .tsv file is read with tabs) or write it with commas" if best == "\t" else "write it with commas"
    raise DataError(f"{name} looks separated by {_SEPARATORS[best]} ({most} fields on each of its first lines), "
                    f"but a CSV file here is separated by ',' or ';' (a .tsv file by tabs); {fix}")


def _first_records(path: Path, compression: str | None, size: int = 1 << 16, count: int = 20) -> list[str]:
    """The header and up to ``count`` rows of a CSV file as raw text, blank lines left out (a
    record holding a quoted line break spans lines), from its first ``size`` bytes; a record
    the sample may cut is left out."""
    # Python's decompressors, as pandas': a damaged file is refused with pandas' words.
    with _open_binary(path, compression, native=False) as handle:
        data = handle.read(size + 1)
    text = data[:size].decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    if len(data) > size and lines:
        lines = lines[:-1]  # the last line may be cut
    records, current = [], ""
    for line in lines:
        current += line
        if current.count('"') % 2 == 0:  # outside quotes: the record ends here
            if current.strip("\r\n"):
                records.append(current.rstrip("\r\n"))
            current = ""
            if len(records) > count:
                break
    return records


def _records_text(records: list[str]) -> io.StringIO:
    return io.StringIO("\n".join(records) + "\n")


def _field_counts(records: list[str], delimiter: str) -> set[int]:
    """The numbers of fields the records split into at ``delimiter`` (quotes respected); none
    where they do not split (a quoted carriage return, read unquoted at another delimiter, is
    a csv.Error)."""
    try:
        return {len(r) for r in csv.reader(_records_text(records), delimiter=delimiter) if r}
    except csv.Error:
        return set()


def _trailing_blank_lines(path: Path, compression: str | None) -> int:
    """How many empty lines end a CSV file after its last line's own line break ("6\\n\\n" ends
    in one; the final line break of "6\\n" ends a line, it is not a row)."""
    tail = b""
    with _open_binary(path, compression) as handle:
        if compression is None:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - (1 << 16)))
        while chunk := handle.read(1 << 20):
            tail = (tail + chunk)[-(1 << 16):]
    ends = re.search(rb"[\r\n]*\Z", tail).group()
    return max(0, max(ends.count(b"\n"), ends.count(b"\r")) - 1)


def _decimal_commas(path: Path, sep: str, compression: str | None, name: str, rows: int = 1000,
                    strict: bool = False) -> tuple[bool, dict[str, str], dict[str, str], list[str], dict[str, list]]:
    """Whether a file writes its numbers with decimal commas: some column of its first ``rows``
    rows holds only such numbers ("39,1", "1.234,5"), or only such numbers with a currency or
    percent sign ("1.234,56 €", "12,5 %": their commas must be followed by other than three
    digits, as "$23,712" groups thousands; those columns are returned fourth), or such numbers but
    for a few words (:func:`_mostly_numbers`; returned last, with the words), one at least with a comma, and no column
    holds numbers with a decimal point that cannot be thousands ("3.5", "1,234.5").

    ``strict`` (a file of tabs, or of commas with quoted numbers, where "1,550" is as likely a
    thousands group): some such comma must be followed by other than three digits ("40,6");
    the columns whose commas are all followed by three digits are returned too (``{name: an
    example}``), which a file of decimal commas reads as decimals.

    Last, the columns whose commas group thousands in any file (``{name: an example}``, no
    evidence of decimal commas): whole numbers below 1,000 beside numbers of groups of three
    digits ("999", "1,169", "12,500") whose scale they match as thousands, not as decimals
    (:func:`_thousands_in_scale`)."""
    with _csv_errors(path, name, compression), _csv_input(path) as source:
        sample = pd.read_csv(source, sep=sep, nrows=rows, dtype=str, keep_default_na=False, na_values=[""])
    commas = points = False
    grouped, thousands, signed, nearly = {}, {}, [], {}
    for label, values in sample.items():
        present = values.dropna().str.strip()
        present = present[~present.isin(list(NULL_WORDS))]
        if not len(present):
            continue
        groups = present.str.fullmatch(_THOUSANDS)
        plain = present.str.fullmatch(r"[+-]?[0-9]{1,3}")
        if groups.any() and (groups | plain).all() and not groups.all() and _thousands_in_scale(present[groups], present[plain]):
            thousands[str(label)] = str(present[groups].iloc[0])
            continue
        dots = present.str.fullmatch(_DOT_THOUSANDS)
        if sep == ";" and dots.any() and (dots | plain).all():
            # "4.502" beside "350" in a ';' file, as Excel writes amounts where commas are
            # decimal: thousands when they match the whole numbers' scale so read (a file of
            # German amounts was read as 4.502, 14.828, and its decimal commas as text: a user
            # review); otherwise no evidence either way.
            if not dots.all() and _thousands_in_scale(present[dots], present[plain], separator="."):
                commas = True
            continue
        decimal = r",(?:[0-9]{1,2}|[0-9]{4,})(?:[eE]|$)" if strict else ","
        plain_numbers = present.str.fullmatch(_COMMA_NUMBER.strip("^$"))
        numbers = plain_numbers.all()
        if numbers and present.str.contains(decimal).any():
            commas = True
        elif present.str.fullmatch(_COMMA_WRITTEN).all() and present.str.contains(_DECIMAL_BEFORE_SIGN).any():
            commas = True
            signed.append(str(label))
        elif _mostly_numbers(present, plain_numbers) and present[plain_numbers].str.contains(decimal).any():
            commas = True
            nearly[str(label)] = pd.unique(present[~plain_numbers]).tolist()
        elif present.str.fullmatch(_NUMBER.strip("^$")).all() and present.str.contains(r"\.[0-9]{0,2}$|\.[0-9]{4,}").any():
            points = True
        elif present.str.fullmatch(_GROUPED_NUMBER).all() and present.str.contains(".", regex=False).any():
            points = True
        elif numbers and strict and present.str.contains(",", regex=False).any():
            # Evidence of neither (after the points': "1,234" beside "5.678" is English).
            grouped[str(label)] = str(present[present.str.contains(",", regex=False)].iloc[0])
    return commas and not points, grouped, thousands, signed, nearly


def _mostly_numbers(present: pd.Series, numbers: pd.Series) -> bool:
    """Whether a column's values are numbers (``numbers`` marks them) but for a few words among
    many numbers: 90% of them at least, the rest three distinct values at most ("abc", "n.v."),
    which a wrong cell or a placeholder leaves. One such cell in a column of decimal commas
    turned the file's decimal commas off: every other column's decimals became text, and the
    column's refusal listed its good values."""
    return numbers.mean() >= 0.9 and present[~numbers].nunique() <= 3


def _thousands_in_scale(grouped: pd.Series, plain: pd.Series, separator: str = ",") -> bool:
    """Whether numbers with ``separator`` before three digits ("1,169"; "1.169" with ".") read
    as thousands lie nearer the column's whole numbers below 1,000 ("999") in scale than read as
    decimals (1.169): amounts 250 to 999 beside 1,007 to 18,424 are thousands; litres 3 and 4
    beside 1,500 and 12,125 are decimals (both were read as thousands)."""
    with np.errstate(divide="ignore"):
        small = np.median(np.log10(np.abs(pd.to_numeric(plain).to_numpy(dtype=np.float64)) + 1))
        large = np.median(np.log10(np.abs(pd.to_numeric(grouped.str.replace(separator, "", regex=False)).to_numpy(dtype=np.float64))))
    return abs(large - small) < abs(large - 3 - small)


def _exact_integers(text: pd.Series) -> pd.Series:
    """Whole numbers written as text ("4611686018427387905", "12.0") as exact ``Int64``; the text
    itself when a value is beyond ``Int64``'s range (ids of 20 digits stay exact as text)."""
    digits = text.astype("string").str.strip().str.replace(r"\.0*$", "", regex=True).str.removeprefix("+")
    try:
        return digits.astype("Int64")
    except (ValueError, TypeError, OverflowError):
        return text


def _code_flags(text: pa.ChunkedArray) -> tuple[bool, bool]:
    """Whether every value of a column's text is a whole number (nulls aside) and whether some
    value has leading zeros. Regular expressions run only on the few values they can concern
    (those with a decimal point; those that start with a zero, a sign or a space)."""
    dotted = text.filter(pc.match_substring(text, "."))
    if len(dotted) and pc.all(pc.match_substring_regex(dotted, _WHOLE_NUMBER)).as_py() is False:
        return False, False
    return True, _has_leading_zeros(text)


def _has_leading_zeros(text: pa.ChunkedArray) -> bool:
    """Whether some value of a column's text is a number written with leading zeros ("007")."""
    head = pc.utf8_slice_codeunits(text, 0, 1)
    maybe = text.filter(pc.is_in(head, value_set=pa.array(["0", "+", "-", " ", "\t"])))
    return len(maybe) > 0 and bool(pc.any(pc.match_substring_regex(maybe, _LEADING_ZERO)).as_py())


_SEPARATORS = {",": "','", ";": "';'", "\t": "tabs", "|": "'|'"}


def _check_one_column(frame: pd.DataFrame, bare: str, name: str, sep: str) -> None:
    """Refuse a file read as one column whose header holds another separator (``;``, a tab,
    ``|``, or ``,`` in a .tsv file) outside quotes (``bare``): pandas reads it as one column of
    joined fields."""
    header = str(frame.columns[0])
    found = next((s for s in _SEPARATORS if s != sep and s in bare), None)
    if found is None:
        return
    if found == "\t":
        fix = "name it .tsv (a .tsv file is read with tabs) or write it with commas"
    elif found == ",":
        fix = "name it .csv (a .csv file is read with commas) or write it with tabs"
    else:
        fix = "write it with commas" if sep == "," else "write it with tabs"
    own = "a .tsv file here is separated by tabs" if sep == "\t" else "a CSV file here is separated by ',' or ';' (a .tsv file by tabs)"
    raise DataError(f"{name} reads as one column named {header!r}: it looks separated by {_SEPARATORS[found]}, but {own}; {fix}")


@contextlib.contextmanager
def _csv_errors(path: Path, name: str, compression: str | None) -> Iterator[None]:
    """pandas' errors while parsing a CSV file, as one ``DataError`` that says what to fix."""
    try:
        yield
    except pd.errors.EmptyDataError:
        raise DataError(f"{name} is empty: it has no header row") from None
    except UnicodeDecodeError as exc:
        raise DataError(_not_utf8_message(path, compression, exc)) from None
    except pd.errors.ParserError as exc:
        raise DataError(_ragged_message(name, str(exc))) from None
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - truncated or corrupt compressed data raises many kinds
        hint = "; the file may be truncated or corrupt: write it again" if compression else ""
        raise DataError(f"cannot read {name} as CSV ({type(exc).__name__}: {one_line(exc)}){hint}") from None


def sniff(head: bytes) -> tuple[str, str]:
    """(kind, description) of a file from its first bytes: a signature, ``text`` or ``binary``."""
    for magic, kind, description in _SIGNATURES:
        if head.startswith(magic) and (not magic.isalnum() or _CONTROL.search(head)):
            return kind, description
    if b"\x00" in head:
        return "binary", "binary data"
    return "text", "text"


# Control characters no text table holds. Signatures that are plain letters ("PAR1", "BZh") could
# begin a CSV header too: they count only where such bytes follow.
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1f]")


def _csv_kind_problem(path: Path, compression: str | None, what: tuple[str, str]) -> str | None:
    """What is wrong with a CSV file whose first bytes say ``what``, or ``None``."""
    kind, description = what
    plain = path.name[: -len(_SUFFIX_OF[compression])] if compression else path.name
    if compression is not None:
        if kind == compression:
            return None
        expected = next(d for _, k, d in _SIGNATURES if k == compression)
        fix = {"text": f"name it {plain}", "parquet": f"name it {Path(plain).stem}.parquet"}.get(kind, "")
        if kind in _SUFFIX_OF:
            fix = f"name it {plain}{_SUFFIX_OF[kind]}"
        return f"is not {expected} as its name says: it is {description}" + (f"; {fix}" if fix else "")
    if kind == "text":
        return None
    if kind == "parquet":
        return f"is a Parquet file, not CSV: name it {Path(plain).stem}.parquet"
    if kind in _SUFFIX_OF:
        return f"is {description}, not plain CSV text: name it {plain}{_SUFFIX_OF[kind]}"
    if kind in ("utf-16", "utf-32"):
        return f'is {description}, not UTF-8: re-save it as UTF-8 ("CSV UTF-8")'
    return f"is {description} (it holds NUL bytes), not CSV text"


def _not_utf8_message(path: Path, compression: str | None, exc: UnicodeDecodeError) -> str:
    where = ""
    if compression is None:
        found = _first_invalid_utf8(path)
        if found is not None:
            line, bad = found
            where = f": line {line} holds the bytes {bad!r}, which are not UTF-8"
    return (
        f"{str(path)!r} is not UTF-8 text{where or f' ({exc.reason})'}; it may be Latin-1 or "
        f"Windows-1252 (as older Excel saves CSV): re-save it as UTF-8 (\"CSV UTF-8\")"
    )


def _first_invalid_utf8(path: Path) -> tuple[int, bytes] | None:
    """Line number and bytes of the first byte sequence that is not UTF-8, or ``None``."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            pending = decoder.getstate()[0]
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                data = pending + chunk
                return lines + data.count(b"\n", 0, exc.start), data[exc.start : exc.end]
            lines += chunk.count(b"\n")
    return None


_ARROW_RAGGED = re.compile(r"Expected (\d+) columns, got (\d+): (.*)", re.DOTALL)
_PANDAS_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _ragged_message(name: str, message: str) -> str:
    match = _PANDAS_RAGGED.search(message)
    if match is None:
        return f"cannot read {name} as CSV: {' '.join(message.split())}"
    expected, line, saw = match.groups()
    return (
        f"{name}: line {line} has {saw} fields but the header has {expected}; fix that row (a "
        f"value holding the separator must be in double quotes) or the header"
    )


def _scan_csv_rows(path: Path, sep: str, compression: str | None, text_of: list[int],
                   on_batch: Callable[[dict[int, pa.ChunkedArray]], None], blank_rows: bool = False) -> int | None:
    """One pass of pyarrow's CSV parser over the file: refuse a row with fewer or more fields
    than the header, and hand ``on_batch`` the text of the columns at positions ``text_of`` of
    each batch of rows (the header excluded; nulls where pyarrow reads one).

    pandas fills a short row with nulls (so a file cut off mid-row reads without complaint) and
    reads a header one field short of every row as an index; pyarrow tells both.

    ``blank_rows``: empty lines are rows (of a file of one column) rather than skipped.

    Returns:
        The number of rows (the header excluded), or ``None`` where pyarrow could not parse the
        file, even in 64 MB blocks (``on_batch`` may have seen part of the file, or the same
        rows twice).
    """
    name = repr(str(path))
    wanted = {f"f{position}": position for position in text_of}
    # A field longer than a block (a quoted text of megabytes holding newlines) stops pyarrow's
    # parser ("straddles two block boundaries"): the file is read again in larger blocks.
    for block_size in _SCAN_BLOCK_SIZES:
        header, rows = True, 0
        try:
            with _open_binary(path, compression) as handle:
                # No invalid_row_handler: a Python callback held by the parser made about one process
                # in 25 abort at exit under load ("terminate called without an active exception",
                # exit 134, after the work was done); pyarrow's error on the first bad row says the same.
                reader = pa_csv.open_csv(
                    handle,
                    read_options=pa_csv.ReadOptions(autogenerate_column_names=True, block_size=block_size),
                    parse_options=pa_csv.ParseOptions(delimiter=sep, newlines_in_values=True, ignore_empty_lines=not blank_rows),
                    # The parse alone counts the fields: only the wanted columns are converted, as
                    # text (or a missing column, when none is wanted); only an empty field is null.
                    convert_options=pa_csv.ConvertOptions(
                        include_columns=list(wanted) or ["none"], include_missing_columns=True,
                        column_types={column: pa.string() for column in wanted}, strings_can_be_null=True,
                        null_values=[""]),
                )
                for batch in reader:
                    # The header was read as the first row.
                    start, header = (1 if header else 0), False
                    rows += batch.num_rows - start
                    if wanted:
                        on_batch({position: pa.chunked_array([batch.column(column).slice(start)]) for column, position in wanted.items()})
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - pandas reads the file: pyarrow's view is a second opinion only
            if "straddle" in str(exc) and block_size != _SCAN_BLOCK_SIZES[-1]:
                continue
            found = _ARROW_RAGGED.search(str(exc))
            # A line of blanks is skipped by pandas: then pyarrow's view of the file is not used.
            if found and found.group(3).strip():
                expected, actual = int(found.group(1)), int(found.group(2))
                if actual > expected:  # pandas refuses it too, and says on which line
                    with _csv_errors(path, name, compression), _csv_input(path) as source, pd.read_csv(
                            source, sep=sep, dtype=str, keep_default_na=False, chunksize=1 << 16) as reader:
                        for _ in reader:
                            pass
                raise _bad_row(name, expected, actual, found.group(3)) from None
            return None
        return rows
    return None


_SCAN_BLOCK_SIZES = (1 << 20, 1 << 26)  # pyarrow's default block, then 64 MB


def _bad_row(name: str, expected: int, actual: int, text: str) -> DataError:
    """The error for a row of ``actual`` fields under a header of ``expected``."""
    text = text if len(text) <= 80 else text[:80] + "..."
    fields = f"{actual} field{'s' if actual != 1 else ''}"
    if actual < expected:
        fix = ("the file may be cut off, or the row lacks values: fix the row (an empty value still "
               "needs its separator)")
    else:
        fix = "fix the row (a value holding the separator must be in double quotes) or the header"
    return DataError(f"{name}: a row has {fields} but the header has {expected}: {text!r}; {fix}")


def _unquoted_first_line(path: Path, compression: str | None, name: str) -> str:
    """A CSV file's first line without what it holds between double quotes."""
    with _csv_errors(path, name, compression), _csv_input(path) as source:
        raw = pd.read_csv(source, sep=",", header=None, nrows=1, dtype=str, keep_default_na=False,
                          quoting=csv.QUOTE_NONE).iloc[0]
    return re.sub(r'"[^"]*(?:"|$)', "", ",".join(raw))


def _check_repeated_names(path: Path, sep: str, frame: pd.DataFrame) -> None:
    """Refuse a header that repeats a name, which pandas reads renamed (``a``, ``a.1``), or
    that leaves a name empty, which pandas reads as ``Unnamed: 1`` (a Parquet file's empty name
    is refused too, by the schema)."""
    renamed = [str(c) for c in frame.columns if re.fullmatch(r".+\.\d+|Unnamed: \d+", str(c))]
    if not renamed:
        return
    with _csv_input(path) as source:
        raw = pd.read_csv(source, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0]
    empty = [i + 1 for i, value in enumerate(raw) if value == ""]
    if empty:
        trailing = " (a header ending in a separator adds one: remove the separator at the end of each line)" if empty[-1] == len(raw) else ""
        index = " (pandas' to_csv writes its index so: write with index=False)" if empty[0] == 1 else ""
        raise DataError(f"{repr(str(path))}: column #{empty[0]} has an empty name; give it a name{trailing or index}")
    repeated = sorted(raw[raw.duplicated()].unique())
    if repeated:
        raise DataError(f"{repr(str(path))}: the header repeats the column names {repeated}; rename them")


@contextlib.contextmanager
def _open_binary(path: Path, compression: str | None, native: bool = True) -> Iterator[IO[bytes]]:
    """The decompressed bytes of a file (``native``: read by pyarrow's C++ where it can)."""
    if compression == "zip":
        with zipfile.ZipFile(path) as archive:
            with archive.open(_zip_member(path) or archive.namelist()[0]) as handle:
                yield handle
        return
    if compression is None and not native:
        with path.open("rb") as handle:
            yield handle
        return
    if native and compression in (None, "gzip", "bz2") and (compression is None or pa.Codec.is_available(compression)):
        with pa.input_stream(str(path), compression=compression) as handle:  # decompressed in C++
            yield handle
        return
    opener = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}[compression]
    with opener(path, "rb") as handle:
        yield handle


class TextColumns(list):
    """The column names :func:`text_columns` gives (a list of ``str``), and ``verbatim``: those
    of them whose null words are values, read with only an empty field as null."""

    def __init__(self, names: Iterable[str] = (), verbatim: Iterable[str] = ()) -> None:
        super().__init__(names)
        self.verbatim = frozenset(verbatim)


def text_columns(schema) -> TextColumns:
    """A schema's categorical columns that must be read from CSV as text (:func:`read_table`):
    those with a text category that reads as a number written otherwise ("1.10" is 1.1, one
    category with "1.1"; "2.50" is 2.5, no category), and those with a category that is a null
    word ("NA", "null", "N/A": a grade "NA" beside "1", "2" was read as a null, then imputed),
    whose null words are then values (``verbatim``). Categories that read back as themselves
    ("408", or 408) are left to pandas, whose "408.0" (a column with nulls) still matches them.
    None for no schema."""
    if schema is None:
        return TextColumns()
    from synthvae.validation import category_text

    def changed(label) -> bool:
        if not isinstance(label, str):
            return False
        try:
            return category_text(float(label)) != label
        except ValueError:
            return False  # not a number: pandas reads the column as text anyway

    categorical = [c for c in schema if c.kind.value == "categorical"]
    verbatim = [c.name for c in categorical if any(isinstance(v, str) and v in NULL_WORDS for v in c.categories or ())]
    names = [c.name for c in categorical if c.name in verbatim or any(changed(v) for v in c.categories or ())]
    return TextColumns(names, verbatim)


def datetime_formats(schema) -> dict[str, str]:
    """The strftime formats a schema gives its datetime columns (what CSV output writes them in):
    not pandas' "ISO8601" / "mixed" (read modes, not formats), nor one with a time zone (%z,
    %Z: sampled datetimes are UTC without one, and "09:19 " did not read back): ISO then."""
    return {c.name: c.format for c in schema if c.kind.value == "datetime" and c.format and "%" in c.format
            and "%z" not in c.format and "%Z" not in c.format}


def write_table(frame: pd.DataFrame, path: str | os.PathLike, formats: dict[str, str] | None = None) -> Path:
    """Write a DataFrame to CSV or Parquet (by suffix), atomically.

    Datetimes are written as ISO text in CSV, or in ``formats``' strftime format for the columns
    it names (a schema's ``format``, with which the column was read), and as timestamps in
    Parquet; pandas nullable and
    categorical dtypes keep their type in Parquet, read back with :func:`read_table` (pandas'
    own ``read_parquet`` gives categories of numbers back as plain numbers, as floats where
    there are nulls: ``dtype_backend="numpy_nullable"`` keeps whole numbers exact). Parquet
    pages carry checksums. A named or
    non-default index (anything but an unnamed RangeIndex: ``df.set_index("customer_id")``, the
    index of a filtered table) is written as the first columns, named ``index`` when unnamed, so
    :func:`read_table` gives it back; an unnamed RangeIndex is only row positions, not written.

    Returns:
        The path written.

    Raises:
        DataError: The suffix is unknown, the folder is missing or not writable, or the disk
            is full (the target is then left as it was).
    """
    return write_tables([frame], path, formats)[0]


def write_tables(frames: Iterable[pd.DataFrame], path: str | os.PathLike,
                 formats: dict[str, str] | None = None) -> tuple[Path, int]:
    """Write consecutive tables with the same columns to one CSV or Parquet file, atomically,
    holding one table at a time: memory stays flat whatever the number of rows.

    Each table becomes one Parquet row group (or the next lines of the CSV file). The file
    appears, complete, once the last table is written; until then (or if anything fails or the
    process is killed) the previous file at ``path``, if any, is left as it was.

    Args:
        frames: The tables, e.g. :meth:`synthvae.Synthesizer.iter_sample`; the first sets the
            columns and types (later ones are converted to them).
        path: Target file; the suffix picks the format, as :func:`write_table`.
        formats: strftime formats of datetime columns in CSV, as :func:`write_table`.

    Returns:
        The path written and the number of rows.

    Raises:
        DataError: As :func:`write_table`, or a table whose columns differ from the first's.
    """
    path = Path(path)
    fmt = table_format(path)
    where = f"cannot write {str(path)!r}"
    frames = (_index_as_columns(frame, where) for frame in frames)
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            rows = _write_parquet(frames, tmp, path)
        else:
            rows = _write_csv(_warned(frames, path), tmp, path, formats or {})
    return path, rows


def _write_parquet(frames: Iterable[pd.DataFrame], tmp: Path, path: Path) -> int:
    writer, schema = None, None

    def write(frame: pd.DataFrame) -> None:
        nonlocal writer, schema
        table = _arrow_table(frame, path, schema)
        if writer is None:
            schema = table.schema.with_metadata({**(table.schema.metadata or {}), **_categories_note(frame)})
            writer = pq.ParquetWriter(tmp, schema, write_page_checksum=True)
        writer.write_table(table.replace_schema_metadata(schema.metadata))

    try:
        rows = _overlapped(frames, write)
        if writer is None:
            raise DataError(f"cannot write {str(path)!r}: no table was given")
    finally:
        if writer is not None:
            writer.close()
    return rows


def _write_csv(frames: Iterable[pd.DataFrame], tmp: Path, path: Path, formats: dict[str, str]) -> int:
    name = path.name.lower()
    sep = "\t" if name.endswith(".tsv") else ","
    columns = None
    lossy: set[str] = set()  # columns whose format loses their values: ISO in every batch
    with _csv_handle(tmp, path) as handle:

        def write(frame: pd.DataFrame) -> None:
            nonlocal columns
            _check_unique_columns(frame, path)
            if columns is not None and list(frame.columns) != columns:
                raise DataError(f"cannot write {str(path)!r}: a table has other columns than the first")
            dated = [label for label in frame.columns
                     if formats.get(str(label)) and pd.api.types.is_datetime64_any_dtype(frame[label].dtype)]
            if dated:
                frame = frame.copy(deep=False)
                for label in dated:
                    if str(label) in lossy:
                        continue
                    fmt = formats[str(label)]
                    lost = _lost_by_format(frame[label], fmt)
                    if lost is not None:
                        # A schema's "%Y-%m-%d" on hourly times wrote 2013-01-01 for 05:00, and
                        # the file failed a check against that schema (a user review): ISO.
                        lossy.add(str(label))
                        logger.warning("%r: column %r holds times its schema's format %r does not write (%s would be "
                                       "written %r): written as ISO 8601 text instead; give the format the directives "
                                       "of the column's unit (e.g. '%%Y-%%m-%%d %%H:%%M:%%S') to keep its form",
                                       str(path), str(label), fmt, lost, lost.strftime(fmt))
                        continue
                    frame[label] = frame[label].dt.strftime(fmt)
            header = columns is None
            if header and frame.shape[1] == 1 and any(s in str(frame.columns[0]) for s in _SEPARATORS):
                # Quoted, or read_table would take a ';' in it for the separator of two columns.
                handle.write('"' + str(frame.columns[0]).replace('"', '""') + '"\n')
                header = False
            frame.to_csv(handle, index=False, sep=sep, header=header, lineterminator="\n", quoting=_quoting(frame))
            columns = list(frame.columns)

        return _overlapped(frames, write)


# The units a strftime format may write down to, finest first (pandas' names).
_FORMAT_UNITS = ("ns", "us", "ms", "s", "min", "h", "D")
# A timestamp with every part from the year to the nanosecond set.
_FORMAT_PROBE = pd.Timestamp("2001-02-03 04:05:06.789123456")


@functools.lru_cache(maxsize=64)
def _format_resolution(fmt: str) -> str | None:
    """The finest unit of :data:`_FORMAT_UNITS` whose timestamps ``fmt`` writes and reads back
    unchanged (``None``: not even whole days, e.g. ``"%Y-%m"``); once per format, not per batch."""
    for unit in _FORMAT_UNITS:
        probe = _FORMAT_PROBE.floor(unit)
        try:
            if pd.to_datetime(probe.strftime(fmt), format=fmt) == probe:
                return unit
        except (ValueError, TypeError):
            continue
    return None


def _lost_by_format(values: pd.Series, fmt: str) -> pd.Timestamp | None:
    """A datetime of ``values`` that ``fmt`` does not write exactly (the format writes only
    coarser parts: "%Y-%m-%d" of a time of day), or ``None`` when it writes them all."""
    present = values.dropna()
    if not len(present):
        return None
    if present.dt.tz is not None:
        present = present.dt.tz_localize(None)
    unit = _format_resolution(fmt)
    if unit is not None:
        off = present[present != present.dt.floor(unit)]
    else:  # only some values are written exactly (the first of each month by "%Y-%m"): each checked
        distinct = pd.Series(present.unique())
        back = pd.to_datetime(distinct.dt.strftime(fmt), format=fmt, errors="coerce")
        off = distinct[back != distinct]
    return pd.Timestamp(off.iloc[0]) if len(off) else None


def _quoting(frame: pd.DataFrame) -> int:
    """How to quote a table's CSV fields: all of them for a table of one column holding blank
    text (" "), which would be a line of blanks, which reads as a blank line, and for a table
    with text holding a carriage return, which the csv module leaves unquoted with ``\\n`` line
    ends (``"a\\rb"`` was read back as two rows); minimal quoting otherwise (a null of one
    column is written ``""``, a row, by the csv module)."""
    texts = [_text_values(frame.iloc[:, i]) for i in range(frame.shape[1])]
    names = pd.Series([str(name) for name in frame.columns], dtype=object)
    if any(bool(values.str.contains("\r", regex=False).any()) for values in [names, *texts] if len(values)):
        return csv.QUOTE_ALL
    if frame.shape[1] == 1 and len(texts[0]) and bool(texts[0].str.fullmatch(r"\s+").any()):
        return csv.QUOTE_ALL
    return csv.QUOTE_MINIMAL


def _text_values(column: pd.Series) -> pd.Series:
    """The distinct text a column writes (a categorical's categories; none for numbers and
    datetimes)."""
    if column.dtype.kind in "biufcmM":
        return pd.Series([], dtype=object)
    if isinstance(column.dtype, pd.CategoricalDtype):
        values = pd.Series(column.cat.categories)
    else:
        values = column.dropna()
    # map(str), not astype(str), which decodes bytes (and raised on one that is not UTF-8).
    return values.astype(object).map(str)


def _warned(frames: Iterable[pd.DataFrame], path: Path) -> Iterator[pd.DataFrame]:
    """``frames``, the first one's columns checked by :func:`_warn_empty_categories`."""
    for number, frame in enumerate(frames):
        if number == 0:
            _warn_empty_categories(frame, path)
        yield frame


def _warn_empty_categories(frame: pd.DataFrame, path: Path) -> None:
    """Warn (a logged warning: the library does not raise Python warnings a test suite run with
    warnings as errors would stop on) that the empty-text category of a categorical column
    cannot be written to CSV: an empty field is a null, and reads back as one."""
    if isinstance(frame.columns, pd.MultiIndex):
        return  # refused by _check_unique_columns
    empty = [str(c) for c, dtype in zip(frame.columns, frame.dtypes)
             if isinstance(dtype, pd.CategoricalDtype) and "" in dtype.categories]
    if empty:
        logger.warning("%r: the columns %s have the empty text '' as a category, which CSV cannot hold (an empty "
                       "field is a null) and reads back as a null; write Parquet (.parquet) to keep it",
                       str(path), preview(empty))
    # A column written as null words and numbers alone reads back with the words as nulls
    # (read_table takes them for nulls beside numbers): a sample of region "NA" (North America)
    # read back all null (a user review).
    words = []
    for label, dtype in zip(frame.columns, frame.dtypes):
        if not (isinstance(dtype, pd.CategoricalDtype) or dtype == object or pd.api.types.is_string_dtype(dtype)):
            continue
        present = pd.Series(frame[label].dropna().unique()).astype(object).map(str)
        nulls = present.isin(NULL_WORDS)
        if nulls.any() and present[~nulls].str.fullmatch(_NUMBER).all():
            words.append(f"{label} ({preview(present[nulls].tolist())})")
    if words:
        logger.warning("%r: the columns %s hold null words beside numbers alone, which read back as nulls (read_table, "
                       "as pandas, takes them for missing values there); write Parquet (.parquet) to keep them, or read "
                       "the file with the model's schema (synthvae's commands do)", str(path), ", ".join(words))


def _overlapped(frames: Iterable[pd.DataFrame], write: Callable[[pd.DataFrame], None]) -> int:
    """Write each table with ``write`` in one background thread while the next table is made
    (``frames`` is iterated here: sampling the next batch overlaps writing this one, since
    torch, NumPy, pyarrow and the file system release the GIL). One table is written at a time,
    in order, and at most one waits: memory stays that of two tables. Returns the row count.

    A failure on either side stops both and is raised here."""
    rows, pending = 0, None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synthvae-write") as pool:
        try:
            for frame in frames:
                if pending is not None:
                    pending.result()  # the previous table is written (or its error is raised)
                pending = pool.submit(write, frame)
                rows += len(frame)
            if pending is not None:
                pending.result()
        except BaseException:
            if pending is not None:
                pending.cancel()
            raise
    return rows


def _check_unique_columns(frame: pd.DataFrame, path: Path) -> None:
    """Refuse a table whose column names repeat, or are a MultiIndex: neither format keeps them
    apart (a CSV would be written that :func:`read_table` then refuses: a MultiIndex wrote two
    header rows)."""
    if isinstance(frame.columns, pd.MultiIndex):
        raise DataError(f"cannot write {str(path)!r}: the column names have {frame.columns.nlevels} levels (a "
                        f"MultiIndex); flatten them to one name each first (e.g. df.columns = ['_'.join(map(str, c)) "
                        f"for c in df.columns])")
    repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if repeated:
        raise DataError(f"cannot write {str(path)!r}: column names {preview(repeated)} repeat; rename the columns so each name is unique")


def _as_one_type(frame: pd.DataFrame) -> pd.DataFrame | None:
    """``frame`` with the columns Parquet cannot hold as one type as text: categories mixing
    numbers and text (a schema's ``[1, 2, "unknown"]``) or whole numbers beyond 64 bits (21-digit
    account numbers); ``None`` when there is none."""
    out, changed = frame.copy(deep=False), False
    for label in frame.columns:
        column = frame[label]
        values = column.cat.categories if isinstance(column.dtype, pd.CategoricalDtype) else column if column.dtype == object else None
        if values is None:
            continue
        kind = pd.api.types.infer_dtype(values, skipna=True)
        wide = kind == "integer" and any(abs(int(v)) >= 2**63 for v in values if not pd.isna(v))
        if kind in ("mixed", "mixed-integer") or wide:  # not "mixed-integer-float": numbers all
            text = column.astype(object).where(column.isna(), column.astype(str))
            if isinstance(column.dtype, pd.CategoricalDtype):
                order = list(dict.fromkeys(str(c) for c in column.cat.categories))
                text = pd.Series(pd.Categorical(text, categories=order, ordered=column.cat.ordered), index=column.index)
            out[label] = text
            changed = True
    return out if changed else None


def _arrow_table(frame: pd.DataFrame, path: Path, schema: pa.Schema | None) -> pa.Table:
    _check_unique_columns(frame, path)
    # A later table goes to the first one's types: its mixed columns as text first (pyarrow took
    # mixed categories against a text schema with a FutureWarning); the first is tried as it is.
    retyped = _as_one_type(frame) if schema is not None else None
    try:
        try:
            return pa.Table.from_pandas(frame if retyped is None else retyped, schema=schema, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            retyped = _as_one_type(frame) if schema is None else None
            if retyped is None:
                raise
            return pa.Table.from_pandas(retyped, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, KeyError, OverflowError) as exc:
        if schema is not None:
            raise DataError(f"cannot write {str(path)!r}: a table does not match the first one's columns and types ({exc})") from None
        raise DataError(
            f"cannot write {str(path)!r} as Parquet: {exc}; a column mixing types (e.g. "
            f"categories 1, 2 and 'unknown') must be made all text"
        ) from None


@contextlib.contextmanager
def _csv_handle(tmp: Path, path: Path) -> Iterator[io.TextIOBase]:
    """A UTF-8 text handle on ``tmp`` that compresses as ``path``'s suffix says (the temporary
    name hides it). Archives name the final file and carry no clock time, so the same rows give
    the same bytes (a gzip header held the temporary name, with its process id, and the time)."""
    name = path.name.lower()
    compression = next((c for suffix, c in _COMPRESSION.items() if name.endswith(suffix)), None)
    text = dict(encoding="utf-8", newline="")
    if compression == "zip":
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            member = zipfile.ZipInfo(path.name[: -len(".zip")], date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w", force_zip64=True) as stream:
                with io.TextIOWrapper(stream, **text) as handle:
                    yield handle
        return
    if compression == "gzip":
        # Level 6, gzip's own default: 100,000 loans rows (25 MB of text) in 0.93 s and 7.73 MB,
        # against Python's level 9 in 1.81 s and 7.59 MB (a user review found .csv.gz output slow).
        with open(tmp, "wb") as raw, gzip.GzipFile(path.name[: -len(".gz")], "wb", compresslevel=6, fileobj=raw, mtime=0) as packed:
            with io.TextIOWrapper(packed, **text) as handle:
                yield handle
        return
    opener = {"bz2": bz2.open, "xz": lzma.open}.get(compression)
    with (opener(tmp, "wt", **text) if opener else open(tmp, "w", **text)) as handle:
        yield handle


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    On any error the temporary file is removed and ``path`` is left as it was. A process killed
    mid-write cannot remove its temporary file; the next write of the same target does, once
    that process is gone (see :func:`_remove_stale_temps`).

    Raises:
        DataError: The target folder does not exist or cannot be written, the target is a
            folder (or named as one, ending in a separator) or no regular file (a device, a
            pipe), or a write inside the block failed (disk full, file too large).
    """
    if str(path).endswith(("/", os.sep)):
        # "-o newdir/" wrote a file named newdir.
        raise DataError(f"cannot write {str(path)!r}: it names a folder (it ends with {str(path)[-1]!r}); give a file name")
    path = Path(path)
    try:
        if path.is_symlink():
            # Write through the link (as `>` in a shell does): the link stays, its target is replaced.
            path = Path(os.path.realpath(path))
        folder = _existing_folder(path)
        if path.is_dir():
            raise DataError(f"cannot write {str(path)!r}: it is a folder")
        if path.exists() and not path.is_file():
            # The rename replaced /dev/null and a named pipe by a plain file (a user review).
            raise DataError(f"cannot write {str(path)!r}: it is no regular file (a device, pipe or socket), which a "
                            f"write would replace; write to a file")
    except OSError as exc:  # a name too long for the file system
        raise DataError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)  # an existing file's permissions are kept (0600 stays 0600)
    except OSError:
        mode = None
    _remove_stale_temps(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f"{_temp_prefix(path)}{os.getpid()}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise DataError(
            f"cannot write {str(path)!r}: cannot create a file in folder {str(folder)!r} "
            f"({exc.strerror or exc}); choose another folder"
        ) from None
    tmp = Path(tmp_name)
    try:
        # Held until the rename: tells a cleaner on another machine sharing the folder (where our
        # process number means nothing) that this temporary file is alive. Gone with the process.
        _try_lock(fd)
        # mkstemp creates 0600; give the file the permissions of the file it replaces, or those an
        # ordinary new file would get.
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(fd if os.chmod in os.supports_fd else tmp, mode)
        yield tmp
        # On disk before the rename, and the rename on disk after it: a power cut left the
        # renamed file empty or partial where the file system wrote the rename first.
        os.fsync(fd)
        os.replace(tmp, path)
        _sync_folder(folder)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(_write_failed_message(path, exc)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; rename it onto ``path`` if the block succeeds.

    For outputs of several files (a partitioned dataset): readers see the previous folder or
    the complete new one. An existing folder at ``path`` is replaced (moved aside, then
    removed, after the new one is in place). On any error the temporary folder is removed.

    Raises:
        DataError: The parent folder is missing or not writable, ``path`` is a file, or a
            write inside the block failed.
    """
    path = Path(path)
    folder = _existing_folder(path)
    if path.exists() and not path.is_dir():
        raise DataError(f"cannot write a folder of files at {str(path)!r}: it is a file; give another name")
    _remove_stale_temps(path, folders=True)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f"{_temp_prefix(path)}{os.getpid()}.", suffix=".tmp", dir=folder))
    except OSError as exc:
        raise DataError(f"cannot write {str(path)!r}: cannot create a folder in {str(folder)!r} ({exc.strerror or exc})") from None
    # mkdtemp makes 0700: the replaced folder's mode, else the umask's, as files get (a dataset
    # written for other readers was closed to them).
    if path.is_dir():
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
    else:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
    try:
        yield tmp
        if path.exists():
            if _exchange(tmp, path):  # one step: no moment without the folder
                shutil.rmtree(tmp, ignore_errors=True)
                return
            old = folder / f"{_temp_prefix(path)}{os.getpid()}.old.tmp"
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(_write_failed_message(path, exc)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux's ``renameat2`` with ``RENAME_EXCHANGE``); ``False``
    where that is not available (another system, an old C library, a file system without it),
    and the caller moves them one after the other."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


# Bytes a temporary name adds to its target's name: "." before it, and ".PID.XXXXXXXX.tmp" after
# (a process number of up to 10 digits; mkstemp's 8 random characters or "old").
_TEMP_EXTRA = 1 + 1 + 10 + 1 + 8 + 4
_NAME_MAX = 255  # bytes of one file name on Linux, macOS and Windows file systems


def _temp_prefix(path: Path) -> str:
    """``.NAME.``, the start of the temporary names of ``path``. A name too long to take the
    temporary parts (a 239-character file name is valid; its temporary name would not be) is
    cut and given a hash of the whole name, so it stays unique to its target."""
    name = path.name
    encoded = os.fsencode(name)
    if len(encoded) + _TEMP_EXTRA <= _NAME_MAX:
        return f".{name}."
    digest = hashlib.sha256(encoded).hexdigest()[:8]
    keep = encoded[: _NAME_MAX - _TEMP_EXTRA - 1 - len(digest)]
    return f".{os.fsdecode(keep.decode('utf-8', 'ignore').encode('utf-8'))}~{digest}."


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename in it) to disk, where the system lets a folder be opened."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder: its renames are flushed by the file system
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems (network ones) refuse fsync of a folder
    finally:
        os.close(handle)


def _existing_folder(path: Path) -> Path:
    """The folder ``path`` is to be written in; a clear error when it is missing or a file."""
    folder = path.parent
    if not folder.is_dir():
        state = "is not a folder" if folder.exists() else "does not exist"
        raise DataError(f"cannot write {str(path)!r}: folder {str(folder)!r} {state}")
    return folder


def _write_failed_message(path: Path, exc: OSError) -> str:
    number, reason = exc.errno, exc.strerror
    match = re.search(r"\[errno (\d+)\]", str(exc))
    if match:  # pyarrow: "Error writing bytes to file. Detail: [errno 28] No space left on device"
        number = int(match.group(1))
        reason = os.strerror(number)
    hint = {
        errno.ENOSPC: "the disk is full: free some space or write elsewhere",
        errno.EDQUOT: "the disk quota is used up: free some space or write elsewhere",
        errno.EFBIG: "the file would be larger than this process may write (ulimit -f) or the file system allows",
        errno.EROFS: "the file system is read-only: write elsewhere",
        errno.EACCES: "no permission to write there: write elsewhere",
        errno.EPERM: "no permission to write there: write elsewhere",
        errno.EISDIR: "it is a folder",
    }.get(number, "")
    reason = reason or one_line(exc)
    kept = "the existing file is unchanged" if path.exists() else "nothing was written"
    return f"cannot write {str(path)!r}: {reason}" + (f"; {hint}" if hint else "") + f" ({kept})"


def _remove_stale_temps(path: Path, folders: bool = False) -> None:
    """Remove temporary files (or, with ``folders``, the temporary folders of
    :func:`atomic_folder`) of ``path`` left by writers that died (killed, crashed).

    A temporary file is stale when the process named in it no longer exists and no one holds
    its lock (a folder has no lock: its process alone decides). Anything else (a live writer, a
    process number reused, a lock held from another machine) is left alone. Only POSIX
    systems: elsewhere nothing is removed.
    """
    # Folders may be ".NAME.PID.old.tmp": the previous output, moved aside while replaced.
    tail = r"\.[a-z0-9_.]+\.tmp" if folders else r"\.[a-z0-9_]+\.tmp"
    pattern = re.compile(re.escape(_temp_prefix(path)) + r"(\d{1,9})" + tail)
    for tmp, pid in _left_by_the_dead(path.parent, pattern, folders):
        if not folders and _is_locked(tmp):
            continue
        if folders and tmp.endswith(".old.tmp") and not os.path.lexists(path):
            # Killed between moving the previous output aside and moving the new one in: the
            # previous output goes back under its name (it was deleted).
            with contextlib.suppress(OSError):
                os.rename(tmp, path)
                logger.info("restored %s from %s, moved aside by process %d which ended before replacing it", path, tmp, pid)
                continue
        with contextlib.suppress(OSError):
            if folders:
                shutil.rmtree(tmp)
            else:
                os.unlink(tmp)
            logger.info("removed %s, left by process %d which ended before finishing its write", tmp, pid)


def remove_stale_fit_folders(folder: str | os.PathLike | None = None) -> None:
    """Remove the working folders (``synthvae-fit-PID-*``, a streamed CSV's Parquet copy) that
    fits killed before they could clean up left in ``folder`` (the temporary folder), when
    their process is gone. POSIX only, as :func:`_remove_stale_temps`."""
    pattern = re.compile(r"synthvae-fit-(\d{1,9})-[A-Za-z0-9_]+")
    for path, pid in _left_by_the_dead(Path(folder or tempfile.gettempdir()), pattern, folders=True):
        shutil.rmtree(path, ignore_errors=True)
        logger.info("removed %s, left by fit process %d, which ended before cleaning up", path, pid)


def _left_by_the_dead(folder: Path, pattern: re.Pattern, folders: bool) -> list[tuple[str, int]]:
    """The entries of ``folder`` (folders, or else files) whose names ``pattern`` matches, its
    first group a process number, and whose process no longer exists: ``(path, process)``.
    Nothing on systems other than POSIX, or when the folder cannot be read."""
    if os.name != "posix":
        return []
    try:
        with os.scandir(folder) as entries:
            found = [(e.path, int(m.group(1))) for e in entries
                     if (m := pattern.fullmatch(e.name)) and e.is_dir(follow_symlinks=False) == folders]
    except OSError:
        return []
    return [(path, pid) for path, pid in found if _process_gone(pid)]


def _process_gone(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, only the process's existence is checked
    except ProcessLookupError:
        return True
    except OSError:  # it exists (another user's) or cannot be told
        return False
    return False


def _try_lock(fd: int) -> bool:
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError):
        return False
    return True


def _is_locked(tmp: str) -> bool:
    """Whether some process holds the lock of a temporary file (unknown counts as locked)."""
    try:
        fd = os.open(tmp, os.O_RDWR)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    try:
        if not _try_lock(fd):
            return True
        return False
    finally:
        os.close(fd)  # releases the lock just taken


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write text to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write bytes to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


__all__ = [
    "atomic_folder",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "read_table",
    "table_format",
    "write_table",
    "write_tables",
]
