"""Arithmetic expressions of derived columns: parsed once, evaluated column-wise, never ``eval``-ed.

An expression is Python-like arithmetic over column names and numbers::

    paid_principal + paid_interest + paid_late_fees
    hour * 100 + minute
    year(time_hour)
    round(price / carat, 2)

Operators ``+ - * / // % **`` and parentheses; functions ``abs``, ``round(x[, digits])``,
``floor``, ``ceil``, ``min(a, b, ...)``, ``max(a, b, ...)``, and the datetime parts ``year``,
``month``, ``day``, ``hour``, ``minute``, ``second``, ``weekday`` (Monday 0), ``dayofyear``.
A column name that is not a Python identifier is written in backticks: ```unit price` * 2``.
The text is parsed with :mod:`ast` and only the nodes above are accepted, so a schema file can
never run code. Values are float64 arrays; a null input gives a null (NaN) result.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from synthvae.errors import SchemaError

_DATE_PARTS = {
    "year": lambda t: t.dt.year,
    "month": lambda t: t.dt.month,
    "day": lambda t: t.dt.day,
    "hour": lambda t: t.dt.hour,
    "minute": lambda t: t.dt.minute,
    "second": lambda t: t.dt.second,
    "weekday": lambda t: t.dt.day_of_week,
    "dayofyear": lambda t: t.dt.day_of_year,
}
_NUMERIC_FUNCTIONS: dict[str, tuple[Callable, int, int | None]] = {
    # name: (function of float arrays, least arguments, most arguments or None)
    "abs": (np.abs, 1, 1),
    "floor": (np.floor, 1, 1),
    "ceil": (np.ceil, 1, 1),
    "round": (lambda x, d=None: np.round(x, 0 if d is None else int(d)), 1, 2),
    "min": (lambda *xs: np.minimum.reduce(np.broadcast_arrays(*xs)), 2, None),
    "max": (lambda *xs: np.maximum.reduce(np.broadcast_arrays(*xs)), 2, None),
}
_BINARY = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.FloorDiv: np.floor_divide,
    ast.Mod: np.mod,
    ast.Pow: np.power,
}
_BACKTICK = re.compile(r"`([^`]*)`")


@dataclass(frozen=True)
class Expression:
    """A parsed expression.

    Attributes:
        text: The expression as written.
        columns: Column names it reads, in order of first use.
        datetime_columns: Those read through a datetime part (``year(t)``): they must be datetime
            columns, the others numeric or boolean.
    """

    text: str
    columns: tuple[str, ...]
    datetime_columns: tuple[str, ...]
    _tree: ast.Expression = field(compare=False, repr=False)
    _names: tuple[tuple[str, str], ...] = field(compare=False, repr=False)  # (identifier in the tree, column name)

    @classmethod
    def parse(cls, text: str, where: str = "expression") -> "Expression":
        """Parse and check ``text``.

        Raises:
            SchemaError: Syntax error, or a node that is not allowed (names the node).
        """
        if not isinstance(text, str) or not text.strip():
            raise SchemaError(f"{where}: the expression is empty")
        names: dict[str, str] = {}

        def quote(match: re.Match) -> str:
            key = f"__col{len(names)}__"
            names[key] = match.group(1)
            return key

        source = _BACKTICK.sub(quote, text.strip())
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            raise SchemaError(f"{where}: cannot parse {text!r}: {exc.msg}") from None
        except (RecursionError, MemoryError):
            raise SchemaError(f"{where}: {text[:60] + '...'!r} is too long or nested too deep to parse; write a shorter "
                              f"expression") from None
        depth = _depth(tree.body)
        if depth > _MOST_DEPTH:
            # Checked and evaluated by recursion: a sum of 1,000 terms raised a raw RecursionError.
            raise SchemaError(f"{where}: {text[:60] + '...'!r} nests {depth} operations deep, more than {_MOST_DEPTH}; "
                              f"write a shorter expression (e.g. 1000 * x rather than x + x + ...)")
        columns: list[str] = []
        dated: list[str] = []
        _check(tree.body, names, columns, dated, where, text, inside_date=False)
        return cls(text, tuple(dict.fromkeys(columns)), tuple(dict.fromkeys(dated)), tree, tuple(names.items()))

    def evaluate(self, values: Mapping[str, pd.Series]) -> np.ndarray:
        """The expression over whole columns: a float64 array, NaN where an input is null.

        Args:
            values: Column name -> its values (numeric, boolean or datetime64, as
                :func:`synthvae.validation.conform` gives them).
        """
        names = dict(self._names)
        with np.errstate(all="ignore"):
            out = _evaluate(self._tree.body, names, values)
        names_given = list(values.keys())
        length = len(values[names_given[0]]) if names_given else 1
        return np.broadcast_to(np.asarray(out, dtype=np.float64), (length,)).copy()

    def __str__(self) -> str:
        return self.text


_MOST_DEPTH = 100  # operations nested in an expression (a + b + c is two deep)


def _depth(node: ast.AST) -> int:
    """How deep the tree under ``node`` nests, found without recursion."""
    deepest, stack = 0, [(node, 0)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + isinstance(child, ast.expr)) for child in ast.iter_child_nodes(node))
    return deepest


def _column_name(node: ast.Name, names: Mapping[str, str]) -> str:
    return names.get(node.id, node.id)


def _check(node, names, columns, dated, where, text, inside_date) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise SchemaError(f"{where}: {text!r}: only numbers may appear as constants, not {node.value!r}")
        return
    if isinstance(node, ast.Name):
        (dated if inside_date else columns).append(_column_name(node, names))
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check(node.left, names, columns, dated, where, text, False)
        _check(node.right, names, columns, dated, where, text, False)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _check(node.operand, names, columns, dated, where, text, False)
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        if name in _DATE_PARTS:
            if len(node.args) != 1 or not isinstance(node.args[0], ast.Name):
                raise SchemaError(f"{where}: {text!r}: {name}() takes one datetime column, e.g. {name}(created_at)")
            _check(node.args[0], names, columns, dated, where, text, True)
            return
        if name in _NUMERIC_FUNCTIONS:
            _, least, most = _NUMERIC_FUNCTIONS[name]
            if len(node.args) < least or (most is not None and len(node.args) > most):
                raise SchemaError(f"{where}: {text!r}: wrong number of arguments to {name}()")
            if name == "round" and len(node.args) == 2 and not (
                isinstance(node.args[1], ast.Constant) and type(node.args[1].value) is int
            ):
                raise SchemaError(f"{where}: {text!r}: round()'s digits must be a whole number, e.g. round(x, 2)")
            for arg in node.args[:1] if name == "round" else node.args:
                _check(arg, names, columns, dated, where, text, False)
            return
        allowed = sorted([*_NUMERIC_FUNCTIONS, *_DATE_PARTS])
        raise SchemaError(f"{where}: {text!r}: unknown function {name!r}; the functions are {', '.join(allowed)}")
    shown = ast.unparse(node) if hasattr(ast, "unparse") else type(node).__name__
    raise SchemaError(
        f"{where}: {text!r}: {shown!r} is not allowed; use column names, numbers, + - * / // % ** and "
        f"the listed functions (write a column name with spaces in backticks)"
    )


def _evaluate(node, names: Mapping[str, str], values: Mapping[str, pd.Series]):
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        series = values[_column_name(node, names)]
        return series.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_evaluate(node.left, names, values), _evaluate(node.right, names, values))
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, names, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    name = node.func.id
    if name in _DATE_PARTS:
        stamps = pd.Series(values[_column_name(node.args[0], names)])
        return _DATE_PARTS[name](stamps).astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
    function = _NUMERIC_FUNCTIONS[name][0]
    return function(*(_evaluate(arg, names, values) for arg in node.args))
