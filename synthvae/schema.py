"""The table schema: what each column is, loaded from and saved to JSON.

A schema is a list of :class:`Column` objects. It is written as a JSON document validated by
``schemas/schema.schema.json`` (JSON Schema, checked with ``jsonschema``), then by the semantic
checks JSON Schema cannot express (unique names, ``min <= max``, ...).

This module imports neither torch nor the model: the evaluator and the I/O use it as well.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import os
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
import numpy as np
import pandas as pd

from synthvae.errors import SchemaError, preview

FORMAT_VERSION = 1


MAX_ID_WIDTH = 64  # most digits a string id's number is padded to

class ColumnKind(str, enum.Enum):
    """What a column holds, which decides how it is encoded and regenerated."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    ID = "id"
    PERSONAL = "personal"


class PersonalType(str, enum.Enum):
    """What a personal column holds; decides the format of its generated values.

    Generated values come from Faker (in the column's ``locale``), seeded by the sampling seed.
    Where a format has a reserved range, it is used, so a generated value can never be a real
    person's: e-mail addresses at example.com/.net/.org (RFC 2606), IPv4 addresses in private
    ranges.
    """

    NAME = "name"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    USERNAME = "username"
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    SSN = "ssn"
    IBAN = "iban"
    IP_ADDRESS = "ip_address"
    TEXT = "text"


class PersonalStrategy(str, enum.Enum):
    """What sampling does with a personal column: generate fake values, or leave it out."""

    FAKE = "fake"
    DROP = "drop"


class NumericType(str, enum.Enum):
    """Storage type of a numeric or id column."""

    INTEGER = "integer"
    FLOAT = "float"
    STRING = "string"  # ids only


DATETIME_UNITS = ("D", "h", "m", "s", "ms", "us", "ns")
# The schema's units as pandas names them: minutes are "min" there.
_PANDAS_UNITS = {"D": "D", "h": "h", "m": "min", "s": "s", "ms": "ms", "us": "us", "ns": "ns"}


def unit_length(unit: str) -> pd.Timedelta:
    """One of a schema unit (``D``, ``h``, ``m``, ``s``, ``ms``, ``us``, ``ns``) as a duration."""
    return pd.Timedelta(1, unit=_PANDAS_UNITS[unit])


def whole_units(nanoseconds: np.ndarray) -> set[str]:
    """The schema units every one of ``nanoseconds`` (int64: datetimes since the epoch, or
    durations) is a whole number of; every unit for none."""
    return {u for u in DATETIME_UNITS if not (nanoseconds % unit_length(u).value).any()}


@dataclass(frozen=True)
class Column:
    """One column of a schema.

    Attributes:
        name: Column name in the table.
        kind: What the column holds.
        nullable: Whether missing values are allowed (and modelled).
        meaningful_nulls: For a nullable column: its nulls are values in their own right (for
            example "no end date yet"), which :meth:`Synthesizer.impute` keeps. By default a null
            is an unknown value, which ``impute`` fills.
        type: For numeric columns ``integer`` or ``float``; for ids ``integer`` or ``string``.
        decimals: Numeric floats are rounded to this many places when sampled.
        step: For an integer numeric column: its values are whole multiples of this (loans'
            amounts of 25), and sampled values are too (inferred where every value of 20 or more
            distinct ones is; SDV's FixedIncrements).
        duration: For a numeric column of durations (timedeltas): the unit its numbers count
            (``D``, ``h``, ``m``, ``s``, ``ms``, ``us``, ``ns``). The model learns the numbers,
            ``min``, ``max`` and ``decimals`` are in the unit, durations given are read in it
            (``timedelta64``, ``datetime.timedelta``, text such as ``1 days 02:00:00``), and
            sampled values come back as ``timedelta64[ns]``.
        min: Lower bound (a number, or an ISO timestamp for datetimes).
        max: Upper bound.
        categories: Allowed values of a categorical column, in order.
        ordered: Whether ``categories`` are ordinal.
        format: strftime format of a datetime column's text form.
        unit: Resolution of a datetime column (``D``, ``h``, ``m``, ``s``, ``ms``, ``us``, ``ns``).
        timezone: For a datetime column: the time zone its values are clock times of (an IANA
            name such as ``Europe/Paris``, ``UTC``, or an offset such as ``+05:30``). The model
            learns the clock times there (daily dates stay at midnight, hours of the day stay the
            local ones), values given with a zone are converted to it, values without one are
            taken as its clock times, bounds are its clock times, and sampled values come back
            in it. Without one, values with a zone are converted to UTC and come back without
            a zone.
        prefix: Text before the number of a string id.
        width: Zero padding of the number of a string id.
        start: First regenerated id number (ids also stay above every id of the training data).
        personal: For a personal column: what it holds (a :class:`PersonalType`).
        strategy: For a personal column: ``fake`` (default: generated values of its type) or
            ``drop`` (left out of sampled tables).
        locale: For a personal column: the Faker locale of generated values (default ``en_US``).
        description: Free text for people (inference writes why it chose the kind).
    """

    name: str
    kind: ColumnKind
    nullable: bool = False
    meaningful_nulls: bool = False
    type: NumericType | None = None
    decimals: int | None = None
    duration: str | None = None
    min: Any = None
    max: Any = None
    categories: tuple | None = None
    ordered: bool = False
    format: str | None = None
    unit: str | None = None
    timezone: str | None = None
    prefix: str = ""
    width: int = 0
    start: int = 0
    personal: PersonalType | None = None
    strategy: PersonalStrategy = PersonalStrategy.FAKE
    locale: str | None = None
    description: str | None = None
    step: int | None = None

    def __post_init__(self) -> None:
        # Accept plain strings for the enums ("numeric", "integer").
        object.__setattr__(self, "kind", ColumnKind(self.kind))
        if self.personal is not None:
            object.__setattr__(self, "personal", PersonalType(self.personal))
        object.__setattr__(self, "strategy", PersonalStrategy(self.strategy))
        if self.type is not None:
            object.__setattr__(self, "type", NumericType(self.type))
        if self.categories is not None:
            object.__setattr__(self, "categories", tuple(self.categories))
        if self.kind is ColumnKind.DATETIME:
            # A bound with a zone (a Python Column's; a schema file's are converted as read) is
            # a clock time of the column's zone: compared with the naive values, it raised a TypeError.
            for key in ("min", "max"):
                value = getattr(self, key)
                if isinstance(value, dt.datetime) and value.tzinfo is not None:
                    try:
                        zone = time_zone(self.timezone)
                    except ValueError:
                        continue  # refused by the schema's check, which names it
                    object.__setattr__(self, key, wall_time(pd.Timestamp(value), zone))

    @property
    def is_generated(self) -> bool:
        """Whether the column is regenerated, never learned (ids and personal columns)."""
        return self.kind in (ColumnKind.ID, ColumnKind.PERSONAL)

    @property
    def choices(self) -> tuple | None:
        """The values a categorical or boolean column holds (its categories; ``False`` and
        ``True``), ``None`` for other kinds."""
        if self.kind is ColumnKind.BOOLEAN:
            return (False, True)
        return tuple(self.categories) if self.kind is ColumnKind.CATEGORICAL else None

    @property
    def is_integer(self) -> bool:
        """Whether values are whole numbers (numeric or id)."""
        return self.type is NumericType.INTEGER

    @property
    def grid_step(self) -> float | None:
        """Spacing of a numeric column's values: 1 for integers, ``10**-decimals``, ``None`` for
        any float (``step`` aside: the rules' and codecs' grids stay whole numbers)."""
        if self.is_integer:
            return 1.0
        return None if self.decimals is None else 10.0**-self.decimals

    def to_dict(self) -> dict:
        """The column as a JSON-ready dict, listing only the keys its kind uses."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind.value}
        if self.description:
            out["description"] = self.description
        out["nullable"] = self.nullable
        if self.meaningful_nulls:
            out["meaningful_nulls"] = True
        if self.kind is ColumnKind.NUMERIC:
            out["type"] = (self.type or NumericType.FLOAT).value
            if self.decimals is not None:
                out["decimals"] = self.decimals
            if self.step is not None:
                out["step"] = self.step
            if self.duration:
                out["duration"] = self.duration
            for key in ("min", "max"):
                if getattr(self, key) is not None:
                    out[key] = _json_number(getattr(self, key))
        elif self.kind is ColumnKind.CATEGORICAL:
            out["categories"] = [_json_scalar(c) for c in self.categories]
            out["ordered"] = self.ordered
        elif self.kind is ColumnKind.DATETIME:
            if self.format:
                out["format"] = self.format
            out["unit"] = self.unit or "s"
            if self.timezone:
                out["timezone"] = self.timezone
            for key in ("min", "max"):
                if getattr(self, key) is not None:
                    out[key] = pd.Timestamp(getattr(self, key)).isoformat()
        elif self.kind is ColumnKind.ID:
            out["type"] = (self.type or NumericType.INTEGER).value
            if self.type is NumericType.STRING:
                out["prefix"] = self.prefix
                out["width"] = self.width
            out["start"] = self.start
        elif self.kind is ColumnKind.PERSONAL:
            out["personal"] = (self.personal or PersonalType.TEXT).value
            out["strategy"] = self.strategy.value
            if self.locale:
                out["locale"] = self.locale
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Column":
        """Build a column from its (already JSON-Schema-valid) dict."""
        kind = ColumnKind(data["kind"])
        kwargs: dict[str, Any] = {
            "name": data["name"],
            "kind": kind,
            "nullable": bool(data.get("nullable", False)),
            "meaningful_nulls": bool(data.get("meaningful_nulls", False)),
            "description": data.get("description"),
        }
        if kind is ColumnKind.NUMERIC:
            kwargs["type"] = NumericType(data.get("type", "float"))
            kwargs["decimals"] = data.get("decimals")
            kwargs["step"] = data.get("step")
            kwargs["duration"] = data.get("duration")
            kwargs["min"] = data.get("min")
            kwargs["max"] = data.get("max")
        elif kind is ColumnKind.CATEGORICAL:
            kwargs["categories"] = tuple(data["categories"])
            kwargs["ordered"] = bool(data.get("ordered", False))
        elif kind is ColumnKind.DATETIME:
            kwargs["format"] = _datetime_format(data["name"], data.get("format"))
            kwargs["unit"] = data.get("unit", "s")
            kwargs["timezone"] = data.get("timezone")
            zone = _checked_zone(data["name"], kwargs["timezone"])
            for key in ("min", "max"):
                if data.get(key) is not None:
                    kwargs[key] = _timestamp_bound(data["name"], key, data[key], zone)
        elif kind is ColumnKind.ID:
            kwargs["type"] = NumericType(data.get("type", "integer"))
            kwargs["prefix"] = data.get("prefix", "")
            kwargs["width"] = int(data.get("width", 0))
            kwargs["start"] = int(data.get("start", 0))
        elif kind is ColumnKind.PERSONAL:
            kwargs["personal"] = PersonalType(data["personal"])
            kwargs["strategy"] = PersonalStrategy(data.get("strategy", "fake"))
            kwargs["locale"] = data.get("locale")
        return cls(**kwargs)


@dataclass(frozen=True)
class Schema:
    """An ordered list of columns describing one table.

    Build one with :func:`load_schema`, :meth:`Schema.from_dict` or
    :func:`synthvae.infer_schema`; write it with :meth:`save`.
    """

    columns: tuple[Column, ...]
    name: str | None = None
    description: str | None = field(default=None, compare=False)
    constraints: tuple = ()

    def __post_init__(self) -> None:
        from synthvae.constraints.spec import check_constraints

        object.__setattr__(self, "columns", tuple(self.columns))
        _check_semantics(self)
        object.__setattr__(self, "constraints", check_constraints(self, tuple(self.constraints)))

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __getitem__(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        """Column names in table order."""
        return [c.name for c in self.columns]

    def replace_column(self, column: Column) -> "Schema":
        """A copy of this schema with the column of the same name replaced."""
        cols = [column if c.name == column.name else c for c in self.columns]
        return replace(self, columns=tuple(cols))

    def with_constraints(self, constraints) -> "Schema":
        """A copy of this schema with these rules (see :mod:`synthvae.constraints`) instead of its own."""
        return replace(self, constraints=tuple(constraints))

    def to_dict(self) -> dict:
        """The schema as a JSON-ready dict."""
        out: dict[str, Any] = {"format_version": FORMAT_VERSION}
        if self.name:
            out["name"] = self.name
        if self.description:
            out["description"] = self.description
        out["columns"] = [c.to_dict() for c in self.columns]
        if self.constraints:
            out["constraints"] = [c.to_dict() for c in self.constraints]
        return out

    def to_json(self) -> str:
        """The schema as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any, source: str = "schema") -> "Schema":
        """Validate a schema document and build the schema.

        Args:
            data: The parsed JSON document.
            source: Where it came from, for error messages (a file name).

        Raises:
            SchemaError: The document breaks the JSON Schema or a semantic rule.
        """
        validator = jsonschema.Draft202012Validator(json_schema())
        errors = _without_kind_branches(data, sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)))
        if errors:
            # One line (the CLI prints "Error: ..." on one line): problems joined by "; ".
            lines = [_describe_validation_error(data, e) for e in errors[:5]]
            more = f"; ... and {len(errors) - 5} more" if len(errors) > 5 else ""
            raise SchemaError(f"{source} is not a valid synthvae schema: " + "; ".join(lines) + more)
        from synthvae.constraints.spec import constraint_from_dict

        try:
            return cls(
                columns=tuple(Column.from_dict(c) for c in data["columns"]),
                name=data.get("name"),
                description=data.get("description"),
                constraints=tuple(constraint_from_dict(c) for c in data.get("constraints", ())),
            )
        except SchemaError as exc:
            raise SchemaError(f"{source}: {exc}") from None

    def save(self, path: str | os.PathLike) -> None:
        """Write the schema as JSON, atomically (temp file, then rename)."""
        from synthvae.io import atomic_write_text

        atomic_write_text(path, self.to_json())


def load_schema(path: str | os.PathLike) -> Schema:
    """Read and validate a schema JSON file (UTF-8, with or without a byte-order mark).

    Raises:
        SchemaError: The file is missing, not UTF-8, not JSON (or JSON with NaN, Infinity or a
            key twice in one object), or not a valid schema.
    """
    path = Path(path)
    name = repr(str(path))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SchemaError(f"cannot read schema file {name}: {exc.strerror or exc}") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SchemaError(f"schema file {name} is UTF-16 text: re-save it as UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SchemaError(
            f"schema file {name} is not UTF-8 text (line {line} holds the bytes "
            f"{raw[exc.start : exc.end]!r}): re-save it as UTF-8"
        ) from None
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_finite_float,
                          parse_int=_whole_number)
    except json.JSONDecodeError as exc:
        raise SchemaError(
            f"schema file {name} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}"
        ) from None
    except _JSONValueError as exc:
        raise SchemaError(f"schema file {name}: {exc}") from None
    except RecursionError:
        raise SchemaError(f"schema file {name} is not a schema: its JSON is nested too deeply") from None
    return Schema.from_dict(data, source=f"schema file {name}")


class _JSONValueError(ValueError):
    """JSON that parses, but that a schema file must not hold."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            where = f" (in the object of column {out['name']!r})" if isinstance(out.get("name"), str) else ""
            raise _JSONValueError(f"the key {key!r} appears twice in one object{where}; keep one")
        out[key] = value
    return out


def _no_constant(token: str) -> float:
    raise _JSONValueError(f"{token} is not a JSON number; write a number, or leave the key out")


def _whole_number(token: str) -> int:
    try:
        return int(token)
    except ValueError:  # over Python's limit on the digits of a number read from text (4300)
        raise _JSONValueError(f"a number of {len(token.lstrip('-'))} digits is too large; write a smaller one, or leave the key out") from None


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _JSONValueError(f"the number {token} is too large; write a smaller one, or leave the key out")
    return value


@lru_cache(maxsize=1)
def json_schema() -> dict:
    """The JSON Schema of the schema format (shipped as package data)."""
    text = resources.files("synthvae").joinpath("data/schema.schema.json").read_text("utf-8")
    return json.loads(text)


def _without_kind_branches(data: Any, errors: list) -> list:
    """``errors`` less those a column without a ``kind`` gets from every kind's branch of the
    JSON Schema ("'categories' is a required property", "'personal' is ..."): its missing kind
    alone is reported (a user review found the list of branches hid it)."""
    columns = data.get("columns") if isinstance(data, dict) else None
    if not isinstance(columns, list):
        return errors
    kindless = {i for i, c in enumerate(columns) if isinstance(c, dict) and "kind" not in c}
    kept = []
    for error in errors:
        path = list(error.absolute_path)
        if len(path) >= 2 and path[0] == "columns" and path[1] in kindless:
            if error.validator == "required" and "'kind'" in error.message:
                error.message = f"'kind' is required: one of {[k.value for k in ColumnKind]}"
                kept.append(error)
            continue
        kept.append(error)
    return kept


def _describe_validation_error(data: Any, error: jsonschema.ValidationError) -> str:
    path = list(error.absolute_path)
    where = "document"
    if len(path) >= 2 and path[0] in ("columns", "constraints") and isinstance(path[1], int):
        i = path[1]
        try:
            item = data[path[0]][i]
            where = f"column {item.get('name', '#' + str(i))!r}" if path[0] == "columns" else f"constraint #{i + 1} ({item.get('kind', 'no kind')})"
        except (AttributeError, IndexError, KeyError, TypeError):
            where = f"column #{i}" if path[0] == "columns" else f"constraint #{i + 1}"
        if len(path) > 2:
            where += f", key {'.'.join(str(p) for p in path[2:])!r}"
    elif path:
        where = f"key {'.'.join(str(p) for p in path)!r}"
    message = error.message
    if path == ["format_version"]:
        # "1 was expected" neither showed the version found nor said what to do.
        found = error.instance
        newer = isinstance(found, (int, float)) and not isinstance(found, bool) and found > FORMAT_VERSION
        return (f"format_version is {found!r}, and this synthvae reads version {FORMAT_VERSION}: "
                + ("the schema was written by a newer synthvae; upgrade synthvae" if newer else
                   f"set it to {FORMAT_VERSION}, or leave it out"))
    if error.validator == "additionalProperties":
        message += " (remove the key, or check its spelling and the column's kind)"
    return f"{where}: {message}"


def _check_semantics(schema: Schema) -> None:
    seen: set[str] = set()
    duplicated = [c.name for c in schema.columns if c.name in seen or seen.add(c.name)]
    if duplicated:
        raise SchemaError(f"duplicate column names {preview(sorted(set(duplicated)))}: names must be unique")
    if not schema.columns:
        raise SchemaError("a schema needs at least one column")
    for c in schema.columns:
        for key in ("min", "max"):
            value = getattr(c, key)
            if isinstance(value, (float, np.floating)) and not math.isfinite(value):
                raise SchemaError(f"column {c.name!r}: {key} is {value!r}; give a finite number or leave it out")
            if value is not None and not isinstance(value, str) and pd.isna(value):
                raise SchemaError(f"column {c.name!r}: {key} is missing ({value!r}); give a value or leave it out")
            if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
                try:
                    float(value)
                except OverflowError:
                    digits = len(str(abs(int(value))))
                    raise SchemaError(
                        f"column {c.name!r}: {key} is a whole number of {digits} digits, too large for a "
                        f"64-bit float (at most about 1.8e308); give a smaller bound or leave it out"
                    ) from None
        if c.min is not None and c.max is not None and c.min > c.max:
            low, high = (v.isoformat() if isinstance(v, pd.Timestamp) else repr(v) for v in (c.min, c.max))
            raise SchemaError(f"column {c.name!r}: min {low} is greater than max {high}; swap them")
        if c.kind is ColumnKind.PERSONAL and c.personal is None:
            raise SchemaError(f"column {c.name!r}: a personal column needs its type (personal: name, email, ...)")
        if c.duration is not None:
            if c.kind is not ColumnKind.NUMERIC:
                raise SchemaError(f"column {c.name!r}: duration is for numeric columns (durations as numbers of a unit), "
                                  f"and this one is {c.kind.value}; leave it out")
            if c.duration not in DATETIME_UNITS:
                raise SchemaError(f"column {c.name!r}: duration {c.duration!r} is no unit; use one of {list(DATETIME_UNITS)}")
        if c.timezone is not None:
            if c.kind is not ColumnKind.DATETIME:
                raise SchemaError(f"column {c.name!r}: timezone is for datetime columns, and this one is {c.kind.value}; leave it out")
            _checked_zone(c.name, c.timezone)
        if c.meaningful_nulls and not c.nullable:
            raise SchemaError(f"column {c.name!r}: meaningful_nulls needs nullable: true")
        if c.kind is ColumnKind.NUMERIC and c.is_integer and c.decimals:
            raise SchemaError(f"column {c.name!r}: an integer column cannot have decimals")
        if c.step is not None:
            if c.kind is not ColumnKind.NUMERIC or not c.is_integer or c.duration:
                raise SchemaError(f"column {c.name!r}: step is for integer numeric columns (their values whole multiples "
                                  f"of it); leave it out")
            if isinstance(c.step, bool) or not isinstance(c.step, (int, np.integer)) or c.step < 1:
                raise SchemaError(f"column {c.name!r}: step must be a whole number of at least 1, got {c.step!r}")
            if c.min is not None and c.max is not None and math.ceil(c.min / c.step) * c.step > c.max:
                raise SchemaError(f"column {c.name!r}: no multiple of its step {c.step} lies from min {c.min} to max {c.max}; "
                                  f"widen the bounds or change the step")
        if c.kind is ColumnKind.CATEGORICAL:
            if not c.categories:
                raise SchemaError(f"column {c.name!r}: a categorical column needs categories")
            twice = _repeated_categories(c.categories)
            if twice:
                raise SchemaError(
                    f"column {c.name!r}: categories must be unique, but {preview(twice)} repeat earlier "
                    f"ones (equal as values, such as 1, 1.0 and True, or as text, such as 1 and '1', "
                    f"which a CSV file cannot tell apart); remove the repeats"
                )
        if c.width > MAX_ID_WIDTH:
            # A width of 300,000,000 in a model file of 457 KB took 5.5 GB to load (a user review).
            raise SchemaError(f"column {c.name!r}: width {c.width} pads ids to more digits than the {MAX_ID_WIDTH} a "
                              f"schema allows; an id needs at most 20 digits")
        if c.kind is ColumnKind.ID and c.is_integer and (c.prefix or c.width):
            # They were kept in memory, used nowhere and dropped when the schema was saved.
            raise SchemaError(f"column {c.name!r}: prefix and width shape text ids (type: string); an integer id "
                              f"has neither: drop them, or make the id type string")
        if c.kind is ColumnKind.PERSONAL and c.locale is not None:
            _check_locale(c)
        if c.kind is ColumnKind.DATETIME and (c.unit or "s") not in DATETIME_UNITS:
            raise SchemaError(f"column {c.name!r}: unknown datetime unit {c.unit!r}")


def _check_locale(column: Column) -> None:
    """Refuse a personal column's locale that Faker does not have (``schema check`` passed it,
    fit refused it). Faker is a dependency: without it the check is left to fit."""
    try:
        from faker.config import AVAILABLE_LOCALES
    except ImportError:
        return
    if column.locale not in AVAILABLE_LOCALES:
        raise SchemaError(f"column {column.name!r}: unknown locale {column.locale!r} for generated values; "
                          f"use one of Faker's, e.g. en_US, en_GB, de_DE, fr_FR")


# An ISO 8601 date or timestamp starts with its year: pandas also reads "" (as NaT) and words
# such as "now" and "today" (as the moment the schema is read), which are no fixed bound.
_ISO_START = re.compile(r"^\s*[+-]?\d{4}")


def _datetime_format(name: str, value: Any) -> str | None:
    """A datetime column's ``format``, refused at load when pandas cannot read with it ("%Q" is
    no directive: fit and check failed with a raw ValueError from pandas)."""
    if value is None or value in ("ISO8601", "mixed"):
        return value
    try:
        pd.to_datetime(pd.Series(["2001-02-03"]), format=value, errors="coerce")
    except (ValueError, TypeError) as exc:
        raise SchemaError(f"column {name!r}: format {value!r} is not a strftime format pandas can read with ({exc}); "
                          f"use directives such as '%Y-%m-%d %H:%M:%S', 'ISO8601', or leave the key out") from None
    return value


def _timestamp_bound(name: str, key: str, value: Any, zone: dt.tzinfo | None = None) -> pd.Timestamp:
    """A datetime column's ``min`` or ``max`` as a naive timestamp, a clock time of the column's
    ``zone`` (UTC without one), refused unless it is an ISO 8601 text (``2021-03-01``,
    ``2021-03-01T10:00:00+01:00``, converted to the zone)."""
    fix = "write an ISO 8601 date or timestamp such as '2021-03-01' or '2021-03-01T10:00:00', or leave the key out"
    if not isinstance(value, str) or not _ISO_START.match(value):
        raise SchemaError(f"column {name!r}: {key} {value!r} is not an ISO 8601 timestamp; {fix}")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise SchemaError(f"column {name!r}: {key} {value!r} is not an ISO 8601 timestamp ({exc}); {fix}") from None
    if pd.isna(stamp):
        raise SchemaError(f"column {name!r}: {key} {value!r} is not an ISO 8601 timestamp; {fix}")
    stamp = wall_time(stamp, zone)
    if not pd.Timestamp.min <= stamp <= pd.Timestamp.max:
        # 9999-12-31 (an open end) loaded, then fit failed with a raw OverflowError.
        raise SchemaError(f"column {name!r}: {key} {value!r} lies beyond the datetimes a fit holds "
                          f"({pd.Timestamp.min.date()} to {pd.Timestamp.max.date()}, in nanoseconds); leave the key out "
                          f"or give a date within them (a placeholder such as 9999-12-31 for no end is better a null)")
    return stamp


def wall_time(stamp: pd.Timestamp, zone: dt.tzinfo | None = None) -> pd.Timestamp:
    """Datetimes are compared naive, as clock times of their column's ``zone`` (UTC without one,
    see :attr:`Column.timezone`): a timestamp with a zone is converted to it first, one without
    is taken as such a clock time."""
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(zone or "UTC").tz_localize(None)
    return stamp


_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def time_zone(text: str | None) -> dt.tzinfo | None:
    """A datetime column's ``timezone`` as a tzinfo pandas takes: an IANA name (``Europe/Paris``,
    ``UTC``; Python's :mod:`zoneinfo`) or a fixed offset (``+05:30``); ``None`` for none.

    Raises:
        ValueError: ``text`` names no time zone."""
    if text is None:
        return None
    offset = _OFFSET.match(text)
    if offset:
        hours, minutes = int(offset.group(2)), int(offset.group(3))
        if minutes >= 60 or hours > 14:  # +05:75 was read as +06:15
            raise ValueError(f"{text!r} is not an offset: hours up to 14, minutes up to 59")
        sign = -1 if offset.group(1) == "-" else 1
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    if text in ("localtime", "posixrules", "Factory"):
        # The system's own files: localtime is whatever zone the machine is set to.
        raise ValueError(f"{text!r} names no fixed time zone (it is the machine's); give the zone's IANA name")
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:  # unknown, or "../x" that no file can be
        raise ValueError(f"{text!r} is not a time zone ({exc})") from None


def zone_name(tz: Any) -> str | None:
    """The ``timezone`` a schema writes for a pandas or Arrow zone: its IANA name (zoneinfo's
    ``key``, pytz's ``zone``, Arrow's text), ``UTC``, or a fixed offset as ``+05:30``; ``None``
    for a zone known by neither (dateutil's from a file), which is then read as UTC."""
    if tz is None:
        return None
    if isinstance(tz, str):
        name = tz
    else:
        name = getattr(tz, "key", None) or getattr(tz, "zone", None)
        if name is None:
            try:
                offset = tz.utcoffset(None)
            except (TypeError, ValueError, AttributeError):
                offset = None
            if offset is None:
                return None
            if offset == dt.timedelta(0):
                return "UTC"
            minutes = int(offset.total_seconds() // 60)
            sign = "-" if minutes < 0 else "+"
            name = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    try:
        time_zone(str(name))
    except ValueError:
        return None
    return str(name)


def _checked_zone(name: str, value: Any) -> dt.tzinfo | None:
    """A datetime column's ``timezone`` read for its bounds, refused when it names no zone."""
    try:
        return time_zone(value)
    except ValueError:
        raise SchemaError(f"column {name!r}: timezone {value!r} is not a time zone; write an IANA name such as "
                          f"'Europe/Paris', 'America/New_York' or 'UTC', or an offset such as '+05:30', or leave the key "
                          f"out (values are then read as UTC)") from None


def _repeated_categories(categories: tuple) -> list:
    """Categories equal to an earlier one, by value (``1 == 1.0 == True``) or by text (``1``, ``"1"``)."""
    # A set finds equal values with equal hashes in one lookup: linear in the categories, which
    # may number tens of thousands.
    seen_values: set = set()
    seen_text: set[str] = set()
    repeated = []
    for value in categories:
        text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        try:
            known = value in seen_values
            seen_values.add(value)
        except TypeError:  # unhashable: only its text can repeat
            known = False
        if text in seen_text or known:
            repeated.append(value)
        seen_text.add(text)
    return repeated


def _json_scalar(value: Any) -> Any:
    if isinstance(value, (np.generic,)):
        return value.item()
    return value


def _json_number(value: Any) -> int | float:
    value = _json_scalar(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value
