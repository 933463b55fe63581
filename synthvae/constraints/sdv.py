"""SDV metadata (and SDV constraints) converted into a synthvae schema, so SDV users switch in one step.

SDV's single-table metadata JSON (``"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1"``, or a ``"V1"``
document whose ``tables`` hold one table, or the one named) gives each column an ``sdtype``:

=========================  =============================================================
SDV                        synthvae
=========================  =============================================================
numerical                  numeric (``computer_representation`` Int* -> integer, Float ->
                           float; without one, integer when every value is whole)
categorical                categorical (the categories are read from the data)
boolean                    boolean
datetime                   datetime (``datetime_format`` kept; without one, the format
                           inference reads the values with)
id                         id (``regex_format`` ``PREFIX[0-9]{n}`` -> prefix and width;
                           without one, zero-padded numbers stay text of their width)
email, phone_number, name  personal (email, phone, name, first_name, last_name, address,
...                        ssn, iban, ip_address); other PII sdtypes -> personal text;
                           any of them with ``"pii": false`` -> learned, as inferred
=========================  =============================================================

``primary_key`` becomes an id column (unique by construction), ``alternate_keys`` unique rules.
SDV constraints, as SDV writes them (``{"constraint_class": "Inequality",
"constraint_parameters": {...}}``), in the metadata's ``constraints`` list or given apart:
Inequality, ScalarInequality, Positive, Negative, Range, ScalarRange, FixedCombinations and
Unique have an equivalent here, FixedIncrements on an integer column its ``step``; OneHotEncoding
and custom classes are listed as not converted. What SDV refuses in a constraint (a misspelled class, a missing or unknown
parameter, an unknown relation, a strictness that is no boolean) is refused. SDV metadata holds no categories or bounds, so they are read
from the data, as :func:`synthvae.infer_schema` does.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from synthvae.constraints.spec import FixedCombinations, Inequality, Range, Regex, Unique, Value
from synthvae.errors import SchemaError, one_line, preview
from synthvae.inference import datetime_unit, infer_schema
from synthvae.schema import Column, ColumnKind, NumericType, PersonalType, Schema
from synthvae.validation import check_columns

_PERSONAL = {
    "email": PersonalType.EMAIL,
    "phone_number": PersonalType.PHONE,
    "name": PersonalType.NAME,
    "first_name": PersonalType.FIRST_NAME,
    "last_name": PersonalType.LAST_NAME,
    "user_name": PersonalType.USERNAME,
    "address": PersonalType.ADDRESS,
    "street_address": PersonalType.ADDRESS,
    "ssn": PersonalType.SSN,
    "iban": PersonalType.IBAN,
    "ipv4_address": PersonalType.IP_ADDRESS,
    "ip_address": PersonalType.IP_ADDRESS,
}
# The sdtypes a "pii" flag does not apply to (any other is personal unless marked "pii": false).
_LEARNED_SDTYPES = ("numerical", "categorical", "boolean", "datetime", "id")
# SDV's computer_representation values of a numerical column, and the integers' ranges.
_INTEGER_RANGES = {f"{sign}Int{bits}": ((0, 2**bits - 1) if sign else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1))
                   for sign in ("", "U") for bits in (8, 16, 32, 64)}
_REPRESENTATIONS = ("Float", *_INTEGER_RANGES)
_ID_REGEX = re.compile(r"^\^?((?:[A-Za-z_\-.:#/ ]|\\.)*)(?:\[0-9\]|\\d)(?:\{(\d+)\}|\+)\$?$")


def schema_from_sdv(
    metadata: dict | str | os.PathLike,
    data: pd.DataFrame,
    *,
    table: str | None = None,
    constraints: list | str | os.PathLike | None = None,
) -> tuple[Schema, list[str]]:
    """Convert SDV metadata into a schema.

    Args:
        metadata: The metadata document, or the path of its JSON file.
        data: The table (categories and bounds are read from it).
        table: For a multi-table document, which table.
        constraints: SDV constraint dicts (or a JSON file of them), in addition to any in the
            metadata's ``constraints`` list.

    Returns:
        The schema, and one line per thing that could not be converted (empty when all was).

    Raises:
        SchemaError: The document is not SDV metadata, names columns the data lacks, holds
            several tables and ``table`` does not pick one, or holds what SDV refuses (no
            sdtype or a misspelled one, a primary or alternate key naming no column, a primary
            key whose values repeat or are missing, an unknown or broken
            ``computer_representation``, a ``regex_format`` that does not compile); or the data
            does not fit the converted sdtypes and formats.
    """
    doc, where = _load(metadata, "SDV metadata")
    spec, where = _single_table(doc, table, where)
    columns_doc = spec.get("columns")
    if not isinstance(columns_doc, dict) or not columns_doc:
        raise SchemaError(f"{where}: no 'columns' mapping; is this SDV metadata?" + _layout_hint(spec))
    for name, props in columns_doc.items():
        if props is not None and not isinstance(props, dict):
            raise SchemaError(f"{where}: column {name!r} is {_json(props)}, not an object of properties; "
                              f'write it as {{"sdtype": {_json(props) if isinstance(props, str) else "..."}}}')
        for key in ("sdtype", "datetime_format", "regex_format", "computer_representation"):
            if props is not None and props.get(key) is not None and not isinstance(props[key], str):
                raise SchemaError(f"{where}: column {name!r}: {key} is {_json(props[key])}, not a text")
        _check_properties(name, props or {}, where)
    if spec.get("primary_key") is not None and not isinstance(spec["primary_key"], str):
        raise SchemaError(f"{where}: primary_key is {_json(spec['primary_key'])}, not a column name "
                          "(a key of several columns has no equivalent here: list it in alternate_keys)")
    missing = [name for name in columns_doc if name not in data.columns]
    if missing:
        raise SchemaError(f"{where}: columns {preview(missing)} are not in the data (it has {preview(list(map(str, data.columns)))})")
    key = spec.get("primary_key")
    if key is not None:
        _check_key(key, columns_doc, data, where)
    inferred = infer_schema(data[list(columns_doc)], derived=False, warn=False)
    notes: list[str] = []
    left_out = [str(c) for c in data.columns if str(c) not in columns_doc]
    if left_out:
        # SDV refuses to fit data with columns its metadata lacks; here they are left out.
        notes.append(f"columns {preview(left_out)} are in the data but not in the metadata: left out of the schema "
                     f"(add them to the metadata to learn them)")
    try:
        columns = [_column(name, props or {}, inferred[name], data[name], name == key, notes) for name, props in columns_doc.items()]
    except SchemaError as exc:
        raise SchemaError(f"{where}: {exc}") from None
    rules: list = [
        Regex(name, props["regex_format"])
        for name, props in columns_doc.items()
        if (props or {}).get("regex_format") and _ID_REGEX.match(props["regex_format"])
    ]
    for name in _list(spec, "alternate_keys", where):
        names = tuple(name) if isinstance(name, list) else (name,)
        if not all(isinstance(n, str) for n in names):
            raise SchemaError(f"{where}: alternate_keys holds {_json(name)}; each key is a column name or a list of them")
        unknown = [n for n in names if n not in columns_doc]
        if unknown:
            raise SchemaError(f"{where}: alternate_keys names {preview(unknown)}, not among its columns {preview(list(columns_doc))}")
        rules.append(Unique(names))
    sdv_rules = [(item, where) for item in (_list(spec, "constraints", where) or _list(doc, "constraints", where))]
    if constraints is not None:
        extra, source = _load(constraints, "SDV constraints") if not isinstance(constraints, list) else (constraints, "SDV constraints")
        if isinstance(extra, dict) and "constraint_class" not in extra and isinstance(extra.get("constraints"), list):
            extra = extra["constraints"]  # {"constraints": [...]}: every rule was a note, and dropped (a review)
        sdv_rules.extend((item, source) for item in (extra if isinstance(extra, list) else [extra]))
    name = table or (next(iter(doc["tables"])) if isinstance(doc.get("tables"), dict) and len(doc["tables"]) == 1 else None)
    # SDV writes a datetime column's constants in its datetime_format ("05/01/2021" under
    # %d/%m/%Y is 5 January): read so, they are ISO dates here (pandas read them month first).
    formats = {c.name: c.format for c in columns if c.kind is ColumnKind.DATETIME and c.format not in (None, "ISO8601", "mixed")}
    for item, source in sdv_rules:
        rule = _constraint(item, notes, source, formats, name)
        if isinstance(rule, _Increments):
            columns = _with_step(columns, rule, source, notes)
            continue
        if rule is not None:
            try:  # each against the columns alone, so that a broken one names its own file
                Schema(tuple(columns), constraints=(rule,))
            except SchemaError as exc:
                raise SchemaError(f"{source}: {exc}") from None
            rules.append(rule)
    for name, props in columns_doc.items():
        if (props or {}).get("sdtype") in ("id",) and name != key:
            notes.append(f"column {name!r}: an id that is not the primary key (a foreign key?) is regenerated like one")
    relationships = _list(spec, "column_relationships", where)
    if relationships:
        notes.append(f"column_relationships {preview([r.get('type') if isinstance(r, dict) else r for r in relationships])}: no equivalent")
    try:
        schema = Schema(tuple(columns), name=table or spec.get("name"), constraints=tuple(rules))
    except SchemaError as exc:
        raise SchemaError(f"{where}: the converted schema is invalid: {exc}") from None
    _, problems = check_columns(data[list(columns_doc)], schema, "the data")
    if problems:
        # A numerical sdtype on state codes, a boolean on grades A-G, a datetime_format that read
        # some dates only: converted without a word, refused later by `fit` as the schema's fault.
        lines = "; ".join(one_line(problem) for problem in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise SchemaError(f"{where}: the data does not fit the metadata's sdtypes and formats: {lines}{more}; correct "
                          f"the metadata (sdtype, datetime_format, computer_representation) of those columns")
    return schema, notes


def _check_properties(name: str, props: dict, where: str) -> None:
    """Refuse what SDV itself would refuse of a column's properties: no sdtype, an sdtype one
    letter or two from a known one (SDV takes any Faker provider's name as a PII sdtype, so
    another unknown one is converted as personal text, with a note), an unknown
    computer_representation, a regex_format that does not compile."""
    sdtype = props.get("sdtype")
    if sdtype is None:
        raise SchemaError(f"{where}: column {name!r} has no sdtype; give it one: {', '.join(_LEARNED_SDTYPES)}, "
                          f"or a PII sdtype such as email (SDV requires one)")
    if sdtype not in _LEARNED_SDTYPES and sdtype not in _PERSONAL:
        close = difflib.get_close_matches(sdtype, [*_LEARNED_SDTYPES, *_PERSONAL], n=1, cutoff=0.8)
        if close:
            raise SchemaError(f"{where}: column {name!r}: sdtype {sdtype!r} is no SDV sdtype; did you mean {close[0]!r}? "
                              f"(known here: {', '.join(_LEARNED_SDTYPES)}, and PII sdtypes such as {', '.join(list(_PERSONAL)[:4])})")
    representation = props.get("computer_representation")
    if representation is not None and representation not in _REPRESENTATIONS:
        raise SchemaError(f"{where}: column {name!r}: computer_representation {representation!r} is not one of SDV's "
                          f"({', '.join(_REPRESENTATIONS)})")
    regex = props.get("regex_format")
    if regex is not None:
        try:
            re.compile(regex)
        except re.error as exc:
            raise SchemaError(f"{where}: column {name!r}: regex_format {regex!r} is no regular expression ({exc})") from None


def _check_key(key: str, columns_doc: dict, data: pd.DataFrame, where: str) -> None:
    """Refuse a primary_key that names no column of the metadata, or whose values repeat or are
    missing in the data (SDV's validation refuses both; here the column would have become ids,
    its values lost)."""
    if key not in columns_doc:
        raise SchemaError(f"{where}: primary_key {key!r} is not among its columns {preview(list(columns_doc))}")
    values = data[key]
    if values.isna().any():
        raise SchemaError(f"{where}: primary_key {key!r} is missing in {int(values.isna().sum()):,} rows of the data; "
                          f"a key identifies every row: fill them, or name another primary_key")
    repeated = values[values.duplicated(keep=False)]
    if len(repeated):
        raise SchemaError(f"{where}: primary_key {key!r} repeats values in the data ({preview(list(pd.unique(repeated)))}, "
                          f"{len(repeated):,} rows): a key identifies one row each; name another primary_key, or none "
                          f"and mark the column categorical")


def _layout_hint(spec: dict) -> str:
    """What a document with no columns mapping may be instead."""
    if "fields" in spec:
        return (" it holds 'fields', SDV's legacy layout (before SDV 1.0): convert it with SDV's "
                "SingleTableMetadata.upgrade_metadata(path), then here")
    if isinstance(spec.get("columns"), list):
        return ' its columns are a list: SDV writes them as an object by name ({"columns": {"age": {"sdtype": "numerical"}}})'
    return ""


def _load(source, what: str) -> tuple[Any, str]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            # utf-8-sig: a byte-order mark (as Windows editors write) is read as load_schema reads it.
            return json.loads(path.read_text(encoding="utf-8-sig")), f"{what} file {str(path)!r}"
        except OSError as exc:
            raise SchemaError(f"cannot read {what} file {str(path)!r}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raw = path.read_bytes()
            line = raw.count(b"\n", 0, exc.start) + 1
            raise SchemaError(
                f"{what} file {str(path)!r} is not UTF-8 text (line {line} holds the bytes "
                f"{raw[exc.start : exc.end]!r}): re-save it as UTF-8"
            ) from None
        except json.JSONDecodeError as exc:
            raise SchemaError(f"{what} file {str(path)!r} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    return source, what


def _single_table(doc: Any, table: str | None, where: str) -> tuple[dict, str]:
    """The one table's metadata, and where it is (for messages)."""
    if not isinstance(doc, dict):
        raise SchemaError(f"{where}: expected a JSON object")
    if "tables" in doc:
        tables = doc["tables"]
        if not isinstance(tables, dict):
            raise SchemaError(f"{where}: 'tables' is {type(tables).__name__}, not an object of tables by name "
                              f'({{"tables": {{"NAME": {{"columns": ...}}}}}})')
        if table is None:
            if len(tables) != 1:
                raise SchemaError(f"{where} holds tables {preview(list(tables))}: say which one (--table NAME)")
            table = next(iter(tables))
        if table not in tables:
            raise SchemaError(f"{where}: no table {table!r}; it has {preview(list(tables))}")
        if not isinstance(tables[table], dict):
            raise SchemaError(f"{where}: table {table!r} is {_json(tables[table])}, not an object with its 'columns'")
        return tables[table], f"{where}, table {table!r}"
    return doc, where


def _list(spec: dict, key: str, where: str) -> list:
    """``spec[key]`` as a list (empty when missing or null); anything else is refused."""
    value = spec.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise SchemaError(f"{where}: {key!r} is {_json(value)}, not a list")
    return value


def _json(value: Any) -> str:
    """A value as its JSON text, shortened for a message."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _column(name: str, props: dict, inferred: Column, series: pd.Series, is_key: bool, notes: list[str]) -> Column:
    sdtype = props.get("sdtype", "unknown")
    nullable = bool(series.isna().any())
    described = f"from SDV sdtype {sdtype}"
    if is_key or sdtype == "id":
        if sdtype in _PERSONAL:
            notes.append(f"column {name!r}: the primary key, of sdtype {sdtype!r}, is regenerated as an id "
                         f"(prefix + number), not as fake {sdtype} values")
        return _id_column(name, props, series, described, notes)
    if props.get("pii") is False and sdtype not in _LEARNED_SDTYPES:
        # SDV samples a column marked "pii": false from its values: learned, as inferred, and as
        # categories where inference would regenerate it (an e-mail or a nearly unique name).
        if inferred.is_generated:
            present = series.dropna()
            return Column(name, ColumnKind.CATEGORICAL, nullable=nullable, categories=tuple(sorted(pd.unique(present.astype(str)))),
                          description=f"{described}, pii false: learned as categories")
        return replace(inferred, description=f"{described}, pii false: {inferred.description}")
    if sdtype == "numerical":
        values = pd.to_numeric(series, errors="coerce")
        representation = props.get("computer_representation")
        present = values.dropna()
        # Without a computer_representation, whole numbers are integers (they were floats that
        # sampled 19.0 and fractions).
        integer = (str(representation).lower().startswith(("int", "uint")) if representation is not None
                   else bool(len(present)) and present.eq(present.round()).all())
        if integer:
            fractional = present[present.ne(present.round())]
            if len(fractional):
                raise SchemaError(f"column {name!r}: computer_representation {representation} but the data holds "
                                  f"fractions ({preview(list(fractional.unique()))}): write Float in the metadata")
            low, high = _INTEGER_RANGES.get(str(representation), (None, None))
            if low is not None and len(present) and (present.min() < low or present.max() > high):
                raise SchemaError(f"column {name!r}: computer_representation {representation} holds {low} to {high}, "
                                  f"but the data reaches {_number(present.min())} to {_number(present.max())}: write "
                                  f"a wider one (Int64) in the metadata")
            return Column(name, ColumnKind.NUMERIC, nullable=nullable, type=NumericType.INTEGER,
                          min=_number(values.min()), max=_number(values.max()), description=described)
        decimals = inferred.decimals if inferred.kind is ColumnKind.NUMERIC else None
        return Column(name, ColumnKind.NUMERIC, nullable=nullable, type=NumericType.FLOAT, decimals=decimals,
                      min=_number(values.min()), max=_number(values.max()), description=described)
    if sdtype == "categorical":
        if inferred.kind is ColumnKind.CATEGORICAL:
            return Column(name, ColumnKind.CATEGORICAL, nullable=nullable, categories=inferred.categories,
                          ordered=inferred.ordered, description=described)
        present = series.dropna()
        categories = sorted(pd.unique(present.astype(str)))
        if not categories:
            notes.append(f"column {name!r}: categorical but all null; left out is not possible, kept with one category")
            categories = [""]
        return Column(name, ColumnKind.CATEGORICAL, nullable=nullable, categories=tuple(categories), description=described)
    if sdtype == "boolean":
        return Column(name, ColumnKind.BOOLEAN, nullable=nullable, description=described)
    if sdtype == "datetime":
        # Without a datetime_format, the one inference read the values with (a day-first date
        # column lost its format and bounds, and failed `schema check` on its own data).
        fmt = props.get("datetime_format") or (inferred.format if inferred.kind is ColumnKind.DATETIME else None)
        parsed = pd.to_datetime(series, format=fmt or "ISO8601", errors="coerce", utc=True).dt.tz_localize(None)
        present = parsed.dropna()
        # The coarsest unit that holds every value, as inference gives it: days or seconds only
        # sampled seconds under "%d/%m/%Y %H:%M", and every value was written as ISO text.
        unit = datetime_unit(present) if len(present) else "s"
        return Column(name, ColumnKind.DATETIME, nullable=nullable, format=fmt, unit=unit,
                      min=present.min() if len(present) else None, max=present.max() if len(present) else None,
                      description=described)
    personal = _PERSONAL.get(sdtype)
    if personal is None:
        notes.append(f"column {name!r}: sdtype {sdtype!r} has no generator here; generated as personal text")
        personal = PersonalType.TEXT
    return Column(name, ColumnKind.PERSONAL, nullable=nullable, personal=personal, description=described)


def _id_column(name: str, props: dict, series: pd.Series, described: str, notes: list[str]) -> Column:
    present = series.dropna()
    numeric = pd.to_numeric(present, errors="coerce")
    regex = props.get("regex_format")
    padded = present.astype(str).str.match(r"^\s*0\d").any()  # "00000001" keeps its zeros as text
    nullable = bool(series.isna().any())  # a foreign key may be missing
    if regex is None and not padded and numeric.notna().all() and len(present) and numeric.eq(numeric.round()).all():
        return Column(name, ColumnKind.ID, nullable=nullable, type=NumericType.INTEGER, start=int(numeric.min()),
                      description=described)
    prefix, width = f"{name}_", 0
    if regex is not None:
        match = _ID_REGEX.match(regex)
        if match:
            prefix = re.sub(r"\\(.)", r"\1", match.group(1))
            width = int(match.group(2) or 0)
        else:
            notes.append(f"column {name!r}: regex_format {regex!r} is not PREFIX[0-9]{{n}}; ids are generated as {prefix}NUMBER")
    else:
        text = present.astype(str).str.extract(r"^(\D*)(\d+)$")
        if len(present) and text[1].notna().all() and text[0].nunique() == 1:
            prefix = str(text[0].iloc[0])
            width = int(text[1].str.len().min()) if text[1].str.startswith("0").any() else 0
    return Column(name, ColumnKind.ID, nullable=nullable, type=NumericType.STRING, prefix=prefix, width=width,
                  description=described)


# SDV 1.x's constraint classes: their required and optional parameters (SDV refuses others).
# ``strict`` is the older name of ``strict_boundaries``; ``table_name`` marks a multi-table
# document's constraint.
_SDV_CLASSES = {
    "Inequality": ({"low_column_name", "high_column_name"}, {"strict_boundaries", "strict"}),
    "ScalarInequality": ({"column_name", "relation", "value"}, set()),
    "Positive": ({"column_name"}, {"strict_boundaries", "strict"}),
    "Negative": ({"column_name"}, {"strict_boundaries", "strict"}),
    "Range": ({"low_column_name", "middle_column_name", "high_column_name"}, {"strict_boundaries", "strict"}),
    "ScalarRange": ({"column_name", "low_value", "high_value"}, {"strict_boundaries", "strict"}),
    "FixedCombinations": ({"column_names"}, set()),
    "Unique": ({"column_names"}, set()),
    "FixedIncrements": ({"column_name", "increment_value"}, set()),
    "OneHotEncoding": ({"column_names"}, set()),
}
_UNCONVERTED = ("OneHotEncoding",)
_RELATIONS = (">", ">=", "<", "<=")


def _constraint(item: Any, notes: list[str], where: str = "SDV constraints", formats: dict[str, str] | None = None,
                table: str | None = None):
    """One SDV constraint as a rule here, or ``None`` (with a note) for one that has no
    equivalent or belongs to another table. What SDV would refuse is refused: a misspelled
    class, a missing or unknown parameter, a relation or strictness of the wrong kind (a
    misspelled class was a note, an unknown relation read as ``<=``, "false" as true)."""
    if isinstance(item, dict) and "constraint" in item and "constraint_class" not in item:
        notes.append(f"constraint {item!r}: SDV 0.x's layout, not converted; write it as SDV 1.x does "
                     f'({{"constraint_class": "Inequality", "constraint_parameters": {{...}}}})')
        return None
    if not isinstance(item, dict) or "constraint_class" not in item:
        notes.append(f"constraint {item!r}: not an SDV constraint (needs constraint_class and constraint_parameters)")
        return None
    name = str(item["constraint_class"]).rsplit(".", 1)[-1]
    if "constraint_parameters" not in item:
        raise SchemaError(f"{where}: constraint {name}: no constraint_parameters; SDV writes them beside constraint_class")
    p = item.get("constraint_parameters") or {}
    if not isinstance(p, dict):
        raise SchemaError(f"{where}: constraint {name}: constraint_parameters is {_json(p)}, not an object of "
                          f'parameters by name (such as {{"column_name": "age"}})')
    if name not in _SDV_CLASSES:
        close = difflib.get_close_matches(name, list(_SDV_CLASSES), n=1, cutoff=0.75) or [
            known for known in _SDV_CLASSES if known.lower() == name.lower()]
        if close:
            raise SchemaError(f"{where}: constraint class {item['constraint_class']!r} is not one of SDV's (did you mean "
                              f"{close[0]!r}?); SDV refuses it too")
        notes.append(f"constraint {name} {json.dumps(p, default=str)}: a custom constraint, no equivalent here")
        return None
    if p.get("table_name") is not None and table is not None and p["table_name"] != table:
        notes.append(f"constraint {name} of table {p['table_name']!r}: left out (the schema is table {table!r}'s)")
        return None
    required, optional = _SDV_CLASSES[name]
    missing = sorted(required - set(p))
    unknown = sorted(set(p) - required - optional - {"table_name"})
    if unknown:
        hints = [f"{key!r}" + (f" (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(
            key, sorted(required | optional), n=1, cutoff=0.6)) else "") for key in unknown]
        raise SchemaError(f"{where}: constraint {name}: unknown parameter {', '.join(hints)}; it takes "
                          f"{preview(sorted(required))}" + (f" and optionally {preview(sorted(optional))}" if optional else ""))
    if missing:
        raise SchemaError(f"{where}: constraint {name}: parameter {preview(missing)} missing; it takes {preview(sorted(required))}")
    for key in ("column_names",):
        if key in p and not (isinstance(p[key], list) and all(isinstance(c, str) for c in p[key])):
            raise SchemaError(f"{where}: constraint {name}: {key} is {_json(p[key])}, not a list of column names")
    for key in ("column_name", "low_column_name", "high_column_name", "middle_column_name"):
        if key in p and not isinstance(p[key], str):
            raise SchemaError(f"{where}: constraint {name}: {key} is {_json(p[key])}, not a column name")
    for key in ("strict_boundaries", "strict"):
        if key in p and not isinstance(p[key], bool):
            raise SchemaError(f"{where}: constraint {name}: {key} is {_json(p[key])}, not true or false")
    if name == "ScalarInequality" and p["relation"] not in _RELATIONS:
        raise SchemaError(f"{where}: constraint {name}: relation {p['relation']!r} is none of {', '.join(map(repr, _RELATIONS))}")
    if name in _UNCONVERTED:
        notes.append(f"constraint {name} {json.dumps(p, default=str)}: no equivalent here; the fitted model does not keep "
                     f"it (check sampled rows for it)")
        return None
    # SDV's defaults: strict for Range and ScalarRange (its documentation says "(default) True"),
    # not for the inequalities nor Positive / Negative (>= 0: zeros broke the strict rule written before).
    strict = p.get("strict_boundaries", p.get("strict", name in ("Range", "ScalarRange")))
    fmt = (formats or {}).get(p.get("column_name"))

    def constant(value) -> Value:
        """A constant of ``column_name``, read with its datetime format where it has one."""
        if fmt is not None and isinstance(value, str):
            try:
                return Value(pd.to_datetime(value, format=fmt).isoformat())
            except (ValueError, TypeError):
                raise SchemaError(f"{where}: constraint {name}: {value!r} is not written in column "
                                  f"{p['column_name']!r}'s datetime_format {fmt!r}, as SDV writes it") from None
        return Value(value)

    if name == "Inequality":
        return Inequality(p["low_column_name"], p["high_column_name"], strict)
    if name == "ScalarInequality":
        relation, value, column = p["relation"], constant(p["value"]), p["column_name"]
        if relation in (">", ">="):
            return Inequality(value, column, relation == ">")
        return Inequality(column, value, relation == "<")
    if name in ("Positive", "Negative"):
        zero, column = Value(0), p["column_name"]
        return Inequality(zero, column, strict) if name == "Positive" else Inequality(column, zero, strict)
    if name == "Range":
        return Range(p["middle_column_name"], p["low_column_name"], p["high_column_name"], strict)
    if name == "ScalarRange":
        return Range(p["column_name"], constant(p["low_value"]), constant(p["high_value"]), strict)
    if name == "FixedCombinations":
        return FixedCombinations(tuple(p["column_names"]))
    if name == "FixedIncrements":
        return _Increments(p["column_name"], p["increment_value"])
    return Unique(tuple(p["column_names"]))


@dataclass(frozen=True)
class _Increments:
    """SDV's FixedIncrements: a column's ``step``, not a rule (see :func:`schema_from_sdv`)."""

    column: str
    value: Any


def _with_step(columns: list[Column], increments: _Increments, where: str, notes: list[str]) -> list[Column]:
    """``columns`` with SDV's FixedIncrements as the named integer column's ``step`` (a float
    increment, or one on another kind of column, is noted and left out)."""
    names = [c.name for c in columns]
    if increments.column not in names:
        raise SchemaError(f"{where}: constraint FixedIncrements: unknown column {increments.column!r}; the metadata has "
                          f"columns {preview(names)}")
    column = columns[names.index(increments.column)]
    value = increments.value
    whole = not isinstance(value, bool) and isinstance(value, (int, float)) and float(value).is_integer() and value >= 1
    if column.kind is not ColumnKind.NUMERIC or not column.is_integer or not whole:
        notes.append(f"constraint FixedIncrements of {increments.column!r} by {value!r}: no equivalent here (a step is a "
                     f"whole number on an integer numeric column); the fitted model does not keep it")
        return columns
    out = list(columns)
    out[names.index(increments.column)] = replace(column, step=int(value))
    return out


def _number(value) -> float | int | None:
    if pd.isna(value):
        return None
    value = float(value)
    return int(value) if value.is_integer() else value
