"""Reading and writing tables (CSV, Parquet) and writing any file atomically.

Every writer goes through a temporary file in the target's folder and an ``os.replace``, so a
reader sees either the previous complete file or the new complete file, never a partial one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from synthvae.errors import DataError

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")


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
    raise DataError(
        f"cannot tell the format of {str(path)!r} from its name: use a .csv (.csv.gz) or "
        f".parquet file"
    )


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    Types are left as the file gives them; :func:`synthvae.validation.conform` turns them into
    the schema's types.

    Raises:
        DataError: The file is missing, unreadable, corrupt or empty of columns.
    """
    path = Path(path)
    fmt = table_format(path)
    if not path.exists():
        raise DataError(f"no such file: {str(path)!r}")
    try:
        if fmt == "parquet":
            frame = pq.read_table(path).to_pandas()
        else:
            sep = "\t" if str(path).lower().endswith(".tsv") else ","
            frame = pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        raise DataError(f"{str(path)!r} is empty: it has no header row") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{str(path)!r} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
            f"re-save it as UTF-8"
        ) from None
    except (pd.errors.ParserError, pa.ArrowException, OSError, ValueError, zipfile.BadZipFile) as exc:
        kind = "Parquet" if fmt == "parquet" else "CSV"
        raise DataError(f"cannot read {str(path)!r} as {kind}: {exc}") from None
    return frame


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a DataFrame to CSV or Parquet (by suffix), atomically.

    Datetimes are written as ISO text in CSV and as timestamps in Parquet; pandas nullable and
    categorical dtypes keep their type in Parquet.

    Returns:
        The path written.

    Raises:
        DataError: The suffix is unknown or the folder is not writable.
    """
    path = Path(path)
    fmt = table_format(path)
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            try:
                table = pa.Table.from_pandas(frame, preserve_index=False)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                raise DataError(
                    f"cannot write {str(path)!r} as Parquet: {exc}; a column mixing types (e.g. "
                    f"categories 1, 2 and 'unknown') must be made all text"
                ) from None
            pq.write_table(table, tmp)
        else:
            name = path.name.lower()
            # The temporary name hides the real suffix, so say the compression explicitly.
            compression = next((c for suffix, c in _COMPRESSION.items() if name.endswith(suffix)), None)
            if compression == "zip":
                compression = {"method": "zip", "archive_name": path.name[: -len(".zip")]}
            frame.to_csv(tmp, index=False, sep="\t" if name.endswith(".tsv") else ",", compression=compression)
    return path


_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz"}


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    On any error the temporary file is removed and ``path`` is left as it was.

    Raises:
        DataError: The target folder does not exist or cannot be written.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise DataError(f"cannot write {str(path)!r}: folder {str(folder)!r} does not exist")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise DataError(f"cannot write {str(path)!r}: {exc.strerror}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600; give the file the permissions an ordinary new file would get.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write text to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write bytes to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "read_table",
    "table_format",
    "write_table",
]
