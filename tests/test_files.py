"""Bad files and file faults: each bad input is one clear error, and no write leaves a partial file.

A bad table, schema or model file raises one synthvae error that names the file (and the column
or key) and says how to fix it; through the CLI it is one "Error: ..." line and exit status 1.
A writer killed with SIGKILL leaves the previous complete file, or none; the temporary file it
leaves is removed by the next write. A full disk or an unwritable path is a clear error that
leaves nothing behind and the previous file as it was.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import save as safetensors_save

from synthvae import (ColumnKind, DataError, ModelFileError, ParameterError, Schema, SchemaError, Synthesizer, infer_schema,
                      load_schema, read_table, write_table)
from synthvae.io import read_csv_chunks
from synthvae.cli import cli
from synthvae.modelfile import load_model_file, save_model_file
from synthvae.validation import conform
from synthvae.streaming import TableSource

from conftest import ROOT

TINY = dict(epochs=1, hidden_dims=(8,), latent_dim=2)
# Child processes import this checkout, whatever the editable install points at.
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}


def _frame(rows: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": rng.normal(size=rows).round(3),
        "n": np.arange(rows),
        "c": rng.choice(["lo", "mid", "high"], rows),
    })


def _temps(path: Path) -> list[Path]:
    """Temporary files of ``path`` (atomic_path names them ``.{name}.{pid}.{random}.tmp``)."""
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def _one_error_line(output: str, *fragments: str) -> str:
    """The CLI's output is exactly one line "Error: ..." holding each fragment, no traceback."""
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), output
    assert "Traceback" not in output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (result.output, result.exception)
    return result.output


# ------------------------------------------------------------------ bad tables
@pytest.fixture(scope="module")
def parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(_frame(), preserve_index=False), buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def csv_bytes() -> bytes:
    return _frame().to_csv(index=False).encode()


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, mtime=0)


def _xz(data: bytes) -> bytes:
    import lzma

    return lzma.compress(data)


def _zip(data: bytes) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("t.csv", data)
    return buffer.getvalue()


def _flip_middle(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64]) + data[middle + 64 :]


# name, file contents (from the good Parquet and CSV bytes), what the message must say
BAD_TABLES = [
    ("empty.parquet", lambda p, c: b"", r"is empty \(0 bytes\), not a Parquet file"),
    ("magic_only.parquet", lambda p, c: p[:4], r"truncated Parquet file \(4 bytes, its footer is missing\).*write it again"),
    ("header_part.parquet", lambda p, c: p[:100], r"truncated Parquet file \(100 bytes"),
    ("half.parquet", lambda p, c: p[: len(p) // 2], r"truncated Parquet file"),
    ("no_footer.parquet", lambda p, c: p[:-8], r"truncated Parquet file"),
    ("last_byte_cut.parquet", lambda p, c: p[:-1], r"truncated Parquet file"),
    ("text.parquet", lambda p, c: c, r"is not a Parquet file: it looks like text \(a CSV file\? then name it \.csv\)"),
    ("gzip.parquet", lambda p, c: _gzip(c), r"is not a Parquet file: it is gzip-compressed"),
    ("parquet.csv", lambda p, c: p, r"is a Parquet file, not CSV: name it parquet\.parquet"),
    ("gzipped.csv", lambda p, c: _gzip(c), r"is gzip-compressed, not plain CSV text: name it gzipped\.csv\.gz"),
    ("plain.csv.gz", lambda p, c: c, r"is not gzip-compressed as its name says: it is text; name it plain\.csv"),
    ("parquet.csv.gz", lambda p, c: p, r"is not gzip-compressed as its name says: it is a Parquet file; name it parquet\.parquet"),
    ("cut.csv.gz", lambda p, c: _gzip(c)[:-30], r"cannot read .* as CSV \(EOFError: .*\); the file may be truncated or corrupt"),
    ("flipped.csv.gz", lambda p, c: _flip_middle(_gzip(c)), r"cannot read .* as CSV .*; the file may be truncated or corrupt"),
    ("cut.csv.xz", lambda p, c: _xz(c)[:-30], r"cannot read .* as CSV .*; the file may be truncated or corrupt"),
    ("flipped.csv.zip", lambda p, c: _flip_middle(_zip(c)), r"cannot read .* as CSV .*; the file may be truncated or corrupt"),
    ("empty.csv", lambda p, c: b"", r"is empty \(0 bytes\): a CSV file needs at least a header row"),
    ("blank_lines.csv", lambda p, c: b"\n\n\n", r"is empty: it has no header row"),
    ("binary.csv", lambda p, c: bytes(range(256)) * 8, r"is binary data \(it holds NUL bytes\), not CSV text"),
    ("random.csv", lambda p, c: np.random.default_rng(0).bytes(5000), r"is binary data"),
    ("nul_inside.csv", lambda p, c: b"a,b\n1,\x002\n", r"is binary data"),
    ("utf16.csv", lambda p, c: "a,b\n1,café\n".encode("utf-16"), r'is UTF-16 text, not UTF-8: re-save it as UTF-8 \("CSV UTF-8"\)'),
    ("utf32.csv", lambda p, c: "a,b\n1,café\n".encode("utf-32"), r"is UTF-32 text, not UTF-8"),
    ("latin1.csv", lambda p, c: "a,b\n1,x\n2,café\n".encode("latin-1"),
     r"is not UTF-8 text: line 3 holds the bytes b'\\xe9', which are not UTF-8; it may be Latin-1 .*re-save it as UTF-8"),
    ("latin1_far.csv", lambda p, c: c + "3,naïve,x\n".encode("latin-1"), r"is not UTF-8 text: line 2002 holds the bytes b'\\xef'"),
    ("too_many.csv", lambda p, c: b"a,b\n1,2\n3,4,5\n6,7\n",
     r": line 3 has 3 fields but the header has 2; fix that row \(a value holding the separator must be in double quotes\)"),
    ("too_few.csv", lambda p, c: b"a,b,c\n1,2,3\n4,5\n6,7,8\n",
     r": a row has 2 fields but the header has 3: '4,5'; the file may be cut off, or the row lacks values"),
    ("cut_mid_row.csv", lambda p, c: c[: len(c) - 7], r": a row has [12] fields? but the header has 3: .*the file may be cut off"),
    ("header_short.csv", lambda p, c: b"a,b\n1,2,3\n4,5,6\n", r": a row has 3 fields but the header has 2: '1,2,3'"),
    ("trailing_commas.csv", lambda p, c: b"a,b\n1,2,\n3,4,\n", r": a row has 3 fields but the header has 2: '1,2,'"),
    ("short.tsv", lambda p, c: b"a\tb\n1\t2\n3\n", r": a row has 1 field but the header has 2: '3'"),
    ("short.csv.gz", lambda p, c: _gzip(b"a,b\n1,2\n3\n4,5\n"), r": a row has 1 field but the header has 2: '3'"),
    ("repeated_names.csv", lambda p, c: b"a,b,a\n1,2,3\n", r": the header repeats the column names \['a'\]; rename them"),
    ("repeated_names.parquet", lambda p, c: _parquet_of(pa.table([[1], [2]], names=["a", "a"])),
     r": the column names \['a'\] repeat; rename them so each is unique"),
    ("empty_name.csv", lambda p, c: b"a,,c\n1,2,3\n", r": column #2 has an empty name; give it a name$"),
    ("trailing_comma_header.csv", lambda p, c: b"a,b,\n1,2,\n", r": column #3 has an empty name; give it a name \(a header ending"),
    ("pandas_index.csv", lambda p, c: b",a,b\n0,1,2\n1,3,4\n", r": column #1 has an empty name; .*write with index=False"),
    ("empty_name_streamed.csv", lambda p, c: b"a,,c\n" + b"1,2,3\n" * 3, r": column #2 has an empty name"),
]


def _parquet_of(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("name, content, message", BAD_TABLES, ids=[case[0] for case in BAD_TABLES])
def test_bad_table_is_one_clear_error(tmp_path, parquet_bytes, csv_bytes, name, content, message):
    path = tmp_path / name
    path.write_bytes(content(parquet_bytes, csv_bytes))
    with pytest.raises(DataError, match=message) as info:
        read_table(path)
    assert repr(str(path)) in str(info.value)
    if name.endswith(".csv"):  # the streamed reader refuses what the whole read refuses, alike
        with pytest.raises(DataError) as streamed:
            list(read_csv_chunks(path, 2))
        assert str(streamed.value) == str(info.value)
    _one_error_line(_cli("infer-schema", str(path)), str(info.value))


def test_tables_that_look_odd_but_are_fine(tmp_path, csv_bytes):
    cases = {
        "bom.csv": "\ufeffa,b\n1,café\n".encode("utf-8"),  # Excel's "CSV UTF-8"
        "blank_and_space_lines.csv": b"a,b\n1,2\n\n   \n3,4\n",  # pandas skips them
        "quoted.csv": b'a,b\n"x, with comma",1\n"two\nlines",2\n"q""uote",3\n',
        "crlf.csv": b"a,b\r\n1,2\r\n3,4\r\n",
        "dotted_names.csv": b"a,a.1\n1,2\n",  # a name that looks renamed is not a repeat
        "unnamed.csv": b"a,Unnamed: 1\n1,2\n",  # nor a name that looks like pandas' for an empty one
        "PAR1.csv": b"PAR1,BZh\n1,2\n",  # names that begin like Parquet or bzip2 signatures
        "gz.csv.gz": _gzip(csv_bytes),
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    assert list(read_table(tmp_path / "bom.csv").columns) == ["a", "b"]
    assert read_table(tmp_path / "blank_and_space_lines.csv")["a"].tolist() == [1, 3]
    assert read_table(tmp_path / "quoted.csv")["a"].tolist() == ["x, with comma", "two\nlines", 'q"uote']
    assert read_table(tmp_path / "crlf.csv").shape == (2, 2)
    assert list(read_table(tmp_path / "dotted_names.csv").columns) == ["a", "a.1"]
    assert list(read_table(tmp_path / "unnamed.csv").columns) == ["a", "Unnamed: 1"]
    assert list(read_table(tmp_path / "PAR1.csv").columns) == ["PAR1", "BZh"]
    assert read_table(tmp_path / "gz.csv.gz").shape == (2000, 3)


def test_corrupt_parquet_pages_are_detected_by_their_checksums(tmp_path):
    """Our Parquet files carry page checksums: a flipped byte anywhere in the data pages is an
    error, never silently different values (a flip in a page header's statistics is harmless)."""
    frame = _frame()
    good = tmp_path / "good.parquet"
    write_table(frame, good)
    data = good.read_bytes()
    footer_start = len(data) - 8 - struct.unpack("<I", data[-8:-4])[0]
    bad = tmp_path / "bad.parquet"
    refused = 0
    for position in range(4, footer_start, max(1, footer_start // 150)):
        bad.write_bytes(data[:position] + bytes([data[position] ^ 0x5A]) + data[position + 1 :])
        try:
            back = read_table(bad)
        except DataError as exc:
            assert re.search(r"bad\.parquet' is a corrupt Parquet file \(.*\); write it again from its source", str(exc))
            refused += 1
        else:
            pd.testing.assert_frame_equal(back, read_table(good))
    assert refused > 100


def test_any_corruption_of_a_foreign_parquet_file_is_a_data_error(tmp_path, parquet_bytes):
    """A file without checksums (pyarrow's default) may decode a flipped value silently; whatever
    pyarrow or pandas raise instead (OSError, ArrowInvalid, KeyError, UnicodeDecodeError, ...)
    comes out as a DataError."""
    bad = tmp_path / "foreign.parquet"
    kinds = set()
    for position in range(4, len(parquet_bytes) - 4, max(1, len(parquet_bytes) // 400)):
        bad.write_bytes(parquet_bytes[:position] + bytes([parquet_bytes[position] ^ 0x5A]) + parquet_bytes[position + 1 :])
        try:
            read_table(bad)
        except DataError as exc:
            kinds.add(re.search(r"corrupt Parquet file \((\w+)", str(exc)).group(1))
    assert kinds >= {"OSError"}


def test_folders_and_missing_files(tmp_path):
    for name in ("folder.csv", "folder.parquet"):
        (tmp_path / name).mkdir()
        with pytest.raises(DataError, match=r"folder\.(csv|parquet)' is an empty folder: give a CSV or Parquet file, or a folder of part files"):
            read_table(tmp_path / name)
        result = CliRunner().invoke(cli, ["infer-schema", str(tmp_path / name)])
        assert result.exit_code == 1 and "is an empty folder" in result.output
    with pytest.raises(DataError, match="no such file"):
        read_table(tmp_path / "none.csv")
    with pytest.raises(DataError, match=r"cannot tell the format of .*notes\.txt"):
        read_table(tmp_path / "notes.txt")


def test_a_folders_parts_that_differ_are_named_by_what_differs(tmp_path, caplog):
    # A review: the refusal listed both parts' columns cut after five names, alike to the eye;
    # and a column written as numbers in some parts and as text in another was read without a word.
    rows = pd.DataFrame({"a": np.arange(6), "b": [1.5, 2.5] * 3, "c": list("xyzxyz"), "d": np.arange(6) * 2})
    mismatched, typed = tmp_path / "mismatched", tmp_path / "typed"
    for folder in (mismatched, typed):
        folder.mkdir()
        rows.to_parquet(folder / "part-0.parquet", index=False)
    rows.drop(columns="c").assign(e=1).to_parquet(mismatched / "part-1.parquet", index=False)
    with pytest.raises(DataError, match=r"part 'part-1.parquet', beside 'part-0.parquet', lacks \['c'\]; adds \['e'\]"):
        read_table(mismatched)
    rows.assign(a=rows["a"].astype(str)).to_parquet(typed / "part-1.parquet", index=False)
    with caplog.at_level("WARNING"):
        read_table(typed)
    assert "column 'a' holds number in 'part-0.parquet' but text in 'part-1.parquet'" in caplog.text
    assert "column 'b'" not in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        TableSource(typed)  # a streamed fit's reading of the same folder
    assert "column 'a' holds number in 'part-0.parquet' but text in 'part-1.parquet'" in caplog.text


def test_header_only_csv_reads_as_zero_rows_and_fit_refuses_it(tmp_path):
    path = tmp_path / "header_only.csv"
    path.write_text("x,c\n")
    assert read_table(path).shape == (0, 2)
    with pytest.raises(DataError, match=r"header_only\.csv' has no rows: cannot learn from an empty table"):
        Synthesizer(**TINY).fit(path)
    output = _cli("fit", str(path), "-o", str(tmp_path / "m.synthvae"), "--epochs", "1", "-q")
    _one_error_line(output, "header_only.csv", "has no rows")
    assert not (tmp_path / "m.synthvae").exists()


# ------------------------------------------------------------------ schemas
COLUMN = '{"name": "x", "kind": "numeric"}'
BAD_SCHEMAS = [
    ("not_json", b"columns: [x]", r"is not valid JSON: Expecting value at line 1, column 1"),
    ("empty", b"", r"is not valid JSON: Expecting value at line 1"),
    ("cut_off", b'{"columns": [{"name": "x",', r"is not valid JSON: .* at line 1"),
    ("nan", b'{"columns": [{"name": "x", "kind": "numeric", "min": NaN}]}', r": NaN is not a JSON number; write a number, or leave the key out"),
    ("infinity", b'{"columns": [{"name": "x", "kind": "numeric", "max": Infinity}]}', r": Infinity is not a JSON number"),
    ("huge", b'{"columns": [{"name": "x", "kind": "numeric", "max": 1e400}]}', r": the number 1e400 is too large"),
    ("key_twice", b'{"columns": [{"name": "x", "kind": "numeric", "kind": "boolean"}]}',
     r": the key 'kind' appears twice in one object \(in the object of column 'x'\); keep one"),
    ("deep", b"[" * 100_000 + b"]" * 100_000, r"is not a schema: its JSON is nested too deeply"),
    ("latin1", '{"columns": [{"name": "café", "kind": "numeric"}]}'.encode("latin-1"),
     r"is not UTF-8 text \(line 1 holds the bytes b'\\xe9'\): re-save it as UTF-8"),
    ("utf16", '{"columns": []}'.encode("utf-16"), r"is UTF-16 text: re-save it as UTF-8"),
    ("a_list", b"[1, 2]", r"is not a valid synthvae schema: document: \[1, 2\] is not of type 'object'"),
    ("columns_a_dict", b'{"columns": {"x": {"kind": "numeric"}}}', r"key 'columns': .* is not of type 'array'"),
    ("column_a_string", b'{"columns": ["x"]}', r"column #0: 'x' is not of type 'object'"),
    ("no_columns", b'{"name": "t"}', r"'columns' is a required property"),
    ("nameless_column", b'{"columns": [{"kind": "numeric"}]}', r"'name' is a required property"),
    ("unknown_kind", b'{"columns": [{"name": "x", "kind": "text"}]}', r"column 'x', key 'kind': 'text' is not one of"),
    ("unknown_key", b'{"columns": [{"name": "x", "kind": "numeric", "maximum": 3}]}',
     r"column 'x': Additional properties are not allowed \('maximum' was unexpected\) \(remove the key"),
    ("unknown_top_key", ('{"colums": [], "columns": [' + COLUMN + "]}").encode(), r"document: Additional properties .*'colums' was unexpected"),
    ("future_version", ('{"format_version": 2, "columns": [' + COLUMN + "]}").encode(), r"format_version is 2, and this synthvae reads version 1: the schema was written by a newer synthvae; upgrade synthvae"),
    ("min_above_max", b'{"columns": [{"name": "x", "kind": "numeric", "min": 5, "max": 1}]}', r"column 'x': min 5 is greater than max 1; swap them"),
    ("dates_reversed", b'{"columns": [{"name": "t", "kind": "datetime", "min": "2021-01-01", "max": "2020-01-01"}]}',
     r"column 't': min 2021-01-01T00:00:00 is greater than max 2020-01-01T00:00:00; swap them"),
    ("bad_date", b'{"columns": [{"name": "t", "kind": "datetime", "min": "last year"}]}', r"column 't': min 'last year' is not an ISO 8601 timestamp"),
    ("empty_date", b'{"columns": [{"name": "t", "kind": "datetime", "max": ""}]}',
     r"column 't': max '' is not an ISO 8601 timestamp; write an ISO 8601 date"),
    ("date_now", b'{"columns": [{"name": "t", "kind": "datetime", "min": "now"}]}', r"column 't': min 'now' is not an ISO 8601 timestamp"),
    ("date_today", b'{"columns": [{"name": "t", "kind": "datetime", "max": " today"}]}', r"column 't': max ' today' is not an ISO 8601"),
    ("bound_too_big_for_float", ('{"columns": [{"name": "x", "kind": "numeric", "min": -1' + "0" * 400 + "}]}").encode(),
     r"column 'x': min is a whole number of 401 digits, too large for a 64-bit float .*; give a smaller bound"),
    ("bound_of_5000_digits", ('{"columns": [{"name": "x", "kind": "numeric", "max": 1' + "0" * 5000 + "}]}").encode(),
     r": a number of 5001 digits is too large; write a smaller one, or leave the key out"),
    ("same_name", ("{\"columns\": [" + COLUMN + ", " + COLUMN + "]}").encode(), r"duplicate column names \['x'\]: names must be unique"),
    ("same_category", b'{"columns": [{"name": "c", "kind": "categorical", "categories": ["a", "b", "a"]}]}', r"column 'c', key 'categories': .* has non-unique elements"),
    ("category_as_text_too", b'{"columns": [{"name": "c", "kind": "categorical", "categories": [1, "1"]}]}',
     r"column 'c': categories must be unique, but \['1'\] repeat earlier ones .* which a CSV file cannot tell apart"),
    ("true_and_one", b'{"columns": [{"name": "c", "kind": "categorical", "categories": [true, 1]}]}',
     r"column 'c': categories must be unique, but \[1\] repeat earlier ones"),
    ("no_categories", b'{"columns": [{"name": "c", "kind": "categorical"}]}', r"column 'c': 'categories' is a required property"),
    ("null_category", b'{"columns": [{"name": "c", "kind": "categorical", "categories": [null]}]}', r"column 'c', key 'categories.0': None is not of type"),
]


@pytest.mark.parametrize("name, content, message", BAD_SCHEMAS, ids=[case[0] for case in BAD_SCHEMAS])
def test_bad_schema_file_is_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / f"{name}.json"
    path.write_bytes(content)
    with pytest.raises(SchemaError, match=r"schema file " + re.escape(repr(str(path))) + ".*" + message):
        load_schema(path)
    data = tmp_path / "data.csv"
    data.write_text("x\n1\n")
    _one_error_line(_cli("schema", "check", str(path), str(data)), f"{name}.json")


def test_schema_files_that_are_fine_or_missing(tmp_path):
    bom = tmp_path / "bom.json"
    bom.write_bytes(('{"columns": [' + COLUMN + "]}").encode("utf-8-sig"))
    assert load_schema(bom).names == ["x"]
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(SchemaError, match=r"cannot read schema file '.*folder\.json': Is a directory"):
        load_schema(tmp_path / "folder.json")
    with pytest.raises(SchemaError, match=r"cannot read schema file '.*none\.json': No such file"):
        load_schema(tmp_path / "none.json")
    # The same checks hold for schemas built in code or read from a model file.
    with pytest.raises(SchemaError, match=r"column 'x': max is inf; give a finite number"):
        Schema.from_dict({"columns": [{"name": "x", "kind": "numeric", "max": float("inf")}]})


SCHEMA = {"columns": [
    {"name": "x", "kind": "numeric", "min": 0, "max": 10},
    {"name": "c", "kind": "categorical", "categories": ["lo", "hi"]},
    {"name": "t", "kind": "datetime", "min": "2020-01-01", "max": "2020-12-31"},
]}
MISMATCHES = [
    ("missing", "x,c\n1,lo\n", r"columns \['t'\] are in the schema but not in the data \(the data has \['x', 'c'\]\)"),
    ("extra", "x,c,t,extra\n1,lo,2020-02-01,5\n", r"columns \['extra'\] are not in the schema; add them to the schema or drop them"),
    ("above_max", "x,c,t\n1,lo,2020-02-01\n12.5,hi,2020-03-01\n", r"column 'x': 1 values above the schema's max 10, e.g. \[12\.5\]"),
    ("below_min", "x,c,t\n-3,lo,2020-02-01\n", r"column 'x': 1 values below the schema's min 0, e.g. \[-3(\.0)?\]"),
    ("unknown_category", "x,c,t\n1,lo,2020-02-01\n2,medium,2020-03-01\n",
     r"column 'c': values \['medium'\] are not among the schema's categories \['lo', 'hi'\]; add them"),
    ("late_date", "x,c,t\n1,lo,2021-06-01\n", r"column 't': 1 values above the schema's max .*2020-12-31.*2021-06-01"),
    ("text_in_numbers", "x,c,t\nabc,lo,2020-02-01\n", r"column 'x': expected numbers, found \['abc'\]"),
]


@pytest.mark.parametrize("name, text, message", MISMATCHES, ids=[case[0] for case in MISMATCHES])
def test_data_not_matching_its_schema(tmp_path, name, text, message):
    schema_path = tmp_path / "schema.json"
    schema_path.write_text(json.dumps(SCHEMA))
    data = tmp_path / f"{name}.csv"
    data.write_text(text)
    pattern = re.escape(repr(str(data))) + ".*" + message
    with pytest.raises(DataError, match=pattern):
        conform(read_table(data), load_schema(schema_path), repr(str(data)))
    with pytest.raises(DataError, match=pattern):
        Synthesizer(schema=schema_path, **TINY).fit(data)
    # schema check lists its problems under one Error line, one problem a line.
    lines = _cli("schema", "check", str(schema_path), str(data)).strip().splitlines()
    assert lines[0] == f"Error: {data}: 1 problem:" and len(lines) == 2, lines
    assert re.search(message, lines[1]) and lines[1].startswith("  - "), lines


# ------------------------------------------------------------------ model files
@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    rng = np.random.default_rng(1)
    frame = _frame(300).assign(t=pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 300, 300), unit="D"))
    path = tmp_path_factory.mktemp("model") / "tiny.synthvae"
    Synthesizer(**TINY, seed=0).fit(frame).save(path)
    return path


def _drop(path: list):
    def mutate(payload):
        target = payload
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


def _set(path: list, value):
    def mutate(payload):
        target = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


PAYLOAD_MUTATIONS = [
    ("no params", _drop(["params"])),
    ("no schema", _drop(["schema"])),
    ("no preprocessor", _drop(["preprocessor"])),
    ("no vae_config", _drop(["vae_config"])),
    ("no fit_info", _drop(["fit_info"])),
    ("params a list", _set(["params"], [1, 2])),
    ("unknown parameter", _set(["params", "speed"], 3)),
    ("seed a text", _set(["params", "seed"], "x")),
    ("vae_config a text", _set(["vae_config"], "x")),
    ("hidden_dims empty", _set(["vae_config", "hidden_dims"], [])),
    ("width off by one", _set(["vae_config", "data_dim"], 999)),
    ("index out of range", _set(["vae_config", "continuous_index"], [0, 99])),
    ("codec state a number", _set(["preprocessor", "codecs", 0, "transform"], 1.5)),
    ("no quantiles", _set(["preprocessor", "codecs", 0, "transform", "quantiles"], [])),
    ("codec missing", _drop(["preprocessor", "codecs", 0])),
    ("schema invalid", _set(["schema", "columns"], [])),
    ("category dropped", _drop(["schema", "columns", 2, "categories", 0])),
    ("conditional_config a list", _set(["conditional_config"], [])),
    # Crafted files (a user review): each loaded, and sampled outside the bounds or failed later.
    ("codec range reversed", lambda p: p["preprocessor"]["codecs"][0].update(low=100.0, high=-100.0)),
    ("quantiles reversed", lambda p: p["preprocessor"]["codecs"][0]["transform"].update(
        quantiles=p["preprocessor"]["codecs"][0]["transform"]["quantiles"][::-1])),
    ("latent_dim a text", _set(["params", "latent_dim"], "abc")),
    ("history a text", _set(["history"], "abc")),
    ("privacy a text", _set(["privacy"], "lots")),
    ("schema_given a text", _set(["schema_given"], "no")),
    ("fit_info rows a text", _set(["fit_info", "rows"], "lots")),
]


@pytest.mark.parametrize("name, mutate", PAYLOAD_MUTATIONS, ids=[case[0] for case in PAYLOAD_MUTATIONS])
def test_model_payload_with_wrong_or_missing_keys(tmp_path, model_file, name, mutate):
    """A payload that is valid JSON but not what load expects (saved with a valid checksum)
    is a ModelFileError at load, never a KeyError, AttributeError or a failure when sampling."""
    tensors, payload = load_model_file(model_file)
    mutate(payload)
    path = tmp_path / "edited.synthvae"
    save_model_file(path, tensors, payload)
    with pytest.raises(ModelFileError, match=r"model file '.*edited\.synthvae' is corrupt"):
        Synthesizer.load(path)


TENSOR_MUTATIONS = [
    ("decoder weight of the wrong shape", lambda t: t.update({"decoder.1.weight": torch.zeros(3, 3)})),
    ("prior means of the wrong shape", lambda t: t.update({"prior.means": torch.zeros(t["prior.means"].shape[0], 7)})),
    ("prior weights of integers", lambda t: t.update({"prior.weights": torch.ones(t["prior.weights"].shape, dtype=torch.int64)})),
    ("NaN weights", lambda t: t.update({"encoder.0.weight": torch.full_like(t["encoder.0.weight"], float("nan"))})),
    ("infinite prior", lambda t: t.update({"prior.scale_tril": torch.full_like(t["prior.scale_tril"], float("inf"))})),
    ("weight missing", lambda t: t.pop("to_mu.bias")),
    ("conditional weight missing", lambda t: t.pop(next(k for k in t if k.startswith("conditional.")))),
    ("extra weight", lambda t: t.update({"stranger": torch.zeros(2)})),
]


@pytest.mark.parametrize("name, mutate", TENSOR_MUTATIONS, ids=[case[0] for case in TENSOR_MUTATIONS])
def test_model_tensors_of_the_wrong_shape_or_value(tmp_path, model_file, name, mutate):
    tensors, payload = load_model_file(model_file)
    mutate(tensors)
    path = tmp_path / "edited.synthvae"
    save_model_file(path, tensors, payload)
    with pytest.raises(ModelFileError, match=r"model file '.*edited\.synthvae' is corrupt"):
        Synthesizer.load(path)


def test_damaged_model_bytes_fail_the_checksum(tmp_path, model_file):
    data = model_file.read_bytes()
    data_start = 8 + struct.unpack("<Q", data[:8])[0]
    path = tmp_path / "damaged.synthvae"
    for position in np.linspace(data_start, len(data) - 1, 12).astype(int):
        path.write_bytes(data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :])
        with pytest.raises(ModelFileError, match=r"damaged\.synthvae' is corrupt: its contents do not match the checksum"):
            Synthesizer.load(path)
    _one_error_line(_cli("sample", str(path), "-n", "5", "-o", str(tmp_path / "out.csv")), "damaged.synthvae", "checksum")
    assert not (tmp_path / "out.csv").exists()


def test_parameters_whose_combination_a_newer_rule_refuses_still_load(tmp_path, model_file):
    # Each parameter is checked at load, not their combinations: a private fit's file of before
    # 2026-11 holds epochs beside privacy, which fit now refuses, and it was called corrupt.
    tensors, payload = load_model_file(model_file)
    payload["params"].update(privacy={"epsilon": 3.0}, epochs=5)
    save_model_file(tmp_path / "older.synthvae", tensors, payload)
    assert Synthesizer.load(tmp_path / "older.synthvae").epochs == 5


def test_a_damaged_tensor_index_fails_the_checksum(tmp_path, model_file):
    # One byte of the header, a tensor's dtype F32 -> I32, loaded as other numbers; so did two
    # tensors' offsets swapped (a user review): the checksum covers the index too.
    data = model_file.read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + length])
    first = next(name for name in header if name != "__metadata__")

    def written(edited: dict) -> bytes:  # the header as saved (sorted keys), padded to its length
        text = json.dumps(edited, sort_keys=True, separators=(",", ":")).encode()
        assert len(text) <= length
        return data[:8] + text + b" " * (length - len(text)) + data[8 + length :]

    assert written(header) == data
    flipped = written({**header, first: {**header[first], "dtype": "I32"}})
    assert flipped != data
    path = tmp_path / "index.synthvae"
    path.write_bytes(flipped)
    with pytest.raises(ModelFileError, match=r"index\.synthvae' is corrupt: its contents do not match the checksum"):
        Synthesizer.load(path)
    shapes = {}
    for name, entry in header.items():
        if name != "__metadata__":
            shapes.setdefault((entry["dtype"], tuple(entry["shape"])), []).append(name)
    a, b = next(names for names in shapes.values() if len(names) > 1)[:2]
    header[a]["data_offsets"], header[b]["data_offsets"] = header[b]["data_offsets"], header[a]["data_offsets"]
    path.write_bytes(written(header))
    with pytest.raises(ModelFileError, match="do not match the checksum"):
        Synthesizer.load(path)


def test_a_write_never_replaces_a_device_or_pipe_nor_takes_a_folder_name_or_a_tables(tmp_path, model_file):
    # save() and writes renamed a plain file onto /dev/null and onto a named pipe; "newdir/"
    # became a file named newdir; save("data.csv") replaced the table by a model (a user review).
    model = Synthesizer.load(model_file)
    for pipe, write in ((tmp_path / "pipe.synthvae", model.save),
                        (tmp_path / "pipe.csv", lambda p: write_table(model.sample(3, seed=0), p))):
        os.mkfifo(pipe)
        with pytest.raises(DataError, match="it is no regular file"):
            write(pipe)
        assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    with pytest.raises(DataError, match="it names a folder"):
        model.save(f"{tmp_path}/newdir/")
    assert not (tmp_path / "newdir").exists()
    (tmp_path / "data.csv").write_text("a\n1\n")
    with pytest.raises(ParameterError, match="named like a table"):
        model.save(tmp_path / "data.csv")
    assert (tmp_path / "data.csv").read_text() == "a\n1\n"


def test_model_file_without_checksum_still_loads(tmp_path, model_file):
    """Files saved before the checksum existed have none: they load as before."""
    tensors, payload = load_model_file(model_file)
    metadata = {"format": "synthvae-model", "format_version": "1", "payload": json.dumps(payload)}
    path = tmp_path / "old.synthvae"
    path.write_bytes(safetensors_save(tensors, metadata=metadata))
    assert Synthesizer.load(path).sample(3, seed=0).shape == (3, 4)


def test_model_file_that_is_a_folder_or_a_table(tmp_path, model_file):
    (tmp_path / "folder.synthvae").mkdir()
    with pytest.raises(ModelFileError, match=r"folder\.synthvae' is a folder, not a model file"):
        Synthesizer.load(tmp_path / "folder.synthvae")
    table = tmp_path / "table.csv"
    _frame().to_csv(table, index=False)
    with pytest.raises(ModelFileError, match=r"table\.csv' is not a synthvae model file, or it is truncated \(it looks "
                                             r"like a table: commands take the model first"):
        Synthesizer.load(table)  # impute DATA MODEL got no hint about the order
    cut = tmp_path / "cut.synthvae"
    cut.write_bytes(model_file.read_bytes()[:-100])
    for path, fragment in [(table, "not a synthvae model file"), (cut, "truncated")]:
        _one_error_line(_cli("sample", str(path), "-n", "5", "-o", str(tmp_path / "out.csv")), fragment)
    assert not (tmp_path / "out.csv").exists()


# ------------------------------------------------------------------ writers killed with SIGKILL
_WRITER = """
import sys
import numpy as np, pandas as pd
from synthvae.io import write_table
rows = int(sys.argv[2])
rng = np.random.default_rng(0)
frame = pd.DataFrame({"x": rng.normal(size=rows), "n": np.arange(rows),
                      "c": pd.Categorical.from_codes(rng.integers(0, 3, rows), ["lo", "mid", "high"])})
print("ready", flush=True)
write_table(frame, sys.argv[1])
"""
BIG = 1_000_000


def _kill_at(proc: subprocess.Popen, target: Path, point: str, timeout: float = 60.0) -> int:
    """Kill ``proc`` with SIGKILL at ``point``; return the size of its temporary file then (-1: none)."""
    deadline = time.monotonic() + timeout
    if point.startswith("after "):
        time.sleep(float(point.split()[1].rstrip("s")))
    else:
        last = -1
        while time.monotonic() < deadline and proc.poll() is None:
            temps = _temps(target)
            size = temps[0].stat().st_size if temps else -1
            if (point == "temp created" and temps) or (point == "temp growing" and 0 < last < size):
                break
            last = size
            time.sleep(0.002)
    temps = _temps(target)
    size = temps[0].stat().st_size if temps else -1
    proc.send_signal(signal.SIGKILL)  # no-op if it already ended
    proc.wait(timeout=30)
    return size


def _check_after_kill(target: Path, old: bytes | None, rows: int) -> str:
    """The target is the previous complete file, or absent when there was none, or the new
    complete file (the writer finished first); whichever it is reads back."""
    if not target.exists():
        assert old is None
        return "absent"
    if old is not None and target.read_bytes() == old:
        read_table(target)
        return "old"
    assert len(read_table(target)) == rows
    return "new"


KILL_POINTS = {
    ".parquet": ["after 0.05s", "after 0.2s", "temp created", "temp growing, no old file"],
    ".csv": ["after 0.05s", "after 0.2s", "after 0.5s", "temp growing", "temp growing, no old file"],
}


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_write_table_killed_at_any_point_leaves_the_old_file(tmp_path, suffix):
    """Kill points are counted from the moment the child starts writing (1M rows: a CSV takes
    seconds, a Parquet file a few hundred ms). After each kill the old file is intact (or the
    new one complete, if the writer finished first), and the next write removes the temporary
    file the killed writer left."""
    target = tmp_path / f"out{suffix}"
    outcomes = {}
    for point in KILL_POINTS[suffix]:
        old = None
        if "no old file" in point:
            target.unlink(missing_ok=True)
        else:
            write_table(_frame(50, seed=len(outcomes)), target)
            old = target.read_bytes()
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target), str(BIG)],
                                stdout=subprocess.PIPE, env=ENV, text=True)
        assert proc.stdout.readline().strip() == "ready"
        temp_size = _kill_at(proc, target, point.split(",")[0])
        proc.stdout.close()
        outcomes[point] = _check_after_kill(target, old, BIG)
        left = [p for p in _temps(target) if f".{proc.pid}." in p.name]
        # Kills timed by the clock land wherever a loaded machine has got to (at 0.2 s no
        # temporary file yet, beside another test run); those waiting for a growing temporary
        # file land mid-write, always.
        if suffix == ".csv" and point.startswith("temp growing"):
            assert temp_size > 0 and left and outcomes[point] in ("old", "absent"), "the kill should land mid-write"
        # The next write removes the dead writer's temporary file.
        write_table(_frame(20), target)
        assert _temps(target) == [] and len(read_table(target)) == 20
    assert set(outcomes.values()) <= {"old", "new", "absent"}


def test_cli_sample_killed_mid_write_leaves_the_old_file(tmp_path, model_file):
    target = tmp_path / "synthetic.csv"
    write_table(_frame(30), target)
    old = target.read_bytes()
    rows = 300_000
    proc = subprocess.Popen([sys.executable, "-m", "synthvae", "sample", str(model_file), "-n", str(rows), "-o", str(target)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    temp_size = _kill_at(proc, target, "temp growing", timeout=120)
    assert temp_size > 0 and _check_after_kill(target, old, rows) == "old"
    write_table(_frame(20), target)
    assert _temps(target) == []


def test_only_temps_of_dead_unlocked_writers_are_removed(tmp_path):
    """A temp whose process lives (this one, a child), one of another target, or one whose
    process is gone but whose lock is held (a writer on another machine sharing the folder)
    is kept; only a temp of a finished process that no one holds is removed."""
    target = tmp_path / "t.csv"
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead_pid = int(finished.stdout)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    locker = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
         str(tmp_path / f".t.csv.{dead_pid}.locked.tmp")],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        names = {
            f".t.csv.{dead_pid}.abcd1234.tmp": False,  # removed
            f".t.csv.{dead_pid}.locked.tmp": True,
            f".t.csv.{os.getpid()}.mine0000.tmp": True,
            f".t.csv.{sleeper.pid}.alive000.tmp": True,
            f".t.csv.gz.{dead_pid}.other000.tmp": True,
            f".t.csv.{dead_pid}.tmp": True,  # not a name atomic_path makes
            f"t.csv.{dead_pid}.abcd1234.tmp": True,
        }
        for name in names:
            (tmp_path / name).write_text("partial")
        assert locker.stdout.readline().strip() == "locked"
        write_table(_frame(5), target)
        assert {name: (tmp_path / name).exists() for name in names} == names
    finally:
        for proc in (sleeper, locker):
            proc.kill()
            proc.wait()
        locker.stdout.close()
    write_table(_frame(5), target)  # the lock went with its process
    assert not (tmp_path / f".t.csv.{dead_pid}.locked.tmp").exists()


# ------------------------------------------------------------------ full disk, unwritable paths
_LIMITED = """
import json, resource, sys
import numpy as np, pandas as pd
from synthvae import DataError, Synthesizer, write_table
model = Synthesizer.load(sys.argv[1])
frame = pd.DataFrame({"x": np.random.default_rng(0).normal(size=200_000)})
for target, limit in json.loads(sys.argv[2]):
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))  # EFBIG past it
    try:
        model.save(target) if target.endswith(".synthvae") else write_table(frame, target)
        print("written")
    except DataError as exc:
        print(exc)
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
"""


def test_file_size_limit_is_a_clear_error_leaving_nothing(tmp_path, model_file):
    """write_table (CSV, Parquet, gzip CSV) and Synthesizer.save past RLIMIT_FSIZE, with and
    without a previous file, all in one child process (one torch import)."""
    old = b"previous complete file"
    cases = []
    for name, limit in [("out.csv", 100_000), ("out.parquet", 100_000), ("out.csv.gz", 20_000), ("model.synthvae", 2_000)]:
        (tmp_path / f"old_{name}").write_bytes(old)
        cases += [(str(tmp_path / f"new_{name}"), limit), (str(tmp_path / f"old_{name}"), limit)]
    done = subprocess.run([sys.executable, "-c", _LIMITED, str(model_file), json.dumps(cases)],
                          capture_output=True, text=True, env=ENV, timeout=300)
    assert done.returncode == 0, done.stderr
    for (target, _), message in zip(cases, done.stdout.splitlines(), strict=True):
        target = Path(target)
        kept = "the existing file is unchanged" if target.name.startswith("old_") else "nothing was written"
        assert message == (f"cannot write {str(target)!r}: File too large; the file would be larger than this process "
                           f"may write (ulimit -f) or the file system allows ({kept})")
        assert (target.read_bytes() == old) if kept.startswith("the existing") else not target.exists()
        assert _temps(target) == []


def test_cli_sample_past_a_file_size_limit(tmp_path, model_file):
    target = tmp_path / "synthetic.csv"
    target.write_text("x\n1\n")
    limit = "import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000)); " \
            "sys.argv[0] = 'synthvae'; runpy.run_module('synthvae', run_name='__main__')"
    done = subprocess.run([sys.executable, "-c", limit, "sample", str(model_file), "-n", "20000", "-o", str(target)],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    _one_error_line(done.stderr, "synthetic.csv", "File too large", "the existing file is unchanged")
    assert target.read_text() == "x\n1\n" and _temps(target) == []


@pytest.fixture()
def small_disk(tmp_path):
    """A 1 MB tmpfs: a real full disk (ENOSPC). Skipped where mounting is not allowed."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    folder = tmp_path / "small"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a 1 MB tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_full_disk_is_a_clear_error_leaving_the_old_file(small_disk, model_file):
    frame = _frame(200_000)
    for name in ("out.csv", "out.parquet"):
        target = small_disk / name
        write_table(_frame(10), target)
        old = target.read_bytes()
        with pytest.raises(DataError, match=rf"cannot write '.*{name}': No space left on device; the disk is full: "
                                            rf"free some space or write elsewhere \(the existing file is unchanged\)"):
            write_table(frame, target)
        assert target.read_bytes() == old and _temps(target) == []
    output = _cli("sample", str(model_file), "-n", "100000", "-o", str(small_disk / "new.csv"))
    _one_error_line(output, "new.csv", "the disk is full", "nothing was written")
    assert sorted(p.name for p in small_disk.iterdir()) == ["out.csv", "out.parquet"]


UNWRITABLE = [
    ("parent is a file", lambda tmp: tmp / "file.txt" / "out.csv", r"folder '.*file\.txt' is not a folder"),
    ("missing folder", lambda tmp: tmp / "missing" / "out.csv", r"folder '.*missing' does not exist"),
    ("target is a folder", lambda tmp: tmp / "folder.csv", r"folder\.\w+': it is a folder"),
    ("/proc", lambda tmp: Path("/proc/synthvae-test.csv"), r"cannot create a file in folder '/proc' \(.*\); choose another folder"),
    ("/sys", lambda tmp: Path("/sys/synthvae-test.parquet"), r"cannot create a file in folder '/sys' \(.*\); choose another folder"),
]


@pytest.mark.parametrize("name, make, message", UNWRITABLE, ids=[case[0] for case in UNWRITABLE])
def test_unwritable_output_path(tmp_path, fitted_tiny, name, make, message):
    (tmp_path / "file.txt").write_text("not a folder")
    for name in ("folder.csv", "folder.synthvae", "folder.json"):
        (tmp_path / name).mkdir()
    before = sorted(tmp_path.rglob("*"))
    path = make(tmp_path)
    if name.startswith("/") and not path.parent.is_dir():
        pytest.skip(f"{path.parent} is not here")
    with pytest.raises(DataError, match=message):
        write_table(_frame(5), path)
    with pytest.raises(DataError, match=message):
        fitted_tiny.save(path.with_name(path.name.replace(".csv", ".synthvae").replace(".parquet", ".synthvae")))
    with pytest.raises(DataError, match=message):
        fitted_tiny.schema_.save(path.with_name(path.name.split(".")[0] + ".json"))
    assert sorted(tmp_path.rglob("*")) == before and not path.is_file()


def test_unwritable_output_through_the_cli(tmp_path, model_file):
    (tmp_path / "file.txt").write_text("not a folder")
    for output, fragment in [
        (tmp_path / "file.txt" / "out.csv", "is a file, not a folder"),
        (tmp_path / "missing" / "out.csv", "does not exist"),
        (Path("/proc/synthvae-test.csv"), "cannot create a file in folder '/proc'"),
    ]:
        _one_error_line(_cli("sample", str(model_file), "-n", "5", "-o", str(output)), fragment)


@pytest.fixture(scope="module")
def fitted_tiny(model_file):
    return Synthesizer.load(model_file)


def test_csv_codes_with_leading_zeros_stay_text(tmp_path):
    # pandas reads "02134" as the number 2134; the codes are the data's, zeros included.
    path = tmp_path / "codes.csv"
    path.write_text("zip,id,count,share\n02134,007,3,0.5\n10001,,12,1.0\n01002,012,0,2.0\n")
    frame = read_table(path)
    assert frame["zip"].tolist() == ["02134", "10001", "01002"]
    assert frame["id"].iloc[0] == "007" and pd.isna(frame["id"].iloc[1])
    assert frame["count"].dtype.kind == "i" and frame["share"].dtype.kind == "f"


def test_streamed_csv_chunks_keep_leading_zeros_found_anywhere_in_the_file(tmp_path):
    # The zeros first show in the second chunk: every chunk still reads the column as text.
    path = tmp_path / "codes.csv"
    path.write_text("zip,count\n" + "10001,3\n" * 4 + "02134,5\n,1\n")
    chunks = list(read_csv_chunks(path, 3))
    assert [c["zip"].tolist()[:2] for c in chunks] == [["10001", "10001"], ["10001", "02134"]]
    assert pd.isna(chunks[1]["zip"].iloc[2]) and all(c["count"].dtype.kind == "i" for c in chunks)
    whole = read_table(path)
    assert pd.concat(chunks, ignore_index=True)["zip"].tolist()[:5] == whole["zip"].tolist()[:5]
    # Numbers without leading zeros (and decimals) stay numbers.
    plain = tmp_path / "plain.csv"
    plain.write_text("a,b\n1,0.5\n2,1.0\n")
    assert [c["a"].dtype.kind for c in read_csv_chunks(plain, 1)] == ["i", "i"]


@pytest.mark.parametrize("text, fragment", [("a,b\n1,2\n3\n", "a row has 1 field but the header has 2"),
                                            ("a,a\n1,2\n", r"repeats the column names \['a'\]")])
def test_streamed_csv_chunks_refuse_what_a_whole_read_refuses(tmp_path, text, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=fragment):
        list(read_csv_chunks(path, 1))


def test_a_semicolon_csv_of_decimal_commas_reads_as_a_spreadsheet_wrote_it(tmp_path, penguins):
    # Excel in comma-decimal locales writes ';' between fields and "39,1": it was refused.
    path = tmp_path / "eu.csv"
    weighed = penguins.assign(body_mass_g=penguins["body_mass_g"] * 10.5)  # 39375,0: above a thousand
    weighed.to_csv(path, sep=";", decimal=",", index=False)
    pd.testing.assert_frame_equal(_read_both_ways(path), read_table_of(weighed, tmp_path / "same.csv"), check_dtype=False)
    (tmp_path / "grouped.csv").write_text("amount;city\n1.234,5;Köln\n12,25;Paris\n-3,0;Wien\n7;NA\n")
    assert _values(_read_both_ways(tmp_path / "grouped.csv")) == {"amount": [1234.5, 12.25, -3.0, 7.0],
                                                                  "city": ["Köln", "Paris", "Wien", "NA"]}
    # German dates stay dates (thousands dots read "24.12.2021" as 24122021), zip codes text.
    (tmp_path / "de.csv").write_text("datum;betrag;plz;ok\n24.12.2021;1.234,5;01067;True\n01.02.2022;12,25;80331;False\n")
    german = _read_both_ways(tmp_path / "de.csv")
    assert _values(german) == {"datum": ["24.12.2021", "01.02.2022"], "betrag": [1234.5, 12.25], "plz": ["01067", "80331"],
                               "ok": [True, False]}
    assert infer_schema(german)["datum"].kind.value == "datetime"
    # ';' with decimal points stays so; "1.234" alone is a number with a point.
    (tmp_path / "points.csv").write_text("a;b\n1.5;x\n1.234;y\n")
    assert _values(_read_both_ways(tmp_path / "points.csv"))["a"] == [1.5, 1.234]
    syn = Synthesizer(epochs=2, seed=0).fit(path)
    assert syn.schema_["bill_length_mm"].kind.value == "numeric" and syn.schema_["body_mass_g"].max == weighed["body_mass_g"].max()


def read_table_of(frame: pd.DataFrame, path) -> pd.DataFrame:
    """``frame`` as read back from a plain CSV file."""
    frame.to_csv(path, index=False)
    return read_table(path)


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_repeated_column_names_are_refused_on_write(tmp_path, suffix):
    frame = pd.concat([pd.DataFrame({"a": [1, 2]})] * 2, axis=1)
    path = tmp_path / f"dup.{suffix}"
    with pytest.raises(DataError, match=r"\['a'\] repeat"):
        write_table(frame, path)
    assert not path.exists()


def test_overwriting_keeps_the_permissions_of_the_existing_file(tmp_path):
    path = tmp_path / "private.csv"
    write_table(pd.DataFrame({"ssn": ["123-45-6789"]}), path)
    path.chmod(0o600)
    write_table(pd.DataFrame({"ssn": ["987-65-4321"]}), path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_table(path)["ssn"].tolist() == ["987-65-4321"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_writing_to_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path, suffix):
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / f"real{suffix}"
    write_table(pd.DataFrame({"a": [1]}), target)
    link = tmp_path / f"link{suffix}"
    link.symlink_to(target)
    write_table(pd.DataFrame({"a": [2, 3]}), link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert read_table(target)["a"].tolist() == [2, 3]


def test_a_long_valid_file_name_is_written_and_its_stale_temporary_file_removed(tmp_path):
    path = tmp_path / ("x" * 235 + ".csv")  # 239 characters: valid, but too long for ".NAME.PID.XXXXXXXX.tmp"
    write_table(pd.DataFrame({"a": [1]}), path)
    assert read_table(path)["a"].tolist() == [1]
    # A writer killed mid-write leaves its temporary file; the next write of the same file removes it.
    script = ("import os, sys\nfrom synthvae.io import atomic_path\n"
              "with atomic_path(sys.argv[1]) as tmp:\n    tmp.write_text('half')\n    os._exit(0)\n")
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    left = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(left) == 1 and left[0].name.startswith(".xxx") and len(left[0].name.encode()) <= 255
    write_table(pd.DataFrame({"a": [2]}), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert read_table(path)["a"].tolist() == [2]


def test_a_parquet_file_with_a_pandas_index_reads_it_as_columns(tmp_path):
    keyed = pd.DataFrame({"customer_id": [101, 102, 103], "spend": [1.5, 2.5, 3.5]}).set_index("customer_id")
    keyed.to_parquet(tmp_path / "named.parquet")
    assert read_table(tmp_path / "named.parquet").to_dict("list") == {"customer_id": [101, 102, 103], "spend": [1.5, 2.5, 3.5]}
    two = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "v": [0.5, 0.25]}).set_index(["a", "b"])
    two.to_parquet(tmp_path / "levels.parquet")
    assert list(read_table(tmp_path / "levels.parquet").columns) == ["a", "b", "v"]
    # Row positions alone (a RangeIndex, whatever its start) are no data.
    pd.DataFrame({"v": [1, 2, 3, 4]}).iloc[2:].to_parquet(tmp_path / "sliced.parquet")
    assert list(read_table(tmp_path / "sliced.parquet").columns) == ["v"]
    clash = pd.DataFrame({"v": [1, 2]}, index=pd.Index([5, 6], name="v"))
    clash.to_parquet(tmp_path / "clash.parquet")
    with pytest.raises(DataError, match=r"clash.parquet': the table's index \['v'\] has the name of a column"):
        read_table(tmp_path / "clash.parquet")


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_write_table_keeps_a_named_or_non_default_index_as_a_column(tmp_path, suffix):
    keyed = pd.DataFrame({"customer_id": [101, 102, 103], "spend": [1.5, 2.5, 3.5]}).set_index("customer_id")
    write_table(keyed, tmp_path / f"keyed{suffix}")
    assert read_table(tmp_path / f"keyed{suffix}").to_dict("list") == {"customer_id": [101, 102, 103], "spend": [1.5, 2.5, 3.5]}
    table = pd.DataFrame({"spend": [1.5, 2.5, 0.5, 4.5]})
    write_table(table[table["spend"] > 1], tmp_path / f"filtered{suffix}")  # rows 0, 1, 3 of the original
    assert read_table(tmp_path / f"filtered{suffix}").to_dict("list") == {"index": [0, 1, 3], "spend": [1.5, 2.5, 4.5]}
    write_table(table.iloc[2:], tmp_path / f"sliced{suffix}")  # a RangeIndex from 2: positions only
    assert list(read_table(tmp_path / f"sliced{suffix}").columns) == ["spend"]


def _values(frame: pd.DataFrame) -> dict:
    """A table's values by column, nulls as None (chunks of a file may type a column differently)."""
    return {c: [None if pd.isna(v) else v for v in frame[c].astype(object)] for c in frame.columns}


def _read_both_ways(path: Path, rows: int = 2) -> pd.DataFrame:
    """The table read whole, after checking the streamed reader gives the same values (as text:
    pandas types each chunk by its own values, which conform unifies)."""
    whole = read_table(path)
    as_text = lambda frame: {c: [None if v is None else str(v) for v in values] for c, values in _values(frame).items()}  # noqa: E731
    assert as_text(pd.concat(list(read_csv_chunks(path, rows)), ignore_index=True)) == as_text(whole)
    return whole


def test_big_whole_numbers_with_a_blank_stay_exact(tmp_path):
    ids = [2**62 + 2 * i for i in range(6)]
    path = tmp_path / "accounts.csv"
    path.write_text("account,amount\n" + "".join(f"{'' if i == 3 else v},{i}\n" for i, v in enumerate(ids)))
    table = _read_both_ways(path)
    assert str(table["account"].dtype) == "Int64"
    assert _values(table)["account"] == [*ids[:3], None, *ids[4:]]
    # Our own round trip: Int64 beyond 2**53 with a null, written to CSV and read back.
    frame = pd.DataFrame({"big": pd.array([2**62 + 1, None, 2**53 + 1], dtype="Int64")})
    write_table(frame, tmp_path / "rt.csv")
    assert _values(_read_both_ways(tmp_path / "rt.csv"))["big"] == [2**62 + 1, None, 2**53 + 1]
    # Written as floats ("12.0") with a null: whole numbers all the same, exact.
    (tmp_path / "dotted.csv").write_text("n,m\n9007199254740993.0,1\n,2\n4611686018427387905.0,3\n")
    assert _values(_read_both_ways(tmp_path / "dotted.csv"))["n"] == [9007199254740993, None, 4611686018427387905]
    # Small whole numbers with a blank read as pandas reads them (floats), as before.
    (tmp_path / "small.csv").write_text("n,m\n1,1\n,2\n3,3\n")
    assert read_table(tmp_path / "small.csv")["n"].dtype == np.float64


def test_null_words_are_text_in_text_columns_and_nulls_in_numbers(tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text("region,plan,amount,flag,day\n"
                    "EU,Gold,1.5,True,2021-01-01\n"
                    "NA,None,NA,NA,NA\n"
                    "APAC,Basic,null,False,2021-01-03\n"
                    "null,N/A,2,,\n")
    table = _read_both_ways(path)
    assert table["region"].tolist() == ["EU", "NA", "APAC", "null"]  # NA: North America
    assert table["plan"].tolist() == ["Gold", "None", "Basic", "N/A"]
    assert table["amount"].dtype == np.float64 and _values(table)["amount"] == [1.5, None, None, 2.0]  # an R export
    assert _values(table)["flag"] == [True, None, False, None]
    assert _values(table)["day"] == ["2021-01-01", None, "2021-01-03", None]
    schema = Schema.from_dict({"columns": [{"name": "region", "kind": "categorical", "categories": ["APAC", "EU", "NA", "null"]}]})
    assert conform(table[["region"]], schema, "regions.csv")["region"].tolist() == ["EU", "NA", "APAC", "null"]


def test_null_words_decided_over_the_whole_file_when_streamed(tmp_path):
    # "NA" in the first chunks of numbers, text only at the end: a text column, both ways.
    path = tmp_path / "late_text.csv"
    path.write_text("code\n1\nNA\n3\n4\n5\nX12\n")
    assert _read_both_ways(path, rows=2)["code"].tolist() == ["1", "NA", "3", "4", "5", "X12"]


def test_csv_round_trip_keeps_text_that_looks_like_a_null_word(tmp_path):
    out = pd.DataFrame({"c": pd.Categorical(["NA", "x", "nan", "None", None], categories=["NA", "x", "nan", "None"])})
    write_table(out, tmp_path / "cats.csv")
    assert _values(_read_both_ways(tmp_path / "cats.csv"))["c"] == ["NA", "x", "nan", "None", None]


@pytest.mark.parametrize("name, text, message", [
    ("tabs.csv", "species\tisland\nAdelie\tTorgersen\n", r"it looks separated by tabs, .*; name it \.tsv \(a \.tsv file is read with tabs\)"),
    ("pipes.csv", "species|island\nAdelie|Torgersen\n", r"it looks separated by '\|', .*; write it with commas"),
    ("commas.tsv", "species,island\nAdelie,Torgersen\n", r"it looks separated by ',', .*; name it \.csv"),
])
def test_a_file_read_as_one_column_of_joined_fields_is_refused(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_table(path)
    _one_error_line(_cli("infer-schema", str(path)), "reads as one column named")


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".tsv"])
@pytest.mark.parametrize("column", ["     ;", "a;b", 'x;"y', "a|b", "a\tb", "a,b"])
def test_one_column_named_with_a_separator_round_trips(tmp_path, suffix, column):
    # Found by the fuzz test: a one-column table named "     ;" was written bare, then read as
    # two columns separated by ';' (one of them with no name) and refused.
    path = tmp_path / f"one{suffix}"
    write_table(pd.DataFrame({column: [0.0, 1.5]}), path)
    assert _read_both_ways(path).to_dict("list") == {column: [0.0, 1.5]}


def test_a_tsv_file_is_read_with_tabs(tmp_path):
    (tmp_path / "t.tsv").write_text("species\tisland\nAdelie\tTorgersen\n")
    assert _read_both_ways(tmp_path / "t.tsv").to_dict("list") == {"species": ["Adelie"], "island": ["Torgersen"]}


def test_leading_zeros_kept_beside_a_field_larger_than_a_parser_block(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_bytes(b"a,b\n" + b'"' + (b"x" * 1000 + b"\n") * 3000 + b'",007\n' + b"y,012\n")
    assert _read_both_ways(path)["b"].tolist() == ["007", "012"]


def test_an_empty_parquet_table_keeps_its_categories(tmp_path):
    # No rows, no dictionary page: its categoricals read back with no categories (sample -n 0,
    # an empty shard), and concatenating shards turned them into object columns.
    categories = {"state": ["CA", "NY", "TX"], "grade": ["low", "mid", "high"]}
    frame = pd.DataFrame({
        "state": pd.Categorical([], categories=categories["state"]),
        "grade": pd.Categorical([], categories=categories["grade"], ordered=True),
        "x": pd.Series([], dtype="float64"),
    })
    write_table(frame, tmp_path / "empty.parquet")
    back = read_table(tmp_path / "empty.parquet")
    assert list(back["state"].cat.categories) == categories["state"]
    assert list(back["grade"].cat.categories) == categories["grade"] and back["grade"].cat.ordered
    rows = pd.DataFrame({"state": pd.Categorical(["NY"], categories=categories["state"]),
                         "grade": pd.Categorical(["mid"], categories=categories["grade"], ordered=True), "x": [1.5]})
    write_table(rows, tmp_path / "rows.parquet")
    joined = pd.concat([back, read_table(tmp_path / "rows.parquet")], ignore_index=True)
    assert isinstance(joined["state"].dtype, pd.CategoricalDtype) and isinstance(joined["grade"].dtype, pd.CategoricalDtype)


def test_categories_of_numbers_read_back_from_parquet_exact_and_categorical(tmp_path):
    # Parquet gives dictionaries of numbers back as plain numbers: whole numbers with nulls
    # became floats, so that keys near 2**60 merged (38 distinct keys read back as one), and
    # the category type and order were lost.
    keys = [2**60 + k for k in range(0, 80, 2)]
    frame = pd.DataFrame({
        "key": pd.Categorical([keys[i % 40] if i % 7 else None for i in range(200)], categories=keys),
        "area": pd.Categorical([408, 415, 510, 415] * 50, categories=[408, 415, 510], ordered=True),
        "rating": pd.Categorical([1.5, None, 4.0, 2.5] * 50, categories=[1.5, 2.5, 4.0]),
        "flag": pd.Categorical([True, False, None, True] * 50, categories=[False, True]),
        "big": pd.Categorical([2**64 - 1, 5, None, 5] * 50, categories=[5, 2**64 - 1]),
        "state": pd.Categorical(["CA", "NY", None, "TX"] * 50, categories=["CA", "NY", "TX", "WA"]),
    })
    write_table(frame, tmp_path / "rows.parquet")
    back = read_table(tmp_path / "rows.parquet")
    for label in frame.columns:
        assert back[label].dtype == frame[label].dtype, label
        assert back[label].astype(object).equals(frame[label].astype(object)), label
    assert back["key"].nunique() == 40 and back["area"].cat.ordered
    # A streamed fit reads them so too (it learned the keys as numbers, merged as floats).
    streamed = Synthesizer(epochs=1, seed=0).fit(tmp_path / "rows.parquet", streaming=True)
    assert streamed.schema_["key"].kind is ColumnKind.CATEGORICAL and set(streamed.schema_["key"].categories) == set(keys)


def test_compressed_csv_output_names_the_file_and_holds_no_clock_time(tmp_path):
    # A .csv.gz header held the temporary file's name (".rows.csv.gz.15647.olzmjf9c.tmp", its
    # process id and a random suffix) and the time of writing: the same rows gave other bytes.
    import gzip
    import zipfile

    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    packed = write_table(frame, tmp_path / "rows.csv.gz").read_bytes()
    assert packed[:4] == b"\x1f\x8b\x08\x08" and packed[4:8] == b"\x00\x00\x00\x00"  # a name, mtime 0
    assert packed[10:].split(b"\x00")[0] == b"rows.csv"
    assert gzip.decompress(packed).decode() == "a,b\n1,x\n2,y\n3,z\n"
    (tmp_path / "again").mkdir()
    assert write_table(frame, tmp_path / "again" / "rows.csv.gz").read_bytes() == packed
    with zipfile.ZipFile(write_table(frame, tmp_path / "rows.csv.zip")) as archive:
        [member] = archive.infolist()
        assert member.filename == "rows.csv" and member.date_time == (1980, 1, 1, 0, 0, 0)
    pd.testing.assert_frame_equal(read_table(tmp_path / "rows.csv.zip"), frame, check_dtype=False)


def test_a_replaced_folder_is_swapped_in_one_step_or_restored_after_a_kill(tmp_path):
    import subprocess
    import sys as system

    from synthvae.io import _exchange, _remove_stale_temps

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "one").touch()
    if system.platform.startswith("linux"):
        assert _exchange(tmp_path / "a", tmp_path / "b") and os.listdir(tmp_path / "b") == ["one"]
    # Killed between moving the previous output aside and moving the new one in (where no
    # exchange is possible): the next write deleted the previous output; it is put back.
    dead = subprocess.run([system.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    aside = tmp_path / f".ds.{int(dead.stdout)}.old.tmp"
    aside.mkdir()
    (aside / "part-00000.parquet").write_bytes(b"previous")
    _remove_stale_temps(tmp_path / "ds", folders=True)
    assert (tmp_path / "ds" / "part-00000.parquet").read_bytes() == b"previous" and not aside.exists()


def test_parquet_integers_with_nulls_are_read_exactly(tmp_path):
    # pyarrow gives an int64 column with nulls as floats: 2**60 + 1 was read as
    # 1.152921504606847e+18, every one of four ids changed (a user review); CSV's are exact.
    import pyarrow as pa
    import pyarrow.parquet as pq

    big = [2**60 + 1, None, 2**60 + 7, 2**53 + 1]
    pq.write_table(pa.table({"acct": pa.array(big, pa.int64()), "small": pa.array([1, None, 3, 4], pa.uint8()),
                             "full": pa.array([1, 2, 3, 4], pa.int64())}), tmp_path / "ids.parquet")
    frame = read_table(tmp_path / "ids.parquet")
    assert str(frame["acct"].dtype) == "Int64" and frame["acct"].tolist()[::2] == big[::2] and frame["acct"].isna().tolist()[1]
    assert str(frame["small"].dtype) == "UInt64" and frame["small"].tolist()[2:] == [3, 4]
    assert frame["full"].dtype == np.int64  # no nulls: as pyarrow gives it
