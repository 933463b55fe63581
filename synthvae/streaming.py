"""Fit from tables larger than memory: a Parquet file, a folder of Parquet files, or a large CSV.

Nothing here holds the whole table. The input is cut into **units** (one row group of one Parquet
file); a CSV is first copied, in one streamed pass, into a temporary folder of Parquet parts of
the rows as read, so that it can be cut the same way (:func:`open_source`).

One streamed **scan** (:func:`scan`) then reads every row once and keeps:

- a seeded **reservoir** of ``reservoir_rows`` rows, uniform over the table: each row's key is a
  hash of the seed and the row's position in the table, and the rows with the smallest keys are
  kept. The sample depends on the seed and the table only, not on how the rows are cut into
  files, row groups or chunks, nor on how many processes read them. The schema is inferred from
  it and the codecs are fitted on it (quantiles, mixture modes, category frequencies within
  ``max_categories``): the error of a quantile read from ``R`` rows is about ``1 / sqrt(R)``
  in rank (0.003 for the default 100,000 rows), below what the model itself reaches;
- **exact statistics** of every column, which correct what a sample can miss: which columns
  hold nulls, the min / max of numeric columns, whether their numbers are all whole and how many
  decimal places they need, the earliest and latest datetimes, every category of a categorical
  column (the scan counts up to ``_MAX_TRACKED`` distinct values a column, one more read of a
  categorical column past that up to ``_MAX_COUNTED``) and each category's count, which decides
  the pooled rare categories;
- the **validation rows**: a row is held out for early stopping when another hash of its position
  falls below the validation share (at most 20,000 rows in all, as in memory); training never
  sees them.

Each epoch then streams shuffled batches (:meth:`TableStream.batches`): the units are put in a
seeded random order (among ``k`` data-parallel processes, rank ``r`` reads the ``r``-th of ``k``
runs of that order holding the same number of training rows), several units are read at once
in chunks, each chunk is validated and encoded, and a shuffle buffer mixes the rows of those
units before they are cut into batches. Memory is that of the buffer, the open units and the
model: it grows with the batch and buffer sizes, not with the table.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from synthvae.errors import DataError, ParameterError, one_line, preview
from synthvae.inference import MAX_DECIMALS, decimal_places, mostly_places, on_grid, places_kept, whole_numbers
from synthvae.io import (CATEGORIES_KEY, CSV_SUFFIXES, PARQUET_SUFFIXES, read_csv_chunks, refuse_index_clash,
                         refuse_special_file, sniff, stored_index, warn_mixed_types, with_noted_categories)
from synthvae.schema import DATETIME_UNITS, Column, ColumnKind, NumericType, Schema, time_zone, unit_length, whole_units, zone_name
from synthvae.validation import (category_text, column_numbers, conform, dtype_zone, holds_durations, numpy_backed,
                                 wall_times, with_written_numbers, without_nat_text)

logger = logging.getLogger(__name__)

RESERVOIR_ROWS = 100_000
_MAX_VALIDATION = 20_000  # as training.split_validation
_MAX_TRACKED = 100_000  # distinct values counted exactly per column by the scan
_MAX_COUNTED = 2_000_000  # distinct values of a categorical column counted by a read of its own
_CHUNK_ROWS = 16_384  # rows read at a time from one unit
_CSV_PART_ROWS = 262_144  # rows per Parquet part of a converted CSV
_CSV_ROW_GROUP = 65_536  # rows per row group (unit) of those parts


# ------------------------------------------------------------------ the input
@dataclass(frozen=True)
class Unit:
    """One row group of one Parquet file: the smallest piece read on its own.

    Attributes:
        path: The file.
        row_group: The row group's number in the file.
        rows: Its rows.
        start: Position of its first row in the whole table (files in name order).
    """

    path: Path
    row_group: int
    rows: int
    start: int


def _refuse_unsupported_types(file: Path, arrow) -> None:
    """Refuse a Parquet file's columns whose type no column kind holds, as an in-memory fit does
    (:func:`synthvae.inference.infer_schema`), before a row is read: lists, records and maps
    crashed the scan with a raw "unhashable type"."""
    import pyarrow as pa  # pyarrow reads Parquet: it is there

    for field in arrow:
        kind = field.type
        if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
            what, fix = "list", "spread them over columns of their own"
        elif pa.types.is_struct(kind) or pa.types.is_map(kind) or pa.types.is_union(kind):
            what, fix = "record", "spread them over columns of their own"
        elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
            what, fix = "bytes", "make them text"
        else:
            continue
        raise DataError(f"{str(file)!r}, column {field.name!r}: {what} values ({kind}) are not supported; {fix}, "
                        f"or leave the column out of the files")


def _arrow_family(kind: pa.DataType) -> str | None:
    """What an Arrow type holds, in :func:`synthvae.io.value_family`'s words."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "number"
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return "datetime"
    if pa.types.is_duration(kind):
        return "duration"
    return None if pa.types.is_null(kind) else "text"


class TableSource:
    """A table on disk as units: a Parquet file, or a folder of Parquet files (read recursively,
    in name order; names starting with ``.`` or ``_`` are left out, as pyarrow does).

    A folder partitioned the Hive way (``year=2021/month=3/part-0.parquet``, as Spark, Hive and
    ``pyarrow.parquet.write_to_dataset(partition_cols=...)`` write it) holds the partition
    columns in its folder names only: they are read from there, after the files' own columns,
    as pyarrow reads them (URI-decoded; whole numbers as integers, other values as text;
    ``__HIVE_DEFAULT_PARTITION__`` as null).

    Args:
        path: The file or folder.
        label: How error messages name the input (the original CSV for a converted one).
        origin: The file the Parquet files were converted from (a CSV), which identifies the
            input for checkpoints in their place.
    """

    def __init__(self, path: str | os.PathLike, label: str | None = None, origin: str | os.PathLike | None = None) -> None:
        self.path = Path(path)
        self.label = label or str(self.path)
        self.origin = Path(origin) if origin is not None else None
        files = _parquet_files(self.path)
        self.partitions = _hive_partitions(self.path, files)
        self.units: list[Unit] = []
        self.columns: list[str] | None = None
        # The index pandas' to_parquet stored beside the rows (a filtered or shuffled table's,
        # a named one): columns, first, as read_table makes them (a crash here before).
        self.indexes: dict[Path, list[tuple[str, str | dict]]] = {}
        self._group_starts: dict[tuple[Path, int], int] = {}
        # Each file's size and modification time as scanned: a file rewritten during the fit
        # (other rows in as many row groups) was read without a word (see read).
        self._stamps: dict[Path, tuple[int, int]] = {}
        start = 0
        types = []
        for file in files:
            self._stamps[file] = _stamp(file)
            meta = _metadata(file)
            arrow = meta.schema.to_arrow_schema()
            types.append((file.name, {field.name: _arrow_family(field.type) for field in arrow}))
            self.indexes[file] = stored_index(arrow)
            stored = {how for _, how in self.indexes[file] if isinstance(how, str)}
            refuse_index_clash(repr(str(file)), [label for label, _ in self.indexes[file]], set(arrow.names) - stored)
            _refuse_unsupported_types(file, arrow)
            names = [label for label, _ in self.indexes[file]] + [n for n in arrow.names if n not in stored]
            clash = [key for key in self.partitions.get(file, {}) if key in names]
            if clash:
                raise DataError(f"{str(file)!r} has columns {clash} that its folder names also give (key=value): a column "
                                f"is either in the files or in the folder names; rename one")
            names += list(self.partitions.get(file, {}))
            if self.columns is None:
                self.columns = names
            elif names != self.columns:
                missing = [c for c in self.columns if c not in names]
                extra = [c for c in names if c not in self.columns]
                raise DataError(
                    f"{str(file)!r} does not have the columns of {str(files[0])!r}"
                    + (f": missing {missing}" if missing else "")
                    + (f"; extra {extra}" if extra else "")
                    + ("" if missing or extra else ": same names in another order")
                    + "; every file of a dataset needs the same columns"
                )
            in_file = 0
            for group in range(meta.num_row_groups):
                rows = meta.row_group(group).num_rows
                self._group_starts[(file, group)] = in_file
                in_file += rows
                if rows:
                    self.units.append(Unit(file, group, rows, start))
                    start += rows
        self.rows = start
        warn_mixed_types(repr(self.label), types)
        # Each unit's first row, where the rows come from more than one file (see where).
        several = origin is None and len({unit.path for unit in self.units}) > 1
        self._unit_starts = np.array([unit.start for unit in self.units], dtype=np.int64) if several else None
        if self.columns is None or not self.columns:
            raise DataError(f"{self.label!r} has no columns")
        if self.rows == 0:
            raise DataError(f"{self.label!r} has no rows: cannot learn from an empty table")

    def read(self, unit: Unit, chunk_rows: int = _CHUNK_ROWS, rows: tuple[int, int] | None = None,
             columns: list[str] | None = None) -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
        """The unit's rows in chunks: (their positions in the table, the rows as pandas reads them);
        ``rows``: only its rows ``[first, stop)`` (counted from the unit's first row);
        ``columns``: only those columns."""
        first, stop = rows if rows is not None else (0, unit.rows)
        partition = self.partitions.get(unit.path, {})
        index = self.indexes.get(unit.path, [])
        own = [c for c in (columns if columns is not None else self.columns) if c not in partition]
        field = {label: how for label, how in index if isinstance(how, str)}
        ranges = {label: how for label, how in index if isinstance(how, dict)}
        stored = None if columns is None and not index else [field.get(c, c) for c in own if c not in ranges]
        try:
            if _stamp(unit.path) != self._stamps[unit.path]:
                raise DataError(f"{str(unit.path)!r} changed during the fit (its size or modification time is not what "
                                f"the scan of {self.label!r} read): the rows read so far and the rows now differ; leave "
                                f"the data as it is until the fit ends, or fit a copy")
            reader = pq.ParquetFile(unit.path, page_checksum_verification=True)
            # Categories of numbers come back as plain numbers (floats where there are nulls):
            # the file's note makes them categories again, as read_table does.
            metadata = reader.schema_arrow.metadata or {}
            noted = CATEGORIES_KEY in metadata
            offset = 0
            for batch in reader.iter_batches(batch_size=chunk_rows, row_groups=[unit.row_group], columns=stored):
                size = batch.num_rows
                low, high = max(first - offset, 0), min(stop - offset, size)
                if low < high:
                    rows = batch if high - low == size else batch.slice(low, high - low)
                    frame = rows.to_pandas()
                    if noted:
                        frame = with_noted_categories(frame, pa.Table.from_batches([rows]).replace_schema_metadata(metadata))
                    if index:
                        frame = self._index_columns(frame, unit, offset + low, field, ranges, own)
                    if partition:
                        frame = with_partition(frame, partition, columns)
                    start = unit.start + offset
                    yield np.arange(start + low, start + high, dtype=np.uint64), frame
                offset += size
                if offset >= stop:
                    return
        except (OSError, pa.ArrowException) as exc:
            raise DataError(
                f"cannot read row group {unit.row_group} of {str(unit.path)!r} ({type(exc).__name__}: "
                f"{one_line(exc)}); the file may be corrupt or changed during the fit"
            ) from None

    def _index_columns(self, frame: pd.DataFrame, unit: Unit, first: int, field: dict, ranges: dict,
                       own: list[str]) -> pd.DataFrame:
        """A chunk's stored index as its columns (``own``, in order): the stored index columns
        pandas made the frame's index, and a named range index's values at the chunk's rows
        (``first``: the chunk's first row in its row group)."""
        read = [label for label in own if label in field]
        if read:
            frame = frame.set_axis(pd.MultiIndex.from_frame(frame.index.to_frame(), names=read) if len(read) > 1
                                   else frame.index.rename(read[0]), axis=0).reset_index()
        else:
            frame = frame.reset_index(drop=True)
        at = self._group_starts[(unit.path, unit.row_group)] + first + np.arange(len(frame))
        for label, how in ranges.items():
            if label in own:
                frame[label] = how["start"] + how["step"] * at
        return frame[own]

    def where(self, position: int) -> str:
        """How error messages name the rows from table row ``position`` on: the file of a folder
        that holds them (a value past a given schema's bounds named the folder alone), else the
        input (a CSV converted to parts is named as itself)."""
        if self._unit_starts is None:
            return repr(self.label)
        return repr(str(self.units[int(np.searchsorted(self._unit_starts, position, side="right")) - 1].path))

    def naming_files(self, frame: pd.DataFrame, label: str, work: Callable[[pd.DataFrame, str], Any]) -> Any:
        """``work(frame, label)`` on rows indexed by their table positions (the reservoir, the
        validation rows); a :class:`DataError` it raises comes back from the rows of the first
        file of a folder that raise it alone, named by that file (:meth:`where`)."""
        try:
            return work(frame, label)
        except DataError:
            places = [self.where(position) for position in frame.index.to_numpy(np.int64)]
            if len(set(places)) > 1:
                for place in dict.fromkeys(places):
                    work(frame[[p == place for p in places]], place)
            raise

    def identity(self) -> dict:
        """What identifies this input's content for checkpoints: its rows, and each file's absolute
        path (so ``data`` and ``./data`` are one input), size and modification time; for a
        converted CSV, the CSV's own (its Parquet parts are new files in every fit)."""
        files = [self.origin] if self.origin is not None else sorted({u.path for u in self.units})
        return {"rows": self.rows,
                "files": [[str(f.resolve()), *_stamp(f)] for f in files]}


def _stamp(file: Path) -> tuple[int, int]:
    """A file's size and modification time (nanoseconds)."""
    stat = file.stat()
    return stat.st_size, stat.st_mtime_ns


def open_source(path: str | os.PathLike, workdir: str | os.PathLike, text_columns: Iterable[str] = ()) -> TableSource:
    """The input as units: Parquet as it is, a CSV copied into Parquet parts under ``workdir``
    (``text_columns`` read as text, as :func:`synthvae.io.read_table` reads them).

    Raises:
        DataError: Missing, empty, not of its format, corrupt, or files with other columns.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"no such file or folder: {str(path)!r}")
    refuse_special_file(path)
    if path.is_dir() or str(path).lower().endswith(PARQUET_SUFFIXES):
        return TableSource(path)
    if not str(path).lower().endswith(CSV_SUFFIXES):
        raise DataError(f"cannot stream {str(path)!r}: give a .parquet file, a folder of them, or a .csv (.csv.gz) file")
    parts = Path(workdir) / "csv-parts"
    parts.mkdir(parents=True, exist_ok=True)
    for number, frame in enumerate(read_csv_chunks(path, _CSV_PART_ROWS, text_columns)):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table, parts / f"part-{number:06d}.parquet", row_group_size=_CSV_ROW_GROUP)
    return TableSource(parts, label=str(path), origin=path)


def read_as_data(path: str | os.PathLike, dataset: str | os.PathLike) -> bool:
    """Whether files under ``path`` would be read as part of the dataset folder ``dataset`` (a
    folder inside it, or the folder itself, whose names do not start with ``.`` or ``_``)."""
    dataset, path = Path(dataset), Path(path)
    if not dataset.is_dir():
        return False
    try:
        inner = path.resolve().relative_to(dataset.resolve())
    except ValueError:
        return False
    return not any(part.startswith((".", "_")) for part in inner.parts)


def with_partition(frame: pd.DataFrame, partition: dict, columns: list[str] | None = None) -> pd.DataFrame:
    """A file's rows with the columns its folder names give (all, or those among ``columns``,
    in that order)."""
    added = {key: pd.Series([value] * len(frame), index=frame.index, dtype=_partition_dtype(value))
             for key, value in partition.items() if columns is None or key in columns}
    frame = frame.assign(**added)
    return frame if columns is None else frame[list(columns)]


def _partition_dtype(value) -> str:
    return "float64" if value is None else ("int64" if isinstance(value, int) else "str")


def _hive_partitions(root: Path, files: list[Path]) -> dict[Path, dict]:
    """Each file's partition values from its folder names under ``root`` (``key=value``), or
    ``{}`` when no folder is so named. Every file must sit under the same keys."""
    if root.is_file():
        return {}
    from urllib.parse import unquote

    raw = {}
    for file in files:
        folders = file.relative_to(root).parts[:-1]
        raw[file] = [tuple(unquote(text) for text in part.split("=", 1)) for part in folders if "=" in part]
    keys = {file: tuple(key for key, _ in pairs) for file, pairs in raw.items()}
    if not any(keys.values()):
        return {}
    first = files[0]
    for file in files:
        if keys[file] != keys[first]:
            raise DataError(
                f"{str(file)!r} sits under the partition folders {list(keys[file])}, {str(first)!r} under "
                f"{list(keys[first])}: a partitioned folder (key=value folder names) gives every file the same keys"
            )
    values: dict[str, list] = {key: [] for key in keys[first]}
    for pairs in raw.values():
        for key, value in pairs:
            values[key].append(value)

    def typed(key: str, value: str):
        if value == "__HIVE_DEFAULT_PARTITION__":
            return None
        return int(value) if whole[key] else value

    # Whole numbers as their digits write them: "02139" (a zip code) stays text, as do "--5" and
    # "²", which isdigit() took for digits.
    whole = {key: all(v == "__HIVE_DEFAULT_PARTITION__" or (re.fullmatch(r"-?(0|[1-9][0-9]{0,17})", v) is not None) for v in found)
             for key, found in values.items()}
    return {file: {key: typed(key, value) for key, value in pairs} for file, pairs in raw.items()}


def _parquet_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(
        p for p in path.rglob("*")
        if p.is_file() and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    )
    if not files:
        raise DataError(f"folder {str(path)!r} holds no Parquet files")
    others = [p for p in files if not str(p).lower().endswith(PARQUET_SUFFIXES)]
    if others:
        raise DataError(
            f"folder {str(path)!r} holds files that are not Parquet ({', '.join(repr(str(p)) for p in others[:3])}); "
            f"a dataset folder holds only .parquet files (names starting with '.' or '_' are ignored)"
        )
    return files


def _metadata(file: Path) -> pq.FileMetaData:
    size = file.stat().st_size
    with file.open("rb") as handle:
        head = handle.read(4)
        handle.seek(max(0, size - 4))
        tail = handle.read(4)
    if head != b"PAR1":
        raise DataError(f"{str(file)!r} is not a Parquet file: it is {sniff(head)[1] if head else 'empty'}")
    if tail != b"PAR1" or size < 12:
        raise DataError(f"{str(file)!r} is a truncated Parquet file ({size} bytes, its footer is missing): write it again")
    try:
        return pq.read_metadata(file)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{str(file)!r} is a corrupt Parquet file ({one_line(exc)}); write it again") from None


# ------------------------------------------------------------------ hashing positions
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _uniform(positions: np.ndarray, seed: int, stream: int) -> np.ndarray:
    """A number in [0, 1) per row position, fixed by (seed, stream, position): splitmix64."""
    salt = np.uint64((seed * 0x2545F4914F6CDD1D + stream * 0x632BE59BD9B4E019) % 2**64)
    with np.errstate(over="ignore"):
        x = positions.astype(np.uint64) * _GOLDEN + salt
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) * 2.0**-53


_RESERVOIR_STREAM, _VALIDATION_STREAM = 1, 2


# ------------------------------------------------------------------ the scan
@dataclass
class ColumnStats:
    """Exact facts of one column over the whole table.

    Attributes:
        nulls: Missing values.
        low: Least value of a numeric column (``None`` when some chunk was not numeric).
        high: Largest value.
        numeric: Every chunk was of numbers.
        whole: Every number is whole (and below 2**53: an integer column holds it).
        places: The most decimal places a chunk of numbers needs (0: none seen off a whole
            number; ``None``: more than six, not rounded), by inference's rule.
        numbers: Finite numbers seen.
        kept: For 1 to 6 decimal places, how many of those numbers they keep (``None``: some
            chunk was of float32 numbers), for the places most numbers have
            (:meth:`mostly_places`).
        lost: For 1 to 6 decimal places, how many numbers they move that others of their chunk
            equal (levels, not noise: :func:`synthvae.inference.places_kept`).
        first: Earliest value of a column of datetimes (``None``: none seen).
        last: Latest value.
        midnight: Every datetime is at midnight (a resolution of days).
        clock_units: The schema units every datetime's clock time is a whole number of
            (``None``: no datetime seen).
        zone: The time zone whose clock times ``first``, ``last`` and ``midnight`` speak of: that
            of datetimes given with one (``None``: naive datetimes, taken as they are).
        datetimes: Every chunk with values was of datetimes (not text).
        counts: Count of each distinct present value (``None`` past ``_MAX_TRACKED`` values).
    """

    nulls: int = 0
    low: float | None = None
    high: float | None = None
    numeric: bool = True
    whole: bool = True
    places: int | None = 0
    numbers: int = 0
    kept: np.ndarray | None = field(default_factory=lambda: np.zeros(MAX_DECIMALS, dtype=np.int64))
    lost: np.ndarray = field(default_factory=lambda: np.zeros(MAX_DECIMALS, dtype=np.int64))
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    midnight: bool = True
    zone: str | None = None
    whole_units: set | None = None  # durations: the units every one is a whole number of (low, high in ns)
    clock_units: set | None = None  # datetimes: the units every clock time is whole in
    mixed_zones: bool = False  # datetimes in several time zones (parts written in each)
    datetimes: bool = True
    counts: dict | None = field(default_factory=dict)

    def merge(self, other: "ColumnStats") -> None:
        """Add another part of the table's statistics."""
        self.nulls += other.nulls
        self.mixed_zones = self.mixed_zones or other.mixed_zones
        if other.first is not None and self.first is not None and other.zone != self.zone:
            other = _in_zone_of(other, self)
            self.mixed_zones = True
        elif self.first is None:
            self.zone = other.zone
        for name, pick in (("low", min), ("high", max), ("first", min), ("last", max)):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, theirs if mine is None else mine if theirs is None else pick(mine, theirs))
        self.numeric = self.numeric and other.numeric
        self.whole = self.whole and other.whole
        self.places = None if self.places is None or other.places is None else max(self.places, other.places)
        self.numbers += other.numbers
        self.kept = None if self.kept is None or other.kept is None else self.kept + other.kept
        self.lost = self.lost + other.lost
        self.midnight = self.midnight and other.midnight
        if other.whole_units is not None:
            self.whole_units = other.whole_units if self.whole_units is None else self.whole_units & other.whole_units
        if other.clock_units is not None:
            self.clock_units = other.clock_units if self.clock_units is None else self.clock_units & other.clock_units
        self.datetimes = self.datetimes and other.datetimes
        if self.counts is None or other.counts is None:
            self.counts = None
            return
        for value, count in other.counts.items():
            self.counts[value] = self.counts.get(value, 0) + count
        if len(self.counts) > _MAX_TRACKED:
            self.counts = None

    def add(self, series: pd.Series) -> None:
        self.nulls += int(series.isna().sum())
        if holds_durations(series):
            # Durations as nanoseconds, and the units they are whole numbers of: the column's
            # unit may be coarser than the whole table allows (see _duration_changes).
            ticks = pd.to_timedelta(numpy_backed(series)).dropna().to_numpy(dtype="timedelta64[ns]").view("int64")
            units = whole_units(ticks)
            self.whole_units = units if self.whole_units is None else self.whole_units & units
            series = pd.Series(ticks.astype(np.float64))
        if self.numeric and pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            present = series.dropna()
            if len(present):
                low, high = float(present.min()), float(present.max())
                self.low = low if self.low is None else min(self.low, low)
                self.high = high if self.high is None else max(self.high, high)
                if pd.api.types.is_float_dtype(present.dtype):
                    self._add_fractions(present.to_numpy(np.float64))
                else:  # whole numbers: every number of places keeps them
                    self.numbers += len(present)
                    if self.kept is not None:
                        self.kept += len(present)
        elif series.notna().any():
            self.numeric = False
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            self.add_datetimes(series)
        elif series.notna().any():
            self.datetimes = False
        if self.counts is not None:
            try:
                counts = series.value_counts(dropna=True)
            except TypeError:  # unhashable cells: conform refuses them later, by name
                self.counts = None
                return
            for value, count in counts.items():
                self.counts[value] = self.counts.get(value, 0) + int(count)
            if len(self.counts) > _MAX_TRACKED:
                self.counts = None

    def _add_fractions(self, values: np.ndarray) -> None:
        """Whole numbers or not, and the decimal places, of a chunk of floats (infinities are
        refused later, by conform)."""
        values = values[np.isfinite(values)]
        self.numbers += values.size
        if not values.size or whole_numbers(values):
            if self.kept is not None:
                self.kept += values.size
            return
        self.whole = False
        if self.places is not None:
            places = decimal_places(values)
            self.places = None if places is None else max(self.places, places)
        if self.kept is not None:
            counts = places_kept(values)
            if counts is None:
                self.kept = None
            else:
                self.kept = self.kept + counts[0]
                self.lost = self.lost + counts[1]  # levels shared within a chunk

    def mostly_places(self) -> tuple[int, float] | None:
        """Where no number of decimal places keeps every number (``places`` is ``None``): the
        fewest that keep 90% of them, and the share of numbers that carry more (inference's
        rule for a table in memory); ``None`` when there are none."""
        if self.kept is None:
            return None
        d = mostly_places(self.kept, self.lost, self.numbers)
        return None if d is None else (d, float(1.0 - self.kept[d - 1] / self.numbers))

    def add_datetimes(self, values: pd.Series) -> None:
        """The earliest and latest of datetimes, and whether all are at midnight: clock times
        of their own zone (see ``zone``), which inference makes the column's ``timezone``."""
        given = dtype_zone(values.dtype)
        # A zone no schema can name is read as UTC, as conform reads it.
        zone = None if given is None else zone_name(given) or "UTC"
        values = wall_times(values, time_zone(zone))
        present = values.dropna()
        if not len(present):
            return
        if self.first is not None and zone != self.zone:
            part = ColumnStats(first=present.min(), last=present.max(), zone=zone)
            part = _in_zone_of(part, self)
            self.first, self.last, self.midnight = min(self.first, part.first), max(self.last, part.last), False
            self.mixed_zones = True
            return
        self.zone = zone
        first, last = present.min(), present.max()
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)
        self.midnight = self.midnight and bool((present == present.dt.normalize()).all())
        ticks = present.to_numpy(dtype="datetime64[ns]").view("int64")
        units = whole_units(ticks)
        self.clock_units = units if self.clock_units is None else self.clock_units & units


@dataclass
class Scan:
    """What one streamed pass learns (see the module's text).

    Attributes:
        rows: Rows of the table.
        reservoir: The uniform sample (raw rows, in table order).
        validation: The held-out rows (raw rows, in table order).
        validation_share: Share of rows held out.
        train_rows: Training rows of each unit (its rows less its held-out ones), by the unit's
            number in the source's ``units``: the same in every process, whatever folder each
            converted a CSV into.
        stats: Exact statistics per column.
        seed: The seed of the row hashes (which rows are held out).
    """

    rows: int
    reservoir: pd.DataFrame
    validation: pd.DataFrame
    validation_share: float
    train_rows: dict[int, int]
    stats: dict[str, ColumnStats]
    seed: int


def validation_share(rows: int, fraction: float) -> float:
    """The share of rows held out: ``fraction``, none below 50 rows, at most 20,000 rows."""
    if rows < 50 or fraction <= 0:
        return 0.0
    return min(fraction, _MAX_VALIDATION / rows)


def scan(
    source: TableSource,
    seed: int,
    reservoir_rows: int = RESERVOIR_ROWS,
    validation_fraction: float = 0.1,
    parallel=None,
) -> Scan:
    """Read every row once: the reservoir, the validation rows and exact column statistics.

    With ``parallel`` (a :class:`synthvae.distributed.Parallel`), each process reads every
    ``world``-th unit and the parts are gathered and merged: every process ends with the scan
    one process would make (the reservoir is the rows with the smallest keys either way).
    """
    share = validation_share(source.rows, validation_fraction)
    numbers = range(len(source.units)) if parallel is None else range(parallel.rank, len(source.units), parallel.world)
    part = _scan_units(source, numbers, seed, reservoir_rows, share)
    if parallel is not None:
        part = _merge(parallel.gather(part), source.columns, reservoir_rows)
    kept, keys, held, stats, train_rows = part
    reservoir = kept.sort_index()
    validation = held.sort_index() if held is not None else reservoir.iloc[:0]
    logger.info(
        "scanned %d rows: a reservoir of %d, %d held out for validation", source.rows, len(reservoir), len(validation)
    )
    return Scan(source.rows, reservoir, validation, share, train_rows, stats, int(seed))


def _scan_units(source: TableSource, numbers: range, seed: int, reservoir_rows: int, share: float) -> tuple:
    """One process's part of the scan, of the units ``numbers``: (reservoir rows, their keys,
    held-out rows, statistics, training rows per unit number)."""
    stats = {name: ColumnStats() for name in source.columns}
    kept: list[pd.DataFrame] = []
    kept_keys: list[np.ndarray] = []
    kept_rows, threshold = 0, 1.0
    held: list[pd.DataFrame] = []
    train_rows: dict[int, int] = {}
    for number in numbers:
        unit = source.units[number]
        held_here = 0
        for positions, frame in source.read(unit):
            frame.columns = source.columns
            for name in source.columns:
                stats[name].add(frame[name])
            frame.index = pd.Index(positions.astype(np.int64))
            val = _uniform(positions, seed, _VALIDATION_STREAM) < share
            if val.any():
                held.append(frame[val])
                held_here += int(val.sum())
            keys = _uniform(positions, seed, _RESERVOIR_STREAM)
            take = keys < threshold
            if take.any():
                kept.append(frame[take])
                kept_keys.append(keys[take])
                kept_rows += int(take.sum())
            if kept_rows > 2 * reservoir_rows:
                kept, kept_keys, threshold = _shrink(kept, kept_keys, reservoir_rows)
                kept_rows = sum(len(k) for k in kept_keys)
        train_rows[number] = unit.rows - held_here
    kept, kept_keys, _ = _shrink(kept, kept_keys, reservoir_rows)
    frame = kept[0] if kept else None
    return frame, (kept_keys[0] if kept_keys else np.zeros(0)), (_joined(held) if held else None), stats, train_rows


def _merge(parts: list[tuple], columns: list[str], reservoir_rows: int) -> tuple:
    """The scan of the whole table from the processes' parts."""
    frames = [p[0] for p in parts if p[0] is not None]
    kept, keys, _ = _shrink(frames, [p[1] for p in parts if p[0] is not None], reservoir_rows)
    helds = [p[2] for p in parts if p[2] is not None]
    stats = {name: ColumnStats() for name in columns}
    train_rows: dict[int, int] = {}
    for part in parts:
        for name in columns:
            stats[name].merge(part[3][name])
        train_rows.update(part[4])
    return kept[0], keys[0], (_joined(helds) if helds else None), stats, train_rows


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one under another. A column that is empty in some (a CSV chunk types it as
    floats) and true/false in others joins as objects: ``pd.concat`` made the booleans 1.0 and
    0.0, and the streamed schema a 0-1 integer column."""
    if len(frames) < 2:
        return pd.concat(frames)
    mixed = [name for name in frames[0].columns
             if len({str(f[name].dtype) for f in frames}) > 1
             and any(pd.api.types.is_bool_dtype(f[name].dtype) for f in frames)]
    if mixed:
        frames = [f.astype(dict.fromkeys(mixed, object)) for f in frames]
    return pd.concat(frames)


def _shrink(kept: list[pd.DataFrame], keys: list[np.ndarray], size: int):
    """Keep the ``size`` rows with the smallest keys; the new admission threshold."""
    if not kept:
        return kept, keys, 1.0
    frame, key = _joined(kept), np.concatenate(keys)
    if len(key) <= size:
        return [frame], [key], 1.0
    order = np.argpartition(key, size)[:size]
    threshold = float(np.partition(key, size)[size])
    return [frame.iloc[order]], [key[order]], threshold


# ------------------------------------------------------------------ schema from the scan
def widen_schema(schema: Schema, found: Scan, source: TableSource) -> Schema:
    """An inferred schema (from the reservoir) corrected by the scan's exact statistics, to what
    inference from the whole table would give: nulls anywhere make a column nullable; numeric
    bounds are the table's, an integer column with a fraction anywhere becomes a float one, and
    decimal places are the most any value needs; datetime bounds are the table's, at the
    coarsest resolution every value is whole in; categories are every value the table holds.

    Raises:
        DataError: A categorical column holds more distinct values than can be counted, or a
            datetime that does not parse (as encoding it would).
    """
    label = repr(source.label)
    columns = []
    for column in schema:
        stats = found.stats.get(column.name)
        if stats is None:
            columns.append(column)
            continue
        changes: dict = {}
        if stats.nulls and not column.nullable:
            changes["nullable"] = True
        if column.kind is ColumnKind.NUMERIC and column.step is not None:
            # A step the sample's values share is no step of the whole table's (the scan keeps no
            # common divisor): a value of another part between them failed the fit.
            changes["step"] = None
            if column.description:
                changes["description"] = re.sub(r", multiples of \d+", "", column.description, count=1)
        if column.kind is ColumnKind.NUMERIC and not stats.numeric:
            # Numbers as text in some part: read them as conform will; values that are no
            # numbers (outside the sample) failed the fit in some epoch, or bounds came from
            # the sample alone.
            facts, others = _numbers_in_text(column, stats, source)
            if others:
                columns.append(_placeholders_column(column, stats, source, others, label, len(found.reservoir)))
                continue
            if facts.nulls and not column.nullable:
                changes["nullable"] = True
            stats = facts
        if column.kind is ColumnKind.NUMERIC and column.duration and stats.whole_units is not None:
            changes.update(_duration_changes(column, stats))
        elif column.kind is ColumnKind.NUMERIC and stats.low is not None:
            changes.update(_numeric_changes(column, stats))
        if column.kind is ColumnKind.DATETIME:
            if stats.mixed_zones and column.timezone is None:
                # Parts written in Paris and in UTC: no zone, read as UTC, which was silent.
                logger.warning("%s, column %r: its parts hold datetimes in several time zones, read as UTC (clock times "
                               "there); to learn the clock times of one zone, give the column a timezone in a schema",
                               label, column.name)
            changes.update(_datetime_changes(column, _datetime_facts(column, stats, source)))
            if "unit" in changes and column.description:  # "resolution h" beside unit s
                changes["description"] = re.sub(r"\bresolution \w+", f"resolution {changes['unit']}", column.description, count=1)
        if column.kind is ColumnKind.CATEGORICAL:
            changes["categories"] = _all_categories(column.categories, exact_counts(column, stats, source, label))
            if column.description and len(changes["categories"]) != len(column.categories):
                # "text with 3 distinct values" beside 4 categories: the count is the table's.
                changes["description"] = re.sub(r"\b\d[\d,]* distinct values\b", f"{len(changes['categories'])} distinct values",
                                                column.description, count=1)
        columns.append(replace(column, **changes) if changes else column)
    return replace(schema, columns=tuple(columns))


def _numbers_in_text(column, stats: ColumnStats, source: TableSource) -> tuple[ColumnStats, list]:
    """The facts of a numeric column some of whose chunks were not numbers (text in a part),
    from its values read as conform reads them (``$1,234.50`` too), and the values that are no
    numbers. From the counted values, or a second pass over the column past ``_MAX_TRACKED``."""
    facts, others = ColumnStats(), []

    def take(values: pd.Series) -> None:
        if column.duration:  # "NaT" beside durations is a null, as conform reads it: counted here
            values = without_nat_text(values)
            facts.nulls += int(values.isna().sum())
        present = values.dropna()
        if column.duration:  # durations as text ("0 days 00:18:56"), as numbers of the unit
            numbers = column_numbers(present, column)
        else:
            numbers = pd.to_numeric(present, errors="coerce")
            if numbers.isna().any():
                numbers = with_written_numbers(present, numbers)
        missed = numbers.isna().to_numpy()
        if missed.any() and len(others) < 20:
            others.extend(v for v in pd.unique(present[missed].astype(str)) if v not in others)
        facts.add(numbers[~missed].astype("float64"))

    for values in _values_of(column, stats, source):
        take(values.astype(object))
    return facts, others


def _values_of(column, stats: ColumnStats, source: TableSource) -> Iterator[pd.Series]:
    """A column's values over the whole table: the distinct values the scan counted, or (past
    ``_MAX_TRACKED`` of them) its chunks, from one more read of that column alone."""
    if stats.counts is not None:
        yield pd.Series(list(stats.counts), dtype=object)
        return
    for unit in source.units:
        for _, frame in source.read(unit, columns=[column.name]):
            yield frame.iloc[:, 0]


def exact_counts(column, stats: ColumnStats, source: TableSource, label: str, fix: str = "") -> dict:
    """Each distinct present value of a column and its count over the whole table: the scan's,
    or past ``_MAX_TRACKED`` values one more read of the column alone (a table in memory learns
    such a column, its rare categories pooled; the stream refused it), kept in ``stats`` for the
    codecs' slots; refused past ``_MAX_COUNTED``."""
    if stats.counts is not None:
        return stats.counts
    counts: dict = {}
    for values in _values_of(column, stats, source):
        for value, count in values.value_counts(dropna=True).items():
            counts[value] = counts.get(value, 0) + int(count)
        if len(counts) > _MAX_COUNTED:
            raise DataError(f"{label}: column {column.name!r} holds more than {_MAX_COUNTED:,} distinct values, too many "
                            f"to learn as categories; {fix or 'give a schema that makes it an id or personal column, or drop it'}")
    stats.counts = counts
    return counts


def _placeholders_column(column, stats: ColumnStats, source: TableSource, others: list, label: str, sample_rows: int) -> Column:
    """A column of numbers in the sample whose other rows hold values that are no numbers: its
    categories, with a note and a warning, as inference makes such a column of a table in
    memory."""
    fix = (f"numbers in the {sample_rows:,}-row sample, but rows outside it hold {preview(others)}, which are no numbers: "
           f"if they stand for missing values, leave them empty (nulls), or give a schema")
    counts = exact_counts(column, stats, source, label, fix)
    logger.warning("%s: column %r is categorical, not numeric: %s", label, column.name, fix)
    categories = _all_categories((), counts)
    return Column(column.name, ColumnKind.CATEGORICAL, nullable=column.nullable or stats.nulls > 0, categories=categories,
                  description=f"inferred: text with {len(categories)} distinct values; {fix}")


def _numeric_changes(column, stats: ColumnStats) -> dict:
    """Type, decimals and bounds of a numeric column from the whole table's numbers."""
    changes: dict = {}
    integer = column.type is NumericType.INTEGER
    places, noisy = stats.places, ""
    if places is None and (mostly := stats.mostly_places()) is not None:
        # As inference in memory: amounts in cents beside a few with float noise keep 2 places.
        places, share = mostly
        noisy = (f" ({share:.1%} of values carry more: sampled values are rounded to {places}; set decimals to null to "
                 f"keep every digit)")
    if integer and not stats.whole:  # the sample held whole numbers only
        integer = False
        written = f" with {places} decimal places{noisy}" if places is not None else ""
        changes.update(type=NumericType.FLOAT, decimals=places,
                       description=f"inferred: numbers{written} (whole numbers in the sample only)")
    elif not integer and column.decimals is not None and (places is None or places > column.decimals):
        changes["decimals"] = places
    if noisy and not integer:
        logger.info("column %r: %s of values have at most %d decimal places; it is inferred with %d (set decimals to "
                    "null in the schema to keep every digit)", column.name, f"{1 - share:.1%}", places, places)
    low, high = (int(stats.low), int(stats.high)) if integer else on_grid(stats.low, stats.high, changes.get("decimals", column.decimals))
    if column.min is not None:
        changes["min"] = min(low, column.min)
    if column.max is not None:
        changes["max"] = max(high, column.max)
    return changes


def _duration_changes(column, stats: ColumnStats) -> dict:
    """Unit, type, decimals and bounds of a duration column from the whole table's durations:
    the coarsest of days, hours, minutes and seconds that counts every one whole (as inference
    picks it), else seconds with the decimals every one needs (none past microseconds)."""
    if stats.low is None:
        return {}
    whole = stats.whole_units or set()
    unit = next((u for u in ("D", "h", "m", "s") if u in whole), "s")
    per = unit_length(unit).value
    low, high = stats.low / per, stats.high / per
    if unit in whole:
        return {"duration": unit, "type": NumericType.INTEGER, "decimals": None, "min": int(round(low)), "max": int(round(high))}
    places = 3 if "ms" in whole else 6 if "us" in whole else None
    low, high = on_grid(low, high, places)
    return {"duration": unit, "type": NumericType.FLOAT, "decimals": places, "min": low, "max": high}


def _datetime_facts(column, stats: ColumnStats, source: TableSource) -> ColumnStats:
    """Earliest, latest and midnight-only of a datetime column over the whole table: from the
    scan where every chunk held datetimes; else its text parsed as encoding parses it, from the
    distinct values the scan counted, or (past ``_MAX_TRACKED`` of them) from one more read of
    that column alone."""
    if stats.datetimes:
        return stats
    facts = ColumnStats()
    alone = Schema(columns=(replace(column, min=None, max=None),))

    def parse(values: pd.Series) -> pd.Series:
        frame = pd.DataFrame({column.name: values.reset_index(drop=True)})
        return conform(frame, alone, repr(source.label), check_bounds=False, check_nulls=False)[column.name]

    for values in _values_of(column, stats, source):
        facts.add_datetimes(parse(values))
    return facts


def _in_zone_of(stats: ColumnStats, other: ColumnStats | str | None) -> ColumnStats:
    """``stats``' earliest and latest datetimes as clock times of ``other``'s zone (a
    :class:`ColumnStats`, or a ``timezone``; naive ones taken as such clock times), not all at
    midnight unless the zones are the same."""
    zone = other.zone if isinstance(other, ColumnStats) else other
    if stats.first is None or stats.zone is None or stats.zone == (zone or "UTC"):
        return stats
    moved = [pd.Timestamp(v).tz_localize(time_zone(stats.zone), ambiguous=True, nonexistent="shift_forward")
             .tz_convert(time_zone(zone) or "UTC").tz_localize(None) for v in (stats.first, stats.last)]
    return replace(stats, first=moved[0], last=moved[1], midnight=False, zone=zone)


def _datetime_changes(column, facts: ColumnStats) -> dict:
    """Bounds (the min on the unit's grid, as inference sets it) and resolution of a datetime
    column from the whole table's datetimes."""
    changes: dict = {}
    if facts.first is None:
        return changes
    moved = facts.zone != (column.timezone or facts.zone)  # clock times of another zone: units unknown
    facts = _in_zone_of(facts, column.timezone)
    unit = column.unit
    if facts.clock_units is not None and not facts.mixed_zones and not moved:
        # The coarsest unit every clock time of the table is whole in, as inference picks it
        # from the whole table (a streamed fit learned flights' hourly times in seconds, and
        # 90% of sampled times fell off the hour: a user review).
        coarsest = next((u for u in DATETIME_UNITS if u in facts.clock_units), "ns")
        if coarsest != unit:
            unit = changes["unit"] = coarsest
    elif unit in ("h", "m") or (unit == "D" and not facts.midnight):
        # Not known whether every value is on the hour or minute the sample's values are on:
        # seconds, as before those units were inferred.
        unit = changes["unit"] = "s"
    first = facts.first
    try:
        # By the unit's length: pandas reads the schema's "m" (minutes) as month ends.
        first = first.floor(unit_length(unit)) if unit else first
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        pass  # within a unit of the earliest datetime pandas holds: kept as it is
    if column.min is not None and first < pd.Timestamp(column.min):
        changes["min"] = first
    if column.max is not None and facts.last > pd.Timestamp(column.max):
        changes["max"] = facts.last
    return changes


def _all_categories(seen: tuple, counts: dict) -> tuple:
    """The reservoir's categories, with the table's other values added in inference's order
    (whole-number codes sorted as numbers, text sorted as text)."""
    if seen and all(isinstance(c, int) and not isinstance(c, bool) for c in seen):
        values = {_exact_int(v) for v in counts if _is_whole(v)}
        if len(values) == len(counts):
            return tuple(sorted(values | set(seen)))
    # Seen as the table's values are (4.0 as "4"): str() added "4" beside the sample's 4.0.
    named = {category_text(c) for c in seen}
    texts = {category_text(v) for v in counts} | named
    if all(isinstance(c, str) for c in seen) and seen == tuple(sorted(seen)):
        return tuple(sorted(texts))
    return tuple(seen) + tuple(sorted(texts - named))


def _exact_int(value) -> int:
    """A whole number as an int, exactly: through a float, 2**62 + 7 read as 2**62."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    return int(float(value))


def _is_whole(value) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and number.is_integer()


# ------------------------------------------------------------------ batches
class TableStream:
    """The training rows of a scanned source as shuffled, encoded batches.

    Each epoch puts the units in a seeded random order. Alone, a process reads them all; among
    ``world`` data-parallel processes, that order is cut into ``world`` runs of the same number
    of training rows (to one row; a cut may fall inside a unit, whose rows are then split), and
    rank ``r`` reads the ``r``-th. So every process makes the same number of steps and together
    they train on the rows one process would, whatever the units' sizes.

    Args:
        source: The input.
        found: Its scan.
        encode: Turns a raw chunk (pandas, as read) into the encoded float32 matrix; called with
            the chunk and how error messages name its rows (:meth:`TableSource.where`).
        seed: Seeds the order of units and the shuffles of each epoch.
        buffer_rows: Rows mixed by the shuffle buffer before they are cut into batches.
        open_units: Units read at once (their chunks interleave in the buffer).
        rank: This process's rank among ``world`` data-parallel processes; each reads only its
            share of the rows.
        world: Processes in all.

    Raises:
        DataError: Fewer training rows than processes (a process would have none).
    """

    def __init__(
        self,
        source: TableSource,
        found: Scan,
        encode: Callable[[pd.DataFrame, str], np.ndarray],
        seed: int,
        buffer_rows: int = 65_536,
        open_units: int = 8,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        if not 0 <= rank < world:
            raise ParameterError(f"rank must be in [0, {world}), got {rank}")
        self.source = source
        self.found = found
        self.encode = encode
        self.seed = int(seed)
        self.buffer_rows = int(buffer_rows)
        self.open_units = int(open_units)
        self.rank, self.world = int(rank), int(world)
        self.rows = sum(found.train_rows.values())
        self.prefetch = 8  # batches read ahead
        if 0 < self.rows < self.world:  # none at all: the validation share took them (training refuses it)
            raise DataError(
                f"{source.label!r} has {self.rows} training rows ({found.rows} rows, {len(found.validation)} held out "
                f"for validation), fewer than the {self.world} data-parallel processes: each needs rows to train "
                f"on; fit it in fewer processes"
            )
        # Positions of the held-out rows, to find where a rank's share of training rows ends.
        self._held = np.sort(found.validation.index.to_numpy(np.int64)) if len(found.validation) else np.zeros(0, np.int64)

    def identity(self) -> dict:
        """What fixes the batches, for checkpoints: the input's files, the seed, the buffer."""
        return {**self.source.identity(), "seed": self.seed, "buffer_rows": self.buffer_rows,
                "open_units": self.open_units, "rank": self.rank, "world": self.world}

    def _shares(self, epoch: int) -> list[list[tuple[int, int, int]]]:
        """Each rank's rows for ``epoch``: pieces ``(unit number, first row, stop)`` of the units in
        that epoch's random order; rank ``r`` takes training rows ``r * T // world`` to
        ``(r + 1) * T // world`` (``T`` of them in all) of that order."""
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.source.units))
        if self.world == 1:
            return [[(int(n), 0, self.source.units[n].rows) for n in order]]
        shares: list[list[tuple[int, int, int]]] = [[] for _ in range(self.world)]
        rank, done = 0, 0  # training rows before the unit
        for n in order:
            unit, train = self.source.units[n], self.found.train_rows[n]
            first = 0
            while rank < self.world and done + train >= (rank + 1) * self.rows // self.world:
                stop = self._row_after(unit, (rank + 1) * self.rows // self.world - done)
                if stop > first:
                    shares[rank].append((int(n), first, stop))
                rank, first = rank + 1, stop
            if rank < self.world and first < unit.rows:
                shares[rank].append((int(n), first, unit.rows))
            done += train
        return shares

    def _row_after(self, unit: Unit, train: int) -> int:
        """The first row of ``unit`` (from its start) with ``train`` of its training rows before it."""
        held = self._held[np.searchsorted(self._held, unit.start) : np.searchsorted(self._held, unit.start + unit.rows)]
        held = held - unit.start
        stop = train
        while stop - np.searchsorted(held, stop) < train:  # rows held out before stop do not count
            stop = train + int(np.searchsorted(held, stop))
        return stop

    def steps(self, epoch: int, batch_size: int) -> int:
        """Batches each rank yields in ``epoch`` (the same on every rank: data-parallel steps must
        match): the whole batches of ``batch_size * world`` rows the training rows make, at least
        one. Each rank holds at least ``steps * batch_size`` training rows."""
        return max(1, self.rows // (batch_size * self.world))

    def batches(self, epoch: int, batch_size: int) -> Iterator[np.ndarray]:
        """This rank's shuffled batches of ``epoch`` (1-based), exactly :meth:`steps` of them,
        read and encoded by a background thread while the caller trains on the previous ones
        (the order is the same as without it)."""
        return _prefetched(self._batches(epoch, batch_size), depth=self.prefetch)

    def _batches(self, epoch: int, batch_size: int) -> Iterator[np.ndarray]:
        steps = self.steps(epoch, batch_size)
        mine = self._shares(epoch)[self.rank]
        rng = np.random.default_rng([self.seed, epoch, self.rank, 1])
        for done, batch in enumerate(self._shuffled(mine, rng, batch_size), start=1):
            yield batch
            if done == steps:
                return

    def _shuffled(self, pieces: list[tuple[int, int, int]], rng: np.random.Generator, batch_size: int) -> Iterator[np.ndarray]:
        """Endless batches of the pieces' training rows through the shuffle buffer; after the
        first pass the pieces come round again in a new order (a table with fewer rows than one
        step takes)."""
        share, parts, held, lap = self.found.validation_share, [], 0, 0
        while True:
            order = pieces if lap == 0 else [pieces[i] for i in rng.permutation(len(pieces))]
            lap += 1
            chunks = self._interleaved(order)
            while True:
                chunk = next(chunks, None)
                if chunk is not None:
                    positions, frame = chunk
                    keep = _uniform(positions, self.found.seed, _VALIDATION_STREAM) >= share
                    if keep.any():
                        parts.append(self.encode(frame if keep.all() else frame[keep], self.source.where(int(positions[0]))))
                        held += int(keep.sum())
                    if held < self.buffer_rows:
                        continue
                if not parts:
                    break
                merged = np.concatenate(parts)
                merged = merged[rng.permutation(len(merged))]
                whole = (len(merged) // batch_size) * batch_size
                for start in range(0, whole, batch_size):
                    yield merged[start : start + batch_size]
                parts, held = ([merged[whole:]] if whole < len(merged) else []), len(merged) - whole
                if chunk is None:
                    break

    def _interleaved(self, pieces: list[tuple[int, int, int]]) -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
        """Chunks of ``pieces``, ``open_units`` of them read in turn."""
        pending = list(pieces)
        open_readers: list[Iterator] = []
        chunk_rows = max(1024, self.buffer_rows // max(1, self.open_units))
        while pending or open_readers:
            while pending and len(open_readers) < self.open_units:
                number, first, stop = pending.pop(0)
                open_readers.append(self.source.read(self.source.units[number], chunk_rows=chunk_rows, rows=(first, stop)))
            for reader in list(open_readers):
                chunk = next(reader, None)
                if chunk is None:
                    open_readers.remove(reader)
                    continue
                positions, frame = chunk
                frame.columns = self.source.columns
                yield positions, frame


_DONE = object()


def _prefetched(items: Iterator, depth: int) -> Iterator:
    """``items`` produced by a background thread, at most ``depth`` ahead; its errors are
    raised here, and it stops when the consumer does."""
    if depth <= 0:
        yield from items
        return
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        slots.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put((_DONE, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            slots.put((_DONE, exc))

    worker = threading.Thread(target=produce, name="synthvae-batches", daemon=True)
    worker.start()
    try:
        while True:
            item, error = slots.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # let a blocked producer see the stop
            try:
                slots.get_nowait()
            except queue.Empty:
                pass
            worker.join(timeout=0.05)
